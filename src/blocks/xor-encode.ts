/**
 * XOR chunk encoder (tsdb/chunkenc/xor.go; format in tsdb/docs/format/chunks.md), used only where a source hands
 * us a float chunk that crosses a block boundary (Prometheus trims chunks to the query range itself; other
 * remote-read servers may not). Values are taken as their two 32-bit halves, so NaN payloads (stale markers)
 * are written exactly as read; the wire package's decoder is the round-trip check.
 */

/** Most significant bit first, as Prometheus's bstream writes. */
class BitWriter {
  bytes: Uint8Array;
  /** Bits written so far. */
  n = 0;

  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
  }

  private grow(): void {
    const b = new Uint8Array(this.bytes.length * 2);
    b.set(this.bytes);
    this.bytes = b;
  }

  bit(b: number): void {
    const byte = this.n >>> 3;
    if (byte >= this.bytes.length) this.grow();
    if (b) this.bytes[byte] |= 0x80 >>> (this.n & 7);
    this.n++;
  }

  /** The low `count` bits of `v` (count <= 32), high bit first. */
  bits(v: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bit((v >>> i) & 1);
  }

  /** Bits `from` down to `to` (inclusive, 63..0) of the 64-bit value hi:lo. */
  range64(hi: number, lo: number, from: number, to: number): void {
    for (let i = from; i >= to; i--) this.bit(i >= 32 ? (hi >>> (i - 32)) & 1 : (lo >>> i) & 1);
  }

  /** Two's-complement low `count` bits of a safe integer (count 64 handled as two words). */
  signed(v: number, count: number): void {
    if (count <= 32) {
      this.bits(v & (count === 32 ? 0xffffffff : 2 ** count - 1), count);
      return;
    }
    const lo = ((v % 4294967296) + 4294967296) % 4294967296;
    const hi = ((v - lo) / 4294967296) >>> 0;
    this.bits(hi, count - 32);
    this.bits(lo, 32);
  }

  uvarint(v: number): void {
    while (v >= 0x80) {
      this.bits((v % 128) | 0x80, 8);
      v = Math.floor(v / 128);
    }
    this.bits(v, 8);
  }

  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, (this.n + 7) >>> 3);
  }
}

const clz64 = (hi: number, lo: number) => (hi ? Math.clz32(hi) : 32 + Math.clz32(lo));
const ctz32 = (x: number) => (x === 0 ? 32 : 31 - Math.clz32(x & -x));
const ctz64 = (hi: number, lo: number) => (lo ? ctz32(lo) : 32 + ctz32(hi));
const bitRange = (x: number, n: number) => -(2 ** (n - 1) - 1) <= x && x <= 2 ** (n - 1);

export interface EncodedChunk {
  minTimeMs: number;
  maxTimeMs: number;
  data: Uint8Array;
}

/**
 * Encodes samples [from, to) into XOR chunks of at most `perChunk` samples. `bits` holds each value as
 * (low word, high word) pairs, the layout of the wire package's SampleBuffer.
 */
export function encodeXorChunks(
  timestamps: Float64Array,
  bits: Uint32Array,
  from: number,
  to: number,
  perChunk = 120,
): EncodedChunk[] {
  const out: EncodedChunk[] = [];
  for (let start = from; start < to; start += perChunk) {
    const end = Math.min(to, start + perChunk);
    const w = new BitWriter(16 + (end - start) * 4);
    w.bits(end - start, 16);
    let tPrev = 0;
    let tDelta = 0;
    let hiPrev = 0;
    let loPrev = 0;
    let leading = 0xff;
    let trailing = 0;
    for (let i = start; i < end; i++) {
      const t = timestamps[i];
      const lo = bits[2 * i];
      const hi = bits[2 * i + 1];
      if (i === start) {
        w.varint(t);
        w.bits(hi, 32);
        w.bits(lo, 32);
      } else {
        if (i === start + 1) {
          tDelta = t - tPrev;
          w.uvarint(tDelta);
        } else {
          const d = t - tPrev;
          const dod = d - tDelta;
          tDelta = d;
          if (dod === 0) w.bit(0);
          else if (bitRange(dod, 14)) {
            w.bits(0b10, 2);
            w.signed(dod, 14);
          } else if (bitRange(dod, 17)) {
            w.bits(0b110, 3);
            w.signed(dod, 17);
          } else if (bitRange(dod, 20)) {
            w.bits(0b1110, 4);
            w.signed(dod, 20);
          } else {
            w.bits(0b1111, 4);
            w.signed(dod, 64);
          }
        }
        const dh = (hi ^ hiPrev) >>> 0;
        const dl = (lo ^ loPrev) >>> 0;
        if (dh === 0 && dl === 0) w.bit(0);
        else {
          w.bit(1);
          let lead = clz64(dh, dl);
          const trail = ctz64(dh, dl);
          if (lead >= 32) lead = 31;
          if (leading !== 0xff && lead >= leading && trail >= trailing) {
            w.bit(0);
            w.range64(dh, dl, 63 - leading, trailing);
          } else {
            leading = lead;
            trailing = trail;
            w.bit(1);
            w.bits(lead, 5);
            const sig = 64 - lead - trail;
            w.bits(sig & 63, 6);
            w.range64(dh, dl, 63 - lead, trail);
          }
        }
      }
      tPrev = t;
      hiPrev = hi;
      loPrev = lo;
    }
    out.push({ minTimeMs: timestamps[start], maxTimeMs: timestamps[end - 1], data: w.done().slice() });
  }
  return out;
}
