import type { PrometheusClient } from '../clients/index.js';
import { versionVerdict } from '../compat/index.js';
import { StackshiftError, UsageError } from '../errors/index.js';
import type { StateDb } from '../state/index.js';
import { inspectTsdb } from '../tsdb/index.js';
import type { ServerDriver } from './driver.js';
import { postUpgradeGates, seriesByName, type GateResult } from './gates.js';
import { latestRun, rollbackRun, withUpgradeLease } from './runner.js';

/**
 * `upgrade rollback`: the last run recorded for the server undone (old binary, files from the run's backups),
 * refused where the on-disk formats say the older release loses data, then the stage's gates run the other
 * way: against a baseline taken on the newer release just before the rollback, so every series it held (what
 * it wrote included) must be readable on the older one, every target up again, no rule newly failing.
 */
export interface RollbackOptions {
  state: StateDb;
  driver: ServerDriver;
  client: PrometheusClient;
  /** The data dir on this host: what the older release would have to read. */
  dataDir: string;
  acceptLoss?: boolean;
  readyTimeoutMs?: number;
  /** How long the gates wait for every target's first scrape and every rule's first evaluation (60 s). */
  settleMs?: number;
}

export interface RollbackReport {
  runId: number;
  from: string;
  to: string;
  restored: string[];
  verdict: string;
  seriesBefore: number;
  seriesAfter: number;
  /** Metric names with fewer series after the rollback: `name after/before`. */
  lost: string[];
  gates: GateResult[];
}

/** The instant the series are counted at: far enough back that every scrape before it has been appended. */
const SERIES_LOOKBACK_MS = 30_000;

export async function rollbackLastRun(o: RollbackOptions): Promise<RollbackReport> {
  return withUpgradeLease(o.state, async () => {
    const last = latestRun(o.state, o.client.url);
    if (!last || last.status === 'rolled-back')
      throw new UsageError(
        `no upgrade of ${o.client.url} to roll back in the state`,
        'rollback undoes the last upgrade run recorded for this server',
      );
    const verdict = versionVerdict(last.from_version, inspectTsdb(o.dataDir, { level: 'scan' }).formats);
    if (verdict.verdict !== 'opens' && !o.acceptLoss)
      throw new StackshiftError(
        'upgrade-rollback',
        `rolling back to ${last.from_version} would lose data: ${[...verdict.blockers, ...verdict.losses].map((c) => `${c.text} (${c.source})`).join('; ')}`,
        {
          hint: 'pass --accept-loss to roll back anyway, or restore the snapshot taken before the stage',
          exitCode: 1,
        },
      );
    const atMs = Date.now() - SERIES_LOOKBACK_MS;
    const before = await seriesByName(o.client, atMs);
    const targetsUp = (await o.client.targets('active')).activeTargets.filter((x) => x.health === 'up').length;
    const unhealthyRules = (await o.client.rules()).flatMap((g) =>
      g.rules.filter((r) => r.health === 'err').map((r) => `${g.name}/${r.name}`),
    );
    const restored = await rollbackRun(o.state, last.id, o.driver, o.client, o.readyTimeoutMs);
    const gates = await postUpgradeGates(o.client, o.driver, {
      to: last.from_version,
      baseline: { targetsUp, unhealthyRules, seriesAtMs: atMs, seriesByName: before },
      settleMs: o.settleMs,
    });
    const after = await seriesByName(o.client, atMs);
    return {
      runId: last.id,
      from: last.to_version,
      to: last.from_version,
      restored,
      verdict: verdict.verdict,
      seriesBefore: Object.values(before).reduce((a, b) => a + b, 0),
      seriesAfter: Object.values(after).reduce((a, b) => a + b, 0),
      lost: Object.entries(before)
        .filter(([n, c]) => (after[n] ?? 0) < c)
        .map(([n, c]) => `${n} ${after[n] ?? 0}/${c}`),
      gates,
    };
  });
}
