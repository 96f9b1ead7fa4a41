/**
 * The samples of one remote-write request, and how a refused request is cut in two. The engine fills Batches
 * while it reads and sends them as they fill; when a receiver refuses one (too large, or one bad sample in a
 * request a Prometheus receiver rolls back whole), splitBatch and splitRefused give the two halves to send
 * again. These are the pure, table-tested part of the write path, apart from the engine's concurrency.
 */
import type { Label, WriteSeries } from '../wire/index.js';
import { entryWeight, splitWeighted } from './histograms.js';

/**
 * The samples of one request (`n` counts float samples plus histogram weights). Batches are pooled (at most one per reading unit plus one
 * per request in flight), so copying allocates nothing per series or per request once the pool is warm.
 */
export class Batch {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  n = 0;
  series: WriteSeries[] = [];

  constructor(capacity: number) {
    this.timestamps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  /** Copies samples [from, to) of a series; a same-type typed-array copy moves bytes, so NaN payloads survive. */
  add(labels: Label[], timestamps: Float64Array, values: Float64Array, from: number, to: number): void {
    this.timestamps.set(timestamps.subarray(from, to), this.n);
    this.values.set(values.subarray(from, to), this.n);
    this.series.push({
      labels,
      timestamps: this.timestamps,
      values: this.values,
      start: this.n,
      end: this.n + to - from,
    });
    this.n += to - from;
  }

  /** An entry that keeps its own arrays (native histograms: fresh per series, never reused by the reader). */
  addEntry(series: WriteSeries, weight: number): void {
    this.series.push(series);
    this.n += weight;
  }

  reset(): void {
    this.n = 0;
    this.series = [];
  }
}

/**
 * Halves a refused request to find its bad samples: series by series first (a bad sample is usually one series'
 * problem), then within the one series left.
 */
export function splitRefused(
  batch: WriteSeries[],
  n: number,
): [{ batch: WriteSeries[]; n: number }, { batch: WriteSeries[]; n: number }] | undefined {
  if (batch.length < 2) return splitBatch(batch, n);
  const mid = Math.floor(batch.length / 2);
  const a = batch.slice(0, mid);
  const na = a.reduce((x, s) => x + entryWeight(s), 0);
  return [
    { batch: a, n: na },
    { batch: batch.slice(mid), n: n - na },
  ];
}

/**
 * Halves a request by samples (a too-large request is sent again as two), cutting the series that straddles the
 * middle; a batch with native histograms is halved by weight (splitWeighted), undefined when it cannot be.
 */
export function splitBatch(
  batch: WriteSeries[],
  n: number,
): [{ batch: WriteSeries[]; n: number }, { batch: WriteSeries[]; n: number }] | undefined {
  if (batch.some((s) => s.histograms)) return splitWeighted(batch, n);
  const half = Math.floor(n / 2);
  const a: WriteSeries[] = [];
  const b: WriteSeries[] = [];
  let seen = 0;
  for (const s of batch) {
    const start = s.start ?? 0;
    const end = s.end ?? s.timestamps.length;
    const len = end - start;
    if (seen + len <= half) a.push(s);
    else if (seen >= half) b.push(s);
    else {
      const cut = start + (half - seen);
      a.push({ ...s, start, end: cut });
      b.push({ ...s, start: cut, end });
    }
    seen += len;
  }
  return [
    { batch: a, n: half },
    { batch: b, n: n - half },
  ];
}
