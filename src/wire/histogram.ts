/**
 * Native histograms on the wire: the decoder for TSDB histogram chunks (encoding 2, integer histograms, from
 * tsdb/chunkenc/histogram.go; encoding 3, float histograms, from float_histogram.go; layout and varbit
 * integers from histogram_meta.go and varbit.go; format in tsdb/docs/format/chunks.md) and the prompb
 * `Histogram` message (types.proto; remote write 2.0 uses the same field numbers) as written to and read
 * from the wire.
 *
 * Every field is held as 64-bit words (two unsigned 32-bit halves, low first), never as a JS number: integer
 * counts and bucket deltas are Go uint64/int64 and would lose precision above 2^53, and float fields keep
 * their NaN payloads (the stale marker in `sum` above all) only if they never pass through a double.
 */
import { PbReader, PbWriter, WireError, uvarintSize } from './pb.js';
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
const EMPTY_WORDS = new Uint32Array(0);

export function isStaleHistogram(h: HistogramSample): boolean {
  return h.head[5] === STALE_NAN_HI && h.head[4] === STALE_NAN_LO;
}

/** A staleness marker as Prometheus stores it in a histogram series: sum = stale NaN, nothing else. */
export function staleHistogram(t: number, isFloat: boolean): HistogramSample {
  const head = new Uint32Array(8);
  head[4] = STALE_NAN_LO;
  head[5] = STALE_NAN_HI;
  return { t, isFloat, resetHint: ResetHint.UNKNOWN, schema: 0, head, positiveSpans: EMPTY_SPANS, negativeSpans: EMPTY_SPANS, positive: EMPTY_WORDS, negative: EMPTY_WORDS };
}

export function bucketCount(h: HistogramSample): number {
  return (h.positive.length + h.negative.length) >>> 1;
}

// ---------------------------------------------------------------------------------------------------------
// Chunk decoding

/** MSB-first bit reader over a zero-padded copy of the chunk (reads past the end see zeros, checked after). */
class Bits {
  readonly buf: Uint8Array;
  pos: number;
  readonly totalBits: number;
  constructor(data: Uint8Array, startBit: number) {
    this.buf = new Uint8Array(data.length + 16);
    this.buf.set(data);
    this.pos = startBit;
    this.totalBits = data.length * 8;
  }

  /** 1..32 bits as an unsigned number. */
  read(n: number): number {
    const b = this.buf;
    const i = this.pos >>> 3;
    const off = this.pos & 7;
    let w = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    if (off !== 0) w = ((w << off) | (b[i + 4] >>> (8 - off))) >>> 0;
    this.pos += n;
    return n === 32 ? w : w >>> (32 - n);
  }

  byte(): number {
    return this.read(8);
  }

  check(what: string): void {
    if (this.pos > this.totalBits) throw new WireError(`histogram chunk truncated while reading ${what}`);
  }
}

// varbit.go: a prefix of up to 8 one-bits (terminated by a zero below 8) selects the payload width
const VARBIT_WIDTH = [0, 3, 6, 9, 12, 18, 25, 56, 64];

/** Payload width of the next varbit number: the prefix's ones counted in one 8-bit peek. */
function varbitWidth(r: Bits): number {
  const ones = Math.min(8, Math.clz32(~(r.read(8) << 24)));
  r.pos -= ones === 8 ? 0 : 7 - ones; // consume the ones and the terminating zero (none after 8 ones)
  return VARBIT_WIDTH[ones];
}

/** Reads a varbit number into out[2k] (lo), out[2k+1] (hi); signed: two's complement as in readVarbitInt. */
function readVarbit(r: Bits, signed: boolean, out: Uint32Array, k: number): void {
  const sz = varbitWidth(r);
  let lo = 0;
  let hi = 0;
  if (sz === 64) { hi = r.read(32); lo = r.read(32); }
  else if (sz === 56) {
    hi = r.read(24);
    lo = r.read(32);
    // Go: `if bits > 1<<55 { bits -= 1<<56 }`; subtracting 2^56 sign-extends the top byte
    if (signed && (hi > 0x800000 || (hi === 0x800000 && lo > 0))) hi = (hi + 0xff000000) >>> 0;
  } else if (sz > 0) {
    let v = r.read(sz);
    if (signed && v > 2 ** (sz - 1)) v -= 2 ** sz;
    lo = v >>> 0;
    hi = v < 0 ? 0xffffffff : 0;
  }
  out[2 * k] = lo;
  out[2 * k + 1] = hi;
}

