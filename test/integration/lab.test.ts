import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readdirSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { generateHistory, countSamples, reapOrphans, historyBlocks, specHash } from '../../src/lab/index.js';
import { startServers, tempDir, waitUntil } from '../harness/index.js';

const child = join(dirname(fileURLToPath(import.meta.url)), '..', 'harness', 'lab-child.js');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function startChild(dir: string, pids: string): Promise<{ proc: ReturnType<typeof spawn>; promPid: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir], {
      env: { ...process.env, STACKSHIFT_LAB_PIDS: pids },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ proc, promPid: Number(out.trim()) });
    });
    proc.on('error', reject);
    proc.on('exit', (c) => {
      if (!out) reject(new Error(`child exited ${c}`));
    });
  });
}

test('lab servers are stopped when their owner is interrupted, and reaped after a kill -9', async (t) => {
  const dir = tempDir(t);
  const pids = join(dir, 'pids');
  const a = await startChild(join(dir, 'a'), pids);
  assert.ok(alive(a.promPid));
  a.proc.kill('SIGINT');
  await waitUntil(async () => !alive(a.promPid), 20_000, 'prometheus to stop after SIGINT of its owner');

  const b = await startChild(join(dir, 'b'), pids);
  assert.ok(alive(b.promPid));
  b.proc.kill('SIGKILL');
  await new Promise((r) => b.proc.once('exit', r));
  assert.ok(alive(b.promPid), "orphan survives its owner's kill -9");
  process.env.STACKSHIFT_LAB_PIDS = pids;
  try {
    assert.equal(reapOrphans(), 1);
  } finally {
    delete process.env.STACKSHIFT_LAB_PIDS;
  }
  await waitUntil(async () => !alive(b.promPid), 10_000, 'orphan to be reaped');
  assert.deepEqual(
    readdirSync(pids).filter((f) => f.endsWith('.pid')),
    [],
  );
});

/** /proc/<pid>/stat field 22 (start time in clock ticks since boot). */
const startTicks = (pid: number) => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return st.slice(st.lastIndexOf(')') + 2).split(' ')[19];
};

test('issue 19 item 12: a pid record whose process is not the one launched (reused pid) is never killed; the one launched is', async (t) => {
  const dir = tempDir(t);
  const pids = join(dir, 'pids');
  // a dead owner: a process that has exited
  const gone = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => gone.once('exit', r));
  // strangers holding pids a record names; "prometheus" in their command line, as the old check looked for
  const stranger = () =>
    spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'prometheus', '--config.file=x'], {
      stdio: 'ignore',
    });
  const [a, b, c, d] = [stranger(), stranger(), stranger(), stranger()];
  t.after(() => {
    for (const p of [a, b, c, d]) p.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 300));
  const exe = readlinkSync(`/proc/${a.pid}/exe`);
  process.env.STACKSHIFT_LAB_PIDS = pids;
  try {
    reapOrphans(); // creates the directory
    writeFileSync(
      join(pids, `${a.pid}.pid`),
      JSON.stringify({ pid: a.pid, owner: gone.pid, start: String(Number(startTicks(a.pid!)) - 1), exe }) + '\n',
    ); // other start time
    writeFileSync(
      join(pids, `${b.pid}.pid`),
      JSON.stringify({ pid: b.pid, owner: gone.pid, start: startTicks(b.pid!), exe: '/usr/bin/prometheus' }) + '\n',
    ); // other executable
    writeFileSync(join(pids, `${c.pid}.pid`), `${c.pid} ${gone.pid}\n`); // an old record without start time or executable
    writeFileSync(
      join(pids, `${d.pid}.pid`),
      JSON.stringify({ pid: d.pid, owner: gone.pid, start: startTicks(d.pid!), exe }) + '\n',
    ); // the process launched
    assert.equal(reapOrphans(), 1, 'only the launched process is killed');
    await waitUntil(async () => !alive(d.pid!), 10_000, 'the launched orphan to be reaped');
    for (const p of [a, b, c]) assert.ok(alive(p.pid!), `pid ${p.pid} (not ours) left alone`);
    assert.deepEqual(
      readdirSync(pids).filter((f) => f.endsWith('.pid')),
      [],
      'every stale record removed',
    );
  } finally {
    delete process.env.STACKSHIFT_LAB_PIDS;
  }
});

