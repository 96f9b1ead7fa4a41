import { withHistogramDigests } from './histograms.js';
import { countChunks, decodeItem, equalChunkSamples, type ChunkItem, type ChunkSource } from './chunks.js';
import { SeriesComparator, isClean, lowerBound, sameBytes, type SeriesComparison } from './compare.js';
import {
  differingWindows,
  digestSeries,
  planWindows,
  windowBounds,
  type SeriesDigest,
  type WindowPlan,
} from './digest.js';
import { compareLabels, exactMatchers, labelKey, normaliseSource, normaliseTarget } from './labels.js';
import type { Label, LabelMapping, Matcher, SeriesReader, SeriesSamples, ValueEquality } from './types.js';

/**
 * Sample parity for one metric name: both sides are read window by window (remote read, one series in
 * memory per side), joined on the normalised label set, and compared.
 *
 * - Both streams come in label order, so partners usually arrive together: each digest window is then
 *   compared with one memcmp, and only windows whose bytes differ are walked sample by sample.
 * - When a label mapping changes the order, a series waits for its partner as a digest only (a few bytes
 *   per window); when the partner arrives and digests differ, just the differing windows of that one series
 *   are read again from both sides and compared.
 *
 * Memory: one series per side, the waiting digests, and a small tally per series of the metric.
 */

export interface SeriesTally {
  labels: Label[];
  sourceLabels?: Label[];
  targetLabels?: Label[];
  expected: number;
  matched: number;
  unexpected: number;
  cmp?: SeriesComparator;
}

export interface MetricParity {
  name: string;
  series: Map<string, SeriesTally>;
  histogramSamples: number;
  unknownChunks: number;
  samplesRead: { source: number; target: number };
  refetches: number;
  /** Series windows settled by equal chunk bytes, without decoding. */
  chunkMatches: number;
}

export interface MetricParityOptions {
  source: SeriesReader;
  target: SeriesReader;
  startMs: number;
  /** Exclusive. */
  endMs: number;
  readWindowMs: number;
  digestWindowMs?: number;
  matchers: Matcher[];
  mapping: LabelMapping;
  equality: ValueEquality;
  /** Raw-chunk readers: equal chunk bytes settle a series without decoding it. */
  sourceChunks?: ChunkSource;
  targetChunks?: ChunkSource;
}

interface Item {
  c: ChunkItem;
  norm: Label[];
  key: string;
  minT: number;
  maxT: number;
}

/** The item's samples, decoded on first use. */
function samplesOf(it: Item): SeriesSamples {
  return decodeItem(it.c, it.minT, it.maxT);
}

async function* asItems(stream: AsyncIterable<SeriesSamples>): AsyncIterable<ChunkItem> {
  for await (const s of stream) yield { labels: s.labels, samples: withHistogramDigests(s) };
}
interface Waiting {
  raw: Label[];
  norm: Label[];
  digest: SeriesDigest;
}

/** Reads and compares one metric (all its series) over the window. */
export async function compareMetric(
  name: string,
  o: MetricParityOptions,
  streams?: { source: () => AsyncIterable<SeriesSamples>; target: () => AsyncIterable<SeriesSamples> },
): Promise<MetricParity> {
  const out: MetricParity = {
    name,
    series: new Map(),
    histogramSamples: 0,
    unknownChunks: 0,
    samplesRead: { source: 0, target: 0 },
    refetches: 0,
    chunkMatches: 0,
  };
  const matchers: Matcher[] = [
    ...o.matchers.filter((m) => !(m.name === '__name__' && m.type === 'EQ')),
    { type: 'EQ', name: '__name__', value: name },
  ];
  const readWindow = streams ? o.endMs - o.startMs : o.readWindowMs;
  for (let a = o.startMs; a < o.endMs; a += readWindow) {
    const b = Math.min(o.endMs, a + readWindow);
    const plan = planWindows(a, b, o.digestWindowMs ?? Math.min(3_600_000, b - a));
    const q = { startMs: a, endMs: b - 1, matchers };
    const side = (reader: SeriesReader, chunks: ChunkSource | undefined, given?: () => AsyncIterable<SeriesSamples>) =>
      given ? asItems(given()) : chunks ? chunks.streamChunks(q) : asItems(reader.streamSeries(q));
    await joinWindow(
      out,
      o,
      plan,
      side(o.source, o.sourceChunks, streams?.source),
      side(o.target, o.targetChunks, streams?.target),
    );
  }
  return out;
}

/**
 * Both sides' next series. Unlike Promise.all, a failure of one side is reported only once the other side's
 * read has settled too, so the caller's cleanup never races a read still in flight (its rejection would
 * otherwise go unhandled, and its stream could not be closed while the read runs).
 */
async function bothNext<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}

function tally(out: MetricParity, key: string, norm: Label[]): SeriesTally {
  let t = out.series.get(key);
  if (!t) {
    t = { labels: norm, expected: 0, matched: 0, unexpected: 0 };
    out.series.set(key, t);
  }
  return t;
}

