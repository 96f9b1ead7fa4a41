import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BLOCK_CHUNK_SEGMENT, CHUNK_ENCODINGS, INDEX_MAGIC, TOMBSTONES_MAGIC } from '../compat/index.js';
import { crc32c } from './crc32c.js';
import { WindowedFile, hex, uvarint, varint } from './file.js';

/**
 * One TSDB block: meta.json, the index (magic, version byte, TOC, every section's CRC), the chunk segments
 * (magic, format byte, every chunk's CRC32C over encoding+data) and tombstones. Formats:
 * tsdb/docs/format/{index,chunks,tombstones}.md. Every problem names the file and the byte offset.
 *
 * Why one file of ~450 lines: the index sections cross-reference each other (TOC, symbols, series, postings)
 * and are checked in one pass; the WAL, chunks_head and the byte readers are in their own files.
 */
export type ScanLevel = 'headers' | 'scan' | 'full';

export interface Problem {
  severity: 'error' | 'warning';
  /** Path relative to the inspected root, e.g. 01H.../chunks/000001. */
  file: string;
  offset?: number;
  message: string;
  block?: string;
}

export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats?: {
    numSamples?: number;
    numSeries?: number;
    numChunks?: number;
    numTombstones?: number;
    numFloatSamples?: number;
    numHistogramSamples?: number;
  };
  compaction?: {
    level?: number;
    sources?: string[];
    parents?: Array<{ ulid: string }>;
    deletable?: boolean;
    failed?: boolean;
    hints?: string[];
  };
  version: number;
  [k: string]: unknown;
}

export interface ChunkSegmentInfo {
  name: string;
  bytes: number;
  magicOk: boolean;
  format?: number;
  chunks?: number;
}

export interface BlockInfo {
  ulid: string;
  dir: string;
  minTime?: number;
  maxTime?: number;
  stats: { numSamples?: number; numSeries?: number; numChunks?: number; numTombstones?: number };
  compactionLevel?: number;
  sources: string[];
  metaVersion?: number;
  indexVersion?: number;
  indexBytes: number;
  chunkBytes: number;
  tombstonesBytes: number;
  metaBytes: number;
  /** index + chunk segments + tombstones + meta.json, the figure `promtool tsdb list` prints. */
  sizeBytes: number;
  chunkSegments: ChunkSegmentInfo[];
  /** Encoding name -> chunk count; undefined when the chunks were not scanned. */
  chunkEncodings?: Record<string, number>;
  /** Encoding ids seen, for the compatibility verdict. */
  encodingIds?: number[];
  /** Counts recomputed from the bytes (level scan/full); compared with meta.json at level full. */
  counted?: { chunks: number; samples?: number; series?: number; indexChunkRefs?: number };
  tombstoneIntervals?: number;
  /** Whether each check ran; verify reports what it actually checked. */
  checked: { meta: boolean; indexHeader: boolean; indexSections: boolean; chunkCrcs: boolean };
  problems: Problem[];
}

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function isBlockDir(dir: string): boolean {
  return existsSync(join(dir, 'meta.json'));
}

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

function encodingName(id: number): string {
  return CHUNK_ENCODINGS.find((e) => e.id === id)?.name ?? `unknown(${id})`;
}

