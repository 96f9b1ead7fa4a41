// Why one file of about 490 lines: running both sides, comparing results, each execution's outcome and the evidence
// gate share the report types declared here; the query sources are in extract.ts.
import type { PrometheusClient, QueryResult } from '../../clients/index.js';
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
export interface QuerySide {
  url: string;
  api: PrometheusClient;
}

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
  /** Fail when fewer than this share (percent) of the results held series; none at all always fails. */
  minNonEmptyPercent?: number;
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

export interface LatencyStats {
  count: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

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
    /** should_fail cases that failed on both sides. */
    failedAsExpected: number;
    /** skip_comparison cases both sides answered. */
    notCompared: number;
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
    /** Each request is timed from when it is handed to a free connection (the pool holds one per query in flight), never from a queue. */
    measuredFrom: 'send';
  };
  /** How many results held series: the gate fails when none did, or fewer than --min-nonempty. */
  evidence: {
    resultsCompared: number;
    resultsWithData: number;
    percentWithData: number;
    minNonEmptyPercent: number;
    passed: boolean;
    reason?: string;
  };
  /** Every execution's outcome, by query id and type. */
  results: ExecutionResult[];
  mismatches: QueryMismatch[];
  errorsOnBoth: Array<{ id: number; query: string; origin: QueryOrigin; type: 'instant' | 'range'; error: string }>;
  unsupported: Unsupported[];
  passed: boolean;
  durationMs: number;
}

/**
 * A gate needs evidence: results that held series on at least one side, out of the executions that were
 * meant to answer (should_fail cases excluded). None at all fails; so does a share below --min-nonempty.
 */
function evidenceOf(withData: number, counted: number, minPercent: number): QueriesReport['evidence'] {
  const percent = counted === 0 ? 0 : round((withData / counted) * 100);
  let reason: string | undefined;
  if (counted === 0) reason = 'no query was compared (every query unsupported or expected to fail)';
  else if (withData === 0)
    reason = `none of the ${counted} results held any series on either side: nothing was compared (check --time, --range and the metric names)`;
  else if (percent < minPercent)
    reason = `only ${percent} % of the results held series, below --min-nonempty ${minPercent} %`;
  return {
    resultsCompared: counted,
    resultsWithData: withData,
    percentWithData: percent,
    minNonEmptyPercent: minPercent,
    passed: reason === undefined,
    ...(reason ? { reason } : {}),
  };
}

/** Nearest-rank percentile. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function stats(list: number[]): LatencyStats {
  const s = [...list].sort((a, b) => a - b);
  return {
    count: s.length,
    p50Ms: round(percentile(s, 50)),
    p95Ms: round(percentile(s, 95)),
    maxMs: round(s[s.length - 1] ?? 0),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

type Outcome =
  | { ok: true; result: QueryResult; ms: number }
  | { ok: false; error: string; status?: number; errorType?: string; ms: number };

// Mimir's query-frontend skips its results cache for this; Prometheus ignores it.
const NO_CACHE = { 'cache-control': 'no-store' };

async function run(
  api: PrometheusClient,
  c: QueryCase,
  type: 'instant' | 'range',
  o: VerifyQueriesOptions,
): Promise<Outcome> {
  const t0 = performance.now();
  const timeout = `${Math.max(1, Math.round(o.timeoutMs / 1000))}s`;
  try {
    const result =
      type === 'instant'
        ? await api.query(c.expr, o.timeMs, timeout, NO_CACHE)
        : await api.queryRange(c.expr, o.timeMs - o.rangeMs, o.timeMs, o.stepMs / 1000, timeout, NO_CACHE);
    return { ok: true, result, ms: performance.now() - t0 };
  } catch (e) {
    // a server that cannot be reached is a run failure, not a query result
    if (e instanceof HttpError && e.kind !== 'status') throw e;
    const msg = (e as Error).message;
    return {
      ok: false,
      error: msg.replace(/^POST \S+: /, ''),
      status: (e as HttpError).status,
      errorType: /^(\w+):/.exec(msg.replace(/^POST \S+: /, ''))?.[1],
      ms: performance.now() - t0,
    };
  }
}

const fmt = (v: string) => v;

/** Compares two query results; returns the reason and the differing series, or undefined when equal. */
export function compareResults(
  a: QueryResult,
  b: QueryResult,
  tol: number,
  cap = 10,
  dropLabels: string[] = [],
): { reason: string; differences: SeriesDifference[] } | undefined {
  if (a.resultType !== b.resultType)
    return { reason: `result type ${a.resultType} vs ${b.resultType}`, differences: [] };
  if (a.resultType === 'scalar' || a.resultType === 'string') {
    const [ta, va] = a.result as [number, string];
    const [tb, vb] = b.result as [number, string];
    const equal = ta === tb && (a.resultType === 'string' ? va === vb : approxEqual(Number(va), Number(vb), tol));
    return equal
      ? undefined
      : {
          reason: `${a.resultType} differs`,
          differences: [{ series: a.resultType, kind: 'value', atMs: ta * 1000, source: fmt(va), target: fmt(vb) }],
        };
  }
  const diffs: SeriesDifference[] = [];
  let count = 0;
  const push = (d: SeriesDifference) => {
    count++;
    if (diffs.length < cap) diffs.push(d);
  };
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
    if (!rb) {
      push({ series: name, kind: 'missing-in-target' });
      continue;
    }
    const pa = ra.values ?? (ra.value ? [ra.value] : []);
    const pb = rb.values ?? (rb.value ? [rb.value] : []);
    let i = 0,
      j = 0;
    let found: SeriesDifference | undefined;
    while ((i < pa.length || j < pb.length) && !found) {
      const x = pa[i],
        y = pb[j];
      if (!y || (x && x[0] < y[0]))
        found = { series: name, kind: 'points', atMs: Math.round(x[0] * 1000), source: x[1] };
      else if (!x || y[0] < x[0]) found = { series: name, kind: 'points', atMs: Math.round(y[0] * 1000), target: y[1] };
      else if (!approxEqual(Number(x[1]), Number(y[1]), tol))
        found = { series: name, kind: 'value', atMs: Math.round(x[0] * 1000), source: x[1], target: y[1] };
      i++;
      j++;
    }
    if (found) push(found);
  }
  for (const [k, rb] of sb)
    if (!sa.has(k)) push({ series: formatLabels(labelsFromRecord(rb.metric)), kind: 'extra-in-target' });
  if (count === 0) return undefined;
  const kinds = new Set(diffs.map((d) => d.kind));
  return {
    reason: `${count} of ${Math.max(sa.size, sb.size)} series differ (${[...kinds].join(', ')})`,
    differences: diffs,
  };
}

