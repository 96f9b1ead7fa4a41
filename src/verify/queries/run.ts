import type { PrometheusClient, QueryResult } from '../../clients/index.js';
import { InputError } from '../../errors/index.js';
import { HttpError } from '../../http/index.js';
import { approxEqual } from '../compare.js';
import { formatLabels, labelKey, labelsFromRecord } from '../labels.js';
import type { QueryCase, QueryOrigin, QuerySet, Unsupported } from './extract.js';

/**
 * Query parity in the manner of the Prometheus PromQL compliance tester (prometheus/compliance, promql/):
 * every query runs as an instant query at --time and as a range query over [time - range, time] on both
 * sides; results are compared order-insensitively, series by label set, values with a relative tolerance
 * (default 1e-5, NaN equal to NaN). Each side's latency is recorded for p50/p95.
 */
export interface QuerySide { url: string; api: PrometheusClient }

export interface VerifyQueriesOptions {
  source: QuerySide;
  target: QuerySide;
  set: QuerySet;
  timeMs: number;
  rangeMs: number;
  stepMs: number;
  tolerance: number;
  maxLatencyIncreasePercent?: number;
  latencyFloorMs: number;
  timeoutMs: number;
  concurrency: number;
  top: number;
  /**
   * Labels removed from both sides' results before comparing (the compliance tester's drop_result_labels):
   * by default the source's external labels, which its query API never shows but a copy may have stored.
   */
  dropLabels?: string[];
  onProgress?: (done: number) => void;
}

export interface SeriesDifference {
  series: string;
  kind: 'missing-in-target' | 'extra-in-target' | 'value' | 'points';
  atMs?: number;
  source?: string;
  target?: string;
}

export interface QueryMismatch {
  id: number;
  query: string;
  template?: string;
  origin: QueryOrigin;
  type: 'instant' | 'range';
  reason: string;
  differences: SeriesDifference[];
  seriesSource: number;
  seriesTarget: number;
}

export interface LatencyStats { count: number; p50Ms: number; p95Ms: number; maxMs: number }

export interface QueriesReport {
  schemaVersion: 1;
  kind: 'stackshift.verify.queries';
  generatedAt: string;
  source: { url: string };
  target: { url: string };
  evaluation: { time: string; rangeMs: number; stepMs: number; tolerance: number; droppedLabels: string[] };
  sources: QuerySet['sources'];
  totals: {
    queries: number;
    executions: number;
    equal: number;
    mismatched: number;
    /** Equal, but empty on both sides: nothing was really compared. */
    emptyOnBoth: number;
    /** The same error on both sides (consistent, listed for the record). */
    errorOnBoth: number;
    unsupported: number;
    skippedNonPrometheus: Record<string, number>;
  };
  latency: {
    source: LatencyStats;
    target: LatencyStats;
    /** Target over source, in percent (positive = slower). */
    p50IncreasePercent: number;
    p95IncreasePercent: number;
    gate?: { maxIncreasePercent: number; floorMs: number; passed: boolean };
  };
  mismatches: QueryMismatch[];
  errorsOnBoth: Array<{ id: number; query: string; origin: QueryOrigin; type: 'instant' | 'range'; error: string }>;
  unsupported: Unsupported[];
  passed: boolean;
  durationMs: number;
}

