import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CHUNK_ENCODINGS, HEAD_CHUNK_SEGMENT, WAL_RECORD_TYPES } from '../compat/index.js';
import { crc32c } from './crc32c.js';
import { WindowedFile, hex, uvarint } from './file.js';
import type { Problem } from './block.js';

/**
 * WAL / WBL segments (tsdb/docs/format/wal.md): 32 KiB pages of fragments
 * `type <1b: 3 reserved bits, zstd bit, snappy bit, 3-bit fragment type> | len <2b> | CRC32C <4b> | data`.
 * Records never span segments. Only the first byte of each record (its type, tsdb/record/record.go) is
 * needed, so a snappy record is not decompressed: its stream starts with a literal whose first byte is the
 * record's first byte.
 */
export const PAGE_SIZE = 32 * 1024;
const HEADER = 7;
const FRAG_FULL = 1;
const FRAG_FIRST = 2;
const FRAG_MIDDLE = 3;
const FRAG_LAST = 4;
const SNAPPY = 1 << 3;
const ZSTD = 1 << 4;

export interface WalSegmentInfo {
  name: string;
  bytes: number;
  records: number;
  torn?: boolean;
}

export interface WalInfo {
  dir: string;
  present: boolean;
  segments: WalSegmentInfo[];
  /** First and last segment numbers (what "WAL segment loaded segment=N maxSegment=M" counts). */
  first?: number;
  last?: number;
  bytes: number;
  records: number;
  /** Record type name -> count. */
  recordTypes: Record<string, number>;
  recordTypeIds: number[];
  compression: Array<'none' | 'snappy' | 'zstd'>;
  /** Records whose type could not be read without a zstd decoder (Node 20 has none). */
  zstdRecords: number;
  checkpoint?: { name: string; segments: number; bytes: number; records: number; recordTypes: Record<string, number> };
  problems: Problem[];
}

export function recordTypeName(id: number): string {
  const f = WAL_RECORD_TYPES.find((t) => t.id === id);
  return f ? f.name : `unknown(${id})`;
}

/** First byte of a snappy block-format stream: varint length, then the first element, always a literal. */
function snappyFirstByte(buf: Uint8Array, start: number, end: number): number | undefined {
  const len = uvarint(buf, start, end);
  if (!len || len.value === 0) return undefined;
  let p = start + len.n;
  const tag = buf[p];
  if ((tag & 3) !== 0) return undefined;
  const l = tag >>> 2;
  p += 1 + (l < 60 ? 0 : l - 59);
  return p < end ? buf[p] : undefined;
}

interface SegmentsScan {
  segments: WalSegmentInfo[];
  bytes: number;
  records: number;
  types: Map<number, number>;
  compression: Set<'none' | 'snappy' | 'zstd'>;
  zstd: number;
}

function listSegments(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^\d{8}$/.test(n))
      .sort();
  } catch {
    return [];
  }
}

