import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../tsdb/index.js';
import { uvarintLen } from './bytes.js';

/** tsdb/docs/format/chunks.md: segment header magic, format version 1, 3 bytes of padding. */
const SEGMENT_MAGIC = 0x85bd40dd;
const SEGMENT_HEADER = 8;
/** Prometheus cuts segments at 512 MiB (tsdb/chunks DefaultChunkSegmentSize). */
export const MAX_SEGMENT_BYTES = 512 * 1024 * 1024;
const FLUSH_BYTES = 1 << 20;

/**
 * Appends chunks to chunks/000001, 000002, ... as they stream in, through a 1 MiB buffer, and returns each
 * chunk's reference (segment index << 32 | offset), which the index stores. Nothing but the buffer is held.
 */
export class ChunkSegmentWriter {
  readonly dir: string;
  readonly segments: Array<{ name: string; bytes: number }> = [];
  private fd = -1;
  private seq = -1;
  private offset = 0;
  private buf = Buffer.allocUnsafe(FLUSH_BYTES * 2);
  private used = 0;

  constructor(
    blockDir: string,
    private readonly maxSegmentBytes = MAX_SEGMENT_BYTES,
  ) {
    this.dir = join(blockDir, 'chunks');
    mkdirSync(this.dir, { recursive: true });
  }

  private openNext(): void {
    this.closeSegment();
    this.seq++;
    const name = String(this.seq + 1).padStart(6, '0');
    this.fd = openSync(join(this.dir, name), 'w', 0o644);
    this.segments.push({ name, bytes: 0 });
    this.buf.writeUInt32BE(SEGMENT_MAGIC, 0);
    this.buf[4] = 1;
    this.buf[5] = this.buf[6] = this.buf[7] = 0;
    this.used = SEGMENT_HEADER;
    this.offset = SEGMENT_HEADER;
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.segments[this.seq].bytes += this.used;
    this.used = 0;
  }

  private closeSegment(): void {
    if (this.fd < 0) return;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Writes one chunk record (len, encoding, data, CRC32C over encoding+data); returns its reference. */
  append(encoding: number, data: Uint8Array): number {
    const size = uvarintLen(data.length) + 1 + data.length + 4;
    if (this.fd < 0 || (this.offset + size > this.maxSegmentBytes && this.offset > SEGMENT_HEADER)) this.openNext();
    if (this.used + size > this.buf.length) {
      this.flush();
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size * 2);
    }
    const ref = this.seq * 4294967296 + this.offset;
    let p = this.used;
    let v = data.length;
    while (v >= 0x80) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p++] = v;
    const crcStart = p;
    this.buf[p++] = encoding;
    this.buf.set(data, p);
    p += data.length;
    this.buf.writeUInt32BE(crc32c(this.buf, crcStart, p), p);
    p += 4;
    this.used = p;
    this.offset += size;
    if (this.used >= FLUSH_BYTES) this.flush();
    return ref;
  }

  /**
   * Flushes and closes the last segment without waiting for the disk: the block writer fsyncs every file of the
   * block at once, off the event loop, before the rename. Segments cut earlier were fsynced when cut.
   */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Paths of the segment files written. */
  files(): string[] {
    return this.segments.map((s) => join(this.dir, s.name));
  }
}
