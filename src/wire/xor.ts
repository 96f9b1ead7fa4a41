/**
 * Decoder for Prometheus TSDB XOR chunks (tsdb/chunkenc/xor.go; format in tsdb/docs/format/chunks.md), as
 * sent in STREAMED_XOR_CHUNKS remote-read frames: a big-endian uint16 sample count, then a bit stream read
 * MSB first. Values are handled as two 32-bit halves and written straight into the output's integer view,
 * so every NaN payload (the stale marker 0x7ff0000000000002 included) comes out exactly as stored.
 */
import { WireError } from './pb.js';

/** Growable columnar buffer of (timestamp, value bits) for one series. */
export class SampleBuffer {
  timestamps: Float64Array;
  /** Value bits, little-endian halves: bits[2i] = low word, bits[2i+1] = high word. */
  bits: Uint32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.timestamps = new Float64Array(capacity);
    this.bits = new Uint32Array(capacity * 2);
  }

  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.timestamps.length) return;
    let cap = this.timestamps.length * 2;
    while (cap < need) cap *= 2;
    const t = new Float64Array(cap);
    t.set(this.timestamps.subarray(0, this.length));
    const b = new Uint32Array(cap * 2);
    b.set(this.bits.subarray(0, this.length * 2));
    this.timestamps = t;
    this.bits = b;
  }

  /** Appends one sample whose value is given as 8 little-endian bytes (protobuf double). */
  pushBytes(ts: number, src: Uint8Array, off: number): void {
    this.reserve(1);
    const i = this.length++;
    this.timestamps[i] = ts;
    this.bits[2 * i] = (src[off] | (src[off + 1] << 8) | (src[off + 2] << 16) | (src[off + 3] << 24)) >>> 0;
    this.bits[2 * i + 1] = (src[off + 4] | (src[off + 5] << 8) | (src[off + 6] << 16) | (src[off + 7] << 24)) >>> 0;
  }

  clear(): void {
    this.length = 0;
  }

  /** Exact-size copies, safe to hand out while this buffer is reused. */
  snapshot(): { timestamps: Float64Array; values: Float64Array } {
    const n = this.length;
    const timestamps = this.timestamps.slice(0, n);
    const values = new Float64Array(n);
    new Uint32Array(values.buffer).set(this.bits.subarray(0, 2 * n));
    return { timestamps, values };
  }
}

/**
 * Decodes one XOR chunk, appending samples with minT <= t <= maxT to `out`. Returns the number of samples
 * the chunk held (before filtering).
 */
export function decodeXorChunk(data: Uint8Array, out: SampleBuffer, minT = -Infinity, maxT = Infinity): number {
  if (data.length < 2) throw new WireError('XOR chunk shorter than its 2-byte header');
  const n = (data[0] << 8) | data[1];
  if (n === 0) return 0;
  out.reserve(n);
  const buf = data;
  const totalBits = data.length * 8;
  let bitPos = 16;
  const ts = out.timestamps;
  const vb = out.bits;
  let len = out.length;

  const overrun = () => new WireError(`XOR chunk truncated: ${n} samples announced, data ends after ${buf.length} bytes`);

  const readBit = (): number => {
    if (bitPos >= totalBits) throw overrun();
    const b = (buf[bitPos >>> 3] >>> (7 - (bitPos & 7))) & 1;
    bitPos++;
    return b;
  };

  // count <= 32 bits, MSB first, as an unsigned 32-bit value: one 40-bit window instead of a loop per byte
  // (bytes past the end read as undefined, which bitwise operators treat as 0; the bound is checked first)
  const readBits = (count: number): number => {
    if (bitPos + count > totalBits) throw overrun();
    if (count === 0) return 0;
    const i = bitPos >>> 3;
    const off = bitPos & 7;
    let w = ((buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]) >>> 0;
    if (off !== 0) w = ((w << off) | (buf[i + 4] >>> (8 - off))) >>> 0;
    bitPos += count;
    return count === 32 ? w : w >>> (32 - count);
  };

  const readUvarint = (): number => {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const c = readBits(8);
      x += (c & 0x7f) * mul;
      if (c < 0x80) return x;
      mul *= 128;
    }
    throw new WireError('XOR chunk: varint overflow');
  };

  // sample 0: zig-zag varint timestamp, 64 raw value bits
  const u = readUvarint();
  let t = u % 2 === 1 ? -(u + 1) / 2 : u / 2;
  let hi = readBits(32);
  let lo = readBits(32);
  let tDelta = 0;
  let leading = 0;
  let trailing = 0;
  if (t >= minT && t <= maxT) { ts[len] = t; vb[2 * len] = lo; vb[2 * len + 1] = hi; len++; }

  for (let i = 1; i < n; i++) {
    if (i === 1) {
      tDelta = readUvarint();
    } else {
      // delta-of-delta with a 0 / 10 / 110 / 1110 / 1111 prefix
      let dod: number;
      if (readBit() === 0) dod = 0;
      else if (readBit() === 0) dod = signed(readBits(14), 14);
      else if (readBit() === 0) dod = signed(readBits(17), 17);
      else if (readBit() === 0) dod = signed(readBits(20), 20);
      else {
        const h = readBits(32);
        const l = readBits(32);
        dod = (h | 0) * 4294967296 + l;
      }
      tDelta += dod;
    }
    t += tDelta;
    // value: 0 = unchanged; 10 = reuse leading/trailing; 11 = new leading (5 bits) and significant bits (6 bits)
    if (readBit() === 1) {
      if (readBit() === 1) {
        leading = readBits(5);
        let sig = readBits(6);
        if (sig === 0) sig = 64;
        trailing = 64 - leading - sig;
        if (trailing < 0) throw new WireError('XOR chunk: invalid leading/significant bit counts');
      }
      const sig = 64 - leading - trailing;
      let xh = 0;
      let xl: number;
      if (sig > 32) { xh = readBits(sig - 32); xl = readBits(32); } else xl = readBits(sig);
      // (xh:xl) << trailing, as a 64-bit shift on two halves
      if (trailing >= 32) { xh = xl << (trailing - 32); xl = 0; } else if (trailing > 0) { xh = (xh << trailing) | (xl >>> (32 - trailing)); xl = xl << trailing; }
      hi = (hi ^ xh) >>> 0;
      lo = (lo ^ xl) >>> 0;
    }
    if (t >= minT && t <= maxT) { ts[len] = t; vb[2 * len] = lo; vb[2 * len + 1] = hi; len++; }
  }
  out.length = len;
  return n;
}

// tsdb/chunkenc/xor.go: `if bits > (1 << (sz - 1)) { bits -= 1 << sz }` (strict >, writer range [-(2^(n-1)-1), 2^(n-1)])
function signed(bits: number, size: number): number {
  return bits > 2 ** (size - 1) ? bits - 2 ** size : bits;
}

/** Sample count of any chunk: every TSDB chunk encoding starts with a big-endian uint16 count. */
export function chunkSampleCount(data: Uint8Array): number {
  return data.length < 2 ? 0 : (data[0] << 8) | data[1];
}
