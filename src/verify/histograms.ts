import {
  ResetHint,
  isStaleHistogram,
  sortDedupeHistograms,
  type HistogramSample,
  type SeriesSamples,
} from '../wire/index.js';
import { STALE_NAN_HI, STALE_NAN_LO } from './compare.js';

/**
 * Native histograms in sample parity. Each histogram sample stands in the series as one sample whose value
 * is a 64-bit digest of every field it carries (integer/float, counter/gauge, schema, zero threshold, count,
 * zero count, sum, spans, buckets, custom bounds, all as their raw 64-bit words), so the float machinery
 * (window digests, refetches, gap and stale-marker naming, the consistency figure) compares histograms bit
 * for bit without a second code path. A stale marker keeps the stale NaN as its value and is reported as
 * one. The reset hint takes part only as gauge vs counter: its other values say where a server cut its
 * chunks, which every receiver decides for itself. With --tolerance, histogram values still must match
 * exactly (a digest has no magnitude).
 */

const FNV_PRIME = 16777619;

function digest(h: HistogramSample, out: Uint32Array, k: number): void {
  if (isStaleHistogram(h)) {
    out[2 * k] = STALE_NAN_LO;
    out[2 * k + 1] = STALE_NAN_HI;
    return;
  }
  // two independent FNV-1a lanes over the 32-bit words: 64 bits against an accidental match
  let a = 0x811c9dc5,
    b = 0x01000193 ^ 0x9e3779b9;
  const mix = (x: number) => {
    for (let s = 0; s < 32; s += 8) {
      const byte = (x >>> s) & 0xff;
      a = Math.imul(a ^ byte, FNV_PRIME) >>> 0;
      b = Math.imul(b ^ byte ^ 0x5b, 0x01000193 + 0x200) >>> 0;
    }
  };
  mix((h.isFloat ? 1 : 0) | (h.resetHint === ResetHint.GAUGE ? 2 : 0));
  mix(h.schema);
  for (let i = 0; i < 8; i++) mix(h.head[i]);
  for (const [spans, words] of [
    [h.positiveSpans, h.positive],
    [h.negativeSpans, h.negative],
  ] as const) {
    mix(spans.length);
    for (const x of spans) mix(x);
    mix(words.length);
    for (let i = 0; i < words.length; i++) mix(words[i]);
  }
  const cv = h.customValues;
  mix(cv?.length ?? 0);
  if (cv) for (let i = 0; i < cv.length; i++) mix(cv[i]);
  // never produce the stale marker's bits by accident
  if (a === STALE_NAN_LO && b === STALE_NAN_HI) a ^= 1;
  out[2 * k] = a;
  out[2 * k + 1] = b;
}

/** The series with its histograms merged in (by timestamp) as digest samples; `histograms` is dropped. */
export function withHistogramDigests(s: SeriesSamples): SeriesSamples {
  const hs = s.histograms;
  if (!hs || hs.length === 0) return s;
  sortDedupeHistograms(hs);
  const n = s.timestamps.length,
    m = hs.length;
  const ts = new Float64Array(n + m);
  const vs = new Float64Array(n + m);
  const vw = new Uint32Array(vs.buffer);
  const sw = new Uint32Array(s.values.buffer, s.values.byteOffset, n * 2);
  let i = 0,
    j = 0,
    k = 0;
  while (i < n || j < m) {
    if (j >= m || (i < n && s.timestamps[i] <= hs[j].t)) {
      if (j < m && s.timestamps[i] === hs[j].t) j++; // one sample per timestamp: the float wins, as in the TSDB
      ts[k] = s.timestamps[i];
      vw[2 * k] = sw[2 * i];
      vw[2 * k + 1] = sw[2 * i + 1];
      i++;
    } else {
      ts[k] = hs[j].t;
      digest(hs[j], vw, k);
      j++;
    }
    k++;
  }
  const out: SeriesSamples = { labels: s.labels, timestamps: ts.subarray(0, k), values: vs.subarray(0, k) };
  if (s.unknownChunks) out.unknownChunks = s.unknownChunks;
  return out;
}