function scanSegments(dir: string, root: string, verifyCrc: boolean, problems: Problem[]): SegmentsScan {
  const out: SegmentsScan = { segments: [], bytes: 0, records: 0, types: new Map(), compression: new Set(), zstd: 0 };
  const names = listSegments(dir);
  names.forEach((name, i) => {
    const path = join(dir, name);
    const rel = relative(root, path);
    const isLast = i === names.length - 1;
    const f = new WindowedFile(path, PAGE_SIZE * 32);
    const seg: WalSegmentInfo = { name, bytes: f.size, records: 0 };
    out.segments.push(seg);
    out.bytes += f.size;
    let inRecord = false;
    let recordStart = 0;
    try {
      let pos = 0;
      scan: while (pos < f.size) {
        const pageEnd = Math.min(f.size, (Math.floor(pos / PAGE_SIZE) + 1) * PAGE_SIZE);
        if (pageEnd - pos < HEADER) {
          pos = pageEnd;
          continue;
        }
        const h = f.bytes(pos, HEADER);
        if (!h) break;
        const typ = h[0];
        if (typ === 0) {
          // page terminator: the rest of the page must be zero padding (Prometheus' reader rejects anything else)
          const pad = f.bytes(pos, pageEnd - pos);
          const nz = pad ? pad.findIndex((b) => b !== 0) : -1;
          if (nz >= 0) {
            problems.push({
              severity: 'error',
              file: rel,
              offset: pos + nz,
              message: `WAL page padding has a non-zero byte at offset ${pos + nz}: corrupt`,
            });
            break;
          }
          pos = pageEnd;
          continue;
        }
        const frag = typ & 7;
        const len = h.readUInt16BE(1);
        const stored = h.readUInt32BE(3);
        if (frag < FRAG_FULL || frag > FRAG_LAST || pos + HEADER + len > pageEnd) {
          if (isLast && pos + HEADER + len > f.size) {
            seg.torn = true;
            break;
          }
          problems.push({
            severity: 'error',
            file: rel,
            offset: pos,
            message: `WAL fragment at offset ${pos}: ${frag < FRAG_FULL || frag > FRAG_LAST ? `invalid fragment type ${frag}` : `length ${len} crosses the page boundary at ${pageEnd}`}`,
          });
          break;
        }
        const data = f.bytes(pos + HEADER, len);
        if (!data) {
          seg.torn = isLast;
          break;
        }
        if (verifyCrc) {
          const computed = crc32c(data, 0, len);
          if (computed !== stored) {
            problems.push({
              severity: 'error',
              file: rel,
              offset: pos,
              message: `WAL fragment at offset ${pos} fails its CRC32C (stored ${hex(stored)}, computed ${hex(computed)})`,
            });
            break scan;
          }
        }
        if (frag === FRAG_FULL || frag === FRAG_FIRST) {
          if (inRecord) {
            problems.push({
              severity: 'error',
              file: rel,
              offset: pos,
              message: `WAL record starting at offset ${recordStart} has no last fragment`,
            });
          }
          recordStart = pos;
          inRecord = frag === FRAG_FIRST;
          const comp = typ & ZSTD ? 'zstd' : typ & SNAPPY ? 'snappy' : 'none';
          out.compression.add(comp);
          let rt: number | undefined;
          if (comp === 'none') rt = data[0];
          else if (comp === 'snappy') rt = snappyFirstByte(data, 0, len);
          if (rt === undefined) out.zstd += comp === 'zstd' ? 1 : 0;
          else out.types.set(rt, (out.types.get(rt) ?? 0) + 1);
          seg.records++;
          out.records++;
        } else {
          if (!inRecord)
            problems.push({
              severity: 'error',
              file: rel,
              offset: pos,
              message: `WAL fragment at offset ${pos} continues a record that never started`,
            });
          if (frag === FRAG_LAST) inRecord = false;
        }
        pos += HEADER + len;
      }
      if (inRecord) {
        if (isLast) seg.torn = true;
        else
          problems.push({
            severity: 'error',
            file: rel,
            offset: recordStart,
            message: `WAL record at offset ${recordStart} is cut off by the end of the segment`,
          });
      }
      if (seg.torn)
        problems.push({
          severity: 'warning',
          file: rel,
          offset: recordStart,
          message:
            'the newest WAL segment ends in an incomplete record: normal while Prometheus is writing, otherwise a crash; Prometheus drops the torn tail on replay',
        });
    } finally {
      f.close();
    }
  });
  return out;
}

export function inspectWal(dir: string, root: string, opts: { verifyCrc?: boolean } = {}): WalInfo {
  const problems: Problem[] = [];
  const info: WalInfo = {
    dir,
    present: existsSync(dir),
    segments: [],
    bytes: 0,
    records: 0,
    recordTypes: {},
    recordTypeIds: [],
    compression: [],
    zstdRecords: 0,
    problems,
  };
  if (!info.present) return info;
  const s = scanSegments(dir, root, opts.verifyCrc ?? true, problems);
  info.segments = s.segments;
  info.bytes = s.bytes;
  info.records = s.records;
  info.compression = [...s.compression];
  info.zstdRecords = s.zstd;
  const types = new Map(s.types);
  if (s.segments.length) {
    info.first = Number(s.segments[0].name);
    info.last = Number(s.segments[s.segments.length - 1].name);
  }
  const cps = readdirSync(dir)
    .filter((n) => /^checkpoint\.\d+$/.test(n) && statSync(join(dir, n)).isDirectory())
    .sort();
  if (cps.length) {
    const cpName = cps[cps.length - 1];
    const c = scanSegments(join(dir, cpName), root, opts.verifyCrc ?? true, problems);
    for (const [k, v] of c.types) types.set(k, (types.get(k) ?? 0) + v);
    for (const x of c.compression) if (!info.compression.includes(x)) info.compression.push(x);
    info.checkpoint = {
      name: cpName,
      segments: c.segments.length,
      bytes: c.bytes,
      records: c.records,
      recordTypes: Object.fromEntries([...c.types].sort((a, b) => a[0] - b[0]).map(([k, v]) => [recordTypeName(k), v])),
    };
    info.bytes += c.bytes;
    if (cps.length > 1)
      problems.push({
        severity: 'warning',
        file: relative(root, dir),
        message: `${cps.length} checkpoint directories; Prometheus keeps only the newest (${cpName}) after a clean truncation`,
      });
  }
  info.recordTypeIds = [...types.keys()].sort((a, b) => a - b);
  info.recordTypes = Object.fromEntries(
    [...s.types].sort((a, b) => a[0] - b[0]).map(([k, v]) => [recordTypeName(k), v]),
  );
  return info;
}

