// Why one file of about 440 lines: it is a table of version facts (release lines, on-disk formats, support), each
// with its source, read by assess, lint, tsdb and upgrade; one file keeps every fact one search away.
/**
 * Prometheus version facts as data, each with the source it was read from. "R§2a" means the research note
 * shared/research/prometheus-3.md, section 2a, which quotes the upstream files (P@<tag>:<path>) it read.
 * Nothing here is recalled from memory: a fact without a source does not belong in this file.
 */
import { compareVersions, parseVersion, type Version } from './versions.js';

/** The date of the newest source the facts were read from (prometheus main d15adb9). */
export const FACTS_AS_OF = '2026-08-21';

export interface VersionRange {
  /** Inclusive lower bound. */
  from: string;
  /** Inclusive upper bound; absent means "and every later release the facts know". */
  to?: string;
}

export function inRange(v: Version | string, r: VersionRange): boolean {
  const ver = typeof v === 'string' ? parseVersion(v) : v;
  if (!ver) return false;
  if (compareVersions(ver, parseVersion(r.from)!) < 0) return false;
  if (r.to && compareVersions(ver, parseVersion(r.to)!) > 0) return false;
  return true;
}

export function inAnyRange(v: Version | string, ranges: VersionRange[]): boolean {
  return ranges.some((r) => inRange(v, r));
}

// ---------------------------------------------------------------------------------------------------------
// Release lines

export interface ReleaseLine {
  line: string;
  latest: string;
  lts?: { supportedUntil: string };
  note?: string;
  source: string;
}

/** Latest patch per line, where the sources name it. Lines not listed: take the newest patch of the line. */
export const RELEASE_LINES: ReleaseLine[] = [
  {
    line: '2.53',
    latest: '2.53.5',
    lts: { supportedUntil: '2025-07-31' },
    note: 'LTS, end of life 2025-07-31; 2.53.5 backports the index v3 reader',
    source: 'docs/introduction/release-cycle.md (prometheus/docs c105550); PR #16762 (R§0, R§2a)',
  },
  { line: '2.54', latest: '2.54.1', source: 'tag v2.54.1 (R§2a)' },
  {
    line: '2.55',
    latest: '2.55.1',
    note: 'last 2.x minor, released 2024-11-04 (the tag misprints 2024-01-04)',
    source: 'CHANGELOG.md, release-2.55 branch (R§0)',
  },
  {
    line: '3.5',
    latest: '3.5.5',
    lts: { supportedUntil: '2026-07-31' },
    source: 'docs/introduction/release-cycle.md (R§0)',
  },
  {
    line: '3.13',
    latest: '3.13.2',
    lts: { supportedUntil: '2027-07-31' },
    source: 'docs/introduction/release-cycle.md (R§0)',
  },
  {
    line: '3.14',
    latest: '3.14.0',
    note: 'newest release in CHANGELOG.md at main d15adb9 (2026-08-17)',
    source: 'CHANGELOG.md @ main d15adb9 (R§0)',
  },
];

export const LATEST = { v2: '2.55.1', v3: '3.14.0', lts: '3.13.2' } as const;

export function releaseLine(v: Version | string): ReleaseLine | undefined {
  const ver = typeof v === 'string' ? parseVersion(v) : v;
  if (!ver) return undefined;
  return RELEASE_LINES.find((l) => l.line === `${ver.major}.${ver.minor}`);
}

/**
 * Turns what a user types into a concrete release: "3" / "3.x" / "lts" -> the latest LTS, "latest" -> the
 * newest release, "3.13" -> the newest known patch of that line, "3.5.0" -> itself (with a note when a
 * newer patch of the line exists).
 */
export function resolveTarget(text: string): { version: string; note?: string } | undefined {
  const t = text.trim().toLowerCase().replace(/^v/, '');
  if (t === 'lts' || t === '3' || t === '3.x')
    return { version: LATEST.lts, note: `"${text}" means the latest 3.x LTS release, ${LATEST.lts}` };
  if (t === 'latest')
    return { version: LATEST.v3, note: `"latest" means ${LATEST.v3}, the newest release the facts know` };
  if (t === '2.x' || t === '2')
    return { version: LATEST.v2, note: `"${text}" means the last 2.x release, ${LATEST.v2}` };
  const m = /^(\d+)\.(\d+)(?:\.x)?$/.exec(t);
  if (m) {
    const line = RELEASE_LINES.find((l) => l.line === `${m[1]}.${m[2]}`);
    if (line) return { version: line.latest, note: `"${text}" means the newest ${line.line} patch, ${line.latest}` };
    return { version: `${m[1]}.${m[2]}.0` };
  }
  const v = parseVersion(t);
  if (!v || !/^\d+\.\d+\.\d+/.test(t)) return undefined;
  const line = releaseLine(v);
  if (line && compareVersions(v, parseVersion(line.latest)!) < 0) {
    return {
      version: v.raw,
      note: `${v.raw} is not the newest ${line.line} patch: ${line.latest} is (${line.source})`,
    };
  }
  return { version: v.raw };
}

