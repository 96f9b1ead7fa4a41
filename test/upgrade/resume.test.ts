import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { PROMETHEUS, prometheusBinary, writeHeadSeries, writeHistoryRemote } from '../../src/lab/index.js';
import { localDriver, type RunReport } from '../../src/upgrade/index.js';
import { CLI, runCli, waitUntil } from '../harness/index.js';
import { HISTORY, digest, startLocal, upgradeArgs, type LocalServer } from './local.js';

/**
 * kill -9 of `upgrade run` after the install and during the WAL replay (the kill after the stop is in
 * run.test.ts): the rerun resumes the same run at the right step, and no destructive step runs twice — one
 * snapshot, one unit backup, one install, one start of the new binary.
 */

interface StepRow {
  step: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  detail: string | null;
}

function stepRows(state: string): StepRow[] {
  try {
    const db = new Database(state, { readonly: true });
    try {
      return db
        .prepare('SELECT step, status, started_at, finished_at, detail FROM upgrade_steps ORDER BY rowid')
        .all() as StepRow[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

function spawnRun(args: string[], env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, stderr: () => stderr };
}

async function kill9(child: ChildProcess): Promise<number> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return Date.now();
}

/** How often the unit's log says the server started as `version`: once per start of that binary. */
function startsOf(s: LocalServer, version: string): number {
  const text = readFileSync(`${localDriver(s.unit).unit().file}.log`, 'utf8');
  return text.split('\n').filter((l) => /Starting Prometheus/.test(l) && l.includes(`version=${version}`)).length;
}

/**
 * The rerun's report against the step log: every step up to `last` finished before the kill (not run again),
 * every later step started after it; the run is the same one; one snapshot, one unit backup.
 */
function assertResumedAfter(s: LocalServer, rows: StepRow[], last: string, killedAtMs: number, report: RunReport) {
  assert.equal(report.status, 'signed-off');
  const order = report.steps.map((x) => x.step);
  const cut = order.indexOf(last as RunReport['steps'][number]['step']);
  assert.ok(cut >= 0, `${last} is in the step log`);
  for (const r of rows.slice(0, cut + 1))
    assert.ok(
      Date.parse(r.finished_at ?? '') < killedAtMs,
      `${r.step} finished before the kill (${r.finished_at}) and was not run again`,
    );
  for (const r of rows.slice(cut + 1))
    if (r.status !== 'skipped')
      assert.ok(Date.parse(r.finished_at ?? '') > killedAtMs, `${r.step} finished by the rerun (${r.finished_at})`);
  assert.equal(readdirSync(join(s.dataDir, 'snapshots')).length, 1, 'one snapshot, not two');
  assert.equal(
    readdirSync(s.dir).filter((f) => f.startsWith('prometheus.args.stackshift-')).length,
    1,
    'the unit was backed up once (by the install)',
  );
  const db = new Database(s.state, { readonly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM upgrade_runs').get() as { n: number }).n, 1, 'one run');
  } finally {
    db.close();
  }
}

test(
  'kill -9 of upgrade run after the install: the rerun resumes at start and finishes; the binary is installed and started once',
  { timeout: 300_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.start);
    await writeHistoryRemote(`${s.url}/api/v1/write`, HISTORY);
    await new Promise((r) => setTimeout(r, 3000));
    const before = await digest(s.url);
    const args = upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge));
    const first = spawnRun(args, { STACKSHIFT_TEST_HOLD_AFTER: 'install' });
    t.after(() => first.child.kill('SIGKILL'));
    await waitUntil(
      async () => {
        assert.equal(first.child.exitCode, null, `upgrade run ended early: ${first.stderr()}`);
        return /holding after the install step/.test(first.stderr());
      },
      180_000,
      'the run to hold after the install',
    );
    const killedAt = await kill9(first.child);
    const rows = stepRows(s.state);
    assert.deepEqual(
      rows.map((r) => [r.step, r.status]),
      ['snapshot', 'preflight', 'changes', 'shadow', 'stop', 'install'].map((x) => [
        x,
        x === 'shadow' ? 'skipped' : 'done',
      ]),
      'killed between install and start',
    );
    const driver = localDriver(s.unit);
    assert.equal(driver.status().running, false, 'the server is stopped');
    assert.equal(driver.unit().binary, prometheusBinary(PROMETHEUS.bridge), 'the unit names the new binary');
    const installedBackup = (JSON.parse(rows.at(-1)!.detail!) as { backup: string }).backup;
    assert.ok(installedBackup, 'the install backed the unit up');

    const r = await runCli(args, { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /resuming the upgrade run/);
    const report = JSON.parse(r.stdout) as RunReport;
    assertResumedAfter(s, stepRows(s.state), 'install', killedAt, report);
    assert.equal(
      (report.steps.find((x) => x.step === 'install')!.detail as { backup: string }).backup,
      installedBackup,
      'the install step kept its first record',
    );
    assert.equal(startsOf(s, PROMETHEUS.bridge), 1, '2.55.1 started once');
    const c = new PrometheusClient(endpointFromUrl(s.url));
    t.after(() => c.close());
    assert.match((await c.buildInfo()).version, /^2\.55\.1/);
    const after = await digest(s.url);
    assert.equal(after.size, before.size);
    for (const [k, d] of before) assert.equal(after.get(k), d, `${k} kept bit for bit`);
  },
);

/** Enough live series that 2.55.1 replays its WAL for seconds (300k: 3.7 s measured on this machine). */
const REPLAY_SERIES = 300_000;

test(
  'kill -9 of upgrade run during the WAL replay: the rerun waits for the same server to finish replaying and signs off; nothing started twice',
  { timeout: 420_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.start);
    const filled = await writeHeadSeries(`${s.url}/api/v1/write`, { series: REPLAY_SERIES });
    assert.equal(filled.series, REPLAY_SERIES);
    await new Promise((r) => setTimeout(r, 3000));
    const args = upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge));
    const first = spawnRun(args);
    t.after(() => first.child.kill('SIGKILL'));
    const c = new PrometheusClient(endpointFromUrl(s.url));
    t.after(() => c.close());
    // polled every 50 ms (waitUntil's 200 ms and its swallowed assertions would miss a short replay)
    let replaying: { current: number; max: number } | undefined;
    for (const deadline = Date.now() + 240_000; !replaying; await new Promise((r) => setTimeout(r, 50))) {
      assert.ok(Date.now() < deadline, 'the replay step did not begin within 240 s');
      assert.equal(first.child.exitCode, null, `upgrade run ended before the replay: ${first.stderr()}`);
      if (stepRows(s.state).find((r) => r.step === 'replay')?.status !== 'started') continue;
      const ready = await c.ensureReady().then(
        () => true,
        () => false,
      );
      assert.equal(ready, false, 'the replay ended before the test could kill stackshift during it');
      replaying = await c.walReplay().catch(() => undefined);
    }
    const killedAt = await kill9(first.child);
    const rows = stepRows(s.state);
    assert.deepEqual(
      rows.map((r) => [r.step, r.status]),
      ['snapshot', 'preflight', 'changes', 'shadow', 'stop', 'install', 'start', 'replay'].map((x) => [
        x,
        x === 'shadow' ? 'skipped' : x === 'replay' ? 'started' : 'done',
      ]),
    );
    const startedPid = (JSON.parse(rows.find((r) => r.step === 'start')!.detail!) as { pid: number }).pid;
    await assert.rejects(c.ensureReady(), 'still replaying when the rerun begins');

    const r = await runCli(args, { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /resuming the upgrade run/);
    const report = JSON.parse(r.stdout) as RunReport;
    assertResumedAfter(s, stepRows(s.state), 'start', killedAt, report);
    assert.equal(localDriver(s.unit).status().pid, startedPid, 'the server the first run started is the one running');
    assert.equal(startsOf(s, PROMETHEUS.bridge), 1, '2.55.1 started once');
    assert.deepEqual(
      report.gates?.filter((g) => !g.passed),
      [],
    );
    // every live series came through the replay
    const n = await c.query('count(last_over_time(stackshift_head_series[10m]))');
    assert.equal(n.resultType, 'vector');
    if (n.resultType === 'vector') assert.equal(Number(n.result[0]?.value[1]), REPLAY_SERIES);
    t.diagnostic(
      `replay of ${REPLAY_SERIES} series: killed at segment ${replaying?.current}/${replaying?.max}; the rerun waited ${report.replay?.durationMs} ms`,
    );
  },
);
