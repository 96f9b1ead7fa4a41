import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { labelsKey, type Label } from '../wire/index.js';
import { ChunkSegmentWriter } from './chunks-writer.js';
import { compareLabelSets, writeIndex, type BlockSeries } from './index-writer.js';

/** Prometheus removes directories with this suffix at startup and never loads them (tsdb/db.go tmpForCreationBlockDirSuffix). */
export const TMP_SUFFIX = '.tmp-for-creation';

export interface BlockStats {
  numSamples: number;
  numSeries: number;
  numChunks: number;
  numFloatSamples: number;
  numHistogramSamples: number;
}

export interface BlockMetaJson {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: BlockStats;
  compaction: { level: number; sources: string[] };
  version: 1;
  thanos?: {
    labels: Record<string, string>;
    downsample: { resolution: number };
    source: string;
    segment_files: string[];
    files: Array<{ rel_path: string; size_bytes?: number }>;
  };
}

export interface WrittenBlock {
  ulid: string;
  dir: string;
  meta: BlockMetaJson;
  bytes: number;
}

/**
 * fsync of a file or directory in libuv's thread pool: a block's files are synced together and the event loop
 * keeps streaming the next block meanwhile (fsync on a read-only descriptor flushes the file, on Linux too).
 */
async function fsyncPath(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function writeFileUnsynced(path: string, data: string): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    const buf = Buffer.from(data);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } finally {
    closeSync(fd);
  }
}

/** A complete block already at its final place (renamed there by an earlier run of the same unit). */
export function existingBlock(parent: string, ulid: string): WrittenBlock | undefined {
  const dir = join(parent, ulid);
  if (!existsSync(join(dir, 'meta.json'))) return undefined;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as BlockMetaJson;
  return { ulid, dir, meta, bytes: 0 };
}

/**
 * One TSDB block under construction in `<parent>/<ULID>.tmp-for-creation`: chunks are appended as they stream
 * (memory holds only each series' labels and chunk metas), the index is written at the end from the sorted
 * series, then meta.json; every file and directory is fsynced and the directory renamed to `<parent>/<ULID>`,
 * so a reader (Prometheus, an upload) never sees a half-written block, and a kill -9 leaves only a temp dir.
 */
export class BlockWriter {
  readonly tmpDir: string;
  private readonly chunks: ChunkSegmentWriter;
  private readonly series = new Map<string, BlockSeries>();
  private stats: BlockStats = { numSamples: 0, numSeries: 0, numChunks: 0, numFloatSamples: 0, numHistogramSamples: 0 };

  constructor(
    readonly parent: string,
    readonly ulid: string,
    readonly minTime: number,
    readonly maxTime: number,
    private readonly thanos?: { source: string },
    maxSegmentBytes?: number,
  ) {
    mkdirSync(parent, { recursive: true });
    this.tmpDir = join(parent, ulid + TMP_SUFFIX);
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir);
    this.chunks = new ChunkSegmentWriter(this.tmpDir, maxSegmentBytes);
  }

  /** Appends one chunk of a series; `samples` counts its samples (the chunk's 16-bit header). */
  addChunk(
    labels: Label[],
    key: string | undefined,
    encoding: number,
    minT: number,
    maxT: number,
    data: Uint8Array,
    samples: number,
    histogram: boolean,
  ): void {
    const k = key ?? labelsKey(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, chunks: [] }));
    const ref = this.chunks.append(encoding, data);
    s.chunks.push(minT, maxT, ref);
    this.stats.numChunks++;
    this.stats.numSamples += samples;
    if (histogram) this.stats.numHistogramSamples += samples;
    else this.stats.numFloatSamples += samples;
  }

  get seriesCount(): number {
    return this.series.size;
  }
  get sampleCount(): number {
    return this.stats.numSamples;
  }

  /** Writes index and meta.json, fsyncs every file and directory, renames into place. */
  async finish(): Promise<WrittenBlock> {
    this.chunks.close();
    const list = [...this.series.values()];
    this.series.clear();
    list.sort((a, b) => compareLabelSets(a.labels, b.labels));
    for (const s of list) sortChunks(s);
    const { bytes: indexBytes } = writeIndex(join(this.tmpDir, 'index'), list);
    this.stats.numSeries = list.length;
    const meta: BlockMetaJson = {
      ulid: this.ulid,
      minTime: this.minTime,
      maxTime: this.maxTime,
      stats: this.stats,
      compaction: { level: 1, sources: [this.ulid] },
      version: 1,
    };
    const chunkBytes = this.chunks.segments.reduce((a, s) => a + s.bytes, 0);
    if (this.thanos) {
      meta.thanos = {
        labels: {},
        downsample: { resolution: 0 },
        source: this.thanos.source,
        segment_files: this.chunks.segments.map((s) => s.name),
        files: [
          ...this.chunks.segments.map((s) => ({ rel_path: `chunks/${s.name}`, size_bytes: s.bytes })),
          { rel_path: 'index', size_bytes: indexBytes },
          { rel_path: 'meta.json' },
        ],
      };
    }
    writeFileUnsynced(join(this.tmpDir, 'meta.json'), JSON.stringify(meta, null, '\t'));
    await Promise.all(
      [...this.chunks.files(), join(this.tmpDir, 'index'), join(this.tmpDir, 'meta.json'), this.chunks.dir].map(
        fsyncPath,
      ),
    );
    await fsyncPath(this.tmpDir);
    const dir = join(this.parent, this.ulid);
    await rename(this.tmpDir, dir);
    await fsyncPath(this.parent);
    return { ulid: this.ulid, dir, meta, bytes: chunkBytes + indexBytes + statSync(join(dir, 'meta.json')).size };
  }

  /** Removes the temp dir (a failed attempt). */
  abort(): void {
    this.series.clear();
    try {
      this.chunks.close();
    } catch {
      /* already closed or never opened */
    }
    rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/** Chunks in time order; overlapping chunks would make a corrupt block, so they are refused here. */
function sortChunks(s: BlockSeries): void {
  const c = s.chunks;
  let sorted = true;
  for (let i = 3; i < c.length; i += 3)
    if (c[i] <= c[i - 2]) {
      sorted = false;
      break;
    }
  if (sorted) return;
  const triples: number[][] = [];
  for (let i = 0; i < c.length; i += 3) triples.push([c[i], c[i + 1], c[i + 2]]);
  triples.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < triples.length; i++) {
    if (triples[i][0] <= triples[i - 1][1])
      throw new Error(
        `series ${labelsKey(s.labels)} has overlapping chunks (${triples[i - 1][0]}..${triples[i - 1][1]} and ${triples[i][0]}..${triples[i][1]}): the source returned the same samples twice`,
      );
  }
  s.chunks = triples.flat();
}
