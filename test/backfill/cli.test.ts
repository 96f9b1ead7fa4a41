import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { resolveSpec, writeHistoryRemote, type HistorySpec } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, compareSettled, waitHeadCompacted } from './helpers.js';

const CLI = resolve('dist/src/cli/main.js');
/** The built CLI as a child process (async: a test may serve HTTP from this process meanwhile). */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => res({ status, stdout, stderr }));
  });
}

test(
  'kill -9 during a backfill, then resume: the copy is exact and the summary counts are right',
  { timeout: 300_000 },
  async (t) => {
    const spec: HistorySpec = {
      series: 300,
      durationMs: 2 * 86_400_000,
      intervalMs: 30_000,
      seed: 21,
      endMs: Date.UTC(2026, 0, 25),
    };
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', receiver: true }),
      startServer(t, { name: 'target', receiver: true }),
    ]);
    try {
      const written = await writeHistoryRemote(`${source.url}/api/v1/write`, spec);
      // a 2.42 source compacting its out-of-order head answers some reads short (see helpers.ts)
      await waitHeadCompacted(source.url);
      const s = resolveSpec(spec);
      const endMs = s.endMs + spec.intervalMs;
      const state = join(tempDir(t), 'backfill.db');
      const args = [
        'backfill',
        'metrics',
        '--source-url',
        source.url,
        '--target-url',
        `${target.url}/api/v1/write`,
        '--start',
        String(s.startMs / 1000),
        '--end',
        String(endMs / 1000),
        '--match',
        '{__name__=~"stackshift_gen_.+"}',
        '--state',
        state,
        '--window',
        '1h',
        '--max-window',
        '1h',
        '--names-per-unit',
        '1',
        '--output',
        'json',
      ];

      // first run, slowed down so that it is surely in the middle when killed
      const child = spawn(process.execPath, [CLI, ...args, '--write-rate', '150k', '--batch-samples', '5000'], {
        stdio: 'ignore',
        env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' },
      });
      const deadline = Date.now() + 60_000;
      let done = 0;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        if (!existsSync(state)) continue;
        const db = new Database(state, { readonly: true, fileMustExist: true });
        try {
          done = (db.prepare("SELECT COUNT(*) AS n FROM backfill_units WHERE status = 'done'").get() as { n: number })
            .n;
        } catch {
          done = 0;
        } finally {
          db.close();
        }
        if (done >= 6) break;
      }
      assert.ok(done >= 6, 'the first run made progress');
      // one writer per state file: a second run on the same file is refused at once, naming the first
      const second = await run(args);
      assert.equal(second.status, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`in use by another backfill \\(pid ${child.pid} `));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const db = new Database(state, { readonly: true });
      const before = db
        .prepare(
          "SELECT SUM(status = 'done') AS done, SUM(CASE WHEN status = 'done' THEN samples ELSE 0 END) AS doneSamples FROM backfill_units",
        )
        .get() as { done: number; doneSamples: number };
      const inFlight = (
        db.prepare("SELECT id FROM backfill_units WHERE status = 'running'").all() as Array<{ id: number }>
      ).map((u) => u.id);
      db.close();
      assert.ok(before.done < 98, `killed before the end (${before.done} of 98 units done)`);
      assert.ok(inFlight.length >= 1, 'a unit was in flight when killed');

      const r = await run(args);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.plan.resumed, true);
      assert.equal(report.plan.runs, 2);
      assert.equal(report.plan.units, 98, '2 names x 49 one-hour windows (48h plus the stale-marker interval)');
      assert.equal(report.plan.unitsDone, 98);
      assert.equal(report.totals.samples, written.samples, 'each sample counted once across the two runs');
      assert.equal(report.totals.series, spec.series);
      // the second run copied exactly what the first had not finished: the in-flight units again, nothing done twice
      assert.equal(report.run.samples, written.samples - before.doneSamples);
      assert.equal(report.run.redoneUnits, inFlight.length, 'every unit in flight at the kill was redone');
      const after = new Database(state, { readonly: true });
      for (const id of inFlight) {
        const u = after.prepare('SELECT status, attempts FROM backfill_units WHERE id = ?').get(id) as {
          status: string;
          attempts: number;
        };
        assert.deepEqual(
          u,
          { status: 'done', attempts: 2 },
          `unit ${id}, in flight at the kill, was redone to the end`,
        );
      }
      after.close();

      const d = await compareSettled(source.url, target.url, s.startMs, endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, written.samples);
      assert.equal(d.staleMarkers, written.staleMarkers);
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);

