/**
 * Native histograms: the sample model shared by the chunk decoder (histogram-chunk.ts), the prompb
 * `Histogram` codec (histogram-pb.ts) and their callers. The fields follow model/histogram (histogram.go,
 * float_histogram.go, the custom-buckets schema in generic.go), the chunk header bits CounterResetHeader in
 * tsdb/chunkenc/histogram.go, the reset hints prompb Histogram.ResetHint (types.proto).
 *
 * Every field is held as 64-bit words (two unsigned 32-bit halves, low first), never as a JS number: integer
 * counts and bucket deltas are Go uint64/int64 and would lose precision above 2^53, and float fields keep
 * their NaN payloads (the stale marker in `sum` above all) only if they never pass through a double.
 */
import { histogramMessageSize } from './histogram-pb.js';
import { STALE_NAN_HI, STALE_NAN_LO } from './types.js';

/** prompb Histogram.ResetHint. */
export const ResetHint = { UNKNOWN: 0, YES: 1, NO: 2, GAUGE: 3 } as const;

/** Chunk header bits (byte 2 of a histogram chunk): why the chunk was cut. */
export const CounterResetHeader = { UNKNOWN: 0x00, NOT_COUNTER_RESET: 0x40, COUNTER_RESET: 0x80, GAUGE: 0xc0 } as const;

export const CUSTOM_BUCKETS_SCHEMA = -53;

export interface HistogramSample {
  /** ms */
  t: number;
  /** Integer histogram (chunk encoding 2, count_int) or float histogram (encoding 3, count_float). */
  isFloat: boolean;
  resetHint: number;
  schema: number;
  /**
   * (lo, hi) words of count, zero_count, sum, zero_threshold, in that order. count and zero_count are
   * uint64 for integer histograms and double bits for float ones; sum and zero_threshold are double bits.
   */
  head: Uint32Array;
  /** offset, length pairs. Shared between the samples of one chunk: never mutate. */
  positiveSpans: readonly number[];
  negativeSpans: readonly number[];
  /** One (lo, hi) word per bucket: int64 deltas (integer histograms) or absolute counts as double bits (float). */
  positive: Uint32Array;
  negative: Uint32Array;
  /** Bucket bounds (double bits pairs) of the custom-buckets schema (-53). */
  customValues?: Uint32Array;
}

const EMPTY_SPANS: readonly number[] = Object.freeze([]);
/** Shared by every sample without buckets on one side: zero-length, so nothing can write into it. */
export const EMPTY_WORDS = new Uint32Array(0);

export function isStaleHistogram(h: HistogramSample): boolean {
  return h.head[5] === STALE_NAN_HI && h.head[4] === STALE_NAN_LO;
}

/** A staleness marker as Prometheus stores it in a histogram series: sum = stale NaN, nothing else. */
export function staleHistogram(t: number, isFloat: boolean): HistogramSample {
  const head = new Uint32Array(8);
  head[4] = STALE_NAN_LO;
  head[5] = STALE_NAN_HI;
  return {
    t,
    isFloat,
    resetHint: ResetHint.UNKNOWN,
    schema: 0,
    head,
    positiveSpans: EMPTY_SPANS,
    negativeSpans: EMPTY_SPANS,
    positive: EMPTY_WORDS,
    negative: EMPTY_WORDS,
  };
}

export function bucketCount(h: HistogramSample): number {
  return (h.positive.length + h.negative.length) >>> 1;
}

/** Sorts by timestamp and drops repeated timestamps (first wins), in place; overlapping chunks need it. */
export function sortDedupeHistograms(hs: HistogramSample[]): void {
  let sorted = true;
  for (let i = 1; i < hs.length; i++)
    if (!(hs[i].t > hs[i - 1].t)) {
      sorted = false;
      break;
    }
  if (sorted) return;
  const idx = hs.map((_, i) => i).sort((a, b) => hs[a].t - hs[b].t || a - b);
  const copy = idx.map((i) => hs[i]);
  hs.length = 0;
  for (const h of copy) if (hs.length === 0 || hs[hs.length - 1].t !== h.t) hs.push(h);
}

/**
 * What one histogram sample weighs against --batch-samples: its encoded size in float-sample equivalents
 * (a float sample takes about 18 bytes in a WriteRequest), so a batch stays about the same size in bytes
 * whatever mix of floats and histograms it carries.
 */
export function histogramWeight(h: HistogramSample): number {
  return Math.max(1, Math.round(histogramMessageSize(h) / 18));
}
