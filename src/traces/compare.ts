import { attrsText, collectionAsJson, sortedAttrs, valueText } from './canonical.js';
import { idHex } from './ids.js';
import { SPAN_KIND_NAMES, STATUS_CODE_NAMES, serviceOf, type Attr, type Span, type Trace } from './model.js';

/**
 * Span-by-span comparison of one trace read from two systems. Every field is compared exactly (IDs, parent,
 * name, kind, start/end in ns, attributes with their types, events, links, status, resource, scope); the
 * only differences accepted are the ones the systems make legitimately, each named here, counted in the
 * result and listed in the report. Attribute, event and link order never matters.
 */
export type Tolerance =
  | 'jaeger-added-attribute'
  | 'opentracing-ref-type'
  | 'collection-as-json-string'
  | 'jaeger-v1-link-attributes'
  | 'jaeger-v1-scope-attributes'
  | 'jaeger-v1-dropped-counts'
  | 'duplicate-span'
  | 'clock-skew-adjustment';

export const TOLERANCES: Record<Tolerance, string> = {
  'jaeger-added-attribute':
    'span attributes Jaeger adds when it stores or serves a span (internal.span.format from v1 collectors, @jaeger@warnings/@jaeger@format from api_v3, otel.scope.*/otel.library.*/otel.status_* left by its model translation) are ignored',
  'opentracing-ref-type':
    "the link attribute opentracing.ref_type that Jaeger's model adds to every reference is ignored",
  'collection-as-json-string':
    'an array or map attribute equals a string attribute holding its JSON when one side was read as Jaeger v1 JSON (the v1 model has no collection type)',
  'jaeger-v1-link-attributes':
    'link attributes, trace state and flags are not compared when one side was read as Jaeger v1 JSON (references carry none)',
  'jaeger-v1-scope-attributes':
    'scope attributes are not compared when one side was read as Jaeger v1 JSON (the v1 model keeps only scope name and version)',
  'jaeger-v1-dropped-counts':
    'dropped-attribute/event/link counts and span flags are not compared when one side was read as Jaeger v1 JSON',
  'duplicate-span':
    'identical copies of a span (a batch re-sent after an interruption) count once; Tempo merges them on read by span ID and kind',
  'clock-skew-adjustment':
    "a span shifted as a whole (start, end and events by the same amount) is accepted: only when reading with raw=false, where Jaeger's clock-skew adjuster may move spans",
};

/** Span attributes Jaeger itself adds: ignored on both sides. */
const JAEGER_ADDED = new Set([
  'internal.span.format',
  '@jaeger@warnings',
  '@jaeger@format',
  'otel.scope.name',
  'otel.scope.version',
  'otel.library.name',
  'otel.library.version',
  'otel.status_code',
  'otel.status_description',
]);

export interface CompareOptions {
  /** Accept whole-span shifts (Jaeger's clock-skew adjuster): only when a side was read without raw=true. */
  clockSkew?: boolean;
}

export interface FieldDiff {
  field: string;
  source: string;
  target: string;
}
export interface SpanRef {
  spanId: string;
  name: string;
  service: string;
}
export interface SpanDiff extends SpanRef {
  fields: FieldDiff[];
}
export type TraceStatus = 'complete' | 'partial' | 'missing' | 'different';

export interface TraceComparison {
  traceId: string;
  status: TraceStatus;
  sourceSpans: number;
  targetSpans: number;
  matchedSpans: number;
  missingSpans: SpanRef[];
  extraSpans: SpanRef[];
  differentSpans: SpanDiff[];
  tolerated: Partial<Record<Tolerance, number>>;
}

type Counter = Partial<Record<Tolerance, number>>;
const bump = (c: Counter, t: Tolerance, n = 1) => {
  c[t] = (c[t] ?? 0) + n;
};

const ABSENT = '(absent)';

function compareAttrs(
  field: string,
  s: Attr[],
  t: Attr[],
  v1: boolean,
  c: Counter,
  out: FieldDiff[],
  ignore?: Set<string>,
): void {
  const sm = new Map<string, Attr[]>();
  const tm = new Map<string, Attr[]>();
  for (const [list, m] of [
    [s, sm],
    [t, tm],
  ] as const) {
    for (const a of list) {
      if (ignore?.has(a.key)) {
        bump(c, ignore === JAEGER_ADDED ? 'jaeger-added-attribute' : 'opentracing-ref-type');
        continue;
      }
      const l = m.get(a.key);
      if (l) l.push(a);
      else m.set(a.key, [a]);
    }
  }
  const keys = [...new Set([...sm.keys(), ...tm.keys()])].sort();
  for (const k of keys) {
    const sv =
      (sm.get(k) ?? [])
        .map((a) => valueText(a.value))
        .sort()
        .join(' | ') || ABSENT;
    const tv =
      (tm.get(k) ?? [])
        .map((a) => valueText(a.value))
        .sort()
        .join(' | ') || ABSENT;
    if (sv === tv) continue;
    if (v1) {
      const a = sm.get(k)?.[0]?.value;
      const b = tm.get(k)?.[0]?.value;
      if (
        a &&
        b &&
        ((b.type === 'string' && collectionAsJson(a) === b.value) ||
          (a.type === 'string' && collectionAsJson(b) === a.value))
      ) {
        bump(c, 'collection-as-json-string');
        continue;
      }
    }
    out.push({ field: `${field}[${JSON.stringify(k)}]`, source: sv, target: tv });
  }
}