function isEmpty(r: QueryResult): boolean {
  return (r.resultType === 'vector' || r.resultType === 'matrix') && (r.result as unknown[]).length === 0;
}

function seriesCount(o: Outcome): number {
  return o.ok && (o.result.resultType === 'vector' || o.result.resultType === 'matrix')
    ? (o.result.result as unknown[]).length
    : 0;
}

/** What one execution (one query, instant or range) came to. */
export type ExecutionOutcome =
  /** Both answered, results equal and at least one series or point. */
  | 'equal'
  /** Both answered with no series: equal, but nothing was compared. */
  | 'empty-on-both'
  /** Both refused it with the same error type and status: consistent. */
  | 'error-on-both'
  /** A should_fail case that failed on both sides, as expected. */
  | 'failed-as-expected'
  /** A skip_comparison case that both answered (results not compared). */
  | 'not-compared'
  | 'mismatch';

export interface ExecutionResult {
  id: number;
  type: 'instant' | 'range';
  outcome: ExecutionOutcome;
  seriesSource: number;
  seriesTarget: number;
  /** The source's error, or the target's when only it failed. */
  error?: string;
}

/** Whether a result holds stored data: a vector or matrix with at least one series (scalars and strings do not). */
function hasSeries(o: Outcome): boolean {
  return seriesCount(o) > 0;
}

/** The error type and status both sides report for a refused query ("bad_data", 400): messages differ between versions, these do not. */
const sameError = (a: { status?: number; errorType?: string }, b: { status?: number; errorType?: string }) =>
  a.status === b.status && a.errorType === b.errorType;