/** Inspects one block directory. `root` is what paths in problems are relative to. */
export function inspectBlock(dir: string, opts: { level?: ScanLevel; root?: string } = {}): BlockInfo {
  const level = opts.level ?? 'scan';
  const root = opts.root ?? join(dir, '..');
  const rel = (p: string) => relative(root, p) || p;
  const name = dir.split('/').filter(Boolean).pop() ?? dir;
  const problems: Problem[] = [];
  const info: BlockInfo = {
    ulid: name,
    dir,
    stats: {},
    sources: [],
    indexBytes: 0,
    chunkBytes: 0,
    tombstonesBytes: 0,
    metaBytes: 0,
    sizeBytes: 0,
    chunkSegments: [],
    checked: { meta: false, indexHeader: false, indexSections: false, chunkCrcs: false },
    problems,
  };
  const add = (p: Omit<Problem, 'block'>) => problems.push({ ...p, block: info.ulid });

  // meta.json
  const metaPath = join(dir, 'meta.json');
  info.metaBytes = fileSize(metaPath);
  let meta: BlockMeta | undefined;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as BlockMeta;
  } catch (e) {
    add({ severity: 'error', file: rel(metaPath), message: `meta.json unreadable: ${(e as Error).message}` });
  }
  if (meta) {
    info.checked.meta = true;
    if (typeof meta.ulid !== 'string' || !ULID_RE.test(meta.ulid))
      add({
        severity: 'error',
        file: rel(metaPath),
        message: `meta.json "ulid" is not a ULID (${JSON.stringify(meta.ulid)})`,
      });
    else {
      if (meta.ulid !== name)
        add({
          severity: 'warning',
          file: rel(metaPath),
          message: `meta.json ulid ${meta.ulid} differs from the directory name ${name}`,
        });
      info.ulid = meta.ulid;
    }
    if (!Number.isFinite(meta.minTime) || !Number.isFinite(meta.maxTime) || meta.minTime >= meta.maxTime)
      add({
        severity: 'error',
        file: rel(metaPath),
        message: `meta.json time range is invalid (minTime ${meta.minTime}, maxTime ${meta.maxTime})`,
      });
    if (meta.version !== 1)
      add({
        severity: 'error',
        file: rel(metaPath),
        message: `meta.json version ${meta.version} is not 1 (tsdb/block.go metaVersion1); Prometheus repairs only blocks of 2.1 with version 2`,
      });
    info.minTime = meta.minTime;
    info.maxTime = meta.maxTime;
    info.metaVersion = meta.version;
    info.stats = {
      numSamples: meta.stats?.numSamples,
      numSeries: meta.stats?.numSeries,
      numChunks: meta.stats?.numChunks,
      numTombstones: meta.stats?.numTombstones,
    };
    const badSource = [
      ...(meta.compaction?.sources ?? []),
      ...(meta.compaction?.parents ?? []).map((x) => x?.ulid),
    ].find((u) => typeof u !== 'string' || !ULID_RE.test(u));
    if (badSource !== undefined)
      add({
        severity: 'error',
        file: rel(metaPath),
        message: `meta.json compaction sources/parents hold ${JSON.stringify(badSource)}, not a ULID`,
      });
    info.compactionLevel = meta.compaction?.level;
    info.sources = meta.compaction?.sources ?? [];
    if (meta.compaction?.deletable)
      add({
        severity: 'warning',
        file: rel(metaPath),
        message: 'block is marked deletable (compaction replaced it); Prometheus deletes it on the next reload',
      });
  }

  // chunk segments: sizes first, so index chunk references can be bounds-checked
  const chunksDir = join(dir, 'chunks');
  let segNames: string[] = [];
  try {
    segNames = readdirSync(chunksDir)
      .filter((n) => /^\d+$/.test(n))
      .sort();
  } catch {
    add({ severity: 'error', file: rel(chunksDir), message: 'chunks/ directory is missing' });
  }
  const segSize = new Map<number, number>();
  for (const s of segNames) {
    const b = fileSize(join(chunksDir, s));
    segSize.set(Number(s), b);
    info.chunkBytes += b;
    info.chunkSegments.push({ name: s, bytes: b, magicOk: false });
  }

  const indexPath = join(dir, 'index');
  info.indexBytes = fileSize(indexPath);
  if (!existsSync(indexPath)) add({ severity: 'error', file: rel(indexPath), message: 'index file is missing' });
  else {
    const idx = checkIndex(indexPath, rel(indexPath), level === 'full', segSize, add);
    info.indexVersion = idx.version;
    info.checked.indexHeader = idx.headerChecked;
    info.checked.indexSections = idx.sectionsChecked;
    if (idx.series !== undefined) info.counted = { chunks: 0, series: idx.series, indexChunkRefs: idx.chunkRefs };
    // Chunks must lie inside the block's [minTime, maxTime) (maxTime is exclusive, tsdb/block.go).
    if (
      meta &&
      idx.minT !== undefined &&
      idx.maxT !== undefined &&
      (idx.minT < meta.minTime || idx.maxT >= meta.maxTime)
    ) {
      add({
        severity: 'error',
        file: rel(metaPath),
        message: `meta.json time range [${meta.minTime}, ${meta.maxTime}) does not cover the chunks in the index [${idx.minT}, ${idx.maxT}]`,
      });
    }
  }

  if (level !== 'headers') {
    const encodings = new Map<number, number>();
    let chunks = 0;
    let samples: number | undefined = 0;
    for (const seg of info.chunkSegments) {
      const r = scanChunkSegment(
        join(chunksDir, seg.name),
        rel(join(chunksDir, seg.name)),
        level === 'full',
        encodings,
        add,
      );
      seg.magicOk = r.magicOk;
      seg.format = r.format;
      seg.chunks = r.chunks;
      chunks += r.chunks;
      samples = samples === undefined || r.samples === undefined ? undefined : samples + r.samples;
    }
    info.checked.chunkCrcs = level === 'full';
    info.chunkEncodings = Object.fromEntries(
      [...encodings].sort((a, b) => a[0] - b[0]).map(([k, v]) => [encodingName(k), v]),
    );
    info.encodingIds = [...encodings.keys()].sort((a, b) => a - b);
    info.counted = { ...(info.counted ?? {}), chunks, samples };
  } else {
    for (const seg of info.chunkSegments) {
      const f = new WindowedFile(join(chunksDir, seg.name), 64);
      try {
        seg.magicOk = f.u32(0) === BLOCK_CHUNK_SEGMENT.magic;
        seg.format = f.u8(4);
        if (!seg.magicOk)
          add({
            severity: 'error',
            file: rel(join(chunksDir, seg.name)),
            offset: 0,
            message: `chunk segment magic is ${hex(f.u32(0) ?? 0)}, expected ${hex(BLOCK_CHUNK_SEGMENT.magic)}`,
          });
      } finally {
        f.close();
      }
    }
  }

  const tombPath = join(dir, 'tombstones');
  info.tombstonesBytes = fileSize(tombPath);
  if (existsSync(tombPath)) info.tombstoneIntervals = checkTombstones(tombPath, rel(tombPath), level === 'full', add);

  info.sizeBytes = info.indexBytes + info.chunkBytes + info.tombstonesBytes + info.metaBytes;

  if (level === 'full' && meta && info.counted) {
    const c = info.counted;
    const st = meta.stats ?? {};
    const mismatch = (what: string, metaV: number | undefined, got: number | undefined, where: string) => {
      if (metaV !== undefined && got !== undefined && metaV !== got)
        add({
          severity: 'error',
          file: rel(metaPath),
          message: `meta.json says ${what}=${metaV} but ${where} hold ${got}`,
        });
    };
    mismatch('numChunks', st.numChunks, c.chunks, 'the chunk segments');
    mismatch('numChunks', st.numChunks, c.indexChunkRefs, 'the index series entries');
    mismatch('numSeries', st.numSeries, c.series, 'the index series section');
    mismatch('numSamples', st.numSamples, c.samples, 'the chunks');
  }
  return info;
}

