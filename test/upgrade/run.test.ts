import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { PROMETHEUS, prometheusBinary, writeHistoryRemote } from '../../src/lab/index.js';
import { localDriver, type RunReport } from '../../src/upgrade/index.js';
import { runCli, waitUntil } from '../harness/index.js';
import { HISTORY, TARGETS, digest, explainGap, gapsFromData, startLocal, upgradeArgs } from './local.js';

/**
 * `upgrade run` on real binaries: a 2.48.1 server (run by the local driver from an args file, scraping ten real
 * HTTP targets every second, with remote-written history in blocks) upgraded to 2.55.1, with every sample
 * written before the stage read back bit for bit afterwards and the reported scrape gap checked against the
 * one counted independently from the data.
 */

test(
  'upgrade run 2.48.1 -> 2.55.1 on real binaries: signed off, every earlier sample kept, the gap reported as the data shows it',
  { timeout: 300_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.start);
    await writeHistoryRemote(`${s.url}/api/v1/write`, HISTORY);
    await new Promise((r) => setTimeout(r, 4000)); // a few scrapes before the stop
    const before = await digest(s.url);
    assert.equal(before.size, HISTORY.series);

    const r = await runCli(upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge)), {
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.deepEqual(
      report.steps.map((x) => [x.step, x.status]),
      [
        'snapshot',
        'preflight',
        'changes',
        'shadow',
        'stop',
        'install',
        'start',
        'replay',
        'gates',
        'fill',
        'gap',
        'signoff',
      ].map((x) => [x, x === 'shadow' || x === 'fill' ? 'skipped' : 'done']),
    );
    assert.deepEqual(
      report.gates?.filter((g) => !g.passed),
      [],
    );
    assert.ok(report.gates?.some((g) => g.id === 'version' && g.passed));

    // the server now runs 2.55.1, from the unit, and holds every sample written before the stage
    const c = new PrometheusClient(endpointFromUrl(s.url));
    t.after(() => c.close());
    assert.match((await c.buildInfo()).version, /^2\.55\.1/);
    assert.equal(localDriver(s.unit).unit().binary, prometheusBinary(PROMETHEUS.bridge));
    const after = await digest(s.url);
    assert.equal(after.size, before.size);
    for (const [k, d] of before) assert.equal(after.get(k), d, `${k} kept bit for bit`);

    // the reported gap per target equals the one counted from each target's own samples
    assert.equal(report.gap?.targets.length, TARGETS);
    const independent = await gapsFromData(s.url, report.gap!.windowStartMs, report.gap!.windowEndMs);
    for (const g of report.gap!.targets)
      assert.equal(g.missedIntervals, independent.get(g.instance), `gap of ${g.instance}`);
    assert.ok(report.gap!.readyAtMs > report.gap!.stoppedAtMs, 'the restart window is recorded');

    // a rerun of a signed-off stage does nothing destructive: the server is already on 2.55.1
    const again = await runCli(upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge)), {
      timeoutMs: 60_000,
    });
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /2\.55\.1 is not older than 2\.55\.1: nothing to upgrade/);
  },
);

test(
  'upgrade run --zero-gap 2.48.1 -> 2.55.1: no scrape interval missing for any of the ten 1 s targets, and nothing written twice',
  { timeout: 300_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.start);
    await new Promise((r) => setTimeout(r, 3000));
    const r = await runCli([...upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge)), '--zero-gap'], {
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.ok((report.fill?.samples ?? 0) > 0, 'samples were copied into the gap');
    assert.equal(report.gap?.targets.length, TARGETS);
    const independent = await gapsFromData(s.url, report.gap!.windowStartMs, report.gap!.windowEndMs);
    for (const [instance, missed] of independent) {
      const tg: { lastBeforeMs?: number; firstAfterMs?: number } | undefined = report.gap!.targets.find(
        (x) => x.instance === instance,
      );
      const why: string =
        missed === 0 ? '' : await explainGap(s.url, instance, report.gap!.windowStartMs, report.gap!.windowEndMs);
      assert.equal(
        missed,
        0,
        `${instance}: no missed scrape interval (largest pause of up ${tg?.lastBeforeMs} -> ${tg?.firstAfterMs}; stopped ${report.gap!.stoppedAtMs}, ready ${report.gap!.readyAtMs}; fill ${JSON.stringify(report.fill)}; ${why})`,
      );
    }
    assert.equal(report.gap!.maxMissedIntervals, 0);
    // nothing twice: no two samples of a target's counter closer than half a scrape interval
    const c = new PrometheusClient(endpointFromUrl(s.url));
    t.after(() => c.close());
    const m = await c.query(
      `lab_target_requests_total[${Math.ceil((report.gap!.windowEndMs - report.gap!.windowStartMs) / 1000)}s]`,
      report.gap!.windowEndMs,
    );
    assert.equal(m.resultType, 'matrix');
    if (m.resultType === 'matrix') {
      assert.equal(m.result.length, TARGETS);
      for (const series of m.result) {
        const ts = series.values.map((v) => Number(v[0]));
        for (let i = 1; i < ts.length; i++)
          assert.ok(
            ts[i]! - ts[i - 1]! >= 0.2,
            `${series.metric.instance}: samples ${ts[i - 1]} and ${ts[i]} are one scrape written twice`,
          );
      }
    }
    assert.deepEqual(
      readdirSync(s.dir).filter((f) => f.startsWith('.stackshift-shadow')),
      [],
      'the shadow config is removed',
    );
    assert.deepEqual(
      readdirSync(s.dir).filter((f) => f.includes('shadow')),
      [],
      'the shadow unit and data are removed',
    );
  },
);

