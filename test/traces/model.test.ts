import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareTraces,
  encodeTraces,
  idFromAny,
  idHex,
  jaegerTraceIdHex,
  syntheticTrace,
  syntheticTraces,
  toResourceSpans,
  traceFromJaegerV1,
  tracesFromOtlpJson,
  type Span,
  type Trace,
} from '../../src/traces/index.js';
import { decodeExportTraceResponse, otlpType } from '../../src/wire/index.js';

const SPEC = { traces: 20, seed: 7, startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 0, 1, 6) };

function clone(t: Trace): Trace {
  return {
    ...t,
    spans: t.spans.map((s) => ({ ...s, attributes: [...s.attributes], events: [...s.events], links: [...s.links] })),
  };
}

test('IDs: 16-hex, 32-hex, trimmed hex and base64 of one trace ID are the same 16 bytes', () => {
  const full = '00000000000000004bf92f3577b34da6';
  const a = idFromAny(full, 16);
  assert.equal(idHex(idFromAny('4bf92f3577b34da6', 16)), full);
  assert.equal(idHex(idFromAny(Buffer.from(a).toString('base64'), 16)), full);
  assert.equal(jaegerTraceIdHex(a), '4bf92f3577b34da6');
  const wide = idFromAny('0af7651916cd43dd8448eb211c80319c', 16);
  assert.equal(jaegerTraceIdHex(wide), '0af7651916cd43dd8448eb211c80319c');
  // Tempo's search trims leading zeros
  assert.equal(idHex(idFromAny('af7651916cd43dd8448eb211c80319c', 16)), '0af7651916cd43dd8448eb211c80319c');
  assert.throws(() => idFromAny('xyz!', 16), /not a base64/);
});

test('OTLP protobuf encoder: protobufjs decodes every field back, int64 beyond 2^53 and ns times exact', () => {
  const traces = [...syntheticTraces(SPEC)];
  const bytes = encodeTraces(traces);
  const msg = otlpType('ExportTraceServiceRequest').toObject(otlpType('ExportTraceServiceRequest').decode(bytes), {
    longs: String,
    bytes: Array,
    defaults: false,
  }) as {
    resource_spans: Array<{
      resource: { attributes: unknown[] };
      scope_spans: Array<{ scope: { name: string; version: string }; spans: Array<Record<string, any>> }>;
    }>;
  };
  const decoded = msg.resource_spans.flatMap((rs) =>
    rs.scope_spans.flatMap((ss) => ss.spans.map((s) => ({ s, scope: ss.scope }))),
  );
  const original = traces.flatMap((t) => t.spans);
  assert.equal(decoded.length, original.length);
  const byId = new Map(original.map((s) => [idHex(s.spanId), s]));
  for (const { s, scope } of decoded) {
    const o = byId.get(Buffer.from(s.span_id).toString('hex'))!;
    assert.ok(o, 'span ID survives');
    assert.equal(Buffer.from(s.trace_id).toString('hex'), idHex(o.traceId));
    assert.equal(s.start_time_unix_nano, o.startNs.toString());
    assert.equal(s.end_time_unix_nano, o.endNs.toString());
    assert.equal(s.name, o.name);
    assert.equal(s.kind ?? 0, o.kind);
    assert.equal(s.status?.code ?? 0, o.status.code);
    assert.equal(scope.name, 'stackshift.synthetic');
    const big = s.attributes.find((a: any) => a.key === 'big.counter');
    const obig = o.attributes.find((a) => a.key === 'big.counter')!;
    assert.equal(big.value.int_value, (obig.value as { value: bigint }).value.toString());
    assert.ok(BigInt(big.value.int_value) > 2n ** 53n);
    const neg = s.attributes.find((a: any) => a.key === 'neg.offset');
    assert.ok(BigInt(neg.value.int_value) < -(2n ** 61n));
    const arr = s.attributes.find((a: any) => a.key === 'tags');
    assert.equal(arr.value.array_value.values.length, 2);
    assert.equal((s.events ?? []).length, o.events.length);
    assert.equal((s.links ?? []).length, o.links.length);
    if (o.parentSpanId) assert.equal(Buffer.from(s.parent_span_id).toString('hex'), idHex(o.parentSpanId));
    else assert.equal(s.parent_span_id, undefined);
  }
  // spans of one service share one ResourceSpans
  assert.equal(toResourceSpans(traces).length, 4);
});

test('partial success: rejected span count and message are read from an ExportTraceServiceResponse', () => {
  const T = otlpType('ExportTraceServiceResponse');
  const body = T.encode(
    T.fromObject({ partial_success: { rejected_spans: 3, error_message: 'trace too large' } }),
  ).finish();
  assert.deepEqual(decodeExportTraceResponse(body), { rejectedSpans: 3n, errorMessage: 'trace too large' });
  assert.equal(decodeExportTraceResponse(new Uint8Array(0)), undefined);
});