interface IndexCheck {
  version?: number;
  headerChecked: boolean;
  sectionsChecked: boolean;
  series?: number;
  chunkRefs?: number;
  minT?: number;
  maxT?: number;
}

const TOC_BYTES = 6 * 8 + 4;

function checkIndex(
  path: string,
  relPath: string,
  full: boolean,
  segSize: Map<number, number>,
  add: (p: Omit<Problem, 'block'>) => void,
): IndexCheck {
  const f = new WindowedFile(path);
  const out: IndexCheck = { headerChecked: false, sectionsChecked: false };
  try {
    if (f.size < 5) {
      add({
        severity: 'error',
        file: relPath,
        offset: 0,
        message: `index is ${f.size} bytes long: truncated before its 5-byte header`,
      });
      return out;
    }
    const magic = f.u32(0)!;
    if (magic !== INDEX_MAGIC)
      add({
        severity: 'error',
        file: relPath,
        offset: 0,
        message: `index magic is ${hex(magic)}, expected ${hex(INDEX_MAGIC)}`,
      });
    out.version = f.u8(4);
    if (out.version === undefined || out.version < 1 || out.version > 3)
      add({
        severity: 'error',
        file: relPath,
        offset: 4,
        message: `index version byte is ${out.version}; Prometheus knows 1, 2 and 3 ("unknown index file version")`,
      });
    out.headerChecked = true;
    if (f.size < 5 + TOC_BYTES) {
      add({
        severity: 'error',
        file: relPath,
        offset: f.size,
        message: `index is ${f.size} bytes long: too short to hold a table of contents (truncated)`,
      });
      return out;
    }
    const tocAt = f.size - TOC_BYTES;
    const toc = f.bytes(tocAt, TOC_BYTES)!;
    const stored = toc.readUInt32BE(48);
    const computed = crc32c(toc, 0, 48);
    if (stored !== computed) {
      add({
        severity: 'error',
        file: relPath,
        offset: tocAt,
        message: `index table of contents at offset ${tocAt} (file size ${f.size}) fails its CRC32C (stored ${hex(stored)}, computed ${hex(computed)}): the file is truncated or corrupt`,
      });
      return out;
    }
    const names = [
      'symbols',
      'series',
      'label indices',
      'label offset table',
      'postings',
      'postings offset table',
    ] as const;
    const offs = names.map((_, i) => Number(toc.readBigUInt64BE(i * 8)));
    for (let i = 0; i < offs.length; i++) {
      if (offs[i] !== 0 && (offs[i] < 5 || offs[i] >= tocAt)) {
        add({
          severity: 'error',
          file: relPath,
          offset: tocAt + i * 8,
          message: `TOC points the ${names[i]} section at ${offs[i]}, outside the file (${tocAt} bytes before the TOC): truncated or corrupt`,
        });
        return out;
      }
    }
    if (!full) return out;
    // Each section ends where the next one in file order starts (or at the TOC).
    const starts = [...offs.filter((o) => o > 0), tocAt].sort((a, b) => a - b);
    const endOf = (o: number) => starts.find((s) => s > o) ?? tocAt;
    let ok = true;
    const [symbols, series, labelIdx, labelOff, postings, postingsOff] = offs;
    if (symbols) ok = lenSection(f, symbols, relPath, 'symbol table', add) && ok;
    if (labelOff) ok = lenSection(f, labelOff, relPath, 'label offset table', add) && ok;
    if (postingsOff) ok = lenSection(f, postingsOff, relPath, 'postings offset table', add) && ok;
    if (labelIdx) ok = lenSections(f, labelIdx, endOf(labelIdx), relPath, 'label index', add) && ok;
    if (postings) ok = lenSections(f, postings, endOf(postings), relPath, 'postings list', add) && ok;
    if (series && out.version !== undefined && out.version >= 2) {
      const r = seriesSection(f, series, endOf(series), relPath, segSize, add);
      out.series = r.series;
      out.chunkRefs = r.chunkRefs;
      out.minT = r.minT;
      out.maxT = r.maxT;
      ok = r.ok && ok;
    }
    out.sectionsChecked = true;
    return out;
  } finally {
    f.close();
  }
}

