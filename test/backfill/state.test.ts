import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, writeSync, closeSync, statSync, truncateSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BackfillState, runBackfill } from '../../src/backfill/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { StackshiftError } from '../../src/errors/index.js';
import { resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { startFaultProxy } from '../faults/proxy.js';
import { startServer, tempDir } from '../harness/index.js';
import { params } from './helpers.js';

function planned(file: string): void {
  const st = new BackfillState(file);
  const groups = Array.from({ length: 40 }, (_, i) => ({ selector: 0, names: [`metric_${i}_${'x'.repeat(60)}`] }));
  st.createPlan('f'.repeat(32), { describe: 'a -> b', startMs: 0, endMs: 3_600_000 }, groups, 0, 600_000);
  for (const g of st.groups()) st.claimUnit(g.id, 0, 600_000);
  st.close();
}

function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof StackshiftError && re.test(e.message) && Boolean(e.hint),
    `expected a StackshiftError matching ${re}`,
  );
}

test('one writer per state file: a second backfill is refused at once with who holds it; a dead holder is taken over', async (t) => {
  const file = join(tempDir(t), 'state.db');
  planned(file);
  // another live process on this host holds the lease
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => other.kill('SIGKILL'));
  const st = new BackfillState(file);
  const otherStart = readFileSync(`/proc/${other.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
  st.db
    .prepare('UPDATE state_lease SET pid = ?, pid_start = ?, started_at = ?, heartbeat_at = ? WHERE module = ?')
    .run(other.pid, 'not-its-start-time', Date.now(), Date.now(), 'backfill');
  // close the db without releasing (as a crashed owner would leave it)
  st.db.close();
  // the recorded pid is alive but it is another process (the pid was reused): taken over
  const reused = new BackfillState(file);
  reused.db
    .prepare('UPDATE state_lease SET pid = ?, pid_start = ? WHERE module = ?')
    .run(other.pid, otherStart, 'backfill');
  reused.db.close();
  refused(() => new BackfillState(file), new RegExp(`in use by another backfill \\(pid ${other.pid} on ${hostname()}`));
  // the holder dies: its lease is taken over
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  const again = new BackfillState(file);
  assert.equal(again.groups().length, 40);
  again.close();
  // a holder on another host that stopped beating for longer than the lease is taken over, a fresh one is not
  const st2 = new BackfillState(file);
  st2.db
    .prepare(
      "INSERT OR REPLACE INTO state_lease (module, pid, host, started_at, heartbeat_at) VALUES ('backfill', 1, 'elsewhere', ?, ?)",
    )
    .run(Date.now(), Date.now());
  st2.db.close();
  refused(() => new BackfillState(file), /in use by another backfill \(pid 1 on elsewhere/);
  const raw = new (await import('better-sqlite3')).default(file);
  raw.prepare("UPDATE state_lease SET heartbeat_at = ? WHERE module = 'backfill'").run(Date.now() - 120_000);
  raw.close();
  const st3 = new BackfillState(file);
  assert.equal(
    (st3.db.prepare("SELECT pid FROM state_lease WHERE module = 'backfill'").get() as { pid: number }).pid,
    process.pid,
    'stale lease taken over',
  );
  st3.close();
});

test('a damaged state file is refused with a clear message and the way out, never planned over', (t) => {
  const dir = tempDir(t);
  // random bytes over the pages after the header
  const pages = join(dir, 'pages.db');
  planned(pages);
  const size = statSync(pages).size;
  assert.ok(size >= 4 * 4096, `file has several pages (${size} bytes)`);
  const fd = openSync(pages, 'r+');
  writeSync(fd, randomBytes(size - 4096), 0, size - 4096, 4096);
  closeSync(fd);
  refused(() => new BackfillState(pages), /state file .*pages\.db is damaged/);
  // truncated in the middle
  const cut = join(dir, 'cut.db');
  planned(cut);
  truncateSync(cut, Math.floor(statSync(cut).size / 2) + 100);
  refused(() => new BackfillState(cut), /state file .*cut\.db is damaged/);
  // not a database at all
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, randomBytes(8192));
  refused(() => new BackfillState(junk), /state file .*junk\.db is damaged/);
  // a plan row gone while its groups remain: damaged, not a new backfill
  const noplan = join(dir, 'noplan.db');
  planned(noplan);
  const st = new BackfillState(noplan);
  st.db.prepare('DELETE FROM backfill_plan').run();
  st.close();
  refused(() => new BackfillState(noplan), /damaged: it holds 40 name groups and 40 units but no readable plan/);
  // an intact file opens
  const ok = join(dir, 'ok.db');
  planned(ok);
  const st2 = new BackfillState(ok);
  assert.equal(st2.totals().units, 40);
  st2.close();
});

test(
  'a refusal echoing the request headers never puts the credential into the state file or the report',
  { timeout: 120_000 },
  async (t) => {
    const spec: HistorySpec = {
      series: 4,
      durationMs: 3_600_000,
      intervalMs: 60_000,
      seed: 5,
      endMs: Date.UTC(2026, 0, 10),
    };
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', history: spec }),
      startServer(t, { name: 'target', receiver: true }),
    ]);
    let writes = 0;
    // a Mimir-style push path: the refusal is counted (Mimir keeps the rest), so its example is stored
    const proxy = await startFaultProxy(
      `${target.url}/api/v1/write`,
      (_n, method) => (method === 'POST' && ++writes === 2 ? '400-echo' : 'none'),
      { stripPrefix: '/gw/api/v1/push' },
    );
    try {
      const s = resolveSpec(spec);
      const password = 'hunter2-very-secret';
      const basic = Buffer.from(`backfiller:${password}`).toString('base64');
      const ep = endpointFromUrl(`${proxy.url}/gw/api/v1/push`, 'mimir', {
        auth: { kind: 'basic', username: 'backfiller', password },
      });
      const state = join(tempDir(t), 'state.db');
      const report = await runBackfill(
        params(source.url, ep, state, {
          startMs: s.startMs,
          endMs: s.endMs,
          targetReadUrl: target.url,
          readBack: false,
        }),
      );
      assert.equal(report.rejects.length, 1);
      assert.match(report.rejects[0].example ?? '', /authorization: Basic <redacted>/);
      const bytes = [state, `${state}-wal`]
        .map((f) => {
          try {
            return readFileSync(f).toString('latin1');
          } catch {
            return '';
          }
        })
        .join('');
      assert.ok(bytes.includes('<redacted>'), 'the redacted example is in the state');
      assert.ok(!bytes.includes(basic) && !bytes.includes(password), 'no credential in the state file');
      assert.ok(!JSON.stringify(report).includes(basic));
    } finally {
      await proxy.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);
