import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { PROMETHEUS, freePort, prometheusBinary, writeHistoryRemote } from '../lab/index.js';
import { mdTable } from '../report/index.js';
import { openState } from '../state/index.js';
import {
  UPGRADE_MIGRATIONS,
  localDriver,
  rollbackLastRun,
  runUpgrade,
  type RollbackReport,
  type RunReport,
} from '../upgrade/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

/**
 * The upgrade runbook on real binaries: a 2.48.1 server run by the local driver (scraping three targets every
 * second, with remote-written history), upgraded stage by stage to 2.55.1 and then 3.8.1 with `--zero-gap`,
 * each stage gated and signed off, its gap measured from the data; then `upgrade rollback` back to 2.55.1,
 * gated against a baseline taken on 3.8.1 just before it (every series 3.8.1 held readable on 2.55.1, every
 * target up, the server on 2.55.1 again).
 */
async function targets(n: number): Promise<{ ports: number[]; close(): void }> {
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    let c = 0;
    const s = createServer((_q, r) => {
      c++;
      r.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      r.end(`# TYPE rehearsal_target_requests_total counter\nrehearsal_target_requests_total ${c}\n`);
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
  }
  return {
    ports: servers.map((s) => (s.address() as { port: number }).port),
    close: () =>
      servers.forEach((s) => {
        s.closeAllConnections();
        s.close();
      }),
  };
}

export const upgradeRunStep: RehearsalStep = {
  id: 'upgrade-run',
  title:
    'Run the upgrade 2.48.1 -> 2.55.1 -> 3.8.1 with --zero-gap, then roll back to 2.55.1 (stackshift upgrade run, upgrade rollback)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const dir = join(ctx.workDir, 'upgrade-run');
    mkdirSync(dir, { recursive: true });
    const t = await targets(3);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dataDir = join(dir, 'data');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [${t.ports.map((p) => `'127.0.0.1:${p}'`).join(', ')}]\nstorage:\n  tsdb:\n    out_of_order_time_window: 3650d\n`,
    );
    const unit = join(dir, 'prometheus.args');
    writeFileSync(
      unit,
      [
        prometheusBinary(PROMETHEUS.start),
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-admin-api',
        '--web.enable-remote-write-receiver',
        '--storage.tsdb.retention.time=3650d',
        '',
      ].join('\n'),
    );
    const driver = localDriver(unit);
    const client = new PrometheusClient(endpointFromUrl(url));
    const db = openState(join(dir, 'state.db'), UPGRADE_MIGRATIONS);
    const reports: RunReport[] = [];
    let rollback: RollbackReport | undefined;
    let rollbackMs = 0;
    try {
      driver.start();
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await client.ensureReady();
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      await writeHistoryRemote(`${url}/api/v1/write`, {
        series: 50,
        durationMs: 6 * 3_600_000,
        intervalMs: 60_000,
        seed: ctx.opts.seed,
        endMs: Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000,
      });
      // every target scraped (up) before the first stage, so the baseline holds them
      for (const deadline2 = Date.now() + 60_000; ;) {
        const up = (await client.targets('active')).activeTargets.filter((x) => x.health === 'up').length;
        if (up === t.ports.length) break;
        if (Date.now() > deadline2) throw new Error(`only ${up} of ${t.ports.length} rehearsal targets up after 60 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, 3000));
      for (const to of [PROMETHEUS.bridge, PROMETHEUS.target]) {
        reports.push(
          await runUpgrade({
            client,
            driver,
            state: db,
            to,
            binary: prometheusBinary(to),
            dataDir,
            zeroGap: true,
            workDir: dir,
            readyTimeoutMs: 300_000,
          }),
        );
        if (reports.at(-1)!.status !== 'signed-off') break;
      }
      if (reports.length === 2 && reports[1]!.status === 'signed-off') {
        const t0 = Date.now();
        rollback = await rollbackLastRun({ state: db, driver, client, dataDir, readyTimeoutMs: 300_000 });
        rollbackMs = Date.now() - t0;
      }
    } finally {
      await driver.stop().catch(() => undefined);
      t.close();
      db.close();
      await client.close();
    }
    const rolledBack =
      rollback !== undefined &&
      rollback.to === PROMETHEUS.bridge &&
      rollback.lost.length === 0 &&
      rollback.gates.length > 0 &&
      rollback.gates.every((g) => g.passed);
    const ok =
      rolledBack &&
      reports.length === 2 &&
      reports.every((r) => r.status === 'signed-off' && r.gap?.maxMissedIntervals === 0);
    return {
      status: ok ? 'passed' : 'failed',
      summary: [
        ...reports.map(
          (r) =>
            `${r.from} -> ${r.to} ${r.status}: replay ${((r.replay?.durationMs ?? 0) / 1000).toFixed(1)} s, ${r.gates?.filter((g) => g.passed).length ?? 0}/${r.gates?.length ?? 0} gates, ${r.fill?.samples ?? 0} samples filled from the shadow, ${r.gap?.maxMissedIntervals ?? '?'} missed scrape intervals`,
        ),
        rollback
          ? `rollback ${rollback.from} -> ${rollback.to} in ${(rollbackMs / 1000).toFixed(1)} s: ${rollback.seriesAfter}/${rollback.seriesBefore} series readable, ${rollback.gates.filter((g) => g.passed).length}/${rollback.gates.length} gates${rollback.lost.length ? `, LOST ${rollback.lost.join(', ')}` : ''}`
          : 'rollback not run (a stage did not sign off)',
      ].join('; '),
      details: reports
        .map((r) =>
          [
            `#### ${r.from} -> ${r.to}: ${r.status}`,
            '',
            mdTable(
              ['Gate', 'Passed', 'Detail'],
              (r.gates ?? []).map((g) => [g.id, g.passed ? 'yes' : 'NO', g.detail]),
            ),
            '',
            mdTable(
              ['Target', 'Missed intervals'],
              (r.gap?.targets ?? []).map((g) => [g.instance, String(g.missedIntervals)]),
            ),
          ].join('\n'),
        )
        .concat(
          rollback
            ? [
                [
                  `#### rollback ${rollback.from} -> ${rollback.to}: ${rolledBack ? 'gates passed' : 'FAILED'}`,
                  '',
                  mdTable(
                    ['Gate', 'Passed', 'Detail'],
                    rollback.gates.map((g) => [g.id, g.passed ? 'yes' : 'NO', g.detail]),
                  ),
                ].join('\n'),
              ]
            : [],
        )
        .join('\n\n'),
      data: [
        ...reports.map((r) => ({
          from: r.from,
          to: r.to,
          status: r.status,
          gap: r.gap?.maxMissedIntervals,
          fill: r.fill,
        })),
        ...(rollback
          ? [
              {
                from: rollback.from,
                to: rollback.to,
                status: rolledBack ? 'rolled-back' : 'rollback-failed',
                ms: rollbackMs,
                seriesBefore: rollback.seriesBefore,
                seriesAfter: rollback.seriesAfter,
                lost: rollback.lost,
                gates: rollback.gates.map((g) => ({ id: g.id, passed: g.passed })),
              },
            ]
          : []),
      ],
    };
  },
};