export async function verifyQueries(o: VerifyQueriesOptions): Promise<QueriesReport> {
  const t0 = Date.now();
  const latS: number[] = [];
  const latT: number[] = [];
  const mismatches: QueryMismatch[] = [];
  const errorsOnBoth: QueriesReport['errorsOnBoth'] = [];
  const results: ExecutionResult[] = [];
  let equal = 0,
    mismatched = 0,
    empty = 0,
    errBoth = 0,
    executions = 0,
    done = 0,
    expectedFailures = 0,
    notCompared = 0;
  let withData = 0,
    counted = 0;

  const one = async (c: QueryCase) => {
    for (const type of ['instant', 'range'] as const) {
      // alternate which side goes first so neither always gets the warmer cache
      const sourceFirst = (c.id + (type === 'range' ? 1 : 0)) % 2 === 0;
      const s = sourceFirst ? await run(o.source.api, c, type, o) : undefined;
      const t = await run(o.target.api, c, type, o);
      const s2 = s ?? (await run(o.source.api, c, type, o));
      executions++;
      latS.push(s2.ms);
      latT.push(t.ms);
      const base = {
        id: c.id,
        query: c.expr,
        template: c.template,
        origin: c.origin,
        type,
        seriesSource: seriesCount(s2),
        seriesTarget: seriesCount(t),
      };
      const record = (outcome: ExecutionOutcome, error?: string) =>
        results.push({
          id: c.id,
          type,
          outcome,
          seriesSource: base.seriesSource,
          seriesTarget: base.seriesTarget,
          ...(error ? { error } : {}),
        });
      const mismatch = (reason: string, differences: SeriesDifference[] = []) => {
        mismatched++;
        mismatches.push({ ...base, reason, differences });
        record('mismatch', !s2.ok ? s2.error : !t.ok ? t.error : undefined);
      };
      if (c.shouldFail) {
        // the compliance tester's should_fail: a pass only when both sides refuse it
        if (!s2.ok && !t.ok) {
          expectedFailures++;
          record('failed-as-expected', s2.error);
          continue;
        }
        mismatch(
          s2.ok && t.ok
            ? 'expected to fail (should_fail) but both sides answered'
            : s2.ok
              ? `expected to fail (should_fail) but the source answered; target: ${(t as { error: string }).error}`
              : `expected to fail (should_fail) but the target answered; source: ${s2.error}`,
        );
        continue;
      }
      counted++;
      if (hasSeries(s2) || hasSeries(t)) withData++;
      if (!s2.ok && !t.ok) {
        if (sameError(s2, t)) {
          errBoth++;
          errorsOnBoth.push({ id: c.id, query: c.expr, origin: c.origin, type, error: s2.error });
          record('error-on-both', s2.error);
          continue;
        }
        mismatch(`both failed, differently: source ${s2.error}; target ${t.error}`);
        continue;
      }
      if (!s2.ok || !t.ok) {
        mismatch(
          !s2.ok ? `only the source failed: ${s2.error}` : `only the target failed: ${(t as { error: string }).error}`,
        );
        continue;
      }
      if (c.skipComparison) {
        notCompared++;
        record('not-compared');
        continue;
      }
      const d = compareResults(s2.result, t.result, o.tolerance, 10, o.dropLabels);
      if (d) {
        mismatch(d.reason, d.differences);
        continue;
      }
      equal++;
      if (isEmpty(s2.result)) {
        empty++;
        record('empty-on-both');
      } else record('equal');
    }
    o.onProgress?.(++done);
  };
  const queue = [...o.set.queries];
  // a run failure (a side unreachable) stops every worker; the error is raised once none is still sending
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(o.concurrency, queue.length)) }, async () => {
      try {
        for (let c = queue.shift(); c && !failure; c = queue.shift()) await one(c);
      } catch (e) {
        failure ??= { error: e };
      }
    }),
  );
  if (failure) throw failure.error;

  const ls = stats(latS);
  const lt = stats(latT);
  const inc = (a: number, b: number) => (a === 0 ? 0 : round(((b - a) / a) * 100));
  const latency: QueriesReport['latency'] = {
    source: ls,
    target: lt,
    p50IncreasePercent: inc(ls.p50Ms, lt.p50Ms),
    p95IncreasePercent: inc(ls.p95Ms, lt.p95Ms),
    measuredFrom: 'send',
  };
  if (o.maxLatencyIncreasePercent !== undefined) {
    const within = (a: number, b: number) =>
      b <= a * (1 + o.maxLatencyIncreasePercent! / 100) || b - a <= o.latencyFloorMs;
    latency.gate = {
      maxIncreasePercent: o.maxLatencyIncreasePercent,
      floorMs: o.latencyFloorMs,
      passed: within(ls.p50Ms, lt.p50Ms) && within(ls.p95Ms, lt.p95Ms),
    };
  }
  mismatches.sort((a, b) => a.id - b.id || a.type.localeCompare(b.type));
  const evidence = evidenceOf(withData, counted, o.minNonEmptyPercent ?? 0);
  return {
    schemaVersion: 1,
    kind: 'stackshift.verify.queries',
    generatedAt: new Date().toISOString(),
    source: { url: o.source.url },
    target: { url: o.target.url },
    evaluation: {
      time: new Date(o.timeMs).toISOString(),
      rangeMs: o.rangeMs,
      stepMs: o.stepMs,
      tolerance: o.tolerance,
      droppedLabels: o.dropLabels ?? [],
    },
    sources: o.set.sources,
    totals: {
      queries: o.set.queries.length,
      executions,
      equal,
      mismatched,
      emptyOnBoth: empty,
      errorOnBoth: errBoth,
      failedAsExpected: expectedFailures,
      notCompared,
      unsupported: o.set.unsupported.length,
      skippedNonPrometheus: o.set.skipped,
    },
    latency,
    mismatches: mismatches.slice(0, o.top),
    errorsOnBoth,
    unsupported: o.set.unsupported,
    evidence,
    results: results.sort((a, b) => a.id - b.id || a.type.localeCompare(b.type)),
    passed: mismatched === 0 && latency.gate?.passed !== false && evidence.passed,
    durationMs: Date.now() - t0,
  };
}