export function supportStatus(
  v: Version | string,
  asOf = new Date().toISOString().slice(0, 10),
): { lts: boolean; supportedUntil?: string; expired?: boolean } {
  const line = releaseLine(v);
  if (!line?.lts) return { lts: false };
  return { lts: true, supportedUntil: line.lts.supportedUntil, expired: line.lts.supportedUntil < asOf };
}

// ---------------------------------------------------------------------------------------------------------
// On-disk formats: who writes what, who reads what

export interface FormatFact {
  id: number;
  name: string;
  /** Releases that can read it. */
  readers: VersionRange[];
  /** Releases that write it, and when. */
  writers: string;
  /** What a release outside `readers` does when it meets it. */
  unreadable: string;
  source: string;
}

/** Byte 4 of every block's `index` file (magic 0xBAAAD700 before it). */
export const INDEX_VERSIONS: FormatFact[] = [
  {
    id: 1,
    name: 'index v1',
    readers: [{ from: '2.0.0' }],
    writers: 'Prometheus 2.0 only',
    unreadable: 'n/a',
    source: 'tsdb/index/index.go (FormatV1); tsdb/repair.go',
  },
  {
    id: 2,
    name: 'index v2',
    readers: [{ from: '2.1.0' }],
    writers: 'every release from 2.1 to 3.14.0 (the writer calls PutByte(FormatV2); no writer references FormatV3)',
    unreadable: 'n/a',
    source:
      'P@HEAD:tsdb/index/index.go; tsdb/repair.go ("blocks written by Prometheus 2.1 ... set the index file version to 2") (R§0, R§2a)',
  },
  {
    id: 3,
    name: 'index v3',
    readers: [{ from: '2.53.5', to: '2.53.5' }, { from: '2.55.0' }],
    writers: 'no release through 3.14.0; planned (issue #14749: drop Label Index / Label Offset Table)',
    unreadable: 'the block cannot be opened: "unknown index file version 3", and Prometheus refuses to start',
    source: 'P@v2.54.1 / P@v2.55.0 tsdb/index/index.go; PRs #14934, #14939 (2.55), #16762 (2.53.5) (R§2a)',
  },
];

/** `"version"` in a block's meta.json. */
export const META_VERSIONS: FormatFact[] = [
  {
    id: 1,
    name: 'meta.json v1',
    readers: [{ from: '2.0.0' }],
    writers: 'every release',
    unreadable: 'n/a',
    source: 'tsdb/block.go metaVersion1 (R§2a)',
  },
];

type OptInFormat = Omit<FormatFact, 'id' | 'name'> & { optIn: string };

/** Chunk encodings 5 and 6: the same opt-in, readers and failure (R§2a). */
const ST_HISTOGRAM_CHUNK: OptInFormat = {
  readers: [{ from: '3.14.0' }],
  writers: 'only with --enable-feature=histograms-st-encoding (3.14)',
  optIn: 'histograms-st-encoding',
  unreadable: 'block chunks fail to decode; chunks_head chunks are skipped silently',
  source: 'tsdb/chunkenc/chunk.go per tag (R§2a)',
};

/** The encoding byte of each chunk, in block chunk segments and in chunks_head. */
export const CHUNK_ENCODINGS: Array<FormatFact & { optIn?: string }> = [
  {
    id: 1,
    name: 'XOR',
    readers: [{ from: '2.0.0' }],
    writers: 'every release, for float samples',
    unreadable: 'n/a',
    source: 'tsdb/chunkenc/chunk.go (R§2a)',
  },
  {
    id: 2,
    name: 'histogram',
    readers: [{ from: '2.40.0' }],
    writers: 'native histograms (2.40+)',
    unreadable: 'chunk cannot be decoded',
    source: 'tsdb/chunkenc/chunk.go per tag (R§2a)',
  },
  {
    id: 3,
    name: 'floathistogram',
    readers: [{ from: '2.42.0' }],
    writers: 'native float histograms (2.42+)',
    unreadable: 'chunk cannot be decoded',
    source: 'tsdb/chunkenc/chunk.go per tag (R§2a)',
  },
  {
    id: 4,
    name: 'XOR2',
    readers: [{ from: '3.11.0' }],
    writers: 'only with --enable-feature=xor2-encoding (3.11+) or storage.tsdb.chunk_encoding.floats: xor2 (3.13+)',
    optIn: 'xor2-encoding',
    unreadable:
      '2.55 IsValidEncoding = {1,2,3}: block chunks fail to decode at query time; chunks_head chunks are skipped silently at startup (P@v2.55.1:tsdb/head.go ~L856)',
    source: 'tsdb/chunkenc/chunk.go per tag (R§2a, R§2b)',
  },
  { id: 5, name: 'histogramST', ...ST_HISTOGRAM_CHUNK },
  { id: 6, name: 'floathistogramST', ...ST_HISTOGRAM_CHUNK },
];

