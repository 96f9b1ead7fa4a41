import { StackshiftError } from '../errors/index.js';
import { idFromAny, idHex, isZeroId } from './ids.js';
import {
  EMPTY_SCOPE,
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
  type Attr,
  type AttrValue,
  type Resource,
  type Scope,
  type Span,
  type SpanKindCode,
  type StatusCode,
  type Trace,
} from './model.js';

/**
 * OTLP-JSON (TracesData) to the trace model, in both spellings the systems emit:
 * - spec OTLP-JSON, as Jaeger's api_v3 returns it (pdata JSONMarshaler): hex IDs, enums as integers,
 *   int64 and uint64 as decimal strings;
 * - Tempo's /api/traces and /api/v2/traces JSON (gogo jsonpb): base64 IDs, enums as names, `batches`
 *   (Tempo <= 2.5) or `resourceSpans` (>= 2.6), and `instrumentationLibrarySpans` from older writers.
 * Every span keeps its resource and scope; spans are grouped by trace ID.
 */
type Json = Record<string, unknown>;

function bad(what: string): never {
  throw new StackshiftError('otlp-json', `unexpected OTLP-JSON trace data: ${what}`, {
    hint: 'check that the URL points at Jaeger api_v3 or Tempo',
  });
}

function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** uint64/int64 carried as a decimal string (spec) or, from lenient writers, a JSON number. */
function big(v: unknown, what: string): bigint {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (v === undefined || v === null) return 0n;
  return bad(`${what} is ${JSON.stringify(v)}, not an integer`);
}

function double(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string') return Number(v);
  return 0;
}

export function anyValue(v: unknown): AttrValue {
  const o = (v ?? {}) as Json;
  if ('stringValue' in o) return { type: 'string', value: str(o.stringValue) };
  if ('boolValue' in o) return { type: 'bool', value: o.boolValue === true };
  if ('intValue' in o) return { type: 'int', value: big(o.intValue, 'intValue') };
  if ('doubleValue' in o) return { type: 'double', value: double(o.doubleValue) };
  if ('bytesValue' in o) return { type: 'bytes', value: Uint8Array.from(Buffer.from(str(o.bytesValue), 'base64')) };
  if ('arrayValue' in o)
    return { type: 'array', values: arr((o.arrayValue as Json | undefined)?.values).map(anyValue) };
  if ('kvlistValue' in o) return { type: 'kvlist', values: attributes((o.kvlistValue as Json | undefined)?.values) };
  return { type: 'empty' };
}

export function attributes(v: unknown): Attr[] {
  return arr(v).map((kv) => ({ key: str(kv.key), value: anyValue(kv.value) }));
}

function kindOf(v: unknown): SpanKindCode {
  if (typeof v === 'number') return (v >= 0 && v <= 5 ? v : 0) as SpanKindCode;
  if (typeof v === 'string') {
    const i = (SPAN_KIND_NAMES as readonly string[]).indexOf(v);
    return (i < 0 ? 0 : i) as SpanKindCode;
  }
  return 0;
}

function statusOf(v: unknown): { code: StatusCode; message: string } {
  const o = (v ?? {}) as Json;
  let code: StatusCode = 0;
  if (typeof o.code === 'number') code = (o.code >= 0 && o.code <= 2 ? o.code : 0) as StatusCode;
  else if (typeof o.code === 'string')
    code = Math.max(0, (STATUS_CODE_NAMES as readonly string[]).indexOf(o.code)) as StatusCode;
  return { code, message: str(o.message) };
}

function optNumber(v: unknown): number | undefined {
  return typeof v === 'number' && v !== 0 ? v : undefined;
}

/** Adds the spans of one TracesData-like object (resourceSpans or batches) to `byTrace`. */
export function collectOtlpJson(data: unknown, byTrace: Map<string, Trace>): void {
  const d = (data ?? {}) as Json;
  const rss = arr(d.resourceSpans ?? d.batches);
  for (const rs of rss) {
    const r = (rs.resource ?? {}) as Json;
    const resource: Resource = {
      attributes: attributes(r.attributes),
      droppedAttributesCount: optNumber(r.droppedAttributesCount),
    };
    for (const ss of arr(rs.scopeSpans ?? rs.instrumentationLibrarySpans)) {
      const sc = (ss.scope ?? ss.instrumentationLibrary) as Json | undefined;
      const scope: Scope = sc
        ? { name: str(sc.name), version: str(sc.version), attributes: attributes(sc.attributes) }
        : EMPTY_SCOPE;
      for (const sp of arr(ss.spans)) {
        const traceId = idFromAny(str(sp.traceId), 16, 'trace ID');
        const parent = str(sp.parentSpanId);
        const parentSpanId = parent ? idFromAny(parent, 8, 'span ID') : undefined;
        const span: Span = {
          traceId,
          spanId: idFromAny(str(sp.spanId), 8, 'span ID'),
          parentSpanId: isZeroId(parentSpanId) ? undefined : parentSpanId,
          traceState: str(sp.traceState),
          name: str(sp.name),
          kind: kindOf(sp.kind),
          startNs: big(sp.startTimeUnixNano, 'startTimeUnixNano'),
          endNs: big(sp.endTimeUnixNano, 'endTimeUnixNano'),
          attributes: attributes(sp.attributes),
          events: arr(sp.events).map((e) => ({
            timeNs: big(e.timeUnixNano, 'timeUnixNano'),
            name: str(e.name),
            attributes: attributes(e.attributes),
            droppedAttributesCount: optNumber(e.droppedAttributesCount),
          })),
          links: arr(sp.links).map((l) => ({
            traceId: idFromAny(str(l.traceId), 16, 'trace ID'),
            spanId: idFromAny(str(l.spanId), 8, 'span ID'),
            traceState: str(l.traceState),
            attributes: attributes(l.attributes),
            flags: optNumber(l.flags),
          })),
          status: statusOf(sp.status),
          resource,
          scope,
          flags: optNumber(sp.flags),
          droppedAttributesCount: optNumber(sp.droppedAttributesCount),
          droppedEventsCount: optNumber(sp.droppedEventsCount),
          droppedLinksCount: optNumber(sp.droppedLinksCount),
        };
        const key = idHex(traceId);
        let t = byTrace.get(key);
        if (!t) byTrace.set(key, (t = { traceId, spans: [], format: 'otlp' }));
        t.spans.push(span);
      }
    }
  }
}

/** All traces in one TracesData-like object (api_v3 concatenates every matching trace into one). */
export function tracesFromOtlpJson(data: unknown): Trace[] {
  const m = new Map<string, Trace>();
  collectOtlpJson(data, m);
  return [...m.values()];
}