function ns(v: bigint): string {
  return `${v} ns`;
}

/** Every field of two spans with the same ID; empty when equal within the tolerances. */
export function diffSpans(s: Span, t: Span, v1: boolean, opts: CompareOptions, c: Counter): FieldDiff[] {
  const out: FieldDiff[] = [];
  const eq = (field: string, a: string, b: string) => {
    if (a !== b) out.push({ field, source: a, target: b });
  };
  eq(
    'parentSpanId',
    s.parentSpanId ? idHex(s.parentSpanId) : '(root)',
    t.parentSpanId ? idHex(t.parentSpanId) : '(root)',
  );
  eq('name', s.name, t.name);
  eq('kind', SPAN_KIND_NAMES[s.kind], SPAN_KIND_NAMES[t.kind]);
  eq('traceState', s.traceState, t.traceState);
  let shift = 0n;
  if (s.startNs !== t.startNs || s.endNs !== t.endNs) {
    const d = t.startNs - s.startNs;
    if (opts.clockSkew && t.endNs - s.endNs === d) {
      shift = d;
      bump(c, 'clock-skew-adjustment');
    } else {
      eq('startTimeUnixNano', ns(s.startNs), ns(t.startNs));
      eq('endTimeUnixNano', ns(s.endNs), ns(t.endNs));
    }
  }
  eq(
    'status',
    `${STATUS_CODE_NAMES[s.status.code]} ${JSON.stringify(s.status.message)}`,
    `${STATUS_CODE_NAMES[t.status.code]} ${JSON.stringify(t.status.message)}`,
  );
  compareAttrs('attributes', s.attributes, t.attributes, v1, c, out, JAEGER_ADDED);

  const evKey = (e: Span['events'][number], d: bigint) => `${e.timeNs + d} ${e.name} ${attrsText(e.attributes)}`;
  const se = [...s.events].sort((a, b) => evKey(a, shift).localeCompare(evKey(b, shift)));
  const te = [...t.events].sort((a, b) => evKey(a, 0n).localeCompare(evKey(b, 0n)));
  if (se.length !== te.length) eq('events', `${se.length} events`, `${te.length} events`);
  else {
    for (let i = 0; i < se.length; i++) {
      eq(`events[${i}].timeUnixNano`, ns(se[i].timeNs + shift), ns(te[i].timeNs));
      eq(`events[${i}].name`, se[i].name, te[i].name);
      compareAttrs(`events[${i}].attributes`, se[i].attributes, te[i].attributes, v1, c, out);
    }
  }

  const lkKey = (l: Span['links'][number]) => `${idHex(l.traceId)}:${idHex(l.spanId)}`;
  const sl = [...s.links].sort((a, b) => lkKey(a).localeCompare(lkKey(b)));
  const tl = [...t.links].sort((a, b) => lkKey(a).localeCompare(lkKey(b)));
  eq('links', sl.map(lkKey).join(' ') || '(none)', tl.map(lkKey).join(' ') || '(none)');
  if (sl.length === tl.length) {
    for (let i = 0; i < sl.length; i++) {
      if (v1) {
        const strip = (l: Span['links'][number]) => l.attributes.filter((a) => a.key !== 'opentracing.ref_type');
        if (strip(sl[i]).length || strip(tl[i]).length || sl[i].traceState !== tl[i].traceState)
          bump(c, 'jaeger-v1-link-attributes');
        continue;
      }
      eq(`links[${i}].traceState`, sl[i].traceState, tl[i].traceState);
      compareAttrs(`links[${i}].attributes`, sl[i].attributes, tl[i].attributes, v1, c, out, REF_TYPE);
    }
  }

  compareAttrs('resource', s.resource.attributes, t.resource.attributes, v1, c, out);
  eq('scope', `${s.scope.name} ${s.scope.version}`.trim(), `${t.scope.name} ${t.scope.version}`.trim());
  if (v1) {
    if (s.scope.attributes.length || t.scope.attributes.length) bump(c, 'jaeger-v1-scope-attributes');
    if (
      s.flags !== t.flags ||
      s.droppedAttributesCount !== t.droppedAttributesCount ||
      s.droppedEventsCount !== t.droppedEventsCount ||
      s.droppedLinksCount !== t.droppedLinksCount
    )
      bump(c, 'jaeger-v1-dropped-counts');
  } else {
    compareAttrs('scope.attributes', s.scope.attributes, t.scope.attributes, v1, c, out);
    eq('flags', String(s.flags ?? 0), String(t.flags ?? 0));
    eq('droppedAttributesCount', String(s.droppedAttributesCount ?? 0), String(t.droppedAttributesCount ?? 0));
    eq('droppedEventsCount', String(s.droppedEventsCount ?? 0), String(t.droppedEventsCount ?? 0));
    eq('droppedLinksCount', String(s.droppedLinksCount ?? 0), String(t.droppedLinksCount ?? 0));
  }
  return out;
}