const tmp = new Uint32Array(2);

/** A varbit number that must fit a JS number exactly (timestamps, schema, span fields). */
function readVarbitNumber(r: Bits, signed: boolean, what: string): number {
  readVarbit(r, signed, tmp, 0);
  const v = signed ? (tmp[1] | 0) * 4294967296 + tmp[0] : tmp[1] * 4294967296 + tmp[0];
  if (!Number.isSafeInteger(v)) throw new WireError(`histogram chunk: ${what} ${v} is out of range`);
  return v;
}

/** a[i] += b[j] as 64-bit two's complement words. */
function add64(a: Uint32Array, i: number, b: Uint32Array, j: number): void {
  const lo = a[2 * i] + b[2 * j];
  a[2 * i] = lo >>> 0;
  a[2 * i + 1] = (a[2 * i + 1] + b[2 * j + 1] + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** XOR-encoded double (xorRead in xor.go) into words[2k..2k+1]; state[2k], state[2k+1] hold leading/trailing. */
function readXor(r: Bits, words: Uint32Array, k: number, state: Uint8Array): void {
  if (r.read(1) === 0) return;
  let leading: number;
  let trailing: number;
  if (r.read(1) === 0) {
    leading = state[2 * k];
    trailing = state[2 * k + 1];
  } else {
    leading = r.read(5);
    let sig = r.read(6);
    if (sig === 0) sig = 64;
    trailing = 64 - leading - sig;
    if (trailing < 0) throw new WireError('histogram chunk: invalid leading/significant bit counts');
    state[2 * k] = leading;
    state[2 * k + 1] = trailing;
  }
  const sig = 64 - leading - trailing;
  let xh = 0;
  let xl: number;
  if (sig > 32) { xh = r.read(sig - 32); xl = r.read(32); } else xl = sig > 0 ? r.read(sig) : 0;
  if (trailing >= 32) { xh = trailing === 64 ? 0 : xl << (trailing - 32); xl = 0; }
  else if (trailing > 0) { xh = (xh << trailing) | (xl >>> (32 - trailing)); xl = xl << trailing; }
  words[2 * k] = (words[2 * k] ^ xl) >>> 0;
  words[2 * k + 1] = (words[2 * k + 1] ^ xh) >>> 0;
}

function readRaw64(r: Bits, words: Uint32Array, k: number): void {
  words[2 * k + 1] = r.read(32);
  words[2 * k] = r.read(32);
}

interface Layout { schema: number; zeroThreshold: Uint32Array; positiveSpans: number[]; negativeSpans: number[]; customValues?: Uint32Array }

function readSpans(r: Bits): number[] {
  const n = readVarbitNumber(r, false, 'span count');
  const spans: number[] = [];
  for (let i = 0; i < n; i++) {
    const length = readVarbitNumber(r, false, 'span length');
    const offset = readVarbitNumber(r, true, 'span offset');
    spans.push(offset, length);
    r.check('the span layout');
  }
  return spans;
}

/** readHistogramChunkLayout (histogram_meta.go). */
function readLayout(r: Bits): Layout {
  const zeroThreshold = new Uint32Array(2);
  const z = r.byte();
  if (z === 255) readRaw64(r, zeroThreshold, 0);
  else if (z !== 0) {
    // math.Ldexp(0.5, z-243): a power of two, exactly representable, so its bits are safe to take from a double
    const f = new Float64Array([Math.pow(2, z - 244)]);
    zeroThreshold.set(new Uint32Array(f.buffer));
  }
  const schema = readVarbitNumber(r, true, 'schema');
  const positiveSpans = readSpans(r);
  const negativeSpans = readSpans(r);
  let customValues: Uint32Array | undefined;
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    const n = readVarbitNumber(r, false, 'custom bound count');
    customValues = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      readVarbit(r, false, tmp, 0);
      const v = tmp[1] * 4294967296 + tmp[0];
      if (v === 0) readRaw64(r, customValues, i);
      else {
        // (v-1)/1000 in Go float64 arithmetic, which JS reproduces exactly (v < 2^25)
        const f = new Float64Array([(v - 1) / 1000]);
        const u = new Uint32Array(f.buffer);
        customValues[2 * i] = u[0];
        customValues[2 * i + 1] = u[1];
      }
    }
  }
  r.check('the chunk layout');
  return { schema, zeroThreshold, positiveSpans, negativeSpans, customValues };
}