/** One `len <4b> | content | CRC32 <4b>` section. */
function lenSection(
  f: WindowedFile,
  at: number,
  relPath: string,
  what: string,
  add: (p: Omit<Problem, 'block'>) => void,
): boolean {
  const len = f.u32(at);
  if (len === undefined || at + 8 + len > f.size) {
    add({
      severity: 'error',
      file: relPath,
      offset: at,
      message: `${what} at offset ${at} claims ${len ?? '?'} bytes, past the end of the file (${f.size} bytes): truncated`,
    });
    return false;
  }
  const body = f.bytes(at + 4, len + 4)!;
  const computed = crc32c(body, 0, len);
  const stored = body.readUInt32BE(len);
  if (computed !== stored) {
    add({
      severity: 'error',
      file: relPath,
      offset: at,
      message: `${what} at offset ${at} (${len} bytes) fails its CRC32C (stored ${hex(stored)}, computed ${hex(computed)})`,
    });
    return false;
  }
  return true;
}

/** A run of 4-byte-aligned `len <4b>` sections with zero padding between them (label indices, postings). */
function lenSections(
  f: WindowedFile,
  start: number,
  end: number,
  relPath: string,
  what: string,
  add: (p: Omit<Problem, 'block'>) => void,
): boolean {
  let pos = start;
  while (pos + 4 <= end) {
    if (pos % 4) {
      pos += 4 - (pos % 4);
      continue;
    }
    const len = f.u32(pos)!;
    if (len === 0) {
      pos += 4;
      continue;
    }
    if (pos + 8 + len > end) {
      add({
        severity: 'error',
        file: relPath,
        offset: pos,
        message: `${what} at offset ${pos} claims ${len} bytes, past the end of its section at ${end}`,
      });
      return false;
    }
    if (!lenSection(f, pos, relPath, what, add)) return false;
    pos += 8 + len;
  }
  return true;
}