/** WAL record types 9 and 10, written for native histograms with custom buckets (R§2a, R§2b). */
const NHCB_RECORD: OptInFormat = {
  readers: [{ from: '3.2.0' }],
  writers: 'NHCB (convert_classic_histograms_to_nhcb), 3.2+',
  optIn: 'convert_classic_histograms_to_nhcb',
  unreadable:
    '2.55 replay hits `default: // Noop`: the samples are silently dropped (P@v2.55.1:tsdb/head_wal.go ~L227)',
  source: 'tsdb/record/record.go per tag (R§2a, R§2b)',
};

/** WAL record types 12 and 13, the histogram halves of st-storage (R§2a). */
const ST_HISTOGRAM_RECORD: OptInFormat = {
  readers: [{ from: '3.12.0' }],
  writers: 'with st-storage (3.12+)',
  optIn: 'st-storage',
  unreadable: 'silently dropped on replay by 2.55',
  source: 'tsdb/record/record.go per tag (R§2a)',
};

/** First byte of every WAL/WBL record. */
export const WAL_RECORD_TYPES: Array<FormatFact & { optIn?: string }> = [
  {
    id: 1,
    name: 'series',
    readers: [{ from: '2.0.0' }],
    writers: 'every release',
    unreadable: 'n/a',
    source: 'tsdb/record/record.go (R§2a)',
  },
  {
    id: 2,
    name: 'samples',
    readers: [{ from: '2.0.0' }],
    writers: 'every release',
    unreadable: 'n/a',
    source: 'tsdb/record/record.go (R§2a)',
  },
  {
    id: 3,
    name: 'tombstones',
    readers: [{ from: '2.0.0' }],
    writers: 'every release (after delete_series)',
    unreadable: 'n/a',
    source: 'tsdb/record/record.go (R§2a)',
  },
  // Types 4-6 are numbered before type 7 (2.40), so 2.40+ reads them; the release that introduced each is not
  // in the sources, so older releases are treated as "not known to read it" rather than guessed.
  {
    id: 4,
    name: 'exemplars',
    readers: [{ from: '2.40.0' }],
    writers: 'with --enable-feature=exemplar-storage',
    unreadable: 'not known to be read',
    source: 'tsdb/record/record.go (R§2a); reader floor inferred from the type numbering',
  },
  {
    id: 5,
    name: 'mmap markers',
    readers: [{ from: '2.40.0' }],
    writers: 'out-of-order WBL only',
    unreadable: 'not known to be read',
    source: 'tsdb/record/record.go (R§2a); reader floor inferred from the type numbering',
  },
  {
    id: 6,
    name: 'metadata',
    readers: [{ from: '2.40.0' }],
    writers: 'with --enable-feature=metadata-wal-records',
    unreadable: 'not known to be read',
    source: 'tsdb/record/record.go (R§2a); reader floor inferred from the type numbering',
  },
  {
    id: 7,
    name: 'histogram samples',
    readers: [{ from: '2.40.0' }],
    writers: 'native histograms',
    unreadable: 'skipped: the samples are lost',
    source: 'tsdb/record/record.go per tag (R§2a)',
  },
  {
    id: 8,
    name: 'float histogram samples',
    readers: [{ from: '2.42.0' }],
    writers: 'native float histograms',
    unreadable: 'skipped: the samples are lost',
    source: 'tsdb/record/record.go per tag (R§2a)',
  },
  { id: 9, name: 'custom-buckets histogram samples', ...NHCB_RECORD },
  { id: 10, name: 'custom-buckets float histogram samples', ...NHCB_RECORD },
  {
    id: 11,
    name: 'samples v2',
    readers: [{ from: '3.11.0' }],
    writers: 'with --enable-feature=st-storage (3.11+)',
    optIn: 'st-storage',
    unreadable: 'silently dropped on replay by 2.55: every float sample written in that record is lost',
    source: 'tsdb/record/record.go per tag (R§2a, R§2b)',
  },
  { id: 12, name: 'histogram samples v2', ...ST_HISTOGRAM_RECORD },
  { id: 13, name: 'float histogram samples v2', ...ST_HISTOGRAM_RECORD },
  {
    id: 14,
    name: 'min valid time',
    readers: [{ from: '99.0.0' }],
    writers: 'checkpoints only, on prometheus main after the research snapshot (no release the facts know)',
    unreadable: 'skipped',
    source: 'tsdb/record/record.go @ main 01038862',
  },
];

