/**
 * The decoder for TSDB histogram chunks: encoding 2, integer histograms (histogramIterator in
 * tsdb/chunkenc/histogram.go), and encoding 3, float histograms (floatHistogramIterator in
 * float_histogram.go); the layout (readHistogramChunkLayout) from histogram_meta.go, the bit reader and
 * varbit integers from varbit.ts (bstream.go, varbit.go); format in tsdb/docs/format/chunks.md.
 *
 * Values stay 64-bit words throughout (see histogram.ts): counts and deltas are summed as two's complement
 * word pairs and XOR-encoded doubles are restored bit for bit, NaN payloads included.
 */
import { WireError } from './pb.js';
import {
  CUSTOM_BUCKETS_SCHEMA,
  CounterResetHeader,
  EMPTY_WORDS,
  ResetHint,
  staleHistogram,
  type HistogramSample,
} from './histogram.js';
import { STALE_NAN_HI, STALE_NAN_LO } from './types.js';
import { Bits, readRaw64, readVarbit, readVarbitNumber } from './varbit.js';

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
  if (sig > 32) {
    xh = r.read(sig - 32);
    xl = r.read(32);
  } else xl = sig > 0 ? r.read(sig) : 0;
  if (trailing >= 32) {
    xh = trailing === 64 ? 0 : xl << (trailing - 32);
    xl = 0;
  } else if (trailing > 0) {
    xh = (xh << trailing) | (xl >>> (32 - trailing));
    xl = xl << trailing;
  }
  words[2 * k] = (words[2 * k] ^ xl) >>> 0;
  words[2 * k + 1] = (words[2 * k + 1] ^ xh) >>> 0;
}

interface Layout {
  schema: number;
  zeroThreshold: Uint32Array;
  positiveSpans: number[];
  negativeSpans: number[];
  customValues?: Uint32Array;
}

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
      readVarbit(r, false, r.word, 0);
      const v = r.word[1] * 4294967296 + r.word[0];
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
export function decodeHistogramChunk(
  data: Uint8Array,
  encoding: 2 | 3,
  out: HistogramSample[],
  minT = -Infinity,
  maxT = Infinity,
): number {
  if (data.length < 3) throw new WireError('histogram chunk shorter than its 3-byte header');
  const n = (data[0] << 8) | data[1];
  if (n === 0) return 0;
  const header = data[2] & 0xc0;
  const r = new Bits(data, 24);
  const L = readLayout(r);
  if (!(L.schema === CUSTOM_BUCKETS_SCHEMA || (L.schema >= -9 && L.schema <= 52)))
    throw new WireError(`histogram chunk: unknown schema ${L.schema}`);
  const np = spanBuckets(L.positiveSpans);
  const nn = spanBuckets(L.negativeSpans);
  return encoding === 2
    ? decodeInt(r, n, header, L, np, nn, out, minT, maxT)
    : decodeFloat(r, n, header, L, np, nn, out, minT, maxT);
}

function emit(
  out: HistogramSample[],
  t: number,
  isFloat: boolean,
  header: number,
  i: number,
  L: Layout,
  scalars: Uint32Array,
  pos: Uint32Array,
  neg: Uint32Array,
): void {
  if (isStaleWords(scalars, 2)) {
    out.push(staleHistogram(t, isFloat));
    return;
  }
  const head = new Uint32Array(8);
  head.set(scalars.subarray(0, 6));
  head[6] = L.zeroThreshold[0];
  head[7] = L.zeroThreshold[1];
  const h: HistogramSample = {
    t,
    isFloat,
    resetHint: hintFor(header, i),
    schema: L.schema,
    head,
    positiveSpans: L.positiveSpans,
    negativeSpans: L.negativeSpans,
    positive: pos.length ? pos.slice() : EMPTY_WORDS,
    negative: neg.length ? neg.slice() : EMPTY_WORDS,
  };
  if (L.customValues) h.customValues = L.customValues;
  out.push(h);
}

/** histogramIterator.Next: ts/count/zero count as delta-of-delta varbits, sum XOR, bucket deltas as dod. */
function decodeInt(
  r: Bits,
  n: number,
  header: number,
  L: Layout,
  np: number,
  nn: number,
  out: HistogramSample[],
  minT: number,
  maxT: number,
): number {
  // scalars: count, zero count, sum (words); deltas: their first differences
  const scalars = new Uint32Array(6);
  const deltas = new Uint32Array(4);
  const dod = new Uint32Array(2);
  const xorState = new Uint8Array(6); // leading/trailing per scalar word; only the sum's (index 2) is used
  const pos = new Uint32Array(2 * np),
    posDelta = new Uint32Array(2 * np);
  const neg = new Uint32Array(2 * nn),
    negDelta = new Uint32Array(2 * nn);
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
    readVarbit(r, true, dod, 0);
    add64(deltas, 0, dod, 0);
    add64(scalars, 0, deltas, 0);
    readVarbit(r, true, dod, 0);
    add64(deltas, 1, dod, 0);
    add64(scalars, 1, deltas, 1);
    readXor(r, scalars, 2, xorState);
    if (!isStaleWords(scalars, 2)) {
      // a stale sample carries no buckets (appendHistogram writes none)
      for (let i = 0; i < np; i++) {
        readVarbit(r, true, dod, 0);
        add64(posDelta, i, dod, 0);
        add64(pos, i, posDelta, i);
      }
      for (let i = 0; i < nn; i++) {
        readVarbit(r, true, dod, 0);
        add64(negDelta, i, dod, 0);
        add64(neg, i, negDelta, i);
      }
    }
    r.check(`sample ${s + 1} of ${n}`);
    if (t >= minT && t <= maxT) emit(out, t, false, header, s, L, scalars, pos, neg);
  }
  return n;
}

/** floatHistogramIterator.Next: ts as delta-of-delta, count/zero count/sum and every bucket XOR-encoded. */
function decodeFloat(
  r: Bits,
  n: number,
  header: number,
  L: Layout,
  np: number,
  nn: number,
  out: HistogramSample[],
  minT: number,
  maxT: number,
): number {
  const scalars = new Uint32Array(6);
  const xorState = new Uint8Array(6);
  const pos = new Uint32Array(2 * np),
    posState = new Uint8Array(2 * np);
  const neg = new Uint32Array(2 * nn),
    negState = new Uint8Array(2 * nn);
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