const REF_TYPE = new Set(['opentracing.ref_type']);

/** A full canonical text of a span, to recognise identical duplicates. */
function spanText(s: Span): string {
  return [
    idHex(s.spanId),
    s.parentSpanId ? idHex(s.parentSpanId) : '',
    s.name,
    s.kind,
    s.traceState,
    s.startNs,
    s.endNs,
    s.status.code,
    s.status.message,
    attrsText(s.attributes),
    s.events
      .map((e) => `${e.timeNs} ${e.name} ${attrsText(e.attributes)}`)
      .sort()
      .join(';'),
    s.links
      .map((l) => `${idHex(l.traceId)}:${idHex(l.spanId)} ${l.traceState} ${attrsText(l.attributes)}`)
      .sort()
      .join(';'),
    attrsText(s.resource.attributes),
    s.scope.name,
    s.scope.version,
    attrsText(s.scope.attributes),
    s.flags ?? 0,
  ].join('\n');
}

function ref(s: Span): SpanRef {
  return { spanId: idHex(s.spanId), name: s.name, service: serviceOf(s) };
}

/** Spans by ID with identical duplicates collapsed (counted as tolerated). */
function bySpanId(spans: Span[], c: Counter): Map<string, Span[]> {
  const m = new Map<string, Span[]>();
  const seen = new Set<string>();
  for (const s of spans) {
    const text = spanText(s);
    if (seen.has(text)) {
      bump(c, 'duplicate-span');
      continue;
    }
    seen.add(text);
    const k = idHex(s.spanId);
    const l = m.get(k);
    if (l) l.push(s);
    else m.set(k, [s]);
  }
  return m;
}

export function compareTraces(source: Trace, target: Trace | undefined, opts: CompareOptions = {}): TraceComparison {
  const tolerated: Counter = {};
  const sm = bySpanId(source.spans, tolerated);
  const sourceSpans = [...sm.values()].reduce((a, l) => a + l.length, 0);
  const res: TraceComparison = {
    traceId: idHex(source.traceId),
    status: 'complete',
    sourceSpans,
    targetSpans: 0,
    matchedSpans: 0,
    missingSpans: [],
    extraSpans: [],
    differentSpans: [],
    tolerated,
  };
  if (!target || target.spans.length === 0) {
    res.status = 'missing';
    return res;
  }
  const v1 = source.format === 'jaeger-v1' || target.format === 'jaeger-v1';
  const tm = bySpanId(target.spans, tolerated);
  res.targetSpans = [...tm.values()].reduce((a, l) => a + l.length, 0);
  for (const [id, ss] of sm) {
    const ts = [...(tm.get(id) ?? [])];
    tm.delete(id);
    for (const s of ss) {
      if (ts.length === 0) {
        res.missingSpans.push(ref(s));
        continue;
      }
      // same ID more than once (Tempo keys spans by ID and kind): pair with the same kind first
      let best = 0;
      let bestDiff: FieldDiff[] | undefined;
      for (let i = 0; i < ts.length; i++) {
        const d = diffSpans(s, ts[i], v1, opts, {});
        if (!bestDiff || d.length < bestDiff.length) {
          best = i;
          bestDiff = d;
        }
        if (d.length === 0) break;
      }
      const [t] = ts.splice(best, 1);
      const diffs = diffSpans(s, t, v1, opts, tolerated);
      if (diffs.length === 0) res.matchedSpans++;
      else res.differentSpans.push({ ...ref(s), fields: diffs });
    }
    for (const t of ts) res.extraSpans.push(ref(t));
  }
  for (const ts of tm.values()) for (const t of ts) res.extraSpans.push(ref(t));
  if (res.differentSpans.length || res.extraSpans.length) res.status = 'different';
  else if (res.missingSpans.length) res.status = 'partial';
  return res;
}

export { sortedAttrs };
