/**
 * Remote write encoders: 1.0 (prometheus.WriteRequest) and 2.0 (io.prometheus.write.v2.Request, symbol
 * table + label refs). Values are copied as their 8 raw bytes from the Float64Array's buffer, so stale
 * markers and any other NaN payload reach the receiver bit for bit.
 */
import type { HistogramSample } from './histogram.js';
import { histogramFieldsSize, writeHistogramFields } from './histogram-pb.js';
import { PbWriter, uvarintSize, utf8Bytes } from './pb.js';
import type { Label } from './types.js';

/**
 * A series slice to send: samples [start, end) of the arrays (default: all), timestamps ascending; and
 * native-histogram samples [histStart, histEnd) of `histograms` (default: all), sent after the floats.
 */
export interface WriteSeries {
  labels: Label[];
  timestamps: Float64Array;
  values: Float64Array;
  start?: number;
  end?: number;
  histograms?: readonly HistogramSample[];
  histStart?: number;
  histEnd?: number;
}

export const RW1_HEADERS = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
} as const;

export const RW2_HEADERS = {
  'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '2.0.0',
} as const;

function labelSize(l: Label): number {
  const n = utf8Bytes(l.name).length;
  const v = utf8Bytes(l.value).length;
  return 1 + uvarintSize(n) + n + 1 + uvarintSize(v) + v;
}

function sampleSize(ts: number): number {
  return 1 + 8 + 1 + uvarintSize(ts);
}

function writeValueBytes(w: PbWriter, src: Uint8Array, i: number): void {
  const b = w.buf;
  let p = w.pos;
  const o = i * 8;
  b[p++] = src[o];
  b[p++] = src[o + 1];
  b[p++] = src[o + 2];
  b[p++] = src[o + 3];
  b[p++] = src[o + 4];
  b[p++] = src[o + 5];
  b[p++] = src[o + 6];
  b[p++] = src[o + 7];
  w.pos = p;
}

/** A `timeseries` field's tag and length (`size` bytes follow) and its labels; room for the rest is ensured too. */
function writeSeriesHeader(w: PbWriter, size: number, labels: Label[]): void {
  w.ensure(size + 11);
  w.byte(0x0a);
  w.uvarint(size);
  for (const l of labels) {
    const n = utf8Bytes(l.name);
    const v = utf8Bytes(l.value);
    w.byte(0x0a);
    w.uvarint(labelSize(l));
    w.byte(0x0a);
    w.uvarint(n.length);
    w.buf.set(n, w.pos);
    w.pos += n.length;
    w.byte(0x12);
    w.uvarint(v.length);
    w.buf.set(v, w.pos);
    w.pos += v.length;
  }
}

const shared = new PbWriter(1 << 20);
const histSizes: number[] = [];

/**
 * Samples of one varint width, the common case: every record is `12 ss 09 <8 value bytes> 10 <varint ts>`.
 * Values are read as two 32-bit words of the Float64Array's buffer (bit-exact), timestamps split into 32-bit
 * halves so the varint needs no floating-point division.
 */
function writeUniformSamples(
  w: PbWriter,
  ts: Float64Array,
  values: Float64Array,
  start: number,
  end: number,
  ss: number,
): void {
  const vw = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const b = w.buf;
  let p = w.pos;
  for (let i = start; i < end; i++) {
    const t = ts[i];
    const lo = vw[2 * i];
    const hi = vw[2 * i + 1];
    b[p] = 0x12;
    b[p + 1] = ss;
    b[p + 2] = 0x09;
    b[p + 3] = lo;
    b[p + 4] = lo >>> 8;
    b[p + 5] = lo >>> 16;
    b[p + 6] = lo >>> 24;
    b[p + 7] = hi;
    b[p + 8] = hi >>> 8;
    b[p + 9] = hi >>> 16;
    b[p + 10] = hi >>> 24;
    b[p + 11] = 0x10;
    p += 12;
    let l = t >>> 0;
    let h = (t - l) / 4294967296;
    while (h !== 0 || l >= 0x80) {
      b[p++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | ((h & 0x7f) << 25)) >>> 0;
      h >>>= 7;
    }
    b[p++] = l;
  }
  w.pos = p;
}

/** Serialises a WriteRequest (not compressed). The result is a view into a reused buffer: copy or compress it before the next call. */
export function encodeWriteRequest(series: WriteSeries[], w: PbWriter = shared): Uint8Array {
  if (hasHistograms(series)) return encodeWithHistograms(series, w);
  w.reset();
  for (const s of series) {
    const start = s.start ?? 0;
    const end = s.end ?? s.timestamps.length;
    const ts = s.timestamps;
    let size = 0;
    for (const l of s.labels) {
      const ls = labelSize(l);
      size += 1 + uvarintSize(ls) + ls;
    }
    // ascending timestamps of one varint width: every Sample has the same size
    const uniform = end > start && ts[start] >= 0 && uvarintSize(ts[start]) === uvarintSize(ts[end - 1]);
    const uss = uniform ? sampleSize(ts[start]) : 0;
    let samplesSize = 0;
    if (uniform) samplesSize = (end - start) * (2 + uss);
    else {
      for (let i = start; i < end; i++) {
        const ss = sampleSize(ts[i]);
        samplesSize += 1 + uvarintSize(ss) + ss;
      }
    }
    size += samplesSize;
    writeSeriesHeader(w, size, s.labels);
    if (uniform) {
      writeUniformSamples(w, ts, s.values, start, end, uss);
      continue;
    }
    const vbytes = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
    for (let i = start; i < end; i++) {
      const t = ts[i];
      w.buf[w.pos++] = 0x12;
      w.buf[w.pos++] = sampleSize(t); // < 128 for any int64
      w.buf[w.pos++] = 0x09;
      writeValueBytes(w, vbytes, i);
      w.buf[w.pos++] = 0x10;
      w.int64(t);
    }
  }
  return w.finish();
}

