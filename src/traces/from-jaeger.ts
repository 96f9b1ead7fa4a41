import { StackshiftError } from '../errors/index.js';
import { idFromHex, isZeroId } from './ids.js';
import {
  EMPTY_SCOPE,
  type Attr,
  type AttrValue,
  type Resource,
  type Scope,
  type Span,
  type SpanKindCode,
  type SpanLink,
  type StatusCode,
  type Trace,
} from './model.js';

/**
 * Jaeger's internal v1 JSON (GET /api/traces, /api/traces/{id}) to the trace model, the way the
 * OpenTelemetry translator maps Jaeger's model (opentelemetry-collector-contrib
 * pkg/translator/jaeger/jaegerproto_to_traces.go), so a span written as OTLP, stored by Jaeger and read back
 * as v1 JSON comes back as the same OTLP span. One deliberate difference: no status is inferred from
 * `http.status_code` (the translator's fallback), because a span stored from OTLP with status UNSET would
 * otherwise come back as ERROR; the tag itself is kept.
 */
export interface JaegerKeyValue {
  key: string;
  type?: string;
  value: unknown;
}
export interface JaegerReference {
  refType: string;
  traceID: string;
  spanID: string;
}
export interface JaegerLog {
  timestamp: number;
  fields?: JaegerKeyValue[];
}
export interface JaegerProcess {
  serviceName: string;
  tags?: JaegerKeyValue[];
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  flags?: number;
  operationName: string;
  references?: JaegerReference[] | null;
  startTime: number;
  duration: number;
  tags?: JaegerKeyValue[] | null;
  logs?: JaegerLog[] | null;
  processID?: string;
  process?: JaegerProcess;
  warnings?: string[] | null;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes?: Record<string, JaegerProcess>;
  warnings?: string[] | null;
}

const KIND: Record<string, SpanKindCode> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

function bad(what: string): never {
  throw new StackshiftError('jaeger-json', `unexpected Jaeger v1 JSON: ${what}`, {
    hint: 'check that the URL points at Jaeger query (:16686)',
  });
}

/** A v1 tag value: int64 beyond ±2^53 arrives as a string, binary as base64. */
export function jaegerTagValue(kv: JaegerKeyValue): AttrValue {
  const v = kv.value;
  switch (kv.type ?? 'string') {
    case 'string':
      return { type: 'string', value: String(v) };
    case 'bool':
      return { type: 'bool', value: v === true || v === 'true' };
    case 'int64': {
      if (typeof v === 'number' && !Number.isInteger(v)) bad(`int64 tag ${kv.key} holds ${v}`);
      return { type: 'int', value: BigInt(v as string | number) };
    }
    case 'float64':
      return { type: 'double', value: typeof v === 'number' ? v : Number(v) };
    case 'binary':
      return { type: 'bytes', value: Uint8Array.from(Buffer.from(String(v), 'base64')) };
    default:
      return bad(`tag ${kv.key} has unknown type ${kv.type}`);
  }
}

function attrs(tags: JaegerKeyValue[] | null | undefined): Attr[] {
  return (tags ?? []).map((kv) => ({ key: kv.key, value: jaegerTagValue(kv) }));
}

function resourceOf(p: JaegerProcess | undefined): Resource {
  const out: Attr[] = [];
  if (p?.serviceName && p.serviceName !== 'OTLPResourceNoServiceName')
    out.push({ key: 'service.name', value: { type: 'string', value: p.serviceName } });
  const tags = attrs(p?.tags);
  const hasHostName = tags.some((t) => t.key === 'host.name');
  for (const t of tags) {
    if (t.key === 'hostname' && !hasHostName && t.value.type === 'string')
      out.push({ key: 'host.name', value: t.value });
    else if (t.key === 'jaeger.version' && t.value.type === 'string')
      out.push({ key: 'opencensus.exporterversion', value: { type: 'string', value: `Jaeger-${t.value.value}` } });
    else out.push(t);
  }
  return { attributes: out };
}

const US = 1000n;

