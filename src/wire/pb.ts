/**
 * Minimal protobuf wire-format reader and writer for the hot path (remote-read frames in, remote-write
 * requests out). bench/wire.bench.ts measures them against protobufjs on the same messages; the rest of the
 * code uses protobufjs (schema.ts). Doubles are copied as 8 raw bytes, never read into a JS number, so NaN
 * payloads such as the stale marker survive untouched.
 */
import { StackshiftError } from '../errors/index.js';

export class WireError extends StackshiftError {
  constructor(message: string, hint?: string) {
    super('wire', message, {
      hint:
        hint ??
        'the server sent data stackshift cannot decode; check that the URL points at a Prometheus-compatible remote-read endpoint',
    });
    this.name = 'WireError';
  }
}

const textDecoder = new TextDecoder('utf-8');

export class PbReader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** uvarint as a JS number; exact up to 2^53, which covers every length and timestamp we meet. */
  uvarint(): number {
    const b = this.buf;
    let p = this.pos;
    let x = b[p++];
    if (x < 0x80) {
      this.pos = p;
      return x;
    }
    x &= 0x7f;
    let shift = 7;
    let mul = 128;
    for (;;) {
      if (p >= this.end) throw new WireError('truncated varint in protobuf message');
      const c = b[p++];
      if (shift < 28) x |= (c & 0x7f) << shift;
      else x += (c & 0x7f) * mul;
      if (c < 0x80) break;
      shift += 7;
      mul *= 128;
      if (shift > 63) throw new WireError('varint longer than 10 bytes in protobuf message');
    }
    this.pos = p;
    return x;
  }

  /** int64 field (two's complement in 10 bytes when negative). */
  int64(): number {
    const start = this.pos;
    const v = this.uvarint();
    if (this.pos - start === 10) {
      // negative: recompute as signed from the raw bytes
      let lo = 0;
      let hi = 0;
      const b = this.buf;
      for (let i = 0; i < 4; i++) lo |= (b[start + i] & 0x7f) << (7 * i);
      lo |= (b[start + 4] & 0x0f) << 28;
      hi = (b[start + 4] & 0x7f) >> 4;
      for (let i = 0; i < 5; i++) hi |= (b[start + 5 + i] & 0x7f) << (3 + 7 * i);
      return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    return v;
  }

  bytesView(): Uint8Array {
    const len = this.uvarint();
    const s = this.pos;
    if (s + len > this.end) throw new WireError('length-delimited field runs past the end of its message');
    this.pos = s + len;
    return this.buf.subarray(s, s + len);
  }

  string(): string {
    const len = this.uvarint();
    const s = this.pos;
    if (s + len > this.end) throw new WireError('string field runs past the end of its message');
    this.pos = s + len;
    // short ASCII strings (label names/values) decode faster by hand than through TextDecoder
    if (len < 32) {
      let out = '';
      const b = this.buf;
      for (let i = s; i < s + len; i++) {
        const c = b[i];
        if (c >= 0x80) return textDecoder.decode(b.subarray(s, s + len));
        out += String.fromCharCode(c);
      }
      return out;
    }
    return textDecoder.decode(this.buf.subarray(s, s + len));
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uvarint();
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const len = this.uvarint();
        this.pos += len;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported protobuf wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new WireError('field runs past the end of its message');
  }
}

/** Growable output buffer with protobuf primitives. */
export class PbWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Non-negative integer < 2^53. Caller ensured capacity (10 bytes). */
  uvarint(v: number): void {
    const b = this.buf;
    let p = this.pos;
    if (v >= 0x10000000) {
      // millisecond timestamps land here: four 7-bit groups from the low 28 bits, the rest (< 2^25) by shifts
      const lo = v % 0x10000000;
      let hi = (v - lo) / 0x10000000;
      b[p++] = (lo & 0x7f) | 0x80;
      b[p++] = ((lo >>> 7) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 14) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 21) & 0x7f) | 0x80;
      while (hi >= 0x80) {
        b[p++] = (hi & 0x7f) | 0x80;
        hi >>>= 7;
      }
      b[p++] = hi;
    } else {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    }
    this.pos = p;
  }

  /** int64 field value: negatives take 10 bytes (two's complement), as protobuf specifies. */
  int64(v: number): void {
    if (v >= 0) {
      this.uvarint(v);
      return;
    }
    const lo = Number(BigInt.asUintN(64, BigInt(v)) & 0xffffffffn);
    const hi = Number(BigInt.asUintN(64, BigInt(v)) >> 32n);
    const b = this.buf;
    let p = this.pos;
    let l = lo;
    let h = hi;
    for (let i = 0; i < 9; i++) {
      b[p++] = (l & 0x7f) | 0x80;
      l = (l >>> 7) | ((h & 0x7f) << 25);
      h >>>= 7;
    }
    b[p++] = l & 0x01;
    this.pos = p;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length + 10);
    this.uvarint(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

export function uvarintSize(v: number): number {
  if (v < 0) return 10;
  if (v < 128) return 1;
  if (v < 16384) return 2;
  if (v < 2097152) return 3;
  if (v < 268435456) return 4;
  if (v < 34359738368) return 5;
  if (v < 4398046511104) return 6;
  if (v < 562949953421312) return 7;
  if (v < 72057594037927936) return 8;
  return 9;
}

const utf8 = new TextEncoder();
const encodedCache = new Map<string, Uint8Array>();

/** UTF-8 bytes of a label string; label names and values repeat across requests, so they are cached. */
export function utf8Bytes(s: string): Uint8Array {
  let e = encodedCache.get(s);
  if (e === undefined) {
    e = utf8.encode(s);
    if (encodedCache.size > 200_000) encodedCache.clear();
    encodedCache.set(s, e);
  }
  return e;
}
