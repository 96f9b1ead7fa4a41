import type { PrometheusClient } from '../clients/index.js';
import { HttpError, isRetryableError, sleep, withRetries, type RetryPolicy } from '../http/index.js';
import { log } from '../log/index.js';
import { formatTime } from '../timeutil/index.js';
import type { ChunkSource } from './chunks.js';
import type { Gap, SampleDifference } from './compare.js';
import { formatLabels, labelKey, labelsToRecord, metricName, renderSelector } from './labels.js';
import { compareMetric, readExact, seriesOutcomes, type MetricParity, type SeriesOutcome } from './samples.js';
import { inSample, ratioInterval, wilson, type Interval } from './sampling.js';
import { checkVerifyWindow, DEFAULT_EXCLUDED_SERIES, excludeMatcher } from './scope.js';
import { compareSeriesOfMetric, metricNames } from './series.js';
import type { Label, LabelMapping, Matcher, SeriesReader, SeriesSamples, ValueEquality } from './types.js';

/**
 * `stackshift verify metrics`: series parity (HTTP series API) and sample parity (remote read) between two
 * Prometheus-compatible stores over one window, summed into one consistency figure (definition in the
 * README and in CONSISTENCY_DEFINITION) with the discrepancies behind it.
 *
 * Why one file of ~480 lines: the per-metric loop (series, samples, recheck, sampling, accounting) shares one
 * set of running totals; sample comparison, series parity, sampling and scope are in their own files.
 */
export interface VerifySide {
  url: string;
  api: PrometheusClient;
  reader: SeriesReader;
  /** Labels the server's remote read adds to every series (Prometheus global.external_labels). */
  externalLabels: Label[];
  /** Raw-chunk remote read, for the equal-chunks fast path (optional). */
  chunks?: ChunkSource;
}

export interface VerifyMetricsOptions {
  source: VerifySide;
  target: VerifySide;
  startMs: number;
  /** Exclusive. */
  endMs: number;
  /** One matcher list per --match (OR); default {__name__=~".+"}. */
  selectors: Matcher[][];
  mapping: LabelMapping;
  equality: ValueEquality;
  /** false = series parity only. */
  samples: boolean;
  /** Fraction of series (0 < f <= 1) or an absolute number of series to verify. */
  sample?: { fraction?: number; count?: number; seed: number };
  readWindowMs: number;
  concurrency: number;
  top: number;
  minConsistency?: number;
  /** Re-read differing series this many times, waiting delayMs x round before each (0 rounds: report first reads). */
  recheck?: { rounds: number; delayMs: number };
  /**
   * Metric names left out on both sides, as anchored regular expressions (RE2-style, like PromQL's =~).
   * Default: DEFAULT_EXCLUDED_SERIES, the backfill's own preflight probe, which is not part of the copy.
   */
  excludeSeries?: string[];
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops the comparison (Ctrl-C): no metric is started once it aborts, and the report covers the metrics
   * compared so far (`interrupted`). Reads in flight are the HTTP clients' to abort (give them a signal that
   * follows this one after a grace period, see afterGrace).
   */
  signal?: AbortSignal;
}

export const CONSISTENCY_DEFINITION =
  'consistency = matched / (expected + unexpected). expected: source samples in the window (every selected series, ' +
  'stale markers included); matched: those present in the target at the same timestamp with an equal value ' +
  '(bit-exact unless a relative tolerance is set); unexpected: target samples with no source sample at their ' +
  'timestamp (extra series, shifted timestamps). Series are paired by label set after the label mapping.';

export interface Discrepancy {
  kind: 'missing-series' | 'extra-series' | 'different';
  metric: string;
  series: string;
  labels: Record<string, string>;
  /** Samples affected: missing + mismatched + unexpected. */
  samples: number;
  expected?: number;
  matched?: number;
  mismatched?: number;
  missing?: number;
  unexpected?: number;
  firstDifference?: SampleDifference & { time: string };
  gaps?: Array<Gap & { from: string; to: string }>;
  shifted?: Array<{ fromMs: number; toMs: number; value: string }>;
  valueDifferences?: SampleDifference[];
  missingSamples?: number[];
  unexpectedSamples?: number[];
  staleMarkersMissing?: number[];
  staleMarkersUnexpected?: number[];
}