function spanBuckets(spans: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < spans.length; i += 2) n += spans[i];
  return n;
}

function hintFor(header: number, index: number): number {
  if (header === CounterResetHeader.GAUGE) return ResetHint.GAUGE;
  if (index > 0) return ResetHint.NO;
  // the chunk was cut for a detected (or hinted) counter reset: carry it, so the target need not re-detect it
  return header === CounterResetHeader.COUNTER_RESET ? ResetHint.YES : ResetHint.UNKNOWN;
}

function isStaleWords(w: Uint32Array, k: number): boolean {
  return w[2 * k + 1] === STALE_NAN_HI && w[2 * k] === STALE_NAN_LO;
}

/**
 * Decodes one histogram chunk (encoding 2 or 3), appending samples with minT <= t <= maxT to `out`. Returns
 * the number of samples the chunk held (before filtering).
 */
export function decodeHistogramChunk(data: Uint8Array, encoding: 2 | 3, out: HistogramSample[], minT = -Infinity, maxT = Infinity): number {
  if (data.length < 3) throw new WireError('histogram chunk shorter than its 3-byte header');
  const n = (data[0] << 8) | data[1];
  if (n === 0) return 0;
  const header = data[2] & 0xc0;
  const r = new Bits(data, 24);
  const L = readLayout(r);
  if (!(L.schema === CUSTOM_BUCKETS_SCHEMA || (L.schema >= -9 && L.schema <= 52))) throw new WireError(`histogram chunk: unknown schema ${L.schema}`);
  const np = spanBuckets(L.positiveSpans);
  const nn = spanBuckets(L.negativeSpans);
  return encoding === 2 ? decodeInt(r, n, header, L, np, nn, out, minT, maxT) : decodeFloat(r, n, header, L, np, nn, out, minT, maxT);
}

function emit(out: HistogramSample[], t: number, isFloat: boolean, header: number, i: number, L: Layout, scalars: Uint32Array, pos: Uint32Array, neg: Uint32Array): void {
  if (isStaleWords(scalars, 2)) { out.push(staleHistogram(t, isFloat)); return; }
  const head = new Uint32Array(8);
  head.set(scalars.subarray(0, 6));
  head[6] = L.zeroThreshold[0];
  head[7] = L.zeroThreshold[1];
  const h: HistogramSample = {
    t, isFloat, resetHint: hintFor(header, i), schema: L.schema, head,
    positiveSpans: L.positiveSpans, negativeSpans: L.negativeSpans,
    positive: pos.length ? pos.slice() : EMPTY_WORDS, negative: neg.length ? neg.slice() : EMPTY_WORDS,
  };
  if (L.customValues) h.customValues = L.customValues;
  out.push(h);
}

