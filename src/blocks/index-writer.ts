import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32c } from '../tsdb/index.js';
import type { Label } from '../wire/index.js';
import { ByteBuilder, compareUtf8 } from './bytes.js';

/** tsdb/docs/format/index.md, format version 2. */
const INDEX_MAGIC = 0xbaaad700;
const INDEX_VERSION = 2;

/** One series of a block: its labels (sorted by name) and chunk metas as flat [minT, maxT, ref] triples. */
export interface BlockSeries {
  labels: Label[];
  chunks: number[];
}

export function compareLabelSets(a: Label[], b: Label[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareUtf8(a[i].name, b[i].name) || compareUtf8(a[i].value, b[i].value);
    if (c) return c;
  }
  return a.length - b.length;
}

const ZEROS = new Uint8Array(16);

/** Buffered sequential file writer that knows its position (for section offsets and alignment). */
class FileOut {
  pos = 0;
  private fd: number;
  private b = new ByteBuilder(1 << 20);

  constructor(path: string) {
    this.fd = openSync(path, 'w', 0o644);
  }

  write(data: Uint8Array): void {
    this.b.bytes(data);
    this.pos += data.length;
    if (this.b.len >= 1 << 20) this.flush();
  }

  /** Writes `b`'s bytes [0, len) without a view (the series loop runs once per series). */
  writeBuilder(b: ByteBuilder): void {
    this.b.bytesOf(b.buf, b.len);
    this.pos += b.len;
    if (this.b.len >= 1 << 20) this.flush();
  }

  uvarint(v: number): void {
    const before = this.b.len;
    this.b.uvarint(v);
    this.pos += this.b.len - before;
  }

  be32(v: number): void {
    this.b.be32(v);
    this.pos += 4;
  }

  pad(align: number): void {
    const n = (align - (this.pos % align)) % align;
    if (n) this.write(ZEROS.subarray(0, n));
  }

  private flush(): void {
    const v = this.b.view();
    let off = 0;
    while (off < v.length) off += writeSync(this.fd, v, off, v.length - off);
    this.b.reset();
  }

  /** Flushes and closes; the caller fsyncs (the block writer syncs all of a block's files together). */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** A section whose 4-byte length prefix and CRC32C trailer cover the body built in `b`. */
function section(out: FileOut, b: ByteBuilder): void {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(b.len);
  out.write(head);
  out.write(b.view());
  const crc = Buffer.allocUnsafe(4);
  crc.writeUInt32BE(crc32c(b.view()));
  out.write(crc);
}

/**
 * Writes the index of a block: symbols, series (16-byte aligned, ID = offset/16), label indices, label offset
 * table, postings (the all-series list under the empty label pair first), postings offset table and TOC.
 * `series` must be sorted with compareLabelSets and each series' chunks ordered and non-overlapping.
 */
export function writeIndex(path: string, series: BlockSeries[]): { bytes: number } {
  const symSet = new Set<string>();
  for (const s of series)
    for (const l of s.labels) {
      symSet.add(l.name);
      symSet.add(l.value);
    }
  const symbols = [...symSet].sort(compareUtf8);
  const symRef = new Map<string, number>();
  symbols.forEach((s, i) => symRef.set(s, i));

  const out = new FileOut(path);
  const toc = { symbols: 0, series: 0, labelIndices: 0, labelOffsets: 0, postings: 0, postingsOffsets: 0 };
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(INDEX_MAGIC);
  head[4] = INDEX_VERSION;
  out.write(head);

  // symbol table
  toc.symbols = out.pos;
  const b = new ByteBuilder(1 << 16);
  b.be32(symbols.length);
  for (const s of symbols) b.str(s);
  section(out, b);

  // series; postings collected per label pair as series IDs, which grow with the sorted order
  const postings = new Map<string, Map<string, number[]>>();
  const ids: number[] = [];
  out.pad(16);
  toc.series = out.pos;
  const e = new ByteBuilder(1024);
  for (const s of series) {
    out.pad(16);
    const id = out.pos / 16;
    ids.push(id);
    e.reset();
    e.uvarint(s.labels.length);
    for (const l of s.labels) {
      e.uvarint(symRef.get(l.name)!);
      e.uvarint(symRef.get(l.value)!);
      let byValue = postings.get(l.name);
      if (!byValue) postings.set(l.name, (byValue = new Map()));
      let list = byValue.get(l.value);
      if (!list) byValue.set(l.value, (list = []));
      list.push(id);
    }
    const c = s.chunks;
    e.uvarint(c.length / 3);
    for (let i = 0; i < c.length; i += 3) {
      if (i === 0) {
        e.varint(c[0]);
        e.uvarint(c[1] - c[0]);
        e.uvarint(c[2]);
      } else {
        e.uvarint(c[i] - c[i - 2]);
        e.uvarint(c[i + 1] - c[i]);
        e.varint(c[i + 2] - c[i - 1]);
      }
    }
    out.uvarint(e.len);
    out.writeBuilder(e);
    out.be32(crc32c(e.buf, 0, e.len));
  }

  // label indices (no longer read by Prometheus, still written by it): one per label name
  const names = [...postings.keys()].sort(compareUtf8);
  const labelOffsets: number[] = [];
  out.pad(4);
  toc.labelIndices = out.pos;
  for (const name of names) {
    out.pad(4);
    labelOffsets.push(out.pos);
    const values = [...postings.get(name)!.keys()].sort(compareUtf8);
    b.reset();
    b.be32(1);
    b.be32(values.length);
    for (const v of values) b.be32(symRef.get(v)!);
    section(out, b);
  }
  toc.labelOffsets = out.pos;
  b.reset();
  b.be32(names.length);
  names.forEach((name, i) => {
    b.u8(1);
    b.str(name);
    b.uvarint(labelOffsets[i]);
  });
  section(out, b);

  // postings: all series under ("", ""), then every label pair in name, value order
  const lists: Array<{ name: string; value: string; ids: number[] }> = [{ name: '', value: '', ids }];
  for (const name of names) {
    const byValue = postings.get(name)!;
    for (const value of [...byValue.keys()].sort(compareUtf8)) lists.push({ name, value, ids: byValue.get(value)! });
  }
  out.pad(4);
  toc.postings = out.pos;
  const offsets: number[] = [];
  for (const l of lists) {
    out.pad(4);
    offsets.push(out.pos);
    b.reset();
    b.be32(l.ids.length);
    for (const id of l.ids) b.be32(id);
    section(out, b);
  }
  toc.postingsOffsets = out.pos;
  b.reset();
  b.be32(lists.length);
  lists.forEach((l, i) => {
    b.u8(2);
    b.str(l.name);
    b.str(l.value);
    b.uvarint(offsets[i]);
  });
  section(out, b);

  const t = new ByteBuilder(64);
  for (const v of [toc.symbols, toc.series, toc.labelIndices, toc.labelOffsets, toc.postings, toc.postingsOffsets])
    t.be64(v);
  const tocCrc = crc32c(t.view());
  t.be32(tocCrc);
  out.write(t.view());
  const bytes = out.pos;
  out.close();
  return { bytes };
}