export interface MetricsReport {
  schemaVersion: 1;
  kind: 'stackshift.verify.metrics';
  generatedAt: string;
  source: { url: string };
  target: { url: string };
  window: { start: string; end: string; startMs: number; endMs: number };
  selectors: string[];
  /** Metric names left out on both sides (patterns given, names found in the window). */
  excluded: { patterns: string[]; metrics: string[] };
  /** What the figure rests on: a gate never passes on nothing compared. */
  evidence: { series: number; samples?: number; passed: boolean; reason?: string };
  /** The run was stopped (Ctrl-C) before every metric was compared: the figures cover the metrics done. */
  interrupted?: { metricsDone: number; metricsTotal: number };
  labelMapping: LabelMapping;
  externalLabels: { source: Record<string, string>; target: Record<string, string> };
  valueEquality: { mode: 'bit-exact' | 'relative-tolerance'; relativeTolerance: number };
  mode: 'full' | 'sampled' | 'series-only';
  consistency: {
    percent: number;
    basis: 'samples' | 'series';
    definition: string;
    confidenceInterval?: Interval & { lowPercent: number; highPercent: number };
    gate?: { minPercent: number; passed: boolean };
  };
  series: { source: number; target: number; matched: number; missing: number; extra: number; percent: number };
  samples?: {
    expected: number;
    matched: number;
    mismatched: number;
    missing: number;
    unexpected: number;
    seriesCompared: number;
    seriesMatched: number;
    seriesDifferent: number;
    seriesMissing: number;
    seriesExtra: number;
    gaps: number;
    shiftedTimestamps: number;
    staleMarkersMissing: number;
    staleMarkersUnexpected: number;
    histogramSamplesNotCompared: number;
    unknownChunks: number;
    samplesRead: { source: number; target: number };
    refetches: number;
    /** Series windows proven equal by identical chunk bytes (no decoding needed). */
    chunkMatches: number;
    /** Series that differed on the first read and matched when read again (see warnings). */
    transientDifferences: number;
  };
  sampling?: {
    fraction: number;
    seed: number;
    population: number;
    sampled: number;
    seriesFullyConsistent: {
      percent: number;
      confidenceInterval: Interval & { lowPercent: number; highPercent: number };
    };
  };
  metrics: Array<{
    name: string;
    sourceSeries: number;
    targetSeries: number;
    missingSeries: number;
    extraSeries: number;
    expected?: number;
    matched?: number;
    unexpected?: number;
    percent?: number;
  }>;
  discrepancies: Discrepancy[];
  warnings: string[];
  durationMs: number;
  /** Peak resident memory of this process so far. */
  peakRssBytes: number;
  throughput?: { sourceSamplesPerSecond: number; samplesReadPerSecond: number };
}

/** Waits between comparisons of one metric: about 1 s, then 2 s. */
const METRIC_RETRY: RetryPolicy = { baseMs: 1000, maxMs: 4000, maxRetryAfterMs: 0 };

const pct = (num: number, den: number) => (den === 0 ? 100 : (num / den) * 100);

/** Keeps the `top` worst discrepancies without holding every one. */
class TopList {
  private items: Discrepancy[] = [];
  total = 0;
  constructor(private readonly top: number) {}
  add(d: Discrepancy): void {
    this.total++;
    this.items.push(d);
    if (this.items.length > this.top * 2 + 16) this.trim();
  }
  private trim(): void {
    this.items.sort((a, b) => b.samples - a.samples || a.series.localeCompare(b.series));
    this.items.length = Math.min(this.items.length, this.top);
  }
  list(): Discrepancy[] {
    this.trim();
    return this.items;
  }
}