/** histogramIterator.Next: ts/count/zero count as delta-of-delta varbits, sum XOR, bucket deltas as dod. */
function decodeInt(r: Bits, n: number, header: number, L: Layout, np: number, nn: number, out: HistogramSample[], minT: number, maxT: number): number {
  // scalars: count, zero count, sum (words); deltas: their first differences
  const scalars = new Uint32Array(6);
  const deltas = new Uint32Array(4);
  const dod = new Uint32Array(2);
  const xorState = new Uint8Array(6); // leading/trailing per scalar word; only the sum's (index 2) is used
  const pos = new Uint32Array(2 * np), posDelta = new Uint32Array(2 * np);
  const neg = new Uint32Array(2 * nn), negDelta = new Uint32Array(2 * nn);
  let t = readVarbitNumber(r, true, 'timestamp');
  let tDelta = 0;
  readVarbit(r, false, scalars, 0);
  readVarbit(r, false, scalars, 1);
  readRaw64(r, scalars, 2);
  for (let i = 0; i < np; i++) readVarbit(r, true, pos, i);
  for (let i = 0; i < nn; i++) readVarbit(r, true, neg, i);
  r.check('sample 1');
  if (t >= minT && t <= maxT) emit(out, t, false, header, 0, L, scalars, pos, neg);
  for (let s = 1; s < n; s++) {
    tDelta += readVarbitNumber(r, true, 'timestamp delta');
    t += tDelta;
    readVarbit(r, true, dod, 0); add64(deltas, 0, dod, 0); add64(scalars, 0, deltas, 0);
    readVarbit(r, true, dod, 0); add64(deltas, 1, dod, 0); add64(scalars, 1, deltas, 1);
    readXor(r, scalars, 2, xorState);
    if (!isStaleWords(scalars, 2)) {
      // a stale sample carries no buckets (appendHistogram writes none)
      for (let i = 0; i < np; i++) { readVarbit(r, true, dod, 0); add64(posDelta, i, dod, 0); add64(pos, i, posDelta, i); }
      for (let i = 0; i < nn; i++) { readVarbit(r, true, dod, 0); add64(negDelta, i, dod, 0); add64(neg, i, negDelta, i); }
    }
    r.check(`sample ${s + 1} of ${n}`);
    if (t >= minT && t <= maxT) emit(out, t, false, header, s, L, scalars, pos, neg);
  }
  return n;
}

/** floatHistogramIterator.Next: ts as delta-of-delta, count/zero count/sum and every bucket XOR-encoded. */
function decodeFloat(r: Bits, n: number, header: number, L: Layout, np: number, nn: number, out: HistogramSample[], minT: number, maxT: number): number {
  const scalars = new Uint32Array(6);
  const xorState = new Uint8Array(6);
  const pos = new Uint32Array(2 * np), posState = new Uint8Array(2 * np);
  const neg = new Uint32Array(2 * nn), negState = new Uint8Array(2 * nn);
  let t = readVarbitNumber(r, true, 'timestamp');
  let tDelta = 0;
  for (let k = 0; k < 3; k++) readRaw64(r, scalars, k);
  for (let i = 0; i < np; i++) readRaw64(r, pos, i);
  for (let i = 0; i < nn; i++) readRaw64(r, neg, i);
  r.check('sample 1');
  if (t >= minT && t <= maxT) emit(out, t, true, header, 0, L, scalars, pos, neg);
  for (let s = 1; s < n; s++) {
    tDelta += readVarbitNumber(r, true, 'timestamp delta');
    t += tDelta;
    for (let k = 0; k < 3; k++) readXor(r, scalars, k, xorState);
    if (!isStaleWords(scalars, 2)) {
      for (let i = 0; i < np; i++) readXor(r, pos, i, posState);
      for (let i = 0; i < nn; i++) readXor(r, neg, i, negState);
    }
    r.check(`sample ${s + 1} of ${n}`);
    if (t >= minT && t <= maxT) emit(out, t, true, header, s, L, scalars, pos, neg);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// prompb Histogram message

function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** uvarint of a 64-bit word pair. */
function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return uvarintSize(lo);
  let n = 5; // the low 35 bits
  let rest = hi >>> 3;
  while (rest !== 0) { n++; rest >>>= 7; }
  return n;
}

function writeVarint64(w: PbWriter, lo: number, hi: number): void {
  if (hi === 0) { w.uvarint(lo); return; }
  const b = w.buf;
  let p = w.pos;
  for (let i = 0; i < 4; i++) { b[p++] = (lo & 0x7f) | 0x80; lo >>>= 7; }
  // bits 28..34: 4 from lo, 3 from hi
  let x = (lo & 0x0f) | ((hi & 0x07) << 4);
  hi >>>= 3;
  b[p++] = hi !== 0 ? x | 0x80 : x;
  while (hi !== 0) {
    x = hi & 0x7f;
    hi >>>= 7;
    b[p++] = hi !== 0 ? x | 0x80 : x;
  }
  w.pos = p;
}

/** sint64 zigzag of a two's complement pair, into tmp. */
function zigzag64(lo: number, hi: number, out: Uint32Array): void {
  const sign = (hi | 0) < 0 ? 0xffffffff : 0;
  out[1] = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  out[0] = ((lo << 1) ^ sign) >>> 0;
}

function unzigzag64(lo: number, hi: number, out: Uint32Array, k: number): void {
  const neg = lo & 1 ? 0xffffffff : 0;
  out[2 * k] = (((lo >>> 1) | (hi << 31)) ^ neg) >>> 0;
  out[2 * k + 1] = ((hi >>> 1) ^ neg) >>> 0;
}

function spansSize(spans: readonly number[], tag: number): number {
  let size = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const m = (spans[i] !== 0 ? 1 + uvarintSize(zigzag32(spans[i])) : 0) + (spans[i + 1] !== 0 ? 1 + uvarintSize(spans[i + 1]) : 0);
    size += uvarintSize(tag) + uvarintSize(m) + m;
  }
  return size;
}