test(
  'upgrade run refuses a stage that skips 2.55, and --dry-run prints every step with its commands, changing nothing',
  { timeout: 120_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.start);
    const skip = await runCli(upgradeArgs(s, PROMETHEUS.target, prometheusBinary(PROMETHEUS.target)), {
      timeoutMs: 60_000,
    });
    assert.equal(skip.code, 2);
    assert.match(
      skip.stderr,
      /2\.48\.1 -> 3\.8\.1 skips the 2\.55 bridge: the path is 2\.48\.1 -> 2\.55\.1 -> 3\.8\.1/,
    );
    const dry = await runCli([...upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge)), '--dry-run'], {
      timeoutMs: 60_000,
    });
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { steps: Array<{ step: string; commands: string[] }> };
    assert.deepEqual(
      plan.steps.map((x) => x.step),
      [
        'snapshot',
        'preflight',
        'changes',
        'shadow',
        'stop',
        'install',
        'start',
        'replay',
        'gates',
        'fill',
        'gap',
        'signoff',
      ],
    );
    assert.ok(plan.steps.find((x) => x.step === 'start')!.commands[0]!.includes(prometheusBinary(PROMETHEUS.start)));
    assert.equal(localDriver(s.unit).unit().binary, prometheusBinary(PROMETHEUS.start), 'the unit is unchanged');
    assert.deepEqual(
      readdirSync(s.dataDir).filter((n) => n === 'snapshots'),
      [],
      'no snapshot taken',
    );
  },
);

test(
  'kill -9 of upgrade run after the stop: the rerun resumes at install and finishes; nothing is done twice',
  { timeout: 300_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.start);
    const args = upgradeArgs(s, PROMETHEUS.bridge, prometheusBinary(PROMETHEUS.bridge));
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../harness/index.js');
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' },
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const stepDone = (step: string) => {
      try {
        const db = new Database(s.state, { readonly: true });
        try {
          return (
            (db.prepare('SELECT status FROM upgrade_steps WHERE step = ?').get(step) as { status?: string } | undefined)
              ?.status === 'done'
          );
        } finally {
          db.close();
        }
      } catch {
        return false;
      }
    };
    // one writer: a second upgrade run on the same state while the first is under way is refused at once
    await waitUntil(
      async () => {
        assert.equal(child.exitCode, null, `upgrade run ended early: ${stderr}`);
        return stepDone('snapshot');
      },
      120_000,
      'the snapshot step to be done',
    );
    const second = await runCli(args, { timeoutMs: 30_000 });
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`is in use by another upgrade \\(pid ${child.pid} on `));
    await waitUntil(
      async () => {
        assert.equal(child.exitCode, null, `upgrade run ended before the stop: ${stderr}`);
        return stepDone('stop');
      },
      120_000,
      'the stop step to be done',
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = await runCli(args, { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.equal(readdirSync(join(s.dataDir, 'snapshots')).length, 1, 'one snapshot, not two');
    const db = new Database(s.state, { readonly: true });
    t.after(() => db.close());
    assert.equal(
      (db.prepare('SELECT count(*) AS n FROM upgrade_runs').get() as { n: number }).n,
      1,
      'the same run resumed',
    );
    assert.equal(
      readdirSync(s.dir).filter((f) => f.startsWith('prometheus.args.stackshift-')).length,
      1,
      'the unit was backed up once',
    );
  },
);
