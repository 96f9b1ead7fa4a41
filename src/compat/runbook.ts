/**
 * The claims of the two-stage upgrade runbook (shared/seeds/004_f4a1d4bea1de52e1.txt, "TSDB Format
 * Compatibility Matrix" and the stage diagrams) checked against the sources. `upgrade plan` prints every
 * correction that concerns the path it plans, so nobody schedules a "TSDB conversion" that never happens.
 */
export interface RunbookCorrection {
  id: string;
  /** The runbook's words. */
  claim: string;
  verdict: 'wrong' | 'misleading' | 'right-for-the-wrong-reason' | 'right';
  truth: string;
  /** Evidence stackshift can show on the user's own data (what `tsdb inspect` reports). */
  check?: string;
  source: string;
}

export const RUNBOOK_CORRECTIONS: RunbookCorrection[] = [
  {
    id: 'writer-2.48-v1',
    claim: 'Prometheus 2.48.1 writes TSDB format v1',
    verdict: 'wrong',
    truth:
      "every release from 2.1 to 3.14.0 writes index version 2 (byte 4 of each block's index file); 2.48.1 blocks carry 2",
    check: 'stackshift tsdb inspect shows the index version byte of every block',
    source: 'P@HEAD:tsdb/index/index.go (PutByte(FormatV2)); tsdb/repair.go (R§0, R§2a)',
  },
  {
    id: 'reader-2.48-v2',
    claim: '2.48.1 cannot read v2 ("Rollback from 2.55.1 to 2.48.1: IMPOSSIBLE")',
    verdict: 'wrong',
    truth:
      'releases up to 2.54.x read index versions 1 and 2, which is everything 2.55.1 writes; a rollback 2.55.1 -> 2.48.1 opens every block. What can block it is configuration that uses 2.55-only keys (metric_name_validation_scheme)',
    source: 'P@v2.54.1:tsdb/index/index.go (accepts {1,2}) (R§2a); config keys: R§1c',
  },
  {
    id: 'reader-2.55-v3',
    claim: '2.55.1 writes v2 and cannot read v3',
    verdict: 'wrong',
    truth:
      '2.55.0 is exactly the release that learned to read index version 3 (and 2.53.5 by backport); it still writes version 2',
    source: 'PRs #14934/#14939 (2.55.0), #16762 (2.53.5) (R§2a)',
  },
  {
    id: 'writer-3x-v3',
    claim: 'Prometheus 3.x (3.8.1) writes TSDB v3',
    verdict: 'wrong',
    truth: 'no release through 3.14.0 writes index version 3; 3.x blocks carry version 2 like 2.x blocks',
    check: 'after the upgrade, stackshift tsdb inspect still shows index version 2 on new blocks',
    source: 'P@HEAD:tsdb/index/index.go: no writer references FormatV3 (R§0)',
  },
  {
    id: 'reader-3x-v1',
    claim: '3.x cannot read v1; "2.48.1 -> 3.8.1 directly FAILS (cannot read v1)"',
    verdict: 'wrong',
    truth:
      'all 3.x releases read index versions 1, 2 and 3, so 3.x opens 2.48.1 blocks. The reason to stop at 2.55 is the rollback target and the 3.x preview flags, not the format',
    source:
      'P@HEAD:tsdb/index/index.go; docs/migration.md ("upgrade to 2.55 first"); bwplotka in PR #16803 ("current 3.x can read pre 2.53 blocks") (R§2b)',
  },
  {
    id: 'startup-conversion',
    claim: 'Start 2.55.1 / 3.8.1 "(Automatic Migration)": convert blocks v1 -> v2 -> v3, "TSDB Migration (10-15 min)"',
    verdict: 'wrong',
    truth:
      'nothing is converted: blocks are immutable and are never rewritten in place. Startup time is head chunk + WAL replay, proportional to the WAL size, which stackshift measures',
    check:
      'stackshift upgrade plan estimates the restart from the WAL size and the replay speed seen in the server log',
    source: 'P@HEAD:tsdb/db.go, tsdb/repair.go; MigrateWAL removed in 2.52.0 (commit 87edf1f) (R§2b)',
  },
  {
    id: 'one-way-stage-1',
    claim: 'Stage 1 is a "ONE-WAY MIGRATION: cannot rollback without restoring from backup"',
    verdict: 'wrong',
    truth:
      'stage 1 writes nothing the old 2.x cannot read (index v2, chunk encodings 1-3, WAL record types the old release knows), so the old binary can be started on the same data dir; keep 2.55-only config keys out until stage 1 is signed off',
    source: 'R§2a (readers per release), R§1c (2.55-only keys)',
  },
  {
    id: 'rollback-3-to-2.55',
    claim: 'Rollback from 3.8.1 to 2.55.1: POSSIBLE ("TSDB v3 readable by 2.55.1: no data loss")',
    verdict: 'right-for-the-wrong-reason',
    truth:
      'possible and officially supported, but because 3.x still writes v2, not because 2.55 reads a "v3" 3.x wrote. The real losses are silent: samples in WAL record types 9-13 (NHCB, st-storage) and chunks in encodings 4-6 (xor2, histogram ST) which 2.55 skips, and any 3.x-only config key makes 2.55 refuse the config',
    source: 'docs/migration.md; P@v2.55.1:tsdb/head_wal.go ~L227 (default: Noop); P@v2.55.1:tsdb/head.go ~L856 (R§2b)',
  },
  {
    id: 'stage2-native-histograms-flag',
    claim: 'Stage 2 (3.8.1): "Add --enable-feature=native-histograms"',
    verdict: 'misleading',
    truth:
      'from 3.8 the flag is deprecated (it only sets the default of scrape_native_histograms) and from 3.9 it is a no-op; use the scrape_native_histograms config key, which 2.55 cannot load (cutover)',
    source: 'CHANGELOG 3.8, 3.9 #17528 (R§1a, R§3a)',
  },
];
