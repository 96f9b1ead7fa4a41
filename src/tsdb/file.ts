import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Positional reads through one reusable window, so a multi-GiB index or chunk segment is scanned with a
 * bounded buffer (the window grows only to the largest single record asked for).
 */
export class WindowedFile {
  readonly path: string;
  readonly size: number;
  private fd: number;
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(path: string, windowBytes = 1 << 20) {
    this.path = path;
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
    this.buf = Buffer.allocUnsafe(windowBytes);
  }

  /**
   * A view of [off, off+len) clipped to the file's end; valid until the next call. The returned `base` is
   * the index of `off` inside the returned buffer.
   */
  view(off: number, len: number): { buf: Buffer; base: number; avail: number } {
    const want = Math.max(0, Math.min(len, this.size - off));
    if (off < this.start || off + want > this.end) {
      if (want > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(want, this.buf.length * 2));
      const n = Math.min(this.buf.length, this.size - off);
      let got = 0;
      while (got < n) {
        const r = readSync(this.fd, this.buf, got, n - got, off + got);
        if (r === 0) break;
        got += r;
      }
      this.start = off;
      this.end = off + got;
    }
    return { buf: this.buf, base: off - this.start, avail: Math.min(want, this.end - off) };
  }

  /** A copy-free slice of exactly len bytes, or undefined when the file ends first. */
  bytes(off: number, len: number): Buffer | undefined {
    const v = this.view(off, len);
    if (v.avail < len) return undefined;
    return v.buf.subarray(v.base, v.base + len);
  }

  u8(off: number): number | undefined {
    const b = this.bytes(off, 1);
    return b ? b[0] : undefined;
  }

  u32(off: number): number | undefined {
    const b = this.bytes(off, 4);
    return b ? b.readUInt32BE(0) : undefined;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Unsigned LEB128 as Go's binary.Uvarint; numbers above 2^53 lose precision, which no length here reaches. */
export function uvarint(buf: Uint8Array, pos: number, end: number): { value: number; n: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10 && pos + i < end; i++) {
    const b = buf[pos + i];
    value += (b & 0x7f) * mul;
    if (b < 0x80) return { value, n: i + 1 };
    mul *= 128;
  }
  return undefined;
}

/** Zig-zag signed varint as Go's binary.Varint. */
export function varint(buf: Uint8Array, pos: number, end: number): { value: number; n: number } | undefined {
  const u = uvarint(buf, pos, end);
  if (!u) return undefined;
  const half = Math.floor(u.value / 2);
  return { value: u.value % 2 === 1 ? -half - 1 : half, n: u.n };
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