export async function verifyMetrics(o: VerifyMetricsOptions): Promise<MetricsReport> {
  const t0 = Date.now();
  const selectors = o.selectors.length ? o.selectors : [[{ type: 'RE', name: '__name__', value: '.+' } as Matcher]];
  checkVerifyWindow(o.startMs, o.endMs, o.readWindowMs);
  const excludePatterns = o.excludeSeries ?? DEFAULT_EXCLUDED_SERIES;
  const excludedName = excludeMatcher(excludePatterns);
  const found = await metricNames(o.source.api, o.target.api, selectors, o.startMs, o.endMs - 1);
  const names = found.filter((n) => !excludedName(n));
  const excludedMetrics = found.filter((n) => excludedName(n));
  log.debug('verify: metric names in the window', { names: names.length });
  const sampling = o.samples && o.sample ? o.sample : undefined;
  const sides = {
    source: o.source.api,
    target: o.target.api,
    sourceExternal: o.source.externalLabels,
    targetExternal: o.target.externalLabels,
  };

  const series = { source: 0, target: 0, matched: 0, missing: 0, extra: 0 };
  const samples = {
    expected: 0,
    matched: 0,
    mismatched: 0,
    missing: 0,
    unexpected: 0,
    seriesCompared: 0,
    seriesMatched: 0,
    seriesDifferent: 0,
    seriesMissing: 0,
    seriesExtra: 0,
    gaps: 0,
    shiftedTimestamps: 0,
    staleMarkersMissing: 0,
    staleMarkersUnexpected: 0,
    histogramSamplesNotCompared: 0,
    unknownChunks: 0,
    samplesRead: { source: 0, target: 0 },
    refetches: 0,
    chunkMatches: 0,
    transientDifferences: 0,
  };
  const top = new TopList(o.top);
  const perMetric: MetricsReport['metrics'] = [];
  const ys: number[] = [];
  const xs: number[] = [];
  let cleanSampled = 0;

  // Parity per metric; the sample fraction is fixed up front from the whole population when a count is asked for.
  let fraction = sampling?.fraction ?? 1;
  if (sampling?.count !== undefined) {
    // a first, label-only pass sizes the population; only counts are kept, never the label sets
    let pop = 0;
    for (const n of names) {
      const m = await compareSeriesOfMetric(sides, n, selectors, o.startMs, o.endMs - 1, o.mapping, false);
      pop += m.source + m.extra.length;
    }
    fraction = pop === 0 ? 1 : Math.min(1, sampling.count / pop);
  }
  let population = 0;
  let sampled = 0;

  let done = 0;
  const queue = [...names];
  // the first failure stops every worker from taking more work; the run ends once all have stopped, so no
  // read is still in flight (or its connection still open) when the error reaches the caller
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    try {
      await metricsOf();
    } catch (e) {
      failure ??= { error: e };
    }
  };
  const metricsOf = async () => {
    for (let name = queue.shift(); name !== undefined && !failure && !o.signal?.aborted; name = queue.shift()) {
      // every read of a metric first, then its counts in one synchronous step: a run stopped mid-metric
      // (Ctrl-C) leaves no half-counted metric in the partial report
      const sp = await compareSeriesOfMetric(
        sides,
        name,
        selectors,
        o.startMs,
        o.endMs - 1,
        o.mapping,
        sampling !== undefined,
      );
      let parities: MetricParity[] = [];
      let chosen: NonNullable<typeof sp.population> = [];
      const reread = { refetches: 0, transientDifferences: 0 };
      const outcomes: SeriesOutcome[][] = [];
      if (o.samples) {
        if (sampling) {
          chosen = (sp.population ?? []).filter((p) => inSample(p.key, fraction, sampling.seed));
          // the population is already the union over all selectors: one comparison, read series by series
          parities = [
            await retrying(name, o.signal, () =>
              compareMetric(
                name,
                { ...common(o), matchers: [] },
                {
                  source: () =>
                    exactStream(
                      o.source.reader,
                      chosen.map((c) => c.source).filter((x): x is Label[] => x !== undefined),
                      o.startMs,
                      o.endMs,
                    ),
                  target: () =>
                    exactStream(
                      o.target.reader,
                      chosen.map((c) => c.target).filter((x): x is Label[] => x !== undefined),
                      o.startMs,
                      o.endMs,
                    ),
                },
              ),
            ),
          ];
        } else {
          for (const sel of selectors)
            parities.push(await retrying(name, o.signal, () => compareMetric(name, { ...common(o), matchers: sel })));
        }
        for (const p of parities) outcomes.push(await recheck(name, o, [...seriesOutcomes(p)], reread));
      }
      series.source += sp.source;
      series.target += sp.target;
      series.matched += sp.matched;
      series.missing += sp.missing.length;
      series.extra += sp.extra.length;
      const row: MetricsReport['metrics'][number] = {
        name,
        sourceSeries: sp.source,
        targetSeries: sp.target,
        missingSeries: sp.missing.length,
        extraSeries: sp.extra.length,
      };
      if (!o.samples) {
        for (const m of sp.missing)
          top.add({
            kind: 'missing-series',
            metric: name,
            series: formatLabels(m.labels),
            labels: labelsToRecord(m.labels),
            samples: 0,
          });
        for (const m of sp.extra)
          top.add({
            kind: 'extra-series',
            metric: name,
            series: formatLabels(m.labels),
            labels: labelsToRecord(m.labels),
            samples: 0,
          });
      } else {
        if (sampling) {
          population += (sp.population ?? []).length;
          sampled += chosen.length;
        }
        samples.refetches += reread.refetches;
        samples.transientDifferences += reread.transientDifferences;
        let e = 0,
          m = 0,
          u = 0;
        parities.forEach((p, i) => {
          samples.histogramSamplesNotCompared += p.histogramSamples;
          samples.unknownChunks += p.unknownChunks;
          samples.samplesRead.source += p.samplesRead.source;
          samples.samplesRead.target += p.samplesRead.target;
          samples.refetches += p.refetches;
          samples.chunkMatches += p.chunkMatches;
          for (const so of outcomes[i]) {
            e += so.expected;
            m += so.matched;
            u += so.unexpected;
            account(samples, so);
            if (sampling) {
              ys.push(so.matched);
              xs.push(so.expected + so.unexpected);
              if (so.status === 'matched') cleanSampled++;
            }
            const d = discrepancyOf(name, so);
            if (d) top.add(d);
          }
        });
        Object.assign(row, { expected: e, matched: m, unexpected: u, percent: pct(m, e + u) });
      }
      if (row.missingSeries || row.extraSeries || (row.percent !== undefined && row.percent < 100)) perMetric.push(row);
      o.onProgress?.(++done, names.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, names.length)) }, worker));
  // stopped by the user: what failed then is the reads being aborted, and the report covers the metrics done
  const interrupted = o.signal?.aborted === true && done < names.length;
  if (failure && !interrupted) throw failure.error;

  const warnings: string[] = [];
  if (samples.histogramSamplesNotCompared)
    warnings.push(`${samples.histogramSamplesNotCompared} native-histogram samples were read but not compared`);
  if (samples.unknownChunks)
    warnings.push(
      `${samples.unknownChunks} chunks had an encoding this version cannot decode; their samples are not compared`,
    );
  if (samples.transientDifferences)
    warnings.push(
      `${samples.transientDifferences} series differed on the first read and matched when read again: a server was still settling (compaction, block handover); rerun later to be sure`,
    );
  if (excludedMetrics.length) warnings.push(`left out by --exclude-series: ${excludedMetrics.join(', ')}`);
  if (interrupted)
    warnings.push(`interrupted after ${done} of ${names.length} metrics: the figures cover those ${done} only`);

  // a gate needs evidence: no series (or, with samples, no sample) on either side is a failure, not 100 %
  const seriesSeen = series.source + series.extra;
  const samplesSeen = samples.expected + samples.unexpected;
  let nothing: string | undefined;
  if (names.length === 0)
    nothing = 'no series matched the selectors in the window on either side: nothing was compared';
  else if (seriesSeen === 0) nothing = 'no series in the window on either side: nothing was compared';
  else if (o.samples && samplesSeen === 0)
    nothing = `${seriesSeen} series but no sample in the window on either side: nothing was compared`;
  if (nothing) warnings.push(`${nothing} (check --start/--end and --match)`);
  const pctOf = (num: number, den: number) => (den === 0 ? 0 : (num / den) * 100);
  const seriesPercent = pctOf(series.matched, seriesSeen);
  const report: MetricsReport = {
    schemaVersion: 1,
    kind: 'stackshift.verify.metrics',
    generatedAt: new Date().toISOString(),
    source: { url: o.source.url },
    target: { url: o.target.url },
    window: { start: formatTime(o.startMs), end: formatTime(o.endMs), startMs: o.startMs, endMs: o.endMs },
    selectors: selectors.map(renderSelector),
    excluded: { patterns: excludePatterns, metrics: excludedMetrics },
    evidence: {
      series: seriesSeen,
      ...(o.samples ? { samples: samplesSeen } : {}),
      passed: nothing === undefined && !interrupted,
      ...(nothing
        ? { reason: nothing }
        : interrupted
          ? { reason: `interrupted: ${done} of ${names.length} metrics compared` }
          : {}),
    },
    ...(interrupted ? { interrupted: { metricsDone: done, metricsTotal: names.length } } : {}),
    labelMapping: o.mapping,
    externalLabels: {
      source: labelsToRecord(o.source.externalLabels),
      target: labelsToRecord(o.target.externalLabels),
    },
    valueEquality: {
      mode: o.equality.relativeTolerance ? 'relative-tolerance' : 'bit-exact',
      relativeTolerance: o.equality.relativeTolerance,
    },
    mode: !o.samples ? 'series-only' : sampling ? 'sampled' : 'full',
    consistency: o.samples
      ? { percent: pctOf(samples.matched, samplesSeen), basis: 'samples', definition: CONSISTENCY_DEFINITION }
      : {
          percent: seriesPercent,
          basis: 'series',
          definition:
            'consistency = series present on both sides / (source series + extra target series), label sets compared after the label mapping',
        },
    series: { ...series, percent: seriesPercent },
    samples: o.samples ? samples : undefined,
    metrics: perMetric.sort((a, b) => (a.percent ?? 100) - (b.percent ?? 100) || a.name.localeCompare(b.name)),
    discrepancies: top.list(),
    warnings,
    durationMs: Date.now() - t0,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  if (sampling) {
    const ci = ratioInterval(ys, xs, population);
    report.consistency.confidenceInterval = { ...ci, lowPercent: ci.low * 100, highPercent: ci.high * 100 };
    const w = wilson(cleanSampled, ys.length);
    report.sampling = {
      fraction,
      seed: sampling.seed,
      population,
      sampled,
      seriesFullyConsistent: {
        percent: pct(cleanSampled, ys.length),
        confidenceInterval: { ...w, lowPercent: w.low * 100, highPercent: w.high * 100 },
      },
    };
  }
  if (o.minConsistency !== undefined)
    report.consistency.gate = {
      minPercent: o.minConsistency,
      passed: nothing === undefined && !interrupted && report.consistency.percent >= o.minConsistency,
    };
  const secs = Math.max(0.001, report.durationMs / 1000);
  if (o.samples)
    report.throughput = {
      sourceSamplesPerSecond: Math.round(samples.samplesRead.source / secs),
      samplesReadPerSecond: Math.round((samples.samplesRead.source + samples.samplesRead.target) / secs),
    };
  return report;
}