test('generated history is deterministic and cached by its parameters', async () => {
  const spec = {
    series: 10,
    durationMs: 3_600_000,
    intervalMs: 60_000,
    seed: 3,
    endMs: Date.parse('2026-01-01T00:00:00Z'),
  };
  const a = generateHistory(spec).map((s) => [s.labels, [...s.samples()]]);
  const b = generateHistory(spec).map((s) => [s.labels, [...s.samples()]]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    generateHistory({ ...spec, seed: 4 }).map((s) => [...s.samples()]),
    a.map((x) => x[1]),
  );
  assert.equal(
    countSamples(spec),
    a.reduce((n, x) => n + (x[1] as unknown[]).length, 0),
  );
  assert.notEqual(specHash(spec), specHash({ ...spec, series: 11 }));
  const dir1 = await historyBlocks(spec);
  const dir2 = await historyBlocks(spec);
  assert.equal(dir1, dir2);
  assert.ok(existsSync(join(dir1, '.complete')));
});

test('Prometheus client against two real servers: query, query_range, series, labels, tsdb status, walreplay', async (t) => {
  const endMs = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const spec = { series: 20, durationMs: 2 * 3_600_000, intervalMs: 60_000, seed: 11, endMs };
  const [p1, p2] = await startServers(t, [{ history: spec }, { history: { ...spec, seed: 12 } }]);
  for (const p of [p1, p2]) {
    const c = new PrometheusClient(endpointFromUrl(p.url));
    t.after(() => c.close());
    await c.ensureReady();
    assert.equal(await c.healthy(), true);
    const series = await c.series(['{__name__=~"stackshift_gen.*"}'], endMs - spec.durationMs, endMs);
    assert.equal(series.length, 20);
    const labels = await c.labels(undefined, endMs - spec.durationMs, endMs);
    for (const l of ['__name__', 'instance', 'job', 'series']) assert.ok(labels.includes(l), l);
    const names = await c.labelValues('__name__', undefined, endMs - spec.durationMs, endMs);
    assert.ok(names.includes('stackshift_gen_requests_total'));
    const at = endMs - 60_000;
    const inst = await c.query('count(stackshift_gen_temperature_celsius)', at);
    assert.equal(inst.resultType, 'vector');
    assert.equal(inst.resultType === 'vector' && inst.result[0].value[1], '10');
    const rng = await c.queryRange('stackshift_gen_requests_total{series="0"}', endMs - 3_600_000, endMs - 60_000, 60);
    assert.equal(rng.resultType, 'matrix');
    const expected = generateHistory(spec)[0];
    if (rng.resultType === 'matrix' && p === p1) {
      const want = new Map([...expected.samples()].map(([ts, v]) => [ts / 1000, v]));
      let compared = 0;
      for (const [ts, v] of rng.result[0].values)
        if (want.has(ts)) {
          assert.equal(Number(v), want.get(ts), `sample at ${ts}`);
          compared++;
        }
      assert.ok(compared >= 50, `compared ${compared} samples`);
    }
    const st = await c.tsdbStatus();
    assert.equal(typeof st.headStats.numSeries, 'number');
    const wr = await c.walReplay();
    assert.equal(typeof wr.max, 'number');
    assert.equal((await c.buildInfo()).version.replace(/\+.*/, ''), '2.42.0');
    assert.equal((await c.flags())['web.enable-admin-api'], 'true');
    assert.match(await c.config(), /scrape_interval: 15s/);
  }
});
