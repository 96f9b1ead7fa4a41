import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { BROKEN_RULE_EXPR, DEAD_TARGET, historyBlocks } from '../../src/lab/index.js';
import { log } from '../../src/log/index.js';
import { createSnapshot } from '../../src/snapshot/index.js';
import { openState } from '../../src/state/index.js';
import { PREFLIGHT_MIGRATION, diskCheck, latestBaseline, runPreflight } from '../../src/upgrade/index.js';
import { startServer, tempDir, waitSettled } from '../harness/index.js';

/**
 * A small real filesystem: tmpfs first (we run as root), a loop-mounted ext4 image if tmpfs is refused,
 * undefined (and a logged reason) if this sandbox allows neither.
 */
function smallFs(t: TestContext, sizeMiB: number): { dir: string; kind: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-smallfs-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  // one hook, in this order: a mounted directory cannot be removed
  t.after(() => {
    spawnSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  });
  const tmpfs = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', mnt], { encoding: 'utf8' });
  if (tmpfs.status === 0) return { dir: mnt, kind: 'tmpfs' };
  const img = join(dir, 'fs.img');
  const steps = [
    ['truncate', ['-s', `${sizeMiB}M`, img]],
    ['mkfs.ext4', ['-q', '-F', img]],
    ['mount', ['-o', 'loop', img, mnt]],
  ] as const;
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
    if (r.status !== 0) {
      log.warn('small-filesystem test skipped: this sandbox can mount neither tmpfs nor a loop device', {
        tmpfs: tmpfs.stderr.trim(),
        [cmd]: (r.stderr || r.error?.message || '').trim(),
      });
      return undefined;
    }
  }
  return { dir: mnt, kind: 'loop ext4' };
}

test('disk check on a real 2 MiB filesystem: a ~0.75 MiB TSDB does not leave 3x free, and passes at 0.5x', async (t) => {
  const fs = smallFs(t, 2);
  if (!fs)
    return t.skip(
      'neither tmpfs nor a loop device can be mounted here (see the warning above); the injected-statfs test covers the logic',
    );
  const data = join(fs.dir, 'data');
  cpSync(
    join(await historyBlocks({ series: 100, durationMs: 24 * 3_600_000, intervalMs: 60_000, seed: 3 }), 'blocks'),
    data,
    { recursive: true },
  );
  const fail = diskCheck(data, 3);
  assert.equal(fail.status, 'fail', `${fs.kind}: ${fail.detail}`);
  assert.ok(fail.tsdbBytes > 700_000 && fail.tsdbBytes < 1_000_000, `${fail.tsdbBytes}`);
  assert.ok(fail.freeBytes < fail.neededBytes);
  assert.ok(fail.freeBytes + fail.tsdbBytes <= 2 * 1048576, 'free space is what is left of the 2 MiB');
  assert.match(fail.detail, /needs 2\.\d MiB/);
  assert.match(fail.advice!, /^free \d+(\.\d+)? (KiB|MiB) more/);
  assert.equal(diskCheck(data, 0.5).status, 'pass');
  rmSync(data, { recursive: true, force: true });
});

test('disk check with an injected statfs result: exactly 3x passes, one byte less fails', (t) => {
  const data = tempDir(t);
  writeFileSync(join(data, 'f'), Buffer.alloc(1000));
  mkdirSync(join(data, 'snapshots', 'x'), { recursive: true });
  writeFileSync(join(data, 'snapshots', 'x', 'big'), Buffer.alloc(50_000)); // hard links in real life: not counted
  assert.equal(diskCheck(data, 3, () => ({ bavail: 3000, bsize: 1, blocks: 10_000 })).status, 'pass');
  const f = diskCheck(data, 3, () => ({ bavail: 2999, bsize: 1, blocks: 10_000 }));
  assert.equal(f.status, 'fail');
  assert.equal(f.tsdbBytes, 1000);
});

const CONFIG = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: self
    static_configs: [{ targets: ['127.0.0.1:{{port}}'] }]
  - job_name: gone
    static_configs: [{ targets: ['${DEAD_TARGET}'] }]
`;
const RULES = `groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: broken
        expr: ${BROKEN_RULE_EXPR}