/** Nearest-rank percentile. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function stats(list: number[]): LatencyStats {
  const s = [...list].sort((a, b) => a - b);
  return { count: s.length, p50Ms: round(percentile(s, 50)), p95Ms: round(percentile(s, 95)), maxMs: round(s[s.length - 1] ?? 0) };
}

const round = (x: number) => Math.round(x * 100) / 100;

type Outcome = { ok: true; result: QueryResult; ms: number } | { ok: false; error: string; status?: number; errorType?: string; ms: number };

// Mimir's query-frontend skips its results cache for this; Prometheus ignores it.
const NO_CACHE = { 'cache-control': 'no-store' };

async function run(api: PrometheusClient, c: QueryCase, type: 'instant' | 'range', o: VerifyQueriesOptions): Promise<Outcome> {
  const t0 = performance.now();
  const timeout = `${Math.max(1, Math.round(o.timeoutMs / 1000))}s`;
  try {
    const result = type === 'instant'
      ? await api.query(c.expr, o.timeMs, timeout, NO_CACHE)
      : await api.queryRange(c.expr, o.timeMs - o.rangeMs, o.timeMs, o.stepMs / 1000, timeout, NO_CACHE);
    return { ok: true, result, ms: performance.now() - t0 };
  } catch (e) {
    // a server that cannot be reached is a run failure, not a query result
    if (e instanceof HttpError && e.kind !== 'status') throw e;
    const msg = (e as Error).message;
    return { ok: false, error: msg.replace(/^POST \S+: /, ''), status: (e as HttpError).status, errorType: /^(\w+):/.exec(msg.replace(/^POST \S+: /, ''))?.[1], ms: performance.now() - t0 };
  }
}

const fmt = (v: string) => v;

/** Compares two query results; returns the reason and the differing series, or undefined when equal. */
export function compareResults(a: QueryResult, b: QueryResult, tol: number, cap = 10, dropLabels: string[] = []): { reason: string; differences: SeriesDifference[] } | undefined {
  if (a.resultType !== b.resultType) return { reason: `result type ${a.resultType} vs ${b.resultType}`, differences: [] };
  if (a.resultType === 'scalar' || a.resultType === 'string') {
    const [ta, va] = a.result as [number, string];
    const [tb, vb] = b.result as [number, string];
    const equal = ta === tb && (a.resultType === 'string' ? va === vb : approxEqual(Number(va), Number(vb), tol));
    return equal ? undefined : { reason: `${a.resultType} differs`, differences: [{ series: a.resultType, kind: 'value', atMs: ta * 1000, source: fmt(va), target: fmt(vb) }] };
  }
  const diffs: SeriesDifference[] = [];
  let count = 0;
  const push = (d: SeriesDifference) => { count++; if (diffs.length < cap) diffs.push(d); };
  type Row = { metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> };
  const index = (rows: Row[]) => {
    const m = new Map<string, Row>();
    for (const row of rows) {
      let r = row;
      if (dropLabels.length) {
        const metric = { ...r.metric };
        for (const l of dropLabels) delete metric[l];
        r = { ...r, metric };
      }
      m.set(labelKey(labelsFromRecord(r.metric)), r);
    }
    return m;
  };
  const sa = index(a.result as Row[]);
  const sb = index(b.result as Row[]);
  for (const [k, ra] of sa) {
    const rb = sb.get(k);
    const name = formatLabels(labelsFromRecord(ra.metric));
    if (!rb) { push({ series: name, kind: 'missing-in-target' }); continue; }
    const pa = ra.values ?? (ra.value ? [ra.value] : []);
    const pb = rb.values ?? (rb.value ? [rb.value] : []);
    let i = 0, j = 0;
    let found: SeriesDifference | undefined;
    while ((i < pa.length || j < pb.length) && !found) {
      const x = pa[i], y = pb[j];
      if (!y || (x && x[0] < y[0])) found = { series: name, kind: 'points', atMs: Math.round(x[0] * 1000), source: x[1] };
      else if (!x || y[0] < x[0]) found = { series: name, kind: 'points', atMs: Math.round(y[0] * 1000), target: y[1] };
      else if (!approxEqual(Number(x[1]), Number(y[1]), tol)) found = { series: name, kind: 'value', atMs: Math.round(x[0] * 1000), source: x[1], target: y[1] };
      i++; j++;
    }
    if (found) push(found);
  }
  for (const [k, rb] of sb) if (!sa.has(k)) push({ series: formatLabels(labelsFromRecord(rb.metric)), kind: 'extra-in-target' });
  if (count === 0) return undefined;
  const kinds = new Set(diffs.map((d) => d.kind));
  return { reason: `${count} of ${Math.max(sa.size, sb.size)} series differ (${[...kinds].join(', ')})`, differences: diffs };
}

function isEmpty(r: QueryResult): boolean {
  return (r.resultType === 'vector' || r.resultType === 'matrix') && (r.result as unknown[]).length === 0;
}

function seriesCount(o: Outcome): number {
  return o.ok && (o.result.resultType === 'vector' || o.result.resultType === 'matrix') ? (o.result.result as unknown[]).length : 0;
}

