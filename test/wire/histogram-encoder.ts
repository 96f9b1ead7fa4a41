/**
 * Test-only writer of TSDB histogram chunks, following tsdb/chunkenc/histogram.go and float_histogram.go's
 * appenders (layout, varbit integers, delta-of-delta, XOR with leading/trailing reuse), so that the decoder
 * can be checked on hand-built edge cases. BigInt keeps it obviously right rather than fast.
 */
class BitWriter {
  bits: number[] = [];
  write(v: bigint, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Number((v >> BigInt(i)) & 1n));
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      if (b) out[i >> 3] |= 0x80 >> (i & 7);
    });
    return out;
  }
}

const mask = (n: number) => (1n << BigInt(n)) - 1n;
const WIDTHS: Array<[number, number, number]> = [
  [3, 0b10, 2],
  [6, 0b110, 3],
  [9, 0b1110, 4],
  [12, 0b11110, 5],
  [18, 0b111110, 6],
  [25, 0b1111110, 7],
  [56, 0b11111110, 8],
];

function putVarbitInt(w: BitWriter, v: bigint): void {
  if (v === 0n) {
    w.write(0n, 1);
    return;
  }
  for (const [sz, prefix, plen] of WIDTHS) {
    if (v >= -(1n << BigInt(sz - 1)) + 1n && v <= 1n << BigInt(sz - 1)) {
      w.write(BigInt(prefix), plen);
      w.write(v & mask(sz), sz);
      return;
    }
  }
  w.write(0xffn, 8);
  w.write(v & mask(64), 64);
}

function putVarbitUint(w: BitWriter, v: bigint): void {
  if (v === 0n) {
    w.write(0n, 1);
    return;
  }
  for (const [sz, prefix, plen] of WIDTHS) {
    if (v <= mask(sz)) {
      w.write(BigInt(prefix), plen);
      w.write(v, sz);
      return;
    }
  }
  w.write(0xffn, 8);
  w.write(v, 64);
}

export const bitsOf = (f: number): bigint => new BigUint64Array(new Float64Array([f]).buffer)[0];
export const STALE = 0x7ff0000000000002n;

class Xor {
  v = 0n;
  leading = 0xff;
  trailing = 0;
  constructor(first: bigint) {
    this.v = first;
  }
  put(w: BitWriter, nv: bigint): void {
    const delta = nv ^ this.v;
    this.v = nv;
    if (delta === 0n) {
      w.write(0n, 1);
      return;
    }
    w.write(1n, 1);
    let lz = 0;
    while (lz < 64 && ((delta >> BigInt(63 - lz)) & 1n) === 0n) lz++;
    let tz = 0;
    while (tz < 64 && ((delta >> BigInt(tz)) & 1n) === 0n) tz++;
    if (lz >= 32) lz = 31;
    if (this.leading !== 0xff && lz >= this.leading && tz >= this.trailing) {
      w.write(0n, 1);
      w.write(delta >> BigInt(this.trailing), 64 - this.leading - this.trailing);
      return;
    }
    this.leading = lz;
    this.trailing = tz;
    w.write(1n, 1);
    w.write(BigInt(lz), 5);
    const sig = 64 - lz - tz;
    w.write(BigInt(sig & 63), 6); // 64 is written as 0
    w.write(delta >> BigInt(tz), sig);
  }
}

export interface HHist {
  t: number;
  schema: number;
  zeroThreshold: number;
  /** offset, length pairs */
  pSpans: number[];
  nSpans: number[];
  count: bigint | number;
  zeroCount: bigint | number;
  sum: bigint; // sum as raw bits (stale markers!)
  /** integer: bucket deltas; float: absolute counts */
  pBuckets: Array<bigint | number>;
  nBuckets: Array<bigint | number>;
  customValues?: number[];
}

function putZeroThreshold(w: BitWriter, z: number): void {
  if (z === 0) {
    w.write(0n, 8);
    return;
  }
  const e = Math.log2(z);
  if (Number.isInteger(e) && e + 1 >= -242 && e + 1 <= 11) {
    w.write(BigInt(e + 1 + 243), 8);
    return;
  }
  w.write(255n, 8);
  w.write(bitsOf(z), 64);
}