function writeSpans(w: PbWriter, spans: readonly number[], tag: number): void {
  for (let i = 0; i < spans.length; i += 2) {
    const off = zigzag32(spans[i]);
    const len = spans[i + 1];
    w.uvarint(tag);
    w.uvarint((off !== 0 ? 1 + uvarintSize(off) : 0) + (len !== 0 ? 1 + uvarintSize(len) : 0));
    if (off !== 0) { w.byte(0x08); w.uvarint(off); }
    if (len !== 0) { w.byte(0x10); w.uvarint(len); }
  }
}

const zz = new Uint32Array(2);

function deltasPayload(words: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words.length; i += 2) { zigzag64(words[i], words[i + 1], zz); n += varint64Size(zz[0], zz[1]); }
  return n;
}

function writeWord(w: PbWriter, lo: number, hi: number): void {
  const b = w.buf;
  let p = w.pos;
  b[p++] = lo & 0xff; b[p++] = (lo >>> 8) & 0xff; b[p++] = (lo >>> 16) & 0xff; b[p++] = lo >>> 24;
  b[p++] = hi & 0xff; b[p++] = (hi >>> 8) & 0xff; b[p++] = (hi >>> 16) & 0xff; b[p++] = hi >>> 24;
  w.pos = p;
}

function packedSize(tag: number, payload: number): number {
  return payload === 0 ? 0 : uvarintSize(tag) + uvarintSize(payload) + payload;
}

/**
 * Encoded size of the Histogram message body (without its own tag and length). The count and zero-count
 * oneofs are always written, zero or not, because their field number is what tells an integer histogram
 * from a float one.
 */
export function histogramMessageSize(h: HistogramSample): number {
  const w = h.head;
  // integer bucket deltas are varints: their payload sizes are kept for writeHistogram, which needs them again
  lastNegPayload = h.isFloat ? h.negative.length * 4 : deltasPayload(h.negative);
  lastPosPayload = h.isFloat ? h.positive.length * 4 : deltasPayload(h.positive);
  let size = 0;
  size += h.isFloat ? 9 : 1 + varint64Size(w[0], w[1]);
  size += 9; // sum
  if (h.schema !== 0) size += 1 + uvarintSize(zigzag32(h.schema));
  if (w[6] !== 0 || w[7] !== 0) size += 9;
  size += h.isFloat ? 9 : 1 + varint64Size(w[2], w[3]);
  size += spansSize(h.negativeSpans, 0x42) + packedSize(h.isFloat ? 0x52 : 0x4a, lastNegPayload);
  size += spansSize(h.positiveSpans, 0x5a) + packedSize(h.isFloat ? 0x6a : 0x62, lastPosPayload);
  if (h.resetHint !== 0) size += 2;
  size += 1 + (h.t < 0 ? 10 : uvarintSize(h.t));
  if (h.customValues?.length) size += 2 + uvarintSize(h.customValues.length * 4) + h.customValues.length * 4;
  return size;
}

let lastNegPayload = 0;
let lastPosPayload = 0;

