/** Shared wire-level types: the contract other modules (backfill, verify) code against. */
import type { HistogramSample } from './histogram.js';
export interface Label {
  name: string;
  value: string;
}
export type MatchType = 'EQ' | 'NEQ' | 'RE' | 'NRE';
export interface Matcher {
  type: MatchType;
  name: string;
  value: string;
}

/**
 * One series' raw float samples; values carried bit-exact (stale NaN 0x7ff0000000000002 preserved).
 * `values` is written through an integer view of its buffer and must be compared the same way (see
 * valueBits/isStaleMarker): JS arithmetic and some engine paths may canonicalise NaN payloads.
 */
export interface SeriesSamples {
  labels: Label[] /* sorted by name */;
  timestamps: Float64Array /* ms */;
  values: Float64Array;
  /** Native-histogram samples (chunk encodings 2 and 3, or SAMPLES histograms) in the range, time-ordered. */
  histograms?: HistogramSample[];
  /** histograms.length (kept for callers that only count). */
  histogramSamples?: number;
  /** Chunks with an encoding this decoder does not know (reported, never silently dropped). */
  unknownChunks?: number;
}

/** TSDB chunk encodings as they appear in remote read (prompb Chunk.Encoding). */
export const ChunkEncoding = {
  UNKNOWN: 0,
  XOR: 1,
  HISTOGRAM: 2,
  FLOAT_HISTOGRAM: 3,
  XOR2: 4,
  HISTOGRAM_ST: 5,
  FLOAT_HISTOGRAM_ST: 6,
} as const;

export const MATCH_TYPE_CODE: Record<MatchType, number> = { EQ: 0, NEQ: 1, RE: 2, NRE: 3 };

/** The staleness marker Prometheus writes when a series disappears. */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Every bit-exact copy below relies on the host's float layout matching protobuf's little-endian doubles.
  throw new Error('stackshift wire: big-endian hosts are not supported');
}

/** High and low 32 bits of values[i], read without passing through a JS number. */
export function valueBits(values: Float64Array, i: number): [hi: number, lo: number] {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  return [u[2 * i + 1], u[2 * i]];
}

export function valueBitsHex(values: Float64Array, i: number): string {
  const [hi, lo] = valueBits(values, i);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

export function isStaleMarker(values: Float64Array, i: number): boolean {
  const [hi, lo] = valueBits(values, i);
  return hi === STALE_NAN_HI && lo === STALE_NAN_LO;
}

/** Writes the stale marker into values[i] bit-exactly. */
export function setStaleMarker(values: Float64Array, i: number): void {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  u[2 * i] = STALE_NAN_LO;
  u[2 * i + 1] = STALE_NAN_HI;
}

/** Canonical text of a label set, `{a="1",b="2"}`, used as a series key. */
export function labelsKey(labels: Label[]): string {
  let s = '{';
  for (let i = 0; i < labels.length; i++) s += (i ? ',' : '') + labels[i].name + '=' + JSON.stringify(labels[i].value);
  return s + '}';
}

export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
