/**
 * The bit reader of TSDB histogram chunks and the varbit integers they are made of: an MSB-first reader as
 * bstreamReader (tsdb/chunkenc/bstream.go) and readVarbitInt/readVarbitUint (tsdb/chunkenc/varbit.go;
 * format in tsdb/docs/format/chunks.md). Numbers come out as 64-bit words (two unsigned 32-bit halves, low
 * first) so Go uint64/int64 values survive above 2^53.
 */
import { WireError } from './pb.js';

/** MSB-first bit reader over a zero-padded copy of the chunk (reads past the end see zeros, checked after). */
export class Bits {
  readonly buf: Uint8Array;
  pos: number;
  readonly totalBits: number;
  /** One (lo, hi) word that readVarbitNumber decodes into; per reader, so decoders share no state. */
  readonly word = new Uint32Array(2);
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
export function readVarbit(r: Bits, signed: boolean, out: Uint32Array, k: number): void {
  const sz = varbitWidth(r);
  let lo = 0;
  let hi = 0;
  if (sz === 64) {
    hi = r.read(32);
    lo = r.read(32);
  } else if (sz === 56) {
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

/** A varbit number that must fit a JS number exactly (timestamps, schema, span fields). */
export function readVarbitNumber(r: Bits, signed: boolean, what: string): number {
  const w = r.word;
  readVarbit(r, signed, w, 0);
  const v = signed ? (w[1] | 0) * 4294967296 + w[0] : w[1] * 4294967296 + w[0];
  if (!Number.isSafeInteger(v)) throw new WireError(`histogram chunk: ${what} ${v} is out of range`);
  return v;
}

/** 64 raw bits (a double written with writeBits(math.Float64bits(v), 64)) into words[2k..2k+1]. */
export function readRaw64(r: Bits, words: Uint32Array, k: number): void {
  words[2 * k + 1] = r.read(32);
  words[2 * k] = r.read(32);
}