function spanFrom(
  js: JaegerSpan,
  trace: JaegerTrace,
  resources: Map<string, Resource>,
  scopes: Map<string, Scope>,
): Span {
  if (typeof js.spanID !== 'string' || typeof js.startTime !== 'number') bad('a span without spanID or startTime');
  const traceId = idFromHex(js.traceID ?? trace.traceID, 16, 'trace ID');
  const spanId = idFromHex(js.spanID, 8, 'span ID');
  const pid = js.processID ?? '';
  let resource = resources.get(pid);
  if (!resource || js.process) {
    resource = resourceOf(js.process ?? trace.processes?.[pid]);
    if (!js.process) resources.set(pid, resource);
  }
  let kind: SpanKindCode = 0;
  let status: { code: StatusCode; message: string } = { code: 0, message: '' };
  let errorTag = false;
  let otelStatus: string | undefined;
  let statusDescription: string | undefined;
  let traceState = '';
  let scopeName = '';
  let scopeVersion = '';
  const attributes: Attr[] = [];
  for (const a of attrs(js.tags)) {
    const sv = a.value.type === 'string' ? a.value.value : undefined;
    switch (a.key) {
      case 'span.kind':
        kind = KIND[String(sv ?? '').toLowerCase()] ?? 0;
        continue;
      case 'error':
        if (a.value.type === 'bool' || sv !== undefined) {
          errorTag = a.value.type === 'bool' ? a.value.value : sv === 'true';
          continue;
        }
        break;
      case 'otel.status_code':
        otelStatus = sv;
        continue;
      case 'otel.status_description':
        statusDescription = sv;
        continue;
      case 'w3c.tracestate':
        traceState = sv ?? '';
        continue;
      case 'otel.scope.name':
      case 'otel.library.name':
        scopeName = sv ?? '';
        continue;
      case 'otel.scope.version':
      case 'otel.library.version':
        scopeVersion = sv ?? '';
        continue;
    }
    attributes.push(a);
  }
  if (errorTag) status = { code: 2, message: statusDescription ?? '' };
  else if (otelStatus === 'ERROR') status = { code: 2, message: statusDescription ?? '' };
  else if (otelStatus === 'OK') status = { code: 1, message: statusDescription ?? '' };

  const scopeKey = `${scopeName}\x00${scopeVersion}`;
  let scope = scopes.get(scopeKey);
  if (!scope) {
    scope = scopeName || scopeVersion ? { name: scopeName, version: scopeVersion, attributes: [] } : EMPTY_SCOPE;
    scopes.set(scopeKey, scope);
  }

  // parent: the first CHILD_OF within the trace, else the first FOLLOWS_FROM (jaeger-idl model Span.ParentSpanID)
  const refs = js.references ?? [];
  const sameTrace = (r: JaegerReference) => idFromHex(r.traceID, 16, 'trace ID').every((b, i) => b === traceId[i]);
  const parentRef =
    refs.find((r) => r.refType === 'CHILD_OF' && sameTrace(r)) ??
    refs.find((r) => r.refType === 'FOLLOWS_FROM' && sameTrace(r));
  const parentSpanId = parentRef ? idFromHex(parentRef.spanID, 8, 'span ID') : undefined;
  const links: SpanLink[] = [];
  for (const r of refs) {
    if (r === parentRef && r.refType === 'CHILD_OF') continue;
    links.push({
      traceId: idFromHex(r.traceID, 16, 'trace ID'),
      spanId: idFromHex(r.spanID, 8, 'span ID'),
      traceState: '',
      attributes: [
        {
          key: 'opentracing.ref_type',
          value: { type: 'string', value: r.refType === 'FOLLOWS_FROM' ? 'follows_from' : 'child_of' },
        },
      ],
    });
  }
  const startNs = BigInt(js.startTime) * US;
  return {
    traceId,
    spanId,
    parentSpanId: isZeroId(parentSpanId) ? undefined : parentSpanId,
    traceState,
    name: js.operationName ?? '',
    kind,
    startNs,
    endNs: startNs + BigInt(js.duration ?? 0) * US,
    attributes,
    events: (js.logs ?? []).map((l) => {
      let name = '';
      const ea: Attr[] = [];
      for (const f of attrs(l.fields)) {
        if (f.key === 'event' && f.value.type === 'string' && name === '') name = f.value.value;
        else ea.push(f);
      }
      return { timeNs: BigInt(l.timestamp) * US, name, attributes: ea };
    }),
    links,
    status,
    resource,
    scope,
  };
}

/** One v1 trace (an element of `data` in /api/traces or /api/traces/{id}). */
export function traceFromJaegerV1(t: JaegerTrace): Trace {
  if (!t || typeof t.traceID !== 'string' || !Array.isArray(t.spans)) bad('a trace without traceID or spans');
  const resources = new Map<string, Resource>();
  const scopes = new Map<string, Scope>();
  return {
    traceId: idFromHex(t.traceID, 16, 'trace ID'),
    spans: t.spans.map((s) => spanFrom(s, t, resources, scopes)),
    format: 'jaeger-v1',
  };
}