async function joinWindow(
  out: MetricParity,
  o: MetricParityOptions,
  plan: WindowPlan,
  src: AsyncIterable<ChunkItem>,
  tgt: AsyncIterable<ChunkItem>,
): Promise<void> {
  const itS = src[Symbol.asyncIterator]();
  const itT = tgt[Symbol.asyncIterator]();
  const wrap =
    (side: 'source' | 'target') =>
    (r: IteratorResult<ChunkItem>): Item | undefined => {
      if (r.done) return undefined;
      const c = r.value;
      if (c.samples) {
        if (c.samples.histogramSamples) out.histogramSamples += c.samples.histogramSamples;
        if (c.samples.unknownChunks) out.unknownChunks += c.samples.unknownChunks;
        out.samplesRead[side] += c.samples.timestamps.length;
      } else {
        const n = countChunks(c.chunks ?? []);
        out.unknownChunks += n.unknown;
        out.samplesRead[side] += n.floats + n.histograms;
      }
      const norm = side === 'source' ? normaliseSource(c.labels, o.mapping) : normaliseTarget(c.labels, o.mapping);
      return { c, norm, key: labelKey(norm), minT: plan.startMs, maxT: plan.endMs - 1 };
    };
  const nextS = wrap('source');
  const nextT = wrap('target');
  let s: Item | undefined;
  let t: Item | undefined;
  const waitS = new Map<string, Waiting>();
  const waitT = new Map<string, Waiting>();
  try {
    // inside the try: when one side fails on its first series, the other side's stream is closed too
    [s, t] = await bothNext(itS.next().then(nextS), itT.next().then(nextT));
    while (s || t) {
      if (s && t && s.key === t.key) {
        compareInHand(out, o, plan, s, t);
        [s, t] = await bothNext(itS.next().then(nextS), itT.next().then(nextT));
        continue;
      }
      if (s && (!t || compareLabels(s.norm, t.norm) < 0)) {
        const w = waitT.get(s.key);
        if (w) {
          waitT.delete(s.key);
          await compareWithWaiting(out, o, plan, s, 'source', w);
        } else {
          const x = samplesOf(s);
          waitS.set(s.key, { raw: s.c.labels, norm: s.norm, digest: digestSeries(x.timestamps, x.values, plan) });
        }
        s = await itS.next().then(nextS);
      } else if (t) {
        const w = waitS.get(t.key);
        if (w) {
          waitS.delete(t.key);
          await compareWithWaiting(out, o, plan, t, 'target', w);
        } else {
          const x = samplesOf(t);
          waitT.set(t.key, { raw: t.c.labels, norm: t.norm, digest: digestSeries(x.timestamps, x.values, plan) });
        }
        t = await itT.next().then(nextT);
      }
    }
  } finally {
    // both closed whichever failed: a stream left open holds its connection (and its server) forever
    await Promise.allSettled([itS.return?.(), itT.return?.()]);
  }
  // Present in this read window on one side only.
  for (const [key, w] of waitS) oneSided(out, o, key, w, 'missing');
  for (const [key, w] of waitT) oneSided(out, o, key, w, 'unexpected');
}

function oneSided(
  out: MetricParity,
  o: MetricParityOptions,
  key: string,
  w: Waiting,
  kind: 'missing' | 'unexpected',
): void {
  if (w.digest.count === 0) return;
  const t = tally(out, key, w.norm);
  if (kind === 'missing') t.sourceLabels ??= w.raw;
  else t.targetLabels ??= w.raw;
  t.cmp ??= new SeriesComparator(o.equality);
  t.cmp.addOneSided(kind, w.digest.minMs, w.digest.maxMs, w.digest.count, w.digest.stale);
}

function compareInHand(out: MetricParity, o: MetricParityOptions, plan: WindowPlan, s: Item, t: Item): void {
  if (s.c.chunks && t.c.chunks && !out.series.get(s.key)?.cmp) {
    const n = equalChunkSamples(s.c.chunks, t.c.chunks, s.minT, s.maxT);
    if (n >= 0) {
      out.chunkMatches++;
      if (n === 0) return;
      const tl = tally(out, s.key, s.norm);
      tl.sourceLabels ??= s.c.labels;
      tl.targetLabels ??= t.c.labels;
      tl.expected += n;
      tl.matched += n;
      return;
    }
  }
  const ss = samplesOf(s),
    ts = samplesOf(t);
  let i = lowerBound(ss.timestamps, plan.startMs);
  let j = lowerBound(ts.timestamps, plan.startMs);
  const iEnd = lowerBound(ss.timestamps, plan.endMs, i);
  const jEnd = lowerBound(ts.timestamps, plan.endMs, j);
  if (iEnd === i && jEnd === j) return;
  const tl = tally(out, s.key, s.norm);
  tl.sourceLabels ??= ss.labels;
  tl.targetLabels ??= ts.labels;
  if (
    !tl.cmp &&
    sameBytes(ss.timestamps.subarray(i, iEnd), ts.timestamps.subarray(j, jEnd)) &&
    sameBytes(ss.values.subarray(i, iEnd), ts.values.subarray(j, jEnd))
  ) {
    tl.expected += iEnd - i;
    tl.matched += iEnd - i;
    return;
  }
  tl.cmp ??= new SeriesComparator(o.equality);
  for (let w = 0; w < plan.n; w++) {
    const hi = windowBounds(plan, w)[1];
    const i2 = lowerBound(ss.timestamps, hi, i, iEnd);
    const j2 = lowerBound(ts.timestamps, hi, j, jEnd);
    const a = ss.timestamps.subarray(i, i2),
      av = ss.values.subarray(i, i2);
    const b = ts.timestamps.subarray(j, j2),
      bv = ts.values.subarray(j, j2);
    if (sameBytes(a, b) && sameBytes(av, bv)) tl.cmp.addMatched(a.length);
    else tl.cmp.feed(a, av, b, bv);
    i = i2;
    j = j2;
  }
}

