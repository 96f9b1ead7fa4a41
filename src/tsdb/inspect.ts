import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { dataDirCompatibility, type FormatSummary, type VersionVerdict } from '../compat/index.js';
import { InputError } from '../errors/index.js';
import { ULID_RE, inspectBlock, isBlockDir, type BlockInfo, type Problem, type ScanLevel } from './block.js';
import { inspectHeadChunks, inspectWal, type HeadChunksInfo, type WalInfo } from './wal.js';

/**
 * A Prometheus data directory, a snapshot directory or a single block, read without Prometheus: what is on
 * disk, whether it is intact, and which releases can open it (each claim with its source).
 */
export type Layout = 'data-dir' | 'snapshot' | 'block';

export interface LockInfo {
  present: boolean;
  /** pid holding a POSIX or flock lock on it (Linux /proc/locks), when one does. */
  heldByPid?: number;
}

export interface SnapshotEntry {
  name: string;
  path: string;
  createdAt?: string;
  blocks: number;
  bytes: number;
  /** Bytes in files no longer hard-linked anywhere else (what deleting the snapshot frees). */
  exclusiveBytes: number;
}

export interface TsdbInspection {
  schemaVersion: 1;
  path: string;
  layout: Layout;
  level: ScanLevel;
  blocks: BlockInfo[];
  wal?: WalInfo;
  wbl?: WalInfo;
  chunksHead?: HeadChunksInfo;
  lock?: LockInfo;
  snapshots: SnapshotEntry[];
  totals: {
    blocks: number;
    blockBytes: number;
    samples: number;
    series: number;
    chunks: number;
    walBytes: number;
    wblBytes: number;
    headChunkBytes: number;
    minTime?: number;
    maxTime?: number;
    tsdbBytes: number;
  };
  formats: FormatSummary;
  compatibility: { verdicts: VersionVerdict[]; oldestLossless?: string };
  problems: Problem[];
}

export function detectLayout(path: string): Layout {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(
      'does not exist',
      { file: path },
      'give a Prometheus data dir (--storage.tsdb.path), a snapshot directory or a block directory',
    );
  }
  if (!st.isDirectory())
    throw new InputError(
      'is not a directory',
      { file: path },
      'give a Prometheus data dir, a snapshot directory or a block directory',
    );
  if (existsSync(join(path, 'meta.json'))) return 'block';
  const names = readdirSync(path);
  const hasBlocks = names.some((n) => ULID_RE.test(n) && isBlockDir(join(path, n)));
  const live = ['wal', 'chunks_head', 'lock', 'queries.active', 'wbl'].some((n) => names.includes(n));
  if (live) return 'data-dir';
  if (hasBlocks)
    return basename(dirname(resolve(path))) === 'snapshots' || names.every((n) => ULID_RE.test(n) || n.startsWith('.'))
      ? 'snapshot'
      : 'data-dir';
  if (names.includes('snapshots')) return 'data-dir';
  throw new InputError(
    'does not look like a Prometheus data dir, snapshot or block: no meta.json, no block directories, no wal/',
    { file: path },
    'point at --storage.tsdb.path, at <data>/snapshots/<name>, or at one <ULID> block directory',
  );
}

export function blockDirs(path: string): string[] {
  return readdirSync(path)
    .filter((n) => ULID_RE.test(n) && isBlockDir(join(path, n)))
    .sort()
    .map((n) => join(path, n));
}

function duBytes(path: string, exclusiveOnly = false): number {
  let total = 0;
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    const st = lstatSync(p);
    if (st.isDirectory()) total += duBytes(p, exclusiveOnly);
    else if (!exclusiveOnly || st.nlink <= 1) total += st.size;
  }
  return total;
}

export function listSnapshots(dataDir: string): SnapshotEntry[] {
  const dir = join(dataDir, 'snapshots');
  if (!existsSync(dir)) return [];
  return (
    readdirSync(dir)
      // dot-directories are stackshift's own scratch space (deep verification), not snapshots
      .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
      .sort()
      .map((name) => {
        const path = join(dir, name);
        // Prometheus names snapshots <YYYYMMDDTHHMMSSZ>-<16 hex> (tsdb/db.go Snapshot via web/api/v1).
        const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]+$/.exec(name);
        return {
          name,
          path,
          createdAt: m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined,
          blocks: blockDirs(path).length,
          bytes: duBytes(path),
          exclusiveBytes: duBytes(path, true),
        };
      })
  );
}