test('Jaeger v1 JSON converts like the OpenTelemetry translator: kind, status, scope, parent, links, int64 strings, binary, logs', () => {
  const t = traceFromJaegerV1({
    traceID: '4bf92f3577b34da6',
    processes: { p1: { serviceName: 'api', tags: [{ key: 'hostname', type: 'string', value: 'h1' }] } },
    spans: [
      {
        traceID: '4bf92f3577b34da6',
        spanID: '00f067aa0ba902b7',
        operationName: 'GET /x',
        startTime: 1767225600123456,
        duration: 1500,
        processID: 'p1',
        references: [
          { refType: 'CHILD_OF', traceID: '4bf92f3577b34da6', spanID: '1111111111111111' },
          { refType: 'FOLLOWS_FROM', traceID: 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb', spanID: '2222222222222222' },
        ],
        tags: [
          { key: 'span.kind', type: 'string', value: 'server' },
          { key: 'error', type: 'bool', value: true },
          { key: 'otel.status_description', type: 'string', value: 'boom' },
          { key: 'otel.scope.name', type: 'string', value: 'lib' },
          { key: 'otel.scope.version', type: 'string', value: '2' },
          { key: 'big', type: 'int64', value: '9007199254740993' },
          { key: 'small', type: 'int64', value: 42 },
          { key: 'bin', type: 'binary', value: 'AAEC' },
          { key: 'f', type: 'float64', value: 0.5 },
        ],
        logs: [
          {
            timestamp: 1767225600123457,
            fields: [
              { key: 'event', type: 'string', value: 'retry' },
              { key: 'n', type: 'int64', value: 1 },
            ],
          },
        ],
      },
    ],
  });
  assert.equal(t.format, 'jaeger-v1');
  assert.equal(idHex(t.traceId), '00000000000000004bf92f3577b34da6');
  const s = t.spans[0];
  assert.equal(s.kind, 2);
  assert.deepEqual(s.status, { code: 2, message: 'boom' });
  assert.deepEqual([s.scope.name, s.scope.version], ['lib', '2']);
  assert.equal(idHex(s.parentSpanId!), '1111111111111111');
  assert.equal(s.links.length, 1);
  assert.equal(idHex(s.links[0].traceId), 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb');
  assert.deepEqual(s.links[0].attributes, [
    { key: 'opentracing.ref_type', value: { type: 'string', value: 'follows_from' } },
  ]);
  assert.equal(s.startNs, 1767225600123456000n);
  assert.equal(s.endNs, 1767225600124956000n);
  assert.deepEqual(
    s.attributes.map((a) => a.key),
    ['big', 'small', 'bin', 'f'],
  );
  assert.deepEqual(s.attributes[0].value, { type: 'int', value: 9007199254740993n });
  assert.deepEqual(s.attributes[2].value, { type: 'bytes', value: Uint8Array.from([0, 1, 2]) });
  assert.equal(s.events[0].name, 'retry');
  assert.equal(s.events[0].timeNs, 1767225600123457000n);
  assert.deepEqual(
    s.resource.attributes.map((a) => a.key),
    ['service.name', 'host.name'],
  );
});

/** The same span as api_v3 (hex IDs, int enums) and as Tempo (base64 IDs, enum names, `batches`). */
function otlpJsonPair(): [unknown, unknown] {
  const tid = '0af7651916cd43dd8448eb211c80319c';
  const sid = 'b7ad6b7169203331';
  const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64');
  const span = (hex: boolean) => ({
    traceId: hex ? tid : b64(tid),
    spanId: hex ? sid : b64(sid),
    name: 'op',
    kind: hex ? 3 : 'SPAN_KIND_CLIENT',
    startTimeUnixNano: '1767225600123456789',
    endTimeUnixNano: '1767225600223456789',
    attributes: [
      { key: 'n', value: { intValue: '9223372036854775807' } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }] } } },
    ],
    status: hex ? { code: 2, message: 'bad' } : { code: 'STATUS_CODE_ERROR', message: 'bad' },
    events: [{ timeUnixNano: '1767225600123456790', name: 'e', attributes: [] }],
  });
  const res = { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] };
  return [
    { resourceSpans: [{ resource: res, scopeSpans: [{ scope: { name: 's' }, spans: [span(true)] }] }] },
    {
      batches: [
        {
          resource: res,
          instrumentationLibrarySpans: [{ instrumentationLibrary: { name: 's' }, spans: [span(false)] }],
        },
      ],
    },
  ];
}

test('api_v3 OTLP-JSON and Tempo JSON (base64, enum names, batches) give the same trace', () => {
  const [v3, tempo] = otlpJsonPair();
  const a = tracesFromOtlpJson(v3);
  const b = tracesFromOtlpJson(tempo);
  assert.equal(a.length, 1);
  assert.equal(idHex(b[0].traceId), '0af7651916cd43dd8448eb211c80319c');
  assert.equal(b[0].spans[0].kind, 3);
  assert.equal(b[0].spans[0].startNs, 1767225600123456789n);
  const c = compareTraces(a[0], b[0]);
  assert.equal(c.status, 'complete');
  assert.equal(c.matchedSpans, 1);
});

