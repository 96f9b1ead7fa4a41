import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient } from '../src/clients/index.js';
import { endpointFromUrl } from '../src/config/index.js';
import { PROMETHEUS, freePort, prometheusBinary, writeHeadSeries } from '../src/lab/index.js';
import { localDriver, type RunReport, type UpgradePlan } from '../src/upgrade/index.js';
import { row } from './util.js';

/**
 * The restart of a stage with a big head, measured against the plan's estimate: a 2.55.1 server with N live
 * series (remote-written), restarted once so its log holds a measured replay, `upgrade plan --data-dir
 * --log-file` for the estimate, then `upgrade run --to 3.8.1` with its replay progress. Sizes:
 * STACKSHIFT_BENCH_SERIES (comma list); STACKSHIFT_BIG=1 runs 250k, 500k and 1M (minutes and a few GB each).
 */
const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const sizes = (process.env.STACKSHIFT_BENCH_SERIES ?? (process.env.STACKSHIFT_BIG ? '250000,500000,1000000' : '100000'))
  .split(',')
  .map(Number);

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`stackshift ${args.slice(0, 2).join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r;
}

async function ready(c: PrometheusClient): Promise<void> {
  for (;;) {
    if (
      await c.ensureReady().then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const widths = [10, 12, 14, 14, 14, 12];
console.log(row(['series', 'wal MiB', 'plan replay s', 'plan restart s', 'measured s', 'progress'], widths));
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-bench-replay-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
  const unit = join(dir, 'prometheus.args');
  const dataDir = join(dir, 'data');
  writeFileSync(
    unit,
    [
      prometheusBinary(PROMETHEUS.bridge),
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-admin-api',
      '--web.enable-remote-write-receiver',
      '',
    ].join('\n'),
  );
  const driver = localDriver(unit);
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    driver.start();
    await ready(c);
    await writeHeadSeries(`${url}/api/v1/write`, { series: n });
    // one restart on 2.55.1 so the log holds a measured replay of this head, as an operator's would
    await driver.stop();
    driver.start();
    await ready(c);
    const plan = JSON.parse(
      cli([
        'upgrade',
        'plan',
        '--prometheus-url',
        url,
        '--to',
        PROMETHEUS.target,
        '--data-dir',
        dataDir,
        '--log-file',
        `${unit}.log`,
        '--output',
        'json',
      ]).stdout,
    ) as UpgradePlan;
    const est = plan.stages[0]!.downtime;
    const run = cli(
      [
        'upgrade',
        'run',
        '--prometheus-url',
        url,
        '--to',
        PROMETHEUS.target,
        '--binary',
        prometheusBinary(PROMETHEUS.target),
        '--unit',
        unit,
        '--data-dir',
        dataDir,
        '--state',
        join(dir, 'state.db'),
        '--output',
        'json',
      ],
      { STACKSHIFT_NO_PROGRESS: '' },
    );
    const report = JSON.parse(run.stdout) as RunReport;
    const stop = report.steps.find((s) => s.step === 'stop')!;
    const replay = report.steps.find((s) => s.step === 'replay')!;
    const restartMs = Date.parse(replay.finishedAt!) - Date.parse(stop.startedAt);
    console.log(
      row(
        [
          n,
          ((est.walBytes ?? 0) / 1048576).toFixed(1),
          ((est.replayMs ?? 0) / 1000).toFixed(1),
          ((est.restartMs ?? 0) / 1000).toFixed(1),
          `${(report.replay!.durationMs / 1000).toFixed(1)} (${(restartMs / 1000).toFixed(1)} stop..ready)`,
          `${report.replay!.points.length} points`,
        ],
        widths,
      ),
    );
    console.log(`  ${report.status}; estimate basis: ${est.basis}`);
    console.log(
      `  progress: ${report
        .replay!.points.filter((p, i, a) => i === 0 || p.current !== a[i - 1]!.current)
        .map((p) => `${(p.ms / 1000).toFixed(1)}s ${p.current}/${p.max}`)
        .join(', ')}`,
    );
  } finally {
    await driver.stop().catch(() => undefined);
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