function hasHistograms(series: WriteSeries[]): boolean {
  for (let i = 0; i < series.length; i++) if (series[i].histograms !== undefined) return true;
  return false;
}

/**
 * Native histograms kept off the float loop above (a benchmarked hot path): the float entries are encoded by
 * it, the histogram entries appended after them as more `timeseries` fields, which protobuf concatenates.
 */
function encodeWithHistograms(series: WriteSeries[], w: PbWriter): Uint8Array {
  encodeWriteRequest(
    series
      .map((s) =>
        s.histograms === undefined ? s : { ...s, histograms: undefined, histStart: undefined, histEnd: undefined },
      )
      .filter((s) => (s.end ?? s.timestamps.length) > (s.start ?? 0)),
    w,
  );
  for (const s of series) {
    const hs = s.histograms;
    if (hs === undefined) continue;
    const hStart = s.histStart ?? 0;
    const hEnd = s.histEnd ?? hs.length;
    if (hEnd <= hStart) continue;
    let size = 0;
    for (const l of s.labels) {
      const ls = labelSize(l);
      size += 1 + uvarintSize(ls) + ls;
    }
    size += histogramFieldsSize(hs, hStart, hEnd, histSizes);
    writeSeriesHeader(w, size, s.labels);
    writeHistogramFields(w, 0x22, hs, hStart, hEnd, histSizes);
  }
  return w.finish();
}

/** Serialises an io.prometheus.write.v2.Request (symbols[0] is "" as the spec requires). */
export function encodeWriteRequestV2(series: WriteSeries[]): Uint8Array {
  const symbols = new Map<string, number>([['', 0]]);
  const sym = (s: string) => {
    let i = symbols.get(s);
    if (i === undefined) {
      i = symbols.size;
      symbols.set(s, i);
    }
    return i;
  };
  const body = new PbWriter(1 << 16);
  for (const s of series) {
    const start = s.start ?? 0;
    const end = s.end ?? s.timestamps.length;
    const ts = s.timestamps;
    const vbytes = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
    const refs: number[] = [];
    for (const l of s.labels) refs.push(sym(l.name), sym(l.value));
    let refsSize = 0;
    for (const r of refs) refsSize += uvarintSize(r);
    let size = 1 + uvarintSize(refsSize) + refsSize;
    for (let i = start; i < end; i++) {
      const ss = sampleSize(ts[i]);
      size += 1 + uvarintSize(ss) + ss;
    }
    const hs = s.histograms;
    const hStart = s.histStart ?? 0;
    const hEnd = hs ? (s.histEnd ?? hs.length) : 0;
    if (hs) size += histogramFieldsSize(hs, hStart, hEnd, histSizes);
    body.ensure(size + 11);
    body.byte(0x2a);
    body.uvarint(size);
    body.byte(0x0a);
    body.uvarint(refsSize);
    for (const r of refs) body.uvarint(r);
    for (let i = start; i < end; i++) {
      const t = ts[i];
      body.byte(0x12);
      body.uvarint(sampleSize(t));
      body.byte(0x09);
      writeValueBytes(body, vbytes, i);
      body.byte(0x10);
      body.int64(t);
    }
    // v2 TimeSeries: histograms = 3 (same Histogram message as 1.0)
    if (hs) writeHistogramFields(body, 0x1a, hs, hStart, hEnd, histSizes);
  }
  const out = new PbWriter(body.pos + 1024);
  for (const s of symbols.keys()) {
    const b = utf8Bytes(s);
    out.ensure(b.length + 11);
    out.byte(0x22);
    out.uvarint(b.length);
    out.buf.set(b, out.pos);
    out.pos += b.length;
  }
  out.ensure(body.pos);
  out.buf.set(body.finish(), out.pos);
  out.pos += body.pos;
  return out.finish();
}

/** Written-count headers of a remote write 2.0 response; undefined when the receiver did not send them. */
export function writtenHeaders(
  headers: Record<string, string>,
): { samples: number; histograms: number; exemplars: number } | undefined {
  const s = headers['x-prometheus-remote-write-samples-written'];
  if (s === undefined) return undefined;
  return {
    samples: Number(s),
    histograms: Number(headers['x-prometheus-remote-write-histograms-written'] ?? 0),
    exemplars: Number(headers['x-prometheus-remote-write-exemplars-written'] ?? 0),
  };
}