function putLayout(w: BitWriter, h: HHist): void {
  putZeroThreshold(w, h.zeroThreshold);
  putVarbitInt(w, BigInt(h.schema));
  for (const spans of [h.pSpans, h.nSpans]) {
    putVarbitUint(w, BigInt(spans.length / 2));
    for (let i = 0; i < spans.length; i += 2) {
      putVarbitUint(w, BigInt(spans[i + 1]));
      putVarbitInt(w, BigInt(spans[i]));
    }
  }
  if (h.schema === -53) {
    const cv = h.customValues ?? [];
    putVarbitUint(w, BigInt(cv.length));
    for (const b of cv) {
      const tf = b * 1000;
      if (tf < 0 || tf > 33554430 || Math.round(tf) / 1000 !== b) {
        w.write(0n, 1);
        w.write(bitsOf(b), 64);
      } else putVarbitUint(w, BigInt(Math.round(tf)) + 1n);
    }
  }
}

const big = (x: bigint | number) => BigInt(x);

/** Encoding 2. All samples must share the first one's layout (stale markers excepted), as in a real chunk. */
export function encodeIntHistogramChunk(hs: HHist[], header = 0): Uint8Array {
  const w = new BitWriter();
  w.write(BigInt(hs.length), 16);
  w.write(BigInt(header), 8);
  const first = hs[0];
  putLayout(w, first);
  putVarbitInt(w, BigInt(first.t));
  putVarbitUint(w, big(first.count));
  putVarbitUint(w, big(first.zeroCount));
  w.write(first.sum, 64);
  for (const b of [...first.pBuckets, ...first.nBuckets]) putVarbitInt(w, big(b));
  let t = BigInt(first.t),
    tDelta = 0n,
    cnt = big(first.count),
    cntDelta = 0n,
    z = big(first.zeroCount),
    zDelta = 0n;
  const xor = new Xor(first.sum);
  let buckets = [...first.pBuckets, ...first.nBuckets].map(big);
  let bDeltas = buckets.map(() => 0n);
  for (const h of hs.slice(1)) {
    const stale = h.sum === STALE;
    const nt = BigInt(h.t);
    const hc = stale ? 0n : big(h.count),
      hz = stale ? 0n : big(h.zeroCount);
    const d = nt - t;
    putVarbitInt(w, d - tDelta);
    const cd = hc - cnt,
      zd = hz - z;
    putVarbitInt(w, stale ? 0n : cd - cntDelta);
    putVarbitInt(w, stale ? 0n : zd - zDelta);
    xor.put(w, h.sum);
    if (!stale) {
      const nb = [...h.pBuckets, ...h.nBuckets].map(big);
      nb.forEach((b, i) => {
        const delta = b - buckets[i];
        putVarbitInt(w, delta - bDeltas[i]);
        bDeltas[i] = delta;
      });
      buckets = nb;
    }
    t = nt;
    tDelta = d;
    cnt = hc;
    cntDelta = cd;
    z = hz;
    zDelta = zd;
  }
  return w.bytes();
}

/** Encoding 3. */
export function encodeFloatHistogramChunk(hs: HHist[], header = 0): Uint8Array {
  const w = new BitWriter();
  w.write(BigInt(hs.length), 16);
  w.write(BigInt(header), 8);
  const first = hs[0];
  putLayout(w, first);
  putVarbitInt(w, BigInt(first.t));
  const f = (x: bigint | number) => (typeof x === 'bigint' ? x : bitsOf(x));
  const heads = [f(first.count), f(first.zeroCount), first.sum];
  for (const v of heads) w.write(v, 64);
  const bs = [...first.pBuckets, ...first.nBuckets].map(f);
  for (const v of bs) w.write(v, 64);
  const xs = heads.map((v) => new Xor(v));
  const bx = bs.map((v) => new Xor(v));
  let t = BigInt(first.t),
    tDelta = 0n;
  for (const h of hs.slice(1)) {
    const stale = h.sum === STALE;
    const nt = BigInt(h.t);
    const d = nt - t;
    putVarbitInt(w, d - tDelta);
    t = nt;
    tDelta = d;
    xs[0].put(w, stale ? 0n : f(h.count));
    xs[1].put(w, stale ? 0n : f(h.zeroCount));
    xs[2].put(w, h.sum);
    if (!stale) [...h.pBuckets, ...h.nBuckets].map(f).forEach((v, i) => bx[i].put(w, v));
  }
  return w.bytes();
}