/**
 * `item` is in hand, its partner only as a digest: equal digests settle it; otherwise the differing windows
 * of this one series are read again from the waiting side and compared sample by sample.
 */
async function compareWithWaiting(
  out: MetricParity,
  o: MetricParityOptions,
  plan: WindowPlan,
  item: Item,
  itemSide: 'source' | 'target',
  w: Waiting,
): Promise<void> {
  const mine = samplesOf(item);
  const d = digestSeries(mine.timestamps, mine.values, plan);
  const diff = differingWindows(d, w.digest);
  const tl = tally(out, item.key, item.norm);
  if (itemSide === 'source') {
    tl.sourceLabels ??= item.c.labels;
    tl.targetLabels ??= w.raw;
  } else {
    tl.targetLabels ??= item.c.labels;
    tl.sourceLabels ??= w.raw;
  }
  if (diff.length === 0 && !tl.cmp) {
    tl.expected += d.count;
    tl.matched += d.count;
    return;
  }
  tl.cmp ??= new SeriesComparator(o.equality);
  if (diff.length === 0) {
    tl.cmp.addMatched(d.count);
    return;
  }
  const from = windowBounds(plan, diff[0])[0];
  const to = windowBounds(plan, diff[diff.length - 1])[1];
  const reader = itemSide === 'source' ? o.target : o.source;
  out.refetches++;
  const other = await readExact(reader, w.raw, from, to);
  const diffSet = new Set(diff);
  for (let k = 0; k < plan.n; k++) {
    const [lo, hi] = windowBounds(plan, k);
    if (!diffSet.has(k)) {
      tl.cmp.addMatched(d.windows[3 * k + 2]);
      continue;
    }
    const a0 = lowerBound(mine.timestamps, lo),
      a1 = lowerBound(mine.timestamps, hi, a0);
    const b0 = lowerBound(other.timestamps, lo),
      b1 = lowerBound(other.timestamps, hi, b0);
    const m = [mine.timestamps.subarray(a0, a1), mine.values.subarray(a0, a1)] as const;
    const p = [other.timestamps.subarray(b0, b1), other.values.subarray(b0, b1)] as const;
    if (itemSide === 'source') tl.cmp.feed(m[0], m[1], p[0], p[1]);
    else tl.cmp.feed(p[0], p[1], m[0], m[1]);
  }
}

/** One series by its exact label set over [from, to); equality matchers also select supersets, which are skipped. */
export async function readExact(
  reader: SeriesReader,
  labels: Label[],
  fromMs: number,
  toMs: number,
): Promise<SeriesSamples> {
  const key = labelKey(labels);
  for await (const s of reader.streamSeries({ startMs: fromMs, endMs: toMs - 1, matchers: exactMatchers(labels) })) {
    if (labelKey(s.labels) === key) return withHistogramDigests(s);
  }
  return { labels, timestamps: new Float64Array(0), values: new Float64Array(0) };
}

/** A per-series outcome once every window of a metric has been read. */
export interface SeriesOutcome {
  labels: Label[];
  sourceLabels?: Label[];
  targetLabels?: Label[];
  status: 'matched' | 'different' | 'missing' | 'extra';
  expected: number;
  matched: number;
  unexpected: number;
  comparison?: SeriesComparison;
}

export function* seriesOutcomes(m: MetricParity): Generator<SeriesOutcome> {
  for (const t of m.series.values()) {
    let expected = t.expected,
      matched = t.matched,
      unexpected = t.unexpected;
    let comparison: SeriesComparison | undefined;
    if (t.cmp) {
      comparison = t.cmp.finish();
      expected += comparison.expected;
      matched += comparison.matched;
      unexpected += comparison.unexpected;
      comparison = { ...comparison, expected, matched, unexpected };
    }
    const inSource = expected > 0;
    const inTarget = matched > 0 || unexpected > 0 || (comparison !== undefined && comparison.mismatched > 0);
    let status: SeriesOutcome['status'];
    if (inSource && !inTarget) status = 'missing';
    else if (!inSource && inTarget) status = 'extra';
    else status = comparison && !isClean(comparison) ? 'different' : 'matched';
    yield {
      labels: t.labels,
      sourceLabels: t.sourceLabels,
      targetLabels: t.targetLabels,
      status,
      expected,
      matched,
      unexpected,
      comparison: status === 'different' ? comparison : undefined,
    };
  }
}