`;

test('preflight against a real 2.42 server: gates pass, baseline (targets, rules, query latency) stored for later', async (t) => {
  const server = await startServer(t, {
    history: { series: 30, durationMs: 6 * 3_600_000, intervalMs: 60_000, seed: 5 },
    config: CONFIG,
    files: { 'rules.yml': RULES },
  });
  const client = new PrometheusClient(endpointFromUrl(server.url));
  t.after(() => client.close());
  await waitSettled(server.url, 2, 2);
  await createSnapshot(client);
  const db = openState(join(tempDir(t), 'state.db'), [PREFLIGHT_MIGRATION]);
  t.after(() => db.close());
  const r = await runPreflight(client, {
    dataDir: server.dataDir,
    to: '2.55.1',
    state: db,
    queries: ['count(up)'],
    runs: 2,
  });
  const by = Object.fromEntries(r.checks.map((c) => [c.id, c]));
  assert.equal(by.disk.status, 'pass', by.disk.detail);
  assert.equal(by.snapshot.status, 'pass', by.snapshot.detail);
  assert.equal(by['admin-api'].status, 'pass');
  // the local promtool is 2.42, not the target's: valid, but said plainly
  assert.equal(by.config.status, 'warn', by.config.detail);
  assert.match(by.config.detail, /prometheus\.yml: ok; 1 rule files: ok; validated with promtool 2\.42\.0/);
  assert.deepEqual(r.path, ['2.42.0', '2.55.1']);
  assert.equal(r.passed, true);
  assert.equal(r.baseline.targets.up, 1);
  assert.equal(r.baseline.targets.down, 1);
  assert.equal(r.baseline.rules.unhealthy, 1);
  assert.equal(r.baseline.rules.unhealthyList[0].name, 'broken');
  const q = r.baseline.queries.map((x) => x.query);
  assert.ok(q.includes('sum by (job) (up)'), 'the healthy rule is timed');
  assert.ok(q.includes('count(up)'));
  assert.ok(r.baseline.queries.every((x) => x.medianMs > 0 && x.runsMs.length === 2));
  const stored = latestBaseline(db, server.url);
  assert.equal(stored?.stateId, r.stateId);
  assert.deepEqual(stored?.baseline, r.baseline);
  assert.equal(
    (db.prepare('SELECT COUNT(*) AS n FROM preflight_query_latency WHERE run_id = ?').get(r.stateId) as { n: number })
      .n,
    r.baseline.queries.length,
  );

  // a rule file the server loaded but this host lacks is named, not silently dropped (issue 19 item 17)
  const loaded = (await client.rules())[0].file;
  const ruleFile = isAbsolute(loaded) ? loaded : resolve((await client.runtimeInfo()).CWD ?? '.', loaded);
  // (preflight run from another machine: neither the config nor the rules are here; the config is checked as loaded)
  const configFile = join(dirname(ruleFile), 'prometheus.yml');
  const away = [ruleFile, configFile];
  for (const f of away) renameSync(f, `${f}.away`);
  t.after(() => {
    for (const f of away) if (existsSync(`${f}.away`)) renameSync(`${f}.away`, f);
  });
  const missing = await runPreflight(client, { dataDir: server.dataDir, topRules: 0, runs: 1 });
  const cfg = missing.checks.find((c) => c.id === 'config')!;
  assert.equal(cfg.status, 'warn', cfg.detail);
  assert.match(
    cfg.detail,
    /syntax only.*0 rule files found on this host; 1 rule file the server loaded is not on this host, so not validated: .*rules\.yml/,
  );
  assert.match(cfg.advice ?? '', /run preflight on the Prometheus host/);
  for (const f of away) renameSync(`${f}.away`, f);

  // the same server with too little disk (statfs injected) fails the gate
  const tight = await runPreflight(client, {
    dataDir: server.dataDir,
    statfs: () => ({ bavail: 10, bsize: 4096, blocks: 100 }),
    topRules: 0,
    runs: 1,
  });
  assert.equal(tight.passed, false);
  assert.equal(tight.checks.find((c) => c.id === 'disk')?.status, 'fail');
});

test('upgrade plan against a real server: WAL size from the data dir, replay speed measured from its own restart log', async (t) => {
  const server = await startServer(t, { config: CONFIG.replace('rule_files: [rules.yml]\n', '') });
  const client = new PrometheusClient(endpointFromUrl(server.url));
  await waitSettled(server.url, 2, 0);
  await client.close();
  await new Promise((r) => setTimeout(r, 2000));
  await server.restart(); // a real WAL replay to measure
  const logFile = join(tempDir(t), 'prometheus.log');
  writeFileSync(logFile, server.logs());
  const html = join(tempDir(t), 'plan.html');
  const r = spawnSync(
    process.execPath,
    [
      'dist/src/cli/main.js',
      'upgrade',
      'plan',
      '--prometheus-url',
      server.url,
      '--data-dir',
      server.dataDir,
      '--log-file',
      logFile,
      '--to',
      '3.5',
      '--html',
      html,
      '--output',
      'json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.deepEqual(plan.path, ['2.42.0', '2.55.1', '3.5.5']);
  assert.equal(plan.evidence.replay.source, 'log');
  assert.ok(plan.evidence.replay.segments >= 1);
  assert.ok(plan.evidence.dataDir.walBytes > 0);
  assert.equal(plan.stages[0].downtime.assumed, false);
  assert.match(plan.stages[0].downtime.basis, /measured/);
  assert.equal(plan.evidence.server.adminApi, true);
  assert.ok(plan.risks.length >= 5);
  assert.match(readFileSync(html, 'utf8'), /<h2>Risk register<\/h2>/);
});
