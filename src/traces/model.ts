/**
 * The one in-memory trace model every converter produces and the comparison, the OTLP encoder and the
 * reports consume. IDs are raw bytes (16 for a trace, 8 for a span) so that hex, trimmed hex and base64
 * spellings compare equal; times are BigInt nanoseconds because µs x 1000 passes 2^53 (about 1.7e18);
 * int64 attribute values are BigInt for the same reason (Jaeger sends those outside ±2^53 as strings).
 */
export type AttrValue =
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'double'; value: number }
  | { type: 'bytes'; value: Uint8Array }
  | { type: 'array'; values: AttrValue[] }
  | { type: 'kvlist'; values: Attr[] }
  | { type: 'empty' };

export interface Attr {
  key: string;
  value: AttrValue;
}

export interface Resource {
  attributes: Attr[];
  droppedAttributesCount?: number;
}
export interface Scope {
  name: string;
  version: string;
  attributes: Attr[];
}

export interface SpanEvent {
  timeNs: bigint;
  name: string;
  attributes: Attr[];
  droppedAttributesCount?: number;
}
export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: Attr[];
  flags?: number;
}

/** OTLP span kinds (opentelemetry-proto trace.proto SpanKind). */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export type SpanKindCode = 0 | 1 | 2 | 3 | 4 | 5;
export const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;
/** OTLP status codes: UNSET, OK, ERROR. */
export type StatusCode = 0 | 1 | 2;
export const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  /** Absent for a root span (an all-zero parent is normalised to absent). */
  parentSpanId?: Uint8Array;
  traceState: string;
  name: string;
  kind: SpanKindCode;
  startNs: bigint;
  endNs: bigint;
  attributes: Attr[];
  events: SpanEvent[];
  links: SpanLink[];
  status: { code: StatusCode; message: string };
  resource: Resource;
  scope: Scope;
  flags?: number;
  droppedAttributesCount?: number;
  droppedEventsCount?: number;
  droppedLinksCount?: number;
}

/**
 * Where a trace was read from. Jaeger's v1 JSON model cannot hold some OTLP details (array attributes, link
 * attributes, scope attributes, dropped counts): the comparison tolerates exactly those when one side is v1.
 */
export type TraceFormat = 'jaeger-v1' | 'otlp';

export interface Trace {
  traceId: Uint8Array;
  spans: Span[];
  format: TraceFormat;
}

export const EMPTY_SCOPE: Scope = Object.freeze({ name: '', version: '', attributes: [] }) as Scope;

/** The service a span belongs to: resource attribute service.name. */
export function serviceOf(span: Span): string {
  const a = span.resource.attributes.find((x) => x.key === 'service.name');
  return a && a.value.type === 'string' ? a.value.value : '';
}

export function spanCount(traces: Trace[]): number {
  let n = 0;
  for (const t of traces) n += t.spans.length;
  return n;
}