/**
 * A difference must be seen again to count. Stores that are only eventually consistent on reads (a
 * Prometheus compacting its out-of-order head, Mimir handing blocks from ingesters to store-gateways) can
 * serve a window with holes for a few seconds; every series that differed is read once more, alone, after
 * a pause, and its second comparison is the one reported. Those that then match are counted as transient.
 */
async function recheck(
  name: string,
  o: VerifyMetricsOptions,
  outcomes: SeriesOutcome[],
  totals: { refetches: number; transientDifferences: number },
): Promise<SeriesOutcome[]> {
  let pending = outcomes.filter((x) => x.status !== 'matched');
  const rc = o.recheck;
  if (pending.length === 0 || !rc || rc.rounds <= 0) return outcomes;
  const final = new Map<string, SeriesOutcome>();
  // a series seen on one side only is looked for on the other under its mapped labels, when the mapping allows
  const sameOnTarget = o.mapping.drop.length === 0;
  const sameOnSource = sameOnTarget && Object.keys(o.mapping.add).length === 0;
  for (let round = 1; round <= rc.rounds && pending.length; round++) {
    await sleep(rc.delayMs * round, o.signal);
    const src = pending
      .map((x) => x.sourceLabels ?? (sameOnSource ? x.labels : undefined))
      .filter((x): x is Label[] => x !== undefined);
    const tgt = pending
      .map((x) => x.targetLabels ?? (sameOnTarget ? x.labels : undefined))
      .filter((x): x is Label[] => x !== undefined);
    const p = await retrying(name, o.signal, () =>
      compareMetric(
        name,
        { ...common(o), matchers: [] },
        {
          source: () => exactStream(o.source.reader, src, o.startMs, o.endMs),
          target: () => exactStream(o.target.reader, tgt, o.startMs, o.endMs),
        },
      ),
    );
    totals.refetches += src.length + tgt.length;
    const again = new Map([...seriesOutcomes(p)].map((x) => [labelKey(x.labels), x]));
    const next: SeriesOutcome[] = [];
    for (const x of pending) {
      const k = labelKey(x.labels);
      const y =
        again.get(k) ??
        ({
          ...x,
          status: x.status === 'extra' ? 'extra' : 'missing',
          matched: 0,
          unexpected: x.status === 'extra' ? x.unexpected : 0,
          comparison: undefined,
        } as SeriesOutcome);
      final.set(k, y);
      if (y.status === 'matched') totals.transientDifferences++;
      else next.push(y);
    }
    pending = next;
  }
  return outcomes.map((x) => final.get(labelKey(x.labels)) ?? x);
}

