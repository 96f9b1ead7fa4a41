import {
  CHUNK_ENCODINGS,
  DOWNGRADE_POLICY,
  INDEX_VERSIONS,
  META_VERSIONS,
  WAL_COMPRESSION,
  WAL_RECORD_TYPES,
  inAnyRange,
  type FormatFact,
} from './facts.js';
import { compareVersions, parseVersion } from './versions.js';

/** What was found on disk, reduced to the bytes that decide which release can read it. */
export interface FormatSummary {
  indexVersions: number[];
  metaVersions: number[];
  /** Encodings found in block chunk segments. */
  blockChunkEncodings: number[];
  /** Encodings found in chunks_head (out-of-order bit removed). */
  headChunkEncodings: number[];
  walRecordTypes: number[];
  walCompression: Array<'none' | 'snappy' | 'zstd'>;
}

export interface Claim {
  text: string;
  source: string;
}

export interface VersionVerdict {
  version: string;
  /** Opens every block and replays the WAL without losing anything. */
  verdict: 'opens' | 'opens-with-loss' | 'cannot-open';
  blockers: Claim[];
  losses: Claim[];
  /** What the project itself says about running this release on the directory (policy, not bytes). */
  policy?: Claim;
}

/** Releases the report checks by default: the ends of each line that matters to a 2.x -> 3.x upgrade. */
export const REFERENCE_VERSIONS = [
  '2.10.0',
  '2.39.0',
  '2.42.0',
  '2.48.1',
  '2.53.4',
  '2.53.5',
  '2.54.1',
  '2.55.1',
  '3.0.0',
  '3.5.5',
  '3.13.2',
  '3.14.0',
];

function fact(list: FormatFact[], id: number): FormatFact | undefined {
  return list.find((f) => f.id === id);
}

function readerText(f: FormatFact): string {
  return f.readers.map((r) => (r.to ? (r.from === r.to ? r.from : `${r.from}-${r.to}`) : `${r.from}+`)).join(', ');
}

export function versionVerdict(version: string, s: FormatSummary): VersionVerdict {
  const v = parseVersion(version);
  if (!v) throw new Error(`cannot parse version "${version}"`);
  const blockers: Claim[] = [];
  const losses: Claim[] = [];
  for (const id of s.indexVersions) {
    const f = fact(INDEX_VERSIONS, id);
    if (!f)
      blockers.push({
        text: `index version ${id} is unknown to every release the facts cover`,
        source: 'tsdb/index/index.go',
      });
    else if (!inAnyRange(v, f.readers))
      blockers.push({
        text: `blocks with ${f.name} cannot be opened (read by ${readerText(f)}): ${f.unreadable}`,
        source: f.source,
      });
  }
  for (const id of s.metaVersions) {
    const f = fact(META_VERSIONS, id);
    if (!f || !inAnyRange(v, f.readers))
      blockers.push({ text: `meta.json version ${id} is not readable`, source: 'tsdb/block.go' });
  }
  for (const id of s.blockChunkEncodings) {
    const f = fact(CHUNK_ENCODINGS, id);
    if (!f)
      losses.push({
        text: `block chunks with unknown encoding ${id} cannot be decoded`,
        source: 'tsdb/chunkenc/chunk.go',
      });
    else if (!inAnyRange(v, f.readers))
      losses.push({
        text: `block chunks in encoding ${id} (${f.name}) fail to decode at query time (read by ${readerText(f)})`,
        source: f.source,
      });
  }
  for (const id of s.headChunkEncodings) {
    const f = fact(CHUNK_ENCODINGS, id);
    if (!f || !inAnyRange(v, f.readers))
      losses.push({
        text: `head chunks (chunks_head) in encoding ${id}${f ? ` (${f.name})` : ''} are skipped at startup: their samples are lost`,
        source: f?.source ?? 'P@v2.55.1:tsdb/head.go ~L856',
      });
  }
  for (const id of s.walRecordTypes) {
    const f = fact(WAL_RECORD_TYPES, id);
    if (!f)
      losses.push({
        text: `WAL record type ${id} is unknown to every release the facts cover`,
        source: 'tsdb/record/record.go',
      });
    else if (!inAnyRange(v, f.readers))
      losses.push({ text: `WAL records of type ${id} (${f.name}): ${f.unreadable}`, source: f.source });
  }
  for (const c of s.walCompression) {
    const f = WAL_COMPRESSION.find((x) => x.id === c);
    if (f && !inAnyRange(v, f.readers))
      blockers.push({
        text: `the WAL is ${c}-compressed, which this release cannot read (${f.note})`,
        source: f.source,
      });
  }
  let policy: Claim | undefined;
  const v255 = parseVersion('2.55.0')!;
  if (v.major === 2 && compareVersions(v, v255) < 0 && s.indexVersions.every((i) => i <= 2)) {
    policy = {
      text: `formats allow it today, but a directory that 3.x has written is only supported on 2.55.x; ${DOWNGRADE_POLICY.futureIndexV3.statement}`,
      source: `${DOWNGRADE_POLICY.from3.source}; ${DOWNGRADE_POLICY.futureIndexV3.source}`,
    };
  }
  const verdict = blockers.length ? 'cannot-open' : losses.length ? 'opens-with-loss' : 'opens';
  return { version: v.raw, verdict, blockers, losses, policy };
}

/** Verdicts for the reference releases, plus the oldest reference release that opens everything losslessly. */
export function dataDirCompatibility(
  s: FormatSummary,
  versions: string[] = REFERENCE_VERSIONS,
): { verdicts: VersionVerdict[]; oldestLossless?: string } {
  const verdicts = versions.map((v) => versionVerdict(v, s));
  // The oldest release such that it and every later reference release open the directory without loss.
  let oldest: string | undefined;
  for (let i = verdicts.length - 1; i >= 0; i--) {
    if (verdicts[i].verdict !== 'opens') break;
    oldest = verdicts[i].version;
  }
  return { verdicts, oldestLossless: oldest };
}