function findSpan(t: Trace, pred: (s: Span) => boolean): number {
  const i = t.spans.findIndex(pred);
  assert.ok(i >= 0);
  return i;
}

test('comparison names what differs: attribute value and type, missing span, missing trace, extra span', () => {
  const src = syntheticTrace(SPEC, 4);
  assert.ok(src.spans.length >= 2, 'the generator gives trace 4 several spans');
  assert.equal(compareTraces(src, clone(src)).status, 'complete');

  const altered = clone(src);
  const i = findSpan(altered, (s) => s.parentSpanId !== undefined);
  altered.spans[i] = {
    ...altered.spans[i],
    attributes: altered.spans[i].attributes.map((a) =>
      a.key === 'http.status_code'
        ? { key: a.key, value: { type: 'string', value: String((a.value as { value: bigint }).value) } }
        : a,
    ),
  };
  const d = compareTraces(src, altered);
  assert.equal(d.status, 'different');
  assert.equal(d.differentSpans.length, 1);
  assert.equal(d.differentSpans[0].spanId, idHex(src.spans[i].spanId));
  assert.deepEqual(
    d.differentSpans[0].fields.map((f) => f.field),
    ['attributes["http.status_code"]'],
  );
  assert.match(d.differentSpans[0].fields[0].source, /^int \d+$/);
  assert.match(d.differentSpans[0].fields[0].target, /^string "\d+"$/);

  const partial = clone(src);
  const gone = partial.spans.splice(i, 1)[0];
  const p = compareTraces(src, partial);
  assert.equal(p.status, 'partial');
  assert.deepEqual(
    p.missingSpans.map((m) => m.spanId),
    [idHex(gone.spanId)],
  );
  assert.equal(p.matchedSpans, src.spans.length - 1);

  assert.equal(compareTraces(src, undefined).status, 'missing');

  const extra = clone(src);
  extra.spans.push({ ...src.spans[0], spanId: Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]) });
  assert.deepEqual(
    compareTraces(src, extra).extraSpans.map((x) => x.spanId),
    ['0909090909090909'],
  );

  const moved = clone(src);
  moved.spans[0] = { ...moved.spans[0], startNs: moved.spans[0].startNs + 1000n };
  assert.deepEqual(
    compareTraces(src, moved).differentSpans[0].fields.map((f) => f.field),
    ['startTimeUnixNano'],
  );
});

test('tolerances are explicit and counted: Jaeger-added tags, duplicates, clock skew only without raw, collections as JSON for v1', () => {
  const src = syntheticTrace(SPEC, 5);
  const tgt = clone(src);
  tgt.spans[0] = {
    ...tgt.spans[0],
    attributes: [
      ...tgt.spans[0].attributes,
      { key: 'internal.span.format', value: { type: 'string' as const, value: 'proto' } },
    ].reverse(),
  };
  tgt.spans.push(tgt.spans[tgt.spans.length - 1]);
  const c = compareTraces(src, tgt);
  assert.equal(c.status, 'complete');
  assert.equal(c.tolerated['jaeger-added-attribute'], 1);
  assert.equal(c.tolerated['duplicate-span'], 1);

  const shifted = clone(src);
  shifted.spans[0] = {
    ...shifted.spans[0],
    startNs: shifted.spans[0].startNs + 5000n,
    endNs: shifted.spans[0].endNs + 5000n,
    events: shifted.spans[0].events.map((e) => ({ ...e, timeNs: e.timeNs + 5000n })),
  };
  assert.equal(compareTraces(src, shifted).status, 'different', 'raw=true: a shift is a difference');
  const skew = compareTraces(src, shifted, { clockSkew: true });
  assert.equal(skew.status, 'complete');
  assert.equal(skew.tolerated['clock-skew-adjustment'], 1);

  const asV1 = clone(src);
  asV1.format = 'jaeger-v1';
  asV1.spans = asV1.spans.map((s) => ({
    ...s,
    attributes: s.attributes.map((a) =>
      a.key === 'tags'
        ? {
            key: 'tags',
            value: {
              type: 'string' as const,
              value: `["a",${(a.value as { values: Array<{ value: unknown }> }).values[1].value}]`,
            },
          }
        : a,
    ),
  }));
  const v = compareTraces(src, asV1);
  assert.equal(v.status, 'complete');
  assert.equal(v.tolerated['collection-as-json-string'], src.spans.length);
  // the same string against an OTLP-read target is a real difference
  assert.equal(compareTraces(src, { ...asV1, format: 'otlp' }).status, 'different');
});