/** Writes `tag`, the length and the Histogram message (remote write 1.0 TimeSeries field 4, 2.0 field 3). */
export function writeHistogram(w: PbWriter, tag: number, h: HistogramSample, size?: number, payloads?: readonly [neg: number, pos: number]): void {
  if (size === undefined || payloads === undefined) { size = histogramMessageSize(h); payloads = [lastNegPayload, lastPosPayload]; }
  w.ensure(size + 12);
  const x = h.head;
  w.byte(tag);
  w.uvarint(size);
  if (h.isFloat) { w.byte(0x11); writeWord(w, x[0], x[1]); } else { w.byte(0x08); writeVarint64(w, x[0], x[1]); }
  w.byte(0x19); writeWord(w, x[4], x[5]);
  if (h.schema !== 0) { w.byte(0x20); w.uvarint(zigzag32(h.schema)); }
  if (x[6] !== 0 || x[7] !== 0) { w.byte(0x29); writeWord(w, x[6], x[7]); }
  if (h.isFloat) { w.byte(0x39); writeWord(w, x[2], x[3]); } else { w.byte(0x30); writeVarint64(w, x[2], x[3]); }
  writeBuckets(w, h, h.negativeSpans, h.negative, 0x42, 0x4a, 0x52, payloads[0]);
  writeBuckets(w, h, h.positiveSpans, h.positive, 0x5a, 0x62, 0x6a, payloads[1]);
  if (h.resetHint !== 0) { w.byte(0x70); w.byte(h.resetHint); }
  w.byte(0x78); w.int64(h.t);
  if (h.customValues?.length) {
    const cv = h.customValues;
    w.byte(0x82); w.byte(0x01); w.uvarint(cv.length * 4);
    for (let i = 0; i < cv.length; i += 2) writeWord(w, cv[i], cv[i + 1]);
  }
}

function writeBuckets(w: PbWriter, h: HistogramSample, spans: readonly number[], words: Uint32Array, spanTag: number, deltaTag: number, countTag: number, payload: number): void {
  writeSpans(w, spans, spanTag);
  if (words.length === 0) return;
  if (h.isFloat) {
    w.byte(countTag); w.uvarint(payload);
    for (let i = 0; i < words.length; i += 2) writeWord(w, words[i], words[i + 1]);
  } else {
    w.byte(deltaTag); w.uvarint(payload);
    for (let i = 0; i < words.length; i += 2) { zigzag64(words[i], words[i + 1], zz); writeVarint64(w, zz[0], zz[1]); }
  }
}

function readVarint64(r: PbReader, out: Uint32Array, k: number): void {
  let lo = 0;
  let hi = 0;
  const b = r.buf;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.end) throw new WireError('truncated varint in Histogram message');
    const c = b[r.pos++];
    const v = c & 0x7f;
    if (i < 4) lo |= v << (7 * i);
    else if (i === 4) { lo |= (v & 0x0f) << 28; hi |= v >>> 4; }
    else hi |= v << (7 * i - 32);
    if (c < 0x80) break;
  }
  out[2 * k] = lo >>> 0;
  out[2 * k + 1] = hi >>> 0;
}

function readWord(r: PbReader, out: Uint32Array, k: number): void {
  const b = r.buf;
  const p = r.pos;
  if (p + 8 > r.end) throw new WireError('double field runs past the end of its Histogram message');
  out[2 * k] = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  out[2 * k + 1] = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
  r.pos = p + 8;
}

function readSpan(r: PbReader, end: number, spans: number[]): void {
  let off = 0;
  let len = 0;
  while (r.pos < end) {
    const tag = r.uvarint();
    if (tag === 0x08) { const z = r.uvarint(); off = (z >>> 1) ^ -(z & 1); } else if (tag === 0x10) len = r.uvarint(); else r.skip(tag & 7);
  }
  spans.push(off, len);
}

function appendWords(words: number[], r: PbReader, packed: boolean, kind: 'double' | 'sint64'): void {
  let end = -1;
  if (packed) { const len = r.uvarint(); end = r.pos + len; }
  do {
    if (kind === 'double') { readWord(r, tmp, 0); words.push(tmp[0], tmp[1]); } else { readVarint64(r, tmp, 0); unzigzag64(tmp[0], tmp[1], tmp, 0); words.push(tmp[0], tmp[1]); }
  } while (packed && r.pos < end);
}