/** Series entries, 16-byte aligned: `len <uvarint> | labels | chunk metas | CRC32 <4b>` (index format v2). */
function seriesSection(
  f: WindowedFile,
  start: number,
  end: number,
  relPath: string,
  segSize: Map<number, number>,
  add: (p: Omit<Problem, 'block'>) => void,
): { ok: boolean; series: number; chunkRefs: number; minT?: number; maxT?: number } {
  let minT = Infinity;
  let maxT = -Infinity;
  let pos = start;
  let series = 0;
  let chunkRefs = 0;
  let badRefs = 0;
  while (pos < end) {
    if (pos % 16) {
      pos += 16 - (pos % 16);
      continue;
    }
    const v = f.view(pos, 10);
    const lenV = uvarint(v.buf, v.base, v.base + v.avail);
    if (!lenV) {
      add({
        severity: 'error',
        file: relPath,
        offset: pos,
        message: `series entry at offset ${pos}: unreadable length`,
      });
      return { ok: false, series, chunkRefs };
    }
    if (lenV.value === 0) {
      pos += 16;
      continue;
    }
    const bodyAt = pos + lenV.n;
    if (bodyAt + lenV.value + 4 > end) {
      add({
        severity: 'error',
        file: relPath,
        offset: pos,
        message: `series entry at offset ${pos} claims ${lenV.value} bytes, past the end of the series section at ${end}`,
      });
      return { ok: false, series, chunkRefs };
    }
    const body = f.bytes(bodyAt, lenV.value + 4)!;
    const stored = body.readUInt32BE(lenV.value);
    const computed = crc32c(body, 0, lenV.value);
    if (stored !== computed) {
      add({
        severity: 'error',
        file: relPath,
        offset: pos,
        message: `series entry at offset ${pos} (series id ${pos / 16}) fails its CRC32C (stored ${hex(stored)}, computed ${hex(computed)})`,
      });
      return { ok: false, series, chunkRefs };
    }
    // labels, then chunk metas whose references must land inside a chunk segment
    const e = lenV.value;
    let p = 0;
    const nl = uvarint(body, p, e);
    if (!nl) break;
    p += nl.n;
    for (let i = 0; i < nl.value * 2; i++) {
      const x = uvarint(body, p, e);
      if (!x) break;
      p += x.n;
    }
    const nc = uvarint(body, p, e);
    if (nc) {
      p += nc.n;
      let ref = 0;
      let t = 0;
      for (let i = 0; i < nc.value; i++) {
        if (i === 0) {
          const mint = varint(body, p, e);
          if (!mint) break;
          p += mint.n;
          const d = uvarint(body, p, e);
          if (!d) break;
          p += d.n;
          const r = uvarint(body, p, e);
          if (!r) break;
          p += r.n;
          ref = r.value;
          if (mint.value < minT) minT = mint.value;
          t = mint.value + d.value;
        } else {
          const a = uvarint(body, p, e);
          if (!a) break;
          p += a.n;
          const b = uvarint(body, p, e);
          if (!b) break;
          p += b.n;
          const r = varint(body, p, e);
          if (!r) break;
          p += r.n;
          ref += r.value;
          t += a.value + b.value;
        }
        if (t > maxT) maxT = t;
        chunkRefs++;
        const seq = Math.floor(ref / 2 ** 32);
        const off = ref % 2 ** 32;
        // Segment files are numbered from 1; the reference's upper half is the 0-based sequence.
        const size = segSize.get(seq + 1);
        if ((size === undefined || off >= size) && badRefs++ < 3) {
          add({
            severity: 'error',
            file: relPath,
            offset: pos,
            message: `series entry at offset ${pos} references chunk ${String(seq + 1).padStart(6, '0')}:${off}, ${size === undefined ? 'a segment that does not exist' : `beyond that segment's ${size} bytes`}`,
          });
        }
      }
    }
    series++;
    pos = bodyAt + lenV.value + 4;
  }
  return {
    ok: badRefs === 0,
    series,
    chunkRefs,
    minT: Number.isFinite(minT) ? minT : undefined,
    maxT: Number.isFinite(maxT) ? maxT : undefined,
  };
}