// ---------------------------------------------------------------------------------------------------------
// chunks_head: `magic 0x0130BC91 | version | padding(3)` then
// `series ref <8b> | mint <8b> | maxt <8b> | encoding <1b> | len <uvarint> | data | CRC32C <4b>` (CRC over all of it)
// (tsdb/chunks/head_chunks.go WriteChunk). Out-of-order chunks carry the top bit in the encoding byte.

export interface HeadChunksInfo {
  dir: string;
  present: boolean;
  files: Array<{ name: string; bytes: number; chunks: number }>;
  bytes: number;
  chunks: number;
  encodings: Record<string, number>;
  encodingIds: number[];
  outOfOrderChunks: number;
  problems: Problem[];
}

const OOO_MASK = 0x80;

export function inspectHeadChunks(dir: string, root: string, opts: { verifyCrc?: boolean } = {}): HeadChunksInfo {
  const problems: Problem[] = [];
  const info: HeadChunksInfo = {
    dir,
    present: existsSync(dir),
    files: [],
    bytes: 0,
    chunks: 0,
    encodings: {},
    encodingIds: [],
    outOfOrderChunks: 0,
    problems,
  };
  if (!info.present) return info;
  const enc = new Map<number, number>();
  const names = readdirSync(dir)
    .filter((n) => /^\d+$/.test(n))
    .sort((a, b) => Number(a) - Number(b));
  for (const name of names) {
    const path = join(dir, name);
    const rel = relative(root, path);
    const f = new WindowedFile(path, 4 << 20);
    const file = { name, bytes: f.size, chunks: 0 };
    info.files.push(file);
    info.bytes += f.size;
    try {
      if (f.size < 8) {
        if (f.size > 0)
          problems.push({
            severity: 'error',
            file: rel,
            offset: 0,
            message: `head chunk file is ${f.size} bytes: truncated before its header`,
          });
        continue;
      }
      if (f.u32(0) !== HEAD_CHUNK_SEGMENT.magic) {
        problems.push({
          severity: 'error',
          file: rel,
          offset: 0,
          message: `head chunk file magic is ${hex(f.u32(0)!)}, expected ${hex(HEAD_CHUNK_SEGMENT.magic)}`,
        });
        continue;
      }
      let pos = 8;
      while (pos + 25 < f.size) {
        const v = f.view(pos, 25 + 10);
        const b = v.buf;
        const base = v.base;
        let zero = true;
        for (let i = 0; i < 25 && zero; i++) if (b[base + i] !== 0) zero = false;
        if (zero) break; // pre-allocated tail
        const e = b[base + 24];
        const len = uvarint(b, base + 25, base + v.avail);
        if (!len || pos + 25 + len.n + len.value + 4 > f.size) {
          // The newest file can end in a chunk a crash cut short; Prometheus truncates it on startup.
          problems.push({
            severity: name === names[names.length - 1] ? 'warning' : 'error',
            file: rel,
            offset: pos,
            message: `head chunk at offset ${pos} is cut off by the end of the file`,
          });
          break;
        }
        const total = 25 + len.n + len.value + 4;
        const c = f.bytes(pos, total)!;
        if (opts.verifyCrc ?? true) {
          const stored = c.readUInt32BE(total - 4);
          const computed = crc32c(c, 0, total - 4);
          if (stored !== computed) {
            problems.push({
              severity: 'error',
              file: rel,
              offset: pos,
              message: `head chunk at offset ${pos} fails its CRC32C (stored ${hex(stored)}, computed ${hex(computed)})`,
            });
            break;
          }
        }
        if (e & OOO_MASK) info.outOfOrderChunks++;
        const id = e & ~OOO_MASK;
        enc.set(id, (enc.get(id) ?? 0) + 1);
        file.chunks++;
        info.chunks++;
        pos += total;
      }
    } finally {
      f.close();
    }
  }
  info.encodingIds = [...enc.keys()].sort((a, b) => a - b);
  info.encodings = Object.fromEntries(
    [...enc]
      .sort((a, b) => a[0] - b[0])
      .map(([k, v]) => [CHUNK_ENCODINGS.find((x) => x.id === k)?.name ?? `unknown(${k})`, v]),
  );
  return info;
}