/** Decodes one prompb Histogram message body [r.pos, end) (SAMPLES read responses, tests). */
export function readHistogram(r: PbReader, end: number): HistogramSample {
  const head = new Uint32Array(8);
  let isFloat = false;
  let schema = 0;
  let resetHint = 0;
  let t = 0;
  const pSpans: number[] = [], nSpans: number[] = [];
  const pos: number[] = [], neg: number[] = [], cv: number[] = [];
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 0x08: readVarint64(r, head, 0); isFloat = false; break;
      case 0x11: readWord(r, head, 0); isFloat = true; break;
      case 0x19: readWord(r, head, 2); break;
      case 0x20: { const z = r.uvarint(); schema = (z >>> 1) ^ -(z & 1); break; }
      case 0x29: readWord(r, head, 3); break;
      case 0x30: readVarint64(r, head, 1); break;
      case 0x39: readWord(r, head, 1); break;
      case 0x42: case 0x5a: { const len = r.uvarint(); const e = r.pos + len; readSpan(r, e, tag === 0x42 ? nSpans : pSpans); r.pos = e; break; }
      case 0x4a: case 0x48: appendWords(neg, r, tag === 0x4a, 'sint64'); break;
      case 0x52: case 0x51: appendWords(neg, r, tag === 0x52, 'double'); break;
      case 0x62: case 0x60: appendWords(pos, r, tag === 0x62, 'sint64'); break;
      case 0x6a: case 0x69: appendWords(pos, r, tag === 0x6a, 'double'); break;
      case 0x70: resetHint = r.uvarint(); break;
      case 0x78: t = r.int64(); break;
      case 130: appendWords(cv, r, true, 'double'); break; // field 16 (custom_values), packed
      case 129: appendWords(cv, r, false, 'double'); break;
      default: r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new WireError('Histogram message runs past its end');
  // head was filled as count(0), zero count(1), sum(2), zero threshold(3): the documented order
  const h: HistogramSample = {
    t, isFloat, resetHint, schema, head,
    positiveSpans: pSpans, negativeSpans: nSpans,
    positive: Uint32Array.from(pos), negative: Uint32Array.from(neg),
  };
  if (cv.length) h.customValues = Uint32Array.from(cv);
  return h;
}

// ---------------------------------------------------------------------------------------------------------
// comparison

function sameWords(a: Uint32Array | undefined, b: Uint32Array | undefined): boolean {
  const x = a ?? EMPTY_WORDS, y = b ?? EMPTY_WORDS;
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
  const x = a.head, y = b.head;
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

/** Sorts by timestamp and drops repeated timestamps (first wins), in place; overlapping chunks need it. */
export function sortDedupeHistograms(hs: HistogramSample[]): void {
  let sorted = true;
  for (let i = 1; i < hs.length; i++) if (!(hs[i].t > hs[i - 1].t)) { sorted = false; break; }
  if (sorted) return;
  const idx = hs.map((_, i) => i).sort((a, b) => hs[a].t - hs[b].t || a - b);
  const copy = idx.map((i) => hs[i]);
  hs.length = 0;
  for (const h of copy) if (hs.length === 0 || hs[hs.length - 1].t !== h.t) hs.push(h);
}

/** Sizes of the histogram messages [start, end) into `sizes`; returns their total as TimeSeries fields. */
export function histogramFieldsSize(hs: readonly HistogramSample[], start: number, end: number, sizes: number[]): number {
  let total = 0;
  sizes.length = 0;
  for (let i = start; i < end; i++) {
    const m = histogramMessageSize(hs[i]);
    sizes.push(m, lastNegPayload, lastPosPayload);
    total += 1 + uvarintSize(m) + m;
  }
  return total;
}

/** Writes histogram messages [start, end) as TimeSeries fields with `tag`, sizes from histogramFieldsSize. */
export function writeHistogramFields(w: PbWriter, tag: number, hs: readonly HistogramSample[], start: number, end: number, sizes: readonly number[]): void {
  const p: [number, number] = [0, 0];
  for (let i = start; i < end; i++) {
    const k = 3 * (i - start);
    p[0] = sizes[k + 1];
    p[1] = sizes[k + 2];
    writeHistogram(w, tag, hs[i], sizes[k], p);
  }
}

/**
 * What one histogram sample weighs against --batch-samples: its encoded size in float-sample equivalents
 * (a float sample takes about 18 bytes in a WriteRequest), so a batch stays about the same size in bytes
 * whatever mix of floats and histograms it carries.
 */
export function histogramWeight(h: HistogramSample): number {
  return Math.max(1, Math.round(histogramMessageSize(h) / 18));
}