/** `magic | format | padding(3) | { len <uvarint> | encoding <1b> | data | CRC32C(encoding+data) <4b> }*`. */
export function scanChunkSegment(
  path: string,
  relPath: string,
  verifyCrc: boolean,
  encodings: Map<number, number>,
  add: (p: Omit<Problem, 'block'>) => void,
): { magicOk: boolean; format?: number; chunks: number; samples?: number } {
  const f = new WindowedFile(path, 4 << 20);
  try {
    if (f.size < 8) {
      add({
        severity: 'error',
        file: relPath,
        offset: 0,
        message: `chunk segment is ${f.size} bytes: truncated before its 8-byte header`,
      });
      return { magicOk: false, chunks: 0 };
    }
    const magic = f.u32(0)!;
    const format = f.u8(4)!;
    const magicOk = magic === BLOCK_CHUNK_SEGMENT.magic;
    if (!magicOk) {
      add({
        severity: 'error',
        file: relPath,
        offset: 0,
        message: `chunk segment magic is ${hex(magic)}, expected ${hex(BLOCK_CHUNK_SEGMENT.magic)}`,
      });
      return { magicOk, format, chunks: 0 };
    }
    if (format !== BLOCK_CHUNK_SEGMENT.version)
      add({
        severity: 'error',
        file: relPath,
        offset: 4,
        message: `chunk segment format byte is ${format}, expected ${BLOCK_CHUNK_SEGMENT.version}`,
      });
    let pos = 8;
    let chunks = 0;
    let samples: number | undefined = 0;
    while (pos < f.size) {
      const v = f.view(pos, 10 + 1 + 256);
      const len = uvarint(v.buf, v.base, v.base + v.avail);
      if (!len || pos + len.n + 1 + len.value + 4 > f.size) {
        add({
          severity: 'error',
          file: relPath,
          offset: pos,
          message: `chunk at offset ${pos}: ${len ? `claims ${len.value} data bytes, past the end of the file (${f.size} bytes)` : 'unreadable length'}: truncated or corrupt`,
        });
        return { magicOk, format, chunks, samples };
      }
      const total = len.n + 1 + len.value + 4;
      const c = f.bytes(pos, total)!;
      const enc = c[len.n];
      encodings.set(enc, (encodings.get(enc) ?? 0) + 1);
      if (enc >= 1 && enc <= 3 && len.value >= 2) {
        if (samples !== undefined) samples += c.readUInt16BE(len.n + 1);
      } else {
        samples = undefined;
      }
      if (verifyCrc) {
        const stored = c.readUInt32BE(total - 4);
        const computed = crc32c(c, len.n, total - 4);
        if (stored !== computed) {
          add({
            severity: 'error',
            file: relPath,
            offset: pos,
            message: `chunk at offset ${pos} (encoding ${encodingName(enc)}, ${len.value} bytes) fails its CRC32C (stored ${hex(stored)}, computed ${hex(computed)})`,
          });
        }
      }
      chunks++;
      pos += total;
    }
    return { magicOk, format, chunks, samples };
  } finally {
    f.close();
  }
}

/** `magic | version | { ref <uvarint64> | mint <varint64> | maxt <varint64> }* | CRC32 <4b>`. */
function checkTombstones(
  path: string,
  relPath: string,
  verify: boolean,
  add: (p: Omit<Problem, 'block'>) => void,
): number | undefined {
  const buf = readFileSync(path);
  if (buf.length < 9) {
    add({ severity: 'error', file: relPath, offset: 0, message: `tombstones file is ${buf.length} bytes: truncated` });
    return undefined;
  }
  if (buf.readUInt32BE(0) !== TOMBSTONES_MAGIC) {
    add({
      severity: 'error',
      file: relPath,
      offset: 0,
      message: `tombstones magic is ${hex(buf.readUInt32BE(0))}, expected ${hex(TOMBSTONES_MAGIC)}`,
    });
    return undefined;
  }
  if (buf[4] !== 1)
    add({ severity: 'error', file: relPath, offset: 4, message: `tombstones format byte is ${buf[4]}, expected 1` });
  const end = buf.length - 4;
  if (verify) {
    const stored = buf.readUInt32BE(end);
    const computed = crc32c(buf, 5, end);
    if (stored !== computed)
      add({
        severity: 'error',
        file: relPath,
        offset: end,
        message: `tombstones fail their CRC32C (stored ${hex(stored)}, computed ${hex(computed)})`,
      });
  }
  let n = 0;
  let p = 5;
  while (p < end) {
    const a = uvarint(buf, p, end);
    if (!a) break;
    p += a.n;
    const b = varint(buf, p, end);
    if (!b) break;
    p += b.n;
    const c = varint(buf, p, end);
    if (!c) break;
    p += c.n;
    n++;
  }
  return n;
}