/**
 * A response cut off mid-stream (a server restart, a proxy timeout) is retried for the whole metric: its
 * comparison state is rebuilt from scratch, so nothing is counted twice. The policy is the HTTP layer's
 * (isRetryableError) minus answers with a status: those were retried per request already, and a refusal
 * (4xx) never is.
 */
function retrying<T>(metric: string, signal: AbortSignal | undefined, fn: () => Promise<T>, attempts = 3): Promise<T> {
  return withRetries(fn, {
    attempts,
    policy: METRIC_RETRY,
    signal,
    isRetryable: (e) => !(e instanceof HttpError && e.kind === 'status') && isRetryableError(e),
    onRetry: (e, attempt) =>
      log.warn('verify: read failed mid-stream, comparing the metric again', {
        metric,
        attempt,
        error: (e as Error).message,
      }),
  });
}

function common(o: VerifyMetricsOptions) {
  return {
    source: o.source.reader,
    target: o.target.reader,
    sourceChunks: o.source.chunks,
    targetChunks: o.target.chunks,
    startMs: o.startMs,
    endMs: o.endMs,
    readWindowMs: o.readWindowMs,
    mapping: o.mapping,
    equality: o.equality,
  };
}

/** The sampled series of one side, read one by one (a few in flight) and yielded in label order. */
async function* exactStream(
  reader: SeriesReader,
  list: Label[][],
  startMs: number,
  endMs: number,
): AsyncGenerator<SeriesSamples> {
  const ahead = 4;
  const pending: Array<Promise<SeriesSamples>> = [];
  let i = 0;
  try {
    while (i < list.length || pending.length) {
      while (i < list.length && pending.length < ahead) {
        const p = readExact(reader, list[i++], startMs, endMs);
        // a read failing while this generator waits at a yield is handled here, and reported when its turn comes
        p.catch(() => undefined);
        pending.push(p);
      }
      const s = await pending.shift()!;
      if (s.timestamps.length) yield s;
    }
  } finally {
    // reads already started are waited for (each closes its own stream) and their errors dropped: the first
    // error is the one reported, and none is left unhandled to kill the process
    await Promise.allSettled(pending);
  }
}

