/**
 * Turns remote-read responses into one SeriesSamples per series: consecutive frames of the same series are
 * merged, chunks decoded, samples outside the query's time range dropped, overlapping chunks de-duplicated.
 */
import { ChunkEncoding, labelsKey, type Label, type SeriesSamples } from './types.js';
import { decodeChunkedReadResponse, decodeReadResponse, readFrames } from './read.js';
import { sortDedupeHistograms, type HistogramSample } from './histogram.js';
import { decodeHistogramChunk } from './histogram-chunk.js';
import { SampleBuffer, decodeXorChunk } from './xor.js';

export interface DecodeStats {
  frames: number;
  chunks: number;
  bytes: number;
  /** Samples in chunks, before time filtering. */
  chunkSamples: number;
  /** Native-histogram samples decoded (in range). */
  histogramSamples: number;
  unknownChunks: number;
  unknownEncodings: Record<number, number>;
}

export function newDecodeStats(): DecodeStats {
  return {
    frames: 0,
    chunks: 0,
    bytes: 0,
    chunkSamples: 0,
    histogramSamples: 0,
    unknownChunks: 0,
    unknownEncodings: {},
  };
}

/** Sorts by timestamp and removes repeated timestamps (first wins), in place. Needed only for overlapping chunks. */
export function sortDedupe(buf: SampleBuffer): void {
  const n = buf.length;
  let sorted = true;
  for (let i = 1; i < n; i++)
    if (!(buf.timestamps[i] > buf.timestamps[i - 1])) {
      sorted = false;
      break;
    }
  if (sorted) return;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => buf.timestamps[a] - buf.timestamps[b] || a - b);
  const t = new Float64Array(n);
  const bits = new Uint32Array(2 * n);
  let m = 0;
  for (const i of idx) {
    if (m > 0 && t[m - 1] === buf.timestamps[i]) continue;
    t[m] = buf.timestamps[i];
    bits[2 * m] = buf.bits[2 * i];
    bits[2 * m + 1] = buf.bits[2 * i + 1];
    m++;
  }
  buf.timestamps.set(t.subarray(0, m));
  buf.bits.set(bits.subarray(0, 2 * m));
  buf.length = m;
}

function emit(
  labels: Label[],
  buf: SampleBuffer,
  hist: HistogramSample[],
  unknown: number,
  reuse = false,
): SeriesSamples {
  sortDedupe(buf);
  const { timestamps, values } = reuse ? buf.view() : buf.snapshot();
  const s: SeriesSamples = { labels, timestamps, values };
  if (hist.length) {
    sortDedupeHistograms(hist);
    s.histograms = hist;
    s.histogramSamples = hist.length;
  }
  if (unknown) s.unknownChunks = unknown;
  return s;
}

/**
 * STREAMED_XOR_CHUNKS body -> series (inclusive time range [minT, maxT]). With `reuse`, a series' arrays are
 * views into one decode buffer and valid only until the next series is requested: for consumers that copy
 * them at once (the backfill), this saves an allocation per series.
 */
export async function* seriesFromFrames(
  body: AsyncIterable<Uint8Array>,
  minT: number,
  maxT: number,
  stats: DecodeStats = newDecodeStats(),
  maxFrameBytes?: number,
  reuse = false,
): AsyncGenerator<SeriesSamples> {
  const buf = new SampleBuffer(4096);
  let curKey: string | undefined;
  let curLabels: Label[] = [];
  let hist: HistogramSample[] = [];
  let unknown = 0;
  for await (const frame of readFrames(body, maxFrameBytes)) {
    stats.frames++;
    stats.bytes += frame.length;
    const resp = decodeChunkedReadResponse(frame);
    for (const s of resp.series) {
      const key = resp.queryIndex + labelsKey(s.labels);
      if (key !== curKey) {
        if (curKey !== undefined) yield emit(curLabels, buf, hist, unknown, reuse);
        curKey = key;
        curLabels = s.labels;
        buf.clear();
        hist = [];
        unknown = 0;
      }
      for (const c of s.chunks) {
        stats.chunks++;
        if (c.type === ChunkEncoding.XOR) {
          stats.chunkSamples += decodeXorChunk(c.data, buf, minT, maxT);
        } else if (c.type === ChunkEncoding.HISTOGRAM || c.type === ChunkEncoding.FLOAT_HISTOGRAM) {
          const before = hist.length;
          stats.chunkSamples += decodeHistogramChunk(c.data, c.type, hist, minT, maxT);
          stats.histogramSamples += hist.length - before;
        } else {
          unknown++;
          stats.unknownChunks++;
          stats.unknownEncodings[c.type] = (stats.unknownEncodings[c.type] ?? 0) + 1;
        }
      }
    }
  }
  if (curKey !== undefined) yield emit(curLabels, buf, hist, unknown, reuse);
}

/** SAMPLES body (already snappy-decoded) -> series. */
export function* seriesFromSamplesResponse(
  msg: Uint8Array,
  minT: number,
  maxT: number,
  stats: DecodeStats = newDecodeStats(),
): Generator<SeriesSamples> {
  const buf = new SampleBuffer(4096);
  const out: SeriesSamples[] = [];
  stats.bytes += msg.length;
  decodeReadResponse(msg, buf, (s) => {
    // keep only [minT, maxT], like the streamed path
    let m = 0;
    for (let i = 0; i < buf.length; i++) {
      const t = buf.timestamps[i];
      if (t < minT || t > maxT) continue;
      buf.timestamps[m] = t;
      buf.bits[2 * m] = buf.bits[2 * i];
      buf.bits[2 * m + 1] = buf.bits[2 * i + 1];
      m++;
    }
    buf.length = m;
    const hist = s.histograms.filter((h) => h.t >= minT && h.t <= maxT);
    stats.chunkSamples += m + hist.length;
    stats.histogramSamples += hist.length;
    out.push(emit(s.labels, buf, hist, 0));
  });
  yield* out;
}
