/**
 * Which Prometheus versions can lose, at a restart, samples they acknowledged and served while out-of-order
 * ingestion is on (prometheus/prometheus#19016). Sources, read in the prometheus repository (tag v2.42.0 and
 * main d15adb9, which is past v3.14.0):
 * - CHANGELOG.md 2.39.0: "[FEATURE] experimental TSDB: Add support for ingesting out-of-order samples ...
 *   `out_of_order_time_window`" (#11075): no version before it has an out-of-order head.
 * - CHANGELOG.md 3.14.0: "[BUGFIX] TSDB: Fix potential data loss on restart when out-of-order ingestion is
 *   enabled and blocks are compacted. #19016".
 * - tsdb/compact.go `CompactBlockMetas`: v2.42.0 copies no compaction hint into a merged block; since commit
 *   7ea525a ("preserve out-of-order hint when merging blocks", in #19016) it keeps `from-out-of-order` only when
 *   every merged block has it, and `LeveledCompactor.plan` still merges out-of-order blocks with in-order ones
 *   ("deliberately NOT segregated").
 * - tsdb/db.go `inOrderBlocksMaxTime` sets the WAL-replay cutoff from blocks without the hint, and
 *   tsdb/head_wal.go `loadWAL` discards WAL samples older than it ("Before minValidTime: discard").
 * - test/backfill/receiver-loss.test.ts: a mixed merge lost 1,200 of 4,665 acknowledged samples (10 of 15
 *   series, 2 h each) at the restart of every lab version, 2.42, 2.48.1, 2.55.1, 3.8.1 and 3.16.0.
 */
import { atLeast } from './ranges.js';
import { parseVersion } from './versions.js';

export const OOO_RESTART_LOSS = {
  issue: 'prometheus/prometheus#19016',
  title:
    'Fix potential data loss on restart when out-of-order ingestion is enabled and blocks are compacted (CHANGELOG 3.14.0)',
  /** The first release with out-of-order ingestion. */
  outOfOrderSince: '2.39.0',
  /** The release whose fix keeps the out-of-order mark through merges of out-of-order blocks only. */
  partialFix: '3.14.0',
  /** Lab versions on which test/backfill/receiver-loss.test.ts (or its ad hoc run) saw the loss. */
  observedOn: ['2.42.0', '2.48.1', '2.55.1', '3.8.1', '3.16.0'],
} as const;

export interface OooRestartLoss {
  /** Which merges drop the out-of-order mark: every merge (before 3.14.0) or in-order with out-of-order ones. */
  merges: 'any' | 'mixed';
  /** One sentence on why this version is affected, with the source. */
  why: string;
}

/**
 * Whether a Prometheus of this version, with out-of-order ingestion on, can lose acknowledged samples at a
 * restart after compaction. Undefined for a version without out-of-order ingestion or that does not parse.
 * No release the facts know is free of it: the loss of mixed merges was seen on 3.16.0.
 */
export function oooRestartLoss(version: string): OooRestartLoss | undefined {
  const v = parseVersion(version);
  if (!v || !atLeast(v, OOO_RESTART_LOSS.outOfOrderSince)) return undefined;
  return atLeast(v, OOO_RESTART_LOSS.partialFix)
    ? {
        merges: 'mixed',
        why: `Prometheus ${v.raw} keeps the out-of-order mark of merged blocks only when every one has it (${OOO_RESTART_LOSS.issue}, ${OOO_RESTART_LOSS.partialFix}); a merge of out-of-order with in-order blocks still moves the WAL-replay cutoff past samples only the WAL holds (seen on 3.16.0)`,
      }
    : {
        merges: 'any',
        why: `Prometheus ${v.raw} drops the out-of-order mark whenever its compactor merges blocks (fixed in part in ${OOO_RESTART_LOSS.partialFix}, ${OOO_RESTART_LOSS.issue}); the merged block moves the WAL-replay cutoff past samples only the WAL holds`,
      };
}