function account(s: NonNullable<MetricsReport['samples']>, so: SeriesOutcome): void {
  s.expected += so.expected;
  s.matched += so.matched;
  s.unexpected += so.unexpected;
  s.seriesCompared++;
  if (so.status === 'missing') {
    s.seriesMissing++;
    s.missing += so.expected;
    return;
  }
  if (so.status === 'extra') {
    s.seriesExtra++;
    return;
  }
  if (so.status === 'matched') {
    s.seriesMatched++;
    return;
  }
  s.seriesDifferent++;
  const c = so.comparison!;
  s.mismatched += c.mismatched;
  s.missing += c.missing;
  s.gaps += c.gaps.length;
  s.shiftedTimestamps += c.shifted.length;
  s.staleMarkersMissing += c.staleMarkersMissing.length;
  s.staleMarkersUnexpected += c.staleMarkersUnexpected.length;
}

function discrepancyOf(metric: string, so: SeriesOutcome): Discrepancy | undefined {
  if (so.status === 'matched') return undefined;
  const base = {
    metric: metric || metricName(so.labels),
    series: formatLabels(so.labels),
    labels: labelsToRecord(so.labels),
  };
  if (so.status === 'missing')
    return { kind: 'missing-series', ...base, samples: so.expected, expected: so.expected, missing: so.expected };
  if (so.status === 'extra')
    return { kind: 'extra-series', ...base, samples: so.unexpected, unexpected: so.unexpected };
  const c = so.comparison!;
  return {
    kind: 'different',
    ...base,
    samples: c.missing + c.mismatched + c.unexpected,
    expected: c.expected,
    matched: c.matched,
    mismatched: c.mismatched,
    missing: c.missing,
    unexpected: c.unexpected,
    firstDifference: c.firstDifference
      ? { ...c.firstDifference, time: formatTime(c.firstDifference.timestampMs) }
      : undefined,
    gaps: c.gaps.map((g) => ({ ...g, from: formatTime(g.fromMs), to: formatTime(g.toMs) })),
    shifted: c.shifted,
    valueDifferences: c.valueDifferences,
    missingSamples: c.missingSamples,
    unexpectedSamples: c.unexpectedSamples,
    staleMarkersMissing: c.staleMarkersMissing,
    staleMarkersUnexpected: c.staleMarkersUnexpected,
  };
}