export async function verifyQueries(o: VerifyQueriesOptions): Promise<QueriesReport> {
  const t0 = Date.now();
  const latS: number[] = [];
  const latT: number[] = [];
  const mismatches: QueryMismatch[] = [];
  const errorsOnBoth: QueriesReport['errorsOnBoth'] = [];
  let equal = 0, mismatched = 0, empty = 0, errBoth = 0, executions = 0, done = 0;

  const one = async (c: QueryCase) => {
    for (const type of ['instant', 'range'] as const) {
      // alternate which side goes first so neither always gets the warmer cache
      const sourceFirst = (c.id + (type === 'range' ? 1 : 0)) % 2 === 0;
      const s = sourceFirst ? await run(o.source.api, c, type, o) : undefined;
      const t = await run(o.target.api, c, type, o);
      const s2 = s ?? await run(o.source.api, c, type, o);
      executions++;
      latS.push(s2.ms);
      latT.push(t.ms);
      if (!s2.ok && s2.status === 400 && (c.origin.kind === 'query-file' || c.origin.kind === 'rule-file')) {
        throw new InputError(`the source rejects this query: ${s2.error}`, { file: c.origin.file, line: c.origin.line }, 'fix the query (the source Prometheus judges it invalid), or comment it out');
      }
      const base = { id: c.id, query: c.expr, template: c.template, origin: c.origin, type, seriesSource: seriesCount(s2), seriesTarget: seriesCount(t) };
      if (!s2.ok && !t.ok) {
        if (s2.errorType === t.errorType || s2.status === t.status) { errBoth++; errorsOnBoth.push({ id: c.id, query: c.expr, origin: c.origin, type, error: s2.error }); continue; }
        mismatched++;
        mismatches.push({ ...base, reason: `both failed, differently: source ${s2.error}; target ${t.error}`, differences: [] });
        continue;
      }
      if (!s2.ok || !t.ok) {
        mismatched++;
        mismatches.push({ ...base, reason: !s2.ok ? `only the source failed: ${s2.error}` : `only the target failed: ${(t as { error: string }).error}`, differences: [] });
        continue;
      }
      const d = compareResults(s2.result, t.result, o.tolerance, 10, o.dropLabels);
      if (d) { mismatched++; mismatches.push({ ...base, ...d }); }
      else { equal++; if (isEmpty(s2.result)) empty++; }
    }
    o.onProgress?.(++done);
  };
  const queue = [...o.set.queries];
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, queue.length)) }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) await one(c);
  }));

  const ls = stats(latS);
  const lt = stats(latT);
  const inc = (a: number, b: number) => (a === 0 ? 0 : round(((b - a) / a) * 100));
  const latency: QueriesReport['latency'] = { source: ls, target: lt, p50IncreasePercent: inc(ls.p50Ms, lt.p50Ms), p95IncreasePercent: inc(ls.p95Ms, lt.p95Ms) };
  if (o.maxLatencyIncreasePercent !== undefined) {
    const within = (a: number, b: number) => b <= a * (1 + o.maxLatencyIncreasePercent! / 100) || b - a <= o.latencyFloorMs;
    latency.gate = { maxIncreasePercent: o.maxLatencyIncreasePercent, floorMs: o.latencyFloorMs, passed: within(ls.p50Ms, lt.p50Ms) && within(ls.p95Ms, lt.p95Ms) };
  }
  mismatches.sort((a, b) => a.id - b.id || a.type.localeCompare(b.type));
  return {
    schemaVersion: 1,
    kind: 'stackshift.verify.queries',
    generatedAt: new Date().toISOString(),
    source: { url: o.source.url },
    target: { url: o.target.url },
    evaluation: { time: new Date(o.timeMs).toISOString(), rangeMs: o.rangeMs, stepMs: o.stepMs, tolerance: o.tolerance, droppedLabels: o.dropLabels ?? [] },
    sources: o.set.sources,
    totals: { queries: o.set.queries.length, executions, equal, mismatched, emptyOnBoth: empty, errorOnBoth: errBoth, unsupported: o.set.unsupported.length, skippedNonPrometheus: o.set.skipped },
    latency,
    mismatches: mismatches.slice(0, o.top),
    errorsOnBoth,
    unsupported: o.set.unsupported,
    passed: mismatched === 0 && latency.gate?.passed !== false,
    durationMs: Date.now() - t0,
  };
}
