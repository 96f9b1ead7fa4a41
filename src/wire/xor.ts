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

  /** The samples as views into this buffer: valid until it is cleared or grown. */
  view(): { timestamps: Float64Array; values: Float64Array } {
    return {
      timestamps: this.timestamps.subarray(0, this.length),
      values: new Float64Array(this.bits.buffer, this.bits.byteOffset, this.length),
    };
  }

  /**
   * Hands the samples out as views and starts fresh arrays for the next series (sized like this one), so the
   * series needs no copy and stays valid while this buffer is reused.
   */
  snapshot(): { timestamps: Float64Array; values: Float64Array } {
    const n = this.length;
    const timestamps = this.timestamps.subarray(0, n);
    const values = new Float64Array(this.bits.buffer, this.bits.byteOffset, n);
    const cap = Math.max(1024, n + (n >>> 2));
    this.timestamps = new Float64Array(cap);
    this.bits = new Uint32Array(cap * 2);
    this.length = 0;
    return { timestamps, values };
  }
}

// Chunks are copied into this zero-padded scratch buffer so that the bit reader below never reads past the
// end of a typed array (V8 deoptimises out-of-bounds reads); one sample reads at most 145 bits.
const PAD = 24;
let scratch = new Uint8Array(4096);

/** `count` (1..32) bits at bit position `pos`, MSB first, as an unsigned 32-bit value (a 40-bit window). */
function bitsAt(buf: Uint8Array, pos: number, count: number): number {
  const i = pos >>> 3;
  const off = pos & 7;
  let w = ((buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]) >>> 0;
  if (off !== 0) w = ((w << off) | (buf[i + 4] >>> (8 - off))) >>> 0;
  return count === 32 ? w : w >>> (32 - count);
}

/**
 * Decodes one XOR chunk, appending samples with minT <= t <= maxT to `out`. Returns the number of samples
 * the chunk held (before filtering). Written without closures so that the bit position stays in a register.
 */
export function decodeXorChunk(data: Uint8Array, out: SampleBuffer, minT = -Infinity, maxT = Infinity): number {
  if (data.length < 2) throw new WireError('XOR chunk shorter than its 2-byte header');
  const n = (data[0] << 8) | data[1];
  if (n === 0) return 0;
  out.reserve(n);
  if (scratch.length < data.length + PAD) scratch = new Uint8Array(Math.max(data.length + PAD, scratch.length * 2));
  const buf = scratch;
  buf.set(data);
  buf.fill(0, data.length, data.length + PAD);
  const totalBits = data.length * 8;
  const ts = out.timestamps;
  const vb = out.bits;
  let len = out.length;
  let pos = 16;

  // sample 0: zig-zag varint timestamp (byte aligned), 64 raw value bits
  let u = 0;
  let mul = 1;
  for (let k = 0; ; k++) {
    if (k >= 10) throw new WireError('XOR chunk: varint overflow');
    const c = buf[pos >>> 3];
    pos += 8;
    u += (c & 0x7f) * mul;
    if (c < 0x80) break;
    mul *= 128;
  }
  let t = u % 2 === 1 ? -(u + 1) / 2 : u / 2;
  let hi = bitsAt(buf, pos, 32);
  let lo = bitsAt(buf, pos + 32, 32);
  pos += 64;
  let tDelta = 0;
  let leading = 0;
  let trailing = 0;
  if (t >= minT && t <= maxT) {
    ts[len] = t;
    vb[2 * len] = lo;
    vb[2 * len + 1] = hi;
    len++;
  }

  for (let i = 1; i < n; i++) {
    let w = 0;
    let used: number;
    if (i === 1) {
      // uvarint delta, byte aligned after 64 value bits
      let d = 0;
      let m = 1;
      for (let k = 0; ; k++) {
        if (k >= 10) throw new WireError('XOR chunk: varint overflow');
        const c = bitsAt(buf, pos, 8);
        pos += 8;
        d += (c & 0x7f) * m;
        if (c < 0x80) break;
        m *= 128;
      }
      tDelta = d;
      used = 32;
    } else {
      // One 32-bit window at `pos` serves the delta-of-delta prefix (0 / 10 / 110 / 1110 / 1111) and, in the
      // common cases, the value's control bits and leading/significant header too; it is re-read only after a
      // long timestamp form.
      // read inline: a call here costs a third of the decoder's speed (measured)
      const bi = pos >>> 3;
      const bo = pos & 7;
      w = ((buf[bi] << 24) | (buf[bi + 1] << 16) | (buf[bi + 2] << 8) | buf[bi + 3]) >>> 0;
      if (bo !== 0) w = ((w << bo) | (buf[bi + 4] >>> (8 - bo))) >>> 0;
      if (w < 0x80000000) {
        pos += 1;
        used = 1;
      } else if (w < 0xc0000000) {
        tDelta += signed((w >>> 16) & 0x3fff, 14);
        pos += 16;
        used = 16;
      } else if (w < 0xe0000000) {
        tDelta += signed((w >>> 12) & 0x1ffff, 17);
        pos += 20;
        used = 20;
      } else if (w < 0xf0000000) {
        tDelta += signed((w >>> 8) & 0xfffff, 20);
        pos += 24;
        used = 24;
      } else {
        pos += 4;
        tDelta += (bitsAt(buf, pos, 32) | 0) * 4294967296 + bitsAt(buf, pos + 32, 32);
        pos += 64;
        used = 32;
      }
    }
    t += tDelta;
    // value: 0 = unchanged; 10 = reuse leading/trailing; 11 = new leading (5 bits) and significant bits (6 bits)
    if (used <= 19) w = (w << used) >>> 0;
    else w = bitsAt(buf, pos, 32);
    if (w >= 0x80000000) {
      if (w >= 0xc0000000) {
        const h = (w >>> 19) & 0x7ff;
        pos += 13;
        leading = h >>> 6;
        let sig = h & 0x3f;
        if (sig === 0) sig = 64;
        trailing = 64 - leading - sig;
        if (trailing < 0) throw new WireError('XOR chunk: invalid leading/significant bit counts');
      } else pos += 2;
      const sig = 64 - leading - trailing;
      let xh = 0;
      let xl: number;
      if (sig > 32) {
        xh = bitsAt(buf, pos, sig - 32);
        xl = bitsAt(buf, pos + sig - 32, 32);
      } else xl = bitsAt(buf, pos, sig);
      pos += sig;
      // (xh:xl) << trailing, as a 64-bit shift on two halves
      if (trailing >= 32) {
        xh = xl << (trailing - 32);
        xl = 0;
      } else if (trailing > 0) {
        xh = (xh << trailing) | (xl >>> (32 - trailing));
        xl = xl << trailing;
      }
      hi = (hi ^ xh) >>> 0;
      lo = (lo ^ xl) >>> 0;
    } else pos += 1;
    if (pos > totalBits)
      throw new WireError(`XOR chunk truncated: ${n} samples announced, data ends after ${data.length} bytes`);
    if (t >= minT && t <= maxT) {
      ts[len] = t;
      vb[2 * len] = lo;
      vb[2 * len + 1] = hi;
      len++;
    }
  }
  if (pos > totalBits)
    throw new WireError(`XOR chunk truncated: ${n} samples announced, data ends after ${data.length} bytes`);
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