test('bad input: clear one-line error, exit 2, nothing written', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'state.db');
  const [source, plain, target] = await Promise.all([
    startServer(t, {
      name: 'source',
      history: { series: 4, durationMs: 3_600_000, intervalMs: 60_000, seed: 1, endMs: Date.UTC(2026, 0, 2) },
    }),
    startServer(t, { name: 'not-a-receiver' }),
    startServer(t, { name: 'target', receiver: true }),
  ]);
  const html = createServer((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'));
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
  const htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
  try {
    const base = [
      'backfill',
      'metrics',
      '--start',
      '2026-01-01T23:00:00Z',
      '--end',
      '2026-01-02T00:00:00Z',
      '--state',
      state,
    ];
    const cases: Array<[string, string[], RegExp]> = [
      [
        'unknown flag value',
        [...base, '--source-url', source.url, '--target-url', `${target.url}/api/v1/write`, '--response-type', 'json'],
        /--response-type.*json.*invalid|Allowed choices/i,
      ],
      [
        'bad shard',
        [...base, '--source-url', source.url, '--target-url', `${target.url}/api/v1/write`, '--shard', '4/4'],
        /--shard must be i\/N/,
      ],
      [
        'bad time',
        [
          ...base.slice(0, 2),
          '--start',
          'yesterday',
          '--source-url',
          source.url,
          '--target-url',
          `${target.url}/api/v1/write`,
          '--state',
          state,
        ],
        /invalid --start "yesterday"/,
      ],
      [
        'empty match',
        [...base, '--source-url', source.url, '--target-url', `${target.url}/api/v1/write`, '--match', ''],
        /empty --match selector/,
      ],
      [
        'match-all',
        [...base, '--source-url', source.url, '--target-url', `${target.url}/api/v1/write`, '--match', '{job=~".*"}'],
        /matches every series/,
      ],
      [
        'unreachable source',
        [...base, '--source-url', 'http://127.0.0.1:1', '--target-url', `${target.url}/api/v1/write`],
        /connection refused/,
      ],
      [
        'non-Prometheus source',
        [...base, '--source-url', htmlUrl, '--target-url', `${target.url}/api/v1/write`],
        /did not answer .* like a Prometheus API/,
      ],
      [
        'target not a receiver',
        [...base, '--source-url', source.url, '--target-url', `${plain.url}/api/v1/write`],
        /is not a remote-write receiver/,
      ],
      [
        'remote write 2.0 to a 1.0 receiver',
        [...base, '--source-url', source.url, '--target-url', `${target.url}/api/v1/write`, '--remote-write-v2'],
        /does not understand 2.0/,
      ],
      ['no source', [...base, '--target-url', `${target.url}/api/v1/write`], /no source: endpoint "prometheus"/],
      [
        'ftp target',
        [...base, '--source-url', source.url, '--target-url', 'ftp://127.0.0.1/api/v1/write'],
        /--target-url must be http:\/\/ or https:\/\//,
      ],
      [
        'credentials in the URL',
        [
          ...base,
          '--source-url',
          source.url,
          '--target-url',
          `http://backfiller:sekrit-pw@127.0.0.1:${new URL(target.url).port}/api/v1/write`,
        ],
        /--target-url carries credentials [\s\S]*--target-basic-auth-user/,
      ],
      [
        'a range in the future',
        [
          ...base.slice(0, 2),
          '--start',
          '2100-01-01T00:00:00Z',
          '--end',
          '2100-01-02T00:00:00Z',
          '--source-url',
          source.url,
          '--target-url',
          `${target.url}/api/v1/write`,
          '--state',
          state,
        ],
        /future/i,
      ],
      [
        'milliseconds for seconds',
        [
          ...base.slice(0, 2),
          '--start',
          '1767225600000',
          '--source-url',
          source.url,
          '--target-url',
          `${target.url}/api/v1/write`,
          '--state',
          state,
        ],
        /--start .*(before --end|millisecond)|future/i,
      ],
    ];
    for (const [name, args, msg] of cases) {
      const r = await run(args);
      assert.equal(r.status, 2, `${name}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, msg, name);
      assert.equal(r.stdout, '', `${name}: nothing on stdout`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
      assert.equal(existsSync(state), false, `${name}: no state file written`);
      assert.doesNotMatch(r.stderr, /sekrit-pw/, `${name}: no password echoed`);
    }
    // a web page answering 200 is no receiver, even without the preflight: nothing counts as written
    // (write-only: with read-back on, the page is refused sooner, as no remote-read endpoint)
    const h = await run([
      ...base,
      '--source-url',
      source.url,
      '--target-url',
      `${htmlUrl}/api/v1/write`,
      '--no-preflight',
      '--no-readback',
      '--state',
      join(dir, 'html.db'),
    ]);
    assert.equal(h.status, 2, h.stderr);
    assert.match(h.stderr, /HTTP 200 and a text\/html body .*not a remote-write receiver/);
    assert.equal(h.stdout, '');
    const hr = await run([
      ...base,
      '--source-url',
      source.url,
      '--target-url',
      `${htmlUrl}/api/v1/write`,
      '--no-preflight',
      '--state',
      join(dir, 'html-rb.db'),
    ]);
    assert.equal(hr.status, 2, hr.stderr);
    assert.match(
      hr.stderr,
      /cannot read the copy back from the target: remote read at .* did not answer like a remote-read endpoint/,
    );
    // the refused 2.0 probe, the plain server's refusal and the future range stored nothing
    const q = (await fetch(`${target.url}/api/v1/query?query=count(stackshift_backfill_probe)`).then((x) =>
      x.json(),
    )) as { data: { result: unknown[] } };
    assert.deepEqual(q.data.result, []);
    const future = (await fetch(`${target.url}/api/v1/query?query=count({__name__=~".+"})&time=4102444800`).then((x) =>
      x.json(),
    )) as { data: { result: unknown[] } };
    assert.deepEqual(future.data.result, [], 'nothing written in 2100');
  } finally {
    html.close();
    await Promise.all([source.stop(), plain.stop(), target.stop()]);
  }
});

test(
  'issue 12 item 4: without window flags a Prometheus receiver gets 30 min units (never over 1 h) and read-back; a push path keeps 24 h units',
  { timeout: 180_000 },
  async (t) => {
    const dir = tempDir(t);
    const spec: HistorySpec = {
      series: 6,
      durationMs: 30 * 3_600_000,
      intervalMs: 120_000,
      seed: 12,
      endMs: Date.UTC(2026, 0, 20),
    };
    const [source, prom, mimirLike] = await Promise.all([
      startServer(t, { name: 'source', history: spec }),
      startServer(t, { name: 'prom', receiver: true }),
      startServer(t, { name: 'push', receiver: true }),
    ]);
    // the real receiver presented under a Mimir-style push path
    const { startFaultProxy } = await import('../faults/proxy.js');
    const push = await startFaultProxy(`${mimirLike.url}/api/v1/write`, () => 'none', {
      stripPrefix: '/gw/api/v1/push',
    });
    try {
      const s = resolveSpec(spec);
      const common = [
        'backfill',
        'metrics',
        '--source-url',
        source.url,
        '--start',
        String(s.startMs / 1000),
        '--end',
        String(s.endMs / 1000),
        '--match',
        '{__name__=~"stackshift_gen_.+"}',
        '--output',
        'json',
      ];
      const units = (db: string) => {
        const d = new Database(db, { readonly: true });
        try {
          return d.prepare('SELECT start_ms AS s, end_ms AS e FROM backfill_units ORDER BY start_ms').all() as Array<{
            s: number;
            e: number;
          }>;
        } finally {
          d.close();
        }
      };
      const a = await run([...common, '--target-url', `${prom.url}/api/v1/write`, '--state', join(dir, 'prom.db')]);
      assert.equal(a.status, 0, a.stderr);
      const ra = JSON.parse(a.stdout) as { readBack?: { enabled: boolean } };
      assert.equal(ra.readBack?.enabled, true, 'read-back on by default where the target can be read');
      const ua = units(join(dir, 'prom.db'));
      assert.equal(ua[0].e - ua[0].s, 1_800_000, 'the first unit is 30 min');
      assert.ok(
        ua.every((u) => u.e - u.s <= 3_600_000),
        `no unit over 1 h (longest ${Math.max(...ua.map((u) => u.e - u.s)) / 60_000} min)`,
      );
      assert.deepEqual((await compareCopies(source.url, prom.url, s.startMs, s.endMs - 1, GEN)).problems, []);

      const b = await run([
        ...common,
        '--target-url',
        `${push.url}/gw/api/v1/push`,
        '--target-read-url',
        mimirLike.url,
        '--state',
        join(dir, 'push.db'),
      ]);
      assert.equal(b.status, 0, b.stderr);
      const ub = units(join(dir, 'push.db'));
      assert.equal(ub[0].e - ub[0].s, 24 * 3_600_000, 'a push receiver keeps the 24 h default');
    } finally {
      await push.close();
      await Promise.all([source.stop(), prom.stop(), mimirLike.stop()]);
    }
  },
);
