import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient } from '../src/clients/index.js';
import { endpointFromUrl } from '../src/config/index.js';
import { PROMETHEUS, freePort, prometheusBinary, writeHeadSeries } from '../src/lab/index.js';
import { localDriver, replayFromLog, type RunReport, type UpgradePlan } from '../src/upgrade/index.js';
import { row } from './util.js';

/**
 * The restart of a stage with a big head, measured against the plan's estimate: a 2.55.1 server with N live
 * series (remote-written), restarted once on 2.55.1 (the baseline of the same run: the same head, the old
 * binary, and it leaves a measured replay in the log, as an operator's log would hold), `upgrade plan
 * --data-dir` without and with `--log-file` for the two estimates, then `upgrade run --to 3.8.1` with its
 * replay progress. Sizes: STACKSHIFT_BENCH_SERIES (comma list); STACKSHIFT_BIG=1 runs 250k, 500k and 1M
 * (minutes and a few GB each).
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

/** Waits for readiness; the ms from `t0` to the first ready answer (polled every 100 ms). */
async function ready(c: PrometheusClient, t0 = Date.now()): Promise<number> {
  for (;;) {
    if (
      await c.ensureReady().then(
        () => true,
        () => false,
      )
    )
      return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The peak resident set of a process (VmHWM), MiB. */
function peakRssMiB(pid: number | undefined): string {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (Number(m[1]) / 1024).toFixed(0) : '?';
  } catch {
    return '?';
  }
}

const s = (ms: number | undefined) => (ms === undefined ? '?' : (ms / 1000).toFixed(1));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '?');

console.log(
  `load average at the start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (2 shared cores)`,
);
const widths = [8, 8, 12, 12, 12, 12, 12, 12, 10, 10];
console.log(
  row(
    [
      'series',
      'wal MiB',
      'est assumed',
      'est from log',
      '2.55 replay',
      '3.x replay',
      '3.x ready',
      'stop..ready',
      'vs est',
      'RSS MiB',
    ],
    widths,
  ),
);
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-bench-replay-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
  const unit = join(dir, 'prometheus.args');
  const log = `${unit}.log`;
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
    const filled = await writeHeadSeries(`${url}/api/v1/write`, { series: n });
    // the baseline: one restart of the same head on 2.55.1; its replay in the log is what the plan measures
    const t0 = Date.now();
    await driver.stop();
    driver.start();
    const baselineReadyMs = await ready(c, t0);
    const baseline = replayFromLog(readFileSync(log, 'utf8'));
    const planArgs = ['upgrade', 'plan', '--prometheus-url', url, '--to', PROMETHEUS.target, '--data-dir', dataDir];
    const estimate = (extra: string[]) =>
      (JSON.parse(cli([...planArgs, ...extra, '--output', 'json']).stdout) as UpgradePlan).stages[0]!.downtime;
    const assumed = estimate([]);
    const est = estimate(['--log-file', log]);
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
    const stop = report.steps.find((x) => x.step === 'stop')!;
    const replay = report.steps.find((x) => x.step === 'replay')!;
    const restartMs = Date.parse(replay.finishedAt!) - Date.parse(stop.startedAt);
    const upgraded = replayFromLog(readFileSync(log, 'utf8'));
    const count = await c.query('count(last_over_time(stackshift_head_series[1h]))');
    const kept = count.resultType === 'vector' ? Number(count.result[0]?.value[1]) : NaN;
    console.log(
      row(
        [
          n,
          ((est.walBytes ?? 0) / 1048576).toFixed(1),
          s(assumed.replayMs),
          s(est.replayMs),
          `${s(baseline?.totalReplayMs)}/${s(baselineReadyMs)}`,
          s(upgraded?.totalReplayMs),
          s(report.replay!.durationMs),
          `${s(restartMs)}/${s(est.restartMs)}`,
          ratio(upgraded?.totalReplayMs, est.replayMs),
          peakRssMiB(driver.status().pid),
        ],
        widths,
      ),
    );
    console.log(
      `  ${report.status}; ${filled.series} series written in ${s(filled.ms)} s, ${kept} back after the stage; ` +
        `2.55.1 restart (baseline) ${s(baselineReadyMs)} s stop..ready, 3.8.1 ${s(restartMs)} s = ` +
        `${ratio(restartMs, baselineReadyMs)}; 3.8.1 logged replay / 2.55.1 logged replay = ` +
        `${ratio(upgraded?.totalReplayMs, baseline?.totalReplayMs)}; estimate (from log): ${est.basis}`,
    );
    console.log(
      `  progress: ${report
        .replay!.points.filter((p, i, a) => i === 0 || p.current !== a[i - 1]!.current)
        .map((p) => `${(p.ms / 1000).toFixed(1)}s ${p.current}/${p.max}`)
        .join(', ')} (${report.replay!.points.length} polls)`,
    );
  } finally {
    await driver.stop().catch(() => undefined);
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  "columns: est = the plan's replay estimate (s), without a log (assumed 25 MiB/s) and from the last replay in the log; " +
    "2.55 replay = the baseline restart: logged total_replay_duration / stop..ready (s); 3.x replay = 3.8.1's logged " +
    "total_replay_duration; 3.x ready = the replay step (start..ready); stop..ready = measured / the plan's restart " +
    'estimate (replay + 30 s allowance); vs est = 3.x logged replay / estimate from log; RSS = 3.8.1 peak after ready',
);
