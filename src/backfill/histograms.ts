import { histogramWeight, type HistogramSample, type Label, type WriteSeries } from '../wire/index.js';

/**
 * Native histograms in the engine's batches. A histogram entry carries no float samples (remote write 2.0
 * forbids both in one TimeSeries) and weighs its encoded size in float-sample equivalents, so that
 * --batch-samples bounds a request's bytes whatever the mix; a histogram with 100 buckets counts as ~20.
 */
const EMPTY = new Float64Array(0);

export interface WeightedPart {
  series: WriteSeries;
  weight: number;
}

/** Slices of one series' histograms: the first fills the batch in progress (`fill` of `batchSamples`), the rest whole batches. */
export function* histogramBatches(
  labels: Label[],
  hs: HistogramSample[],
  batchSamples: number,
  fill: number,
): Generator<WeightedPart> {
  let start = 0;
  let weight = 0;
  for (let i = 0; i < hs.length; i++) {
    weight += histogramWeight(hs[i]);
    if (fill + weight >= batchSamples || i === hs.length - 1) {
      yield {
        series: { labels, timestamps: EMPTY, values: EMPTY, histograms: hs, histStart: start, histEnd: i + 1 },
        weight,
      };
      fill = fill + weight >= batchSamples ? 0 : fill + weight;
      start = i + 1;
      weight = 0;
    }
  }
}

function entryWeights(s: WriteSeries): number[] | number {
  if (!s.histograms) return (s.end ?? s.timestamps.length) - (s.start ?? 0);
  const w: number[] = [];
  for (let i = s.histStart ?? 0; i < (s.histEnd ?? s.histograms.length); i++) w.push(histogramWeight(s.histograms[i]));
  return w;
}

/** An entry's weight in a batch: its float samples, or its histograms' weights. */
export function entryWeight(s: WriteSeries): number {
  const w = entryWeights(s);
  return typeof w === 'number' ? w : w.reduce((x, y) => x + y, 0);
}

/** Float samples and histogram samples in a batch (what a 2.0 receiver's *-Written headers count). */
export function weightOf(batch: WriteSeries[]): { samples: number; histograms: number } {
  let samples = 0;
  let histograms = 0;
  for (const s of batch) {
    samples += (s.end ?? s.timestamps.length) - (s.start ?? 0);
    if (s.histograms) histograms += (s.histEnd ?? s.histograms.length) - (s.histStart ?? 0);
  }
  return { samples, histograms };
}

/** Halves a batch by weight (a refused too-large request is sent again as two); undefined when it is one histogram. */
export function splitWeighted(
  batch: WriteSeries[],
  n: number,
): [{ batch: WriteSeries[]; n: number }, { batch: WriteSeries[]; n: number }] | undefined {
  const half = n / 2;
  const a: WriteSeries[] = [];
  const b: WriteSeries[] = [];
  let seen = 0;
  let na = 0;
  for (const s of batch) {
    const w = entryWeights(s);
    const total = typeof w === 'number' ? w : w.reduce((x, y) => x + y, 0);
    if (seen + total <= half) {
      a.push(s);
      na += total;
    } else if (seen >= half) b.push(s);
    else if (typeof w === 'number') {
      const start = s.start ?? 0;
      const cut = start + Math.max(1, Math.floor(half - seen));
      a.push({ ...s, start, end: cut });
      b.push({ ...s, start: cut });
      na += cut - start;
    } else {
      const start = s.histStart ?? 0;
      let k = 0;
      let acc = seen;
      while (k < w.length - 1 && (k === 0 || acc + w[k] <= half)) {
        acc += w[k];
        na += w[k];
        k++;
      }
      if (k > 0) a.push({ ...s, histStart: start, histEnd: start + k });
      b.push({ ...s, histStart: start + k });
    }
    seen += total;
  }
  if (a.length === 0 || b.length === 0) return undefined;
  return [
    { batch: a, n: na },
    { batch: b, n: n - na },
  ];
}