/** Linux: who holds a lock on the file, from /proc/locks ("1: POSIX ADVISORY WRITE <pid> <maj>:<min>:<inode> ..."). */
export function lockHolder(path: string, procLocks = '/proc/locks'): number | undefined {
  let text: string;
  try {
    text = readFileSync(procLocks, 'utf8');
  } catch {
    return undefined;
  }
  const ino = statSync(path).ino;
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+\S+\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m && Number(m[2]) === ino) return Number(m[1]);
  }
  return undefined;
}

export interface InspectOptions {
  level?: ScanLevel;
  /** Releases the compatibility section judges (default: compat REFERENCE_VERSIONS). */
  versions?: string[];
}

export function inspectTsdb(pathIn: string, opts: InspectOptions = {}): TsdbInspection {
  const path = resolve(pathIn);
  const layout = detectLayout(path);
  const level = opts.level ?? 'scan';
  const root = layout === 'block' ? dirname(path) : path;
  const blocks =
    layout === 'block'
      ? [inspectBlock(path, { level, root })]
      : blockDirs(path).map((d) => inspectBlock(d, { level, root }));
  // Prometheus orders blocks by time (promtool tsdb list prints them so); ULIDs only roughly follow it.
  blocks.sort((a, b) => (a.minTime ?? 0) - (b.minTime ?? 0) || a.ulid.localeCompare(b.ulid));
  const problems: Problem[] = blocks.flatMap((b) => b.problems);
  let wal: WalInfo | undefined;
  let wbl: WalInfo | undefined;
  let chunksHead: HeadChunksInfo | undefined;
  let lock: LockInfo | undefined;
  let snapshots: SnapshotEntry[] = [];
  const verifyCrc = level === 'full';
  if (layout === 'data-dir') {
    wal = inspectWal(join(path, 'wal'), root, { verifyCrc });
    wbl = inspectWal(join(path, 'wbl'), root, { verifyCrc });
    chunksHead = inspectHeadChunks(join(path, 'chunks_head'), root, { verifyCrc });
    problems.push(...wal.problems, ...wbl.problems, ...chunksHead.problems);
    const lockPath = join(path, 'lock');
    lock = { present: existsSync(lockPath) };
    if (lock.present) lock.heldByPid = lockHolder(lockPath);
    snapshots = listSnapshots(path);
    for (const b of blocks) {
      if (existsSync(join(b.dir, 'deletion-mark.json')))
        problems.push({
          severity: 'warning',
          file: `${b.ulid}/deletion-mark.json`,
          block: b.ulid,
          message: 'block carries a deletion mark',
        });
    }
    for (const n of readdirSync(path)) {
      if (/\.tmp(-for-(creation|deletion))?$/.test(n))
        problems.push({
          severity: 'warning',
          file: n,
          message:
            'leftover temporary block directory from an interrupted compaction or snapshot; Prometheus removes it on startup',
        });
    }
  }
  const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const formats: FormatSummary = {
    indexVersions: uniq(blocks.map((b) => b.indexVersion).filter((v): v is number => v !== undefined)),
    metaVersions: uniq(blocks.map((b) => b.metaVersion).filter((v): v is number => v !== undefined)),
    blockChunkEncodings: uniq(blocks.flatMap((b) => b.encodingIds ?? [])),
    headChunkEncodings: chunksHead?.encodingIds ?? [],
    walRecordTypes: uniq([...(wal?.recordTypeIds ?? []), ...(wbl?.recordTypeIds ?? [])]),
    walCompression: [...new Set([...(wal?.compression ?? []), ...(wbl?.compression ?? [])])],
  };
  const times = blocks.filter((b) => b.minTime !== undefined);
  const blockBytes = blocks.reduce((a, b) => a + b.sizeBytes, 0);
  const totals = {
    blocks: blocks.length,
    blockBytes,
    samples: blocks.reduce((a, b) => a + (b.stats.numSamples ?? 0), 0),
    series: blocks.reduce((a, b) => a + (b.stats.numSeries ?? 0), 0),
    chunks: blocks.reduce((a, b) => a + (b.stats.numChunks ?? 0), 0),
    walBytes: wal?.bytes ?? 0,
    wblBytes: wbl?.bytes ?? 0,
    headChunkBytes: chunksHead?.bytes ?? 0,
    minTime: times.length ? Math.min(...times.map((b) => b.minTime!)) : undefined,
    maxTime: times.length ? Math.max(...times.map((b) => b.maxTime!)) : undefined,
    tsdbBytes: blockBytes + (wal?.bytes ?? 0) + (wbl?.bytes ?? 0) + (chunksHead?.bytes ?? 0),
  };
  return {
    schemaVersion: 1,
    path,
    layout,
    level,
    blocks,
    wal,
    wbl,
    chunksHead,
    lock,
    snapshots,
    totals,
    formats,
    compatibility: dataDirCompatibility(formats, opts.versions),
    problems,
  };
}