/**
 * 3.x opt-in features whose data 2.55 cannot read back after a rollback (R§2b), derived from the formats
 * above that only the feature writes: its first release is the first that reads any of them.
 */
export const DOWNGRADE_LOSSY_FEATURES: Array<{ id: string; since: string; loses: string; source: string }> = (() => {
  const formats = [
    ...WAL_RECORD_TYPES.map((f) => ({ ...f, kind: 'WAL record type' })),
    ...CHUNK_ENCODINGS.map((f) => ({ ...f, kind: 'chunk encoding' })),
  ];
  const features = [...new Set(formats.map((f) => f.optIn).filter((x): x is string => Boolean(x)))];
  return features.map((id) => {
    const written = formats.filter((f) => f.optIn === id);
    const since = written
      .map((f) => f.readers[0].from)
      .sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!))[0];
    return {
      id,
      since,
      // formats that fail the same way are named together, so the condition says each failure once
      loses: [...new Set(written.map((f) => `${f.kind}|${f.unreadable}`))]
        .map((k) => {
          const same = written.filter((f) => `${f.kind}|${f.unreadable}` === k);
          return `${same[0].kind}${same.length > 1 ? 's' : ''} ${same.map((f) => `${f.id} (${f.name})`).join(', ')}: ${same[0].unreadable}`;
        })
        .join('; '),
      source: [...new Set(written.map((f) => f.source))].join('; '),
    };
  });
})();

export const WAL_COMPRESSION: Array<{
  id: 'none' | 'snappy' | 'zstd';
  readers: VersionRange[];
  note: string;
  source: string;
}> = [
  { id: 'none', readers: [{ from: '2.0.0' }], note: 'uncompressed records', source: 'tsdb/docs/format/wal.md' },
  {
    id: 'snappy',
    readers: [{ from: '2.11.0' }],
    note: 'the default since 2.20 (this is what stops a downgrade to <= 2.10)',
    source: 'CHANGELOG 2.20.0; P@HEAD:tsdb/docs/format/wal.md (R§2a)',
  },
  {
    id: 'zstd',
    readers: [{ from: '2.46.0' }],
    note: 'hidden flag --storage.tsdb.wal-compression-type=zstd',
    source: 'CHANGELOG 2.46.0 (R§2a)',
  },
];

export const BLOCK_CHUNK_SEGMENT = {
  magic: 0x85bd40dd,
  version: 1,
  source: 'P@HEAD:tsdb/docs/format/chunks.md (R§2a)',
} as const;
export const HEAD_CHUNK_SEGMENT = {
  magic: 0x0130bc91,
  version: 1,
  source: 'tsdb/chunks/head_chunks.go MagicHeadChunks',
} as const;
export const INDEX_MAGIC = 0xbaaad700;
export const TOMBSTONES_MAGIC = 0x0130ba30;

// ---------------------------------------------------------------------------------------------------------
// Downgrade policy (what the project says, as opposed to what the bytes allow)

export const DOWNGRADE_POLICY = {
  from3: {
    officialTargets: '2.55.x',
    statement: 'a 3.x data directory may be downgraded to 2.55.x only ("you will be only able to downgrade to v2.55")',
    source: 'docs/migration.md (P@HEAD) (R§2b)',
  },
  formatToday: {
    statement:
      'no release through 3.14.0 writes index v3, so the format itself does not yet stop an older 2.x from opening 3.x blocks; a maintainer: the format "didn\'t change yet, we only added future compatible reading"',
    source: 'bwplotka in https://github.com/prometheus/prometheus/pull/16803 (closed unmerged) (R§2b)',
  },
  futureIndexV3: {
    statement:
      'once a release writes index v3, every release before 2.55.0 (except 2.53.5) fails with "unknown index file version 3"',
    source: 'https://github.com/prometheus/prometheus/issues/14749 (R§2b)',
  },
  noConversion: {
    statement:
      "nothing is converted at startup: blocks are immutable and compaction writes new blocks in the writer's format (v2); the only startup rewrites are repairBadIndexVersion (blocks of Prometheus 2.1 with meta.json version 2) and the legacy WAL migration MigrateWAL, removed in 2.52.0",
    source: 'P@HEAD:tsdb/db.go, tsdb/repair.go; commit 87edf1f (R§2b)',
  },
} as const;

/** Lines Prometheus logs while it replays its WAL; a replay speed is measured from them. */
export const REPLAY_LOG_FACTS = {
  segmentLoaded: 'WAL segment loaded',
  replayCompleted: 'WAL replay completed',
  source: 'P@v2.55.1 / P@HEAD:tsdb/head.go Init; 3.4+ adds duration= to "WAL segment loaded" (#16336) (R§5)',
  walreplaySource: '/api/v1/status/walreplay returns only {min,max,current} (web/api/v1/api.go) (R§5)',
  defaultSegmentBytes: 128 * 1024 * 1024,
} as const;
