/**
 * Native histogram samples compared field by field and described for reports (verification and tests; the
 * digests that put histograms into sample parity are in histograms.ts). Fields are compared as their raw
 * 64-bit words, as model/histogram keeps them and prompb types.proto carries them, so NaN payloads and
 * integer counts above 2^53 count.
 */
import { ResetHint, bucketCount, isStaleHistogram, type HistogramSample } from '../wire/index.js';

const NO_WORDS = new Uint32Array(0);

function sameWords(a: Uint32Array | undefined, b: Uint32Array | undefined): boolean {
  const x = a ?? NO_WORDS,
    y = b ?? NO_WORDS;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameSpans(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The first field in which two histogram samples differ, or undefined when they are equal bit for bit.
 * The reset hint is compared only as gauge vs counter: the other hints describe where a server cut its
 * chunks, which a receiver decides for itself.
 */
export function histogramDifference(a: HistogramSample, b: HistogramSample): string | undefined {
  if (a.t !== b.t) return 'timestamp';
  // a stale marker is only its sum; which chunk type holds it is the receiver's choice
  if (isStaleHistogram(a) && isStaleHistogram(b)) return undefined;
  if (a.isFloat !== b.isFloat) return 'type (integer/float)';
  if ((a.resetHint === ResetHint.GAUGE) !== (b.resetHint === ResetHint.GAUGE)) return 'type (counter/gauge)';
  const x = a.head,
    y = b.head;
  if (x[4] !== y[4] || x[5] !== y[5]) return 'sum';
  if (x[0] !== y[0] || x[1] !== y[1]) return 'count';
  if (x[2] !== y[2] || x[3] !== y[3]) return 'zero_count';
  if (x[6] !== y[6] || x[7] !== y[7]) return 'zero_threshold';
  if (a.schema !== b.schema) return 'schema';
  if (!sameSpans(a.positiveSpans, b.positiveSpans)) return 'positive_spans';
  if (!sameSpans(a.negativeSpans, b.negativeSpans)) return 'negative_spans';
  if (!sameWords(a.positive, b.positive)) return a.isFloat ? 'positive_counts' : 'positive_deltas';
  if (!sameWords(a.negative, b.negative)) return a.isFloat ? 'negative_counts' : 'negative_deltas';
  if (!sameWords(a.customValues, b.customValues)) return 'custom_values';
  return undefined;
}

/** Readable one-line form for reports: `t=…ms count=… sum=… schema=… buckets=…`. */
export function describeHistogram(h: HistogramSample): string {
  const f = (k: number) => new Float64Array(h.head.slice(2 * k, 2 * k + 2).buffer)[0];
  const i = (k: number) => String(BigInt(h.head[2 * k + 1]) * 4294967296n + BigInt(h.head[2 * k]));
  if (isStaleHistogram(h)) return `t=${h.t} stale marker`;
  return `t=${h.t} count=${h.isFloat ? f(0) : i(0)} sum=${f(2)} schema=${h.schema} zero=${h.isFloat ? f(1) : i(1)} buckets=${bucketCount(h)}${h.isFloat ? ' (float)' : ''}`;
}
