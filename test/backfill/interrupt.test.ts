import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { resolveSpec, writeHistoryRemote, type HistorySpec } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, compareSettled, waitHeadCompacted } from './helpers.js';

/**
 * Ctrl-C (SIGINT) during `backfill metrics`, on real Prometheus 2.42 servers: the run stops taking units, lets
 * those in flight finish (or aborts them after the grace period), records itself as interrupted, prints the
 * partial summary and the command that resumes, and exits 130; a second Ctrl-C exits at once. The rerun
 * completes an exact copy.
 */

const CLI = resolve('dist/src/cli/main.js');
const ENV = { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1' };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Run & { endedAt: number }> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run & { endedAt: number }>((res) =>
    child.on('close', (status) => res({ status, stdout, stderr, endedAt: Date.now() })),
  );
  return { child, done };
}

/** The resume command the CLI printed, run as a shell would (with `stackshift` being the built CLI). */
function runPrinted(stderr: string): Promise<Run> {
  const m = /resume with: stackshift (.+)$/m.exec(stderr);
  assert.ok(m, `a resume command on stderr:\n${stderr}`);
  return new Promise((res) => {
    const c = spawn('sh', ['-c', `exec "${process.execPath}" "${CLI}" ${m[1]}`], { env: ENV });
    let stdout = '';
    let err = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (status) => res({ status, stdout, stderr: err }));
  });
}

function unitCounts(state: string): { done: number; running: number; doneSamples: number } {
  const db = new Database(state, { readonly: true, fileMustExist: true });
  try {
    const r = db
      .prepare(
        "SELECT COALESCE(SUM(status = 'done'), 0) AS done, COALESCE(SUM(status = 'running'), 0) AS running, COALESCE(SUM(CASE WHEN status = 'done' THEN samples ELSE 0 END), 0) AS doneSamples FROM backfill_units",
      )
      .get() as { done: number; running: number; doneSamples: number };
    return r;
  } finally {
    db.close();
  }
}

function runStatuses(state: string): string[] {
  const db = new Database(state, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT status FROM backfill_runs ORDER BY id').all() as Array<{ status: string }>).map(
      (r) => r.status,
    );
  } finally {
    db.close();
  }
}

async function waitUnitsDone(state: string, n: number, child: ChildProcess): Promise<number> {
  const deadline = Date.now() + 90_000;
  let done = 0;
  while (Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(state)) continue;
    try {
      done = unitCounts(state).done;
    } catch {
      done = 0;
    }
    if (done >= n) return done;
  }
  throw new Error(`the run did not reach ${n} done units (at ${done}, exit ${child.exitCode})`);
}

/**
 * A pass-through in front of a real Prometheus that, once `stall` is set, holds every remote-write request
 * without answering or forwarding it: a target that hangs mid-copy (what the grace period is for).
 */
async function stallProxy(
  target: string,
): Promise<{ url: string; stall: () => void; unstall: () => void; held: () => number; close: () => Promise<void> }> {
  let stalled = false;
  let held = 0;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (stalled && req.url?.startsWith('/api/v1/write')) {
      held++;
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    try {
      const r = await fetch(target + req.url, {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
      });
      const h: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) h[k] = v;
      });
      const body = Buffer.from(await r.arrayBuffer());
      if (!res.destroyed) res.writeHead(r.status, h).end(body);
    } catch (e) {
      if (!res.destroyed) res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stall: () => {
      stalled = true;
    },
    unstall: () => {
      stalled = false;
    },
    held: () => held,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function servers(t: Parameters<typeof startServer>[0], spec: HistorySpec) {
  const [source, target] = await Promise.all([
    startServer(t, { name: 'source', receiver: true }),
    startServer(t, { name: 'target', receiver: true }),
  ]);
  const written = await writeHistoryRemote(`${source.url}/api/v1/write`, spec);
  // a 2.42 source compacting its out-of-order head answers some reads short (see helpers.ts)
  await waitHeadCompacted(source.url);
  return { source, target, written };
}

const SPEC: HistorySpec = {
  series: 300,
  durationMs: 2 * 86_400_000,
  intervalMs: 30_000,
  seed: 21,
  endMs: Date.UTC(2026, 0, 25),
};

function backfillArgs(sourceUrl: string, targetUrl: string, state: string, endMs: number, startMs: number): string[] {
  return [
    'backfill',
    'metrics',
    '--source-url',
    sourceUrl,
    '--target-url',
    `${targetUrl}/api/v1/write`,
    '--start',
    String(startMs / 1000),
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
}

test(
  'Ctrl-C during backfill metrics: units in flight finish, exit 130, state says interrupted, the printed command resumes to an exact copy with nothing sent twice',
  { timeout: 300_000 },
  async (t) => {
    const { source, target, written } = await servers(t, SPEC);
    try {
      const s = resolveSpec(SPEC);
      const endMs = s.endMs + SPEC.intervalMs;
      const state = join(tempDir(t), 'backfill.db');
      // slowed down so that the signal surely lands in the middle
      const run = start([
        ...backfillArgs(source.url, target.url, state, endMs, s.startMs),
        '--write-rate',
        '150k',
        '--batch-samples',
        '5000',
      ]);
      await waitUnitsDone(state, 6, run.child);
      const signalledAt = Date.now();
      run.child.kill('SIGINT');
      const r = await run.done;
      assert.equal(r.status, 130, r.stderr);
      assert.ok(r.endedAt - signalledAt < 10_000, `stopped within the grace period (${r.endedAt - signalledAt} ms)`);
      // the partial summary on stdout, the way to resume on stderr
      const partial = JSON.parse(r.stdout);
      assert.equal(partial.interrupted, true);
      assert.ok(
        partial.plan.unitsDone >= 6 && partial.plan.unitsDone < 98,
        `partial: ${partial.plan.unitsDone} of 98 units`,
      );
      assert.match(r.stderr, /SIGINT: stopping; no new work is started/);
      assert.match(
        r.stderr,
        new RegExp(
          `interrupted: ${partial.plan.unitsDone} of \\d+ units planned so far are done; .*records the run as interrupted`,
        ),
      );
      assert.match(r.stderr, /resume with: stackshift backfill metrics .*--state \S*backfill\.db/);
      assert.doesNotMatch(r.stderr, /error:|\n\s+at /, 'no error, no stack trace');
      // recorded as interrupted, neither failed nor done; the units in flight at the signal were finished, not dropped
      assert.deepEqual(runStatuses(state), ['interrupted']);
      const before = unitCounts(state);
      assert.equal(before.running, 0, 'no unit left half-done: those in flight at Ctrl-C finished');
      assert.equal(before.done, partial.plan.unitsDone);
      assert.equal(partial.totals.samples, before.doneSamples);

      // the command printed resumes: the rest only, each sample once
      const again = await runPrinted(r.stderr);
      assert.equal(again.status, 0, again.stderr);
      const report = JSON.parse(again.stdout);
      assert.equal(report.interrupted, undefined);
      assert.equal(report.plan.resumed, true);
      assert.equal(report.plan.unitsDone, 98);
      assert.equal(report.run.redoneUnits, 0, 'nothing of the first run is sent again');
      assert.equal(
        report.run.samples,
        written.samples - before.doneSamples,
        'the second run sent exactly what the first had not',
      );
      assert.equal(report.totals.samples, written.samples, 'each sample counted once across the two runs');
      assert.deepEqual(runStatuses(state), ['interrupted', 'done']);
      t.diagnostic(
        `SIGINT to exit: ${r.endedAt - signalledAt} ms; ${before.done} of 98 units in the first run (${before.doneSamples} samples), ${report.run.samples} in the resumed run, ${written.samples} in all`,
      );

      const d = await compareSettled(source.url, target.url, s.startMs, endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, written.samples, 'the target holds every sample, once');
      // and verify metrics agrees: 100 %
      const v = start([
        'verify',
        'metrics',
        '--source-url',
        source.url,
        '--target-url',
        target.url,
        '--start',
        String(s.startMs / 1000),
        '--end',
        String(endMs / 1000),
        '--match',
        '{__name__=~"stackshift_gen_.+"}',
        '--min-consistency',
        '100',
        '--output',
        'json',
      ]);
      const vr = await v.done;
      assert.equal(vr.status, 0, vr.stderr);
      const vj = JSON.parse(vr.stdout);
      assert.equal(vj.consistency.percent, 100);
      assert.equal(vj.samples.expected, written.samples);
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);

test(
  'Ctrl-C with a target that hangs: requests in flight are aborted after the grace period; a second Ctrl-C exits at once; the state stays whole and the rerun is exact',
  { timeout: 300_000 },
  async (t) => {
    const spec: HistorySpec = { ...SPEC, series: 60, durationMs: 12 * 3_600_000 };
    const { source, target, written } = await servers(t, spec);
    const proxy = await stallProxy(target.url);
    try {
      const s = resolveSpec(spec);
      const endMs = s.endMs + spec.intervalMs;
      const dir = tempDir(t);

      // 1. one Ctrl-C while every write hangs: the run waits out the grace period, then aborts and exits 130
      const state1 = join(dir, 'grace.db');
      const a = start([
        ...backfillArgs(source.url, proxy.url, state1, endMs, s.startMs),
        '--write-rate',
        '20k',
        '--batch-samples',
        '2000',
        '--no-readback',
      ]);
      await waitUnitsDone(state1, 2, a.child);
      proxy.stall();
      const deadline = Date.now() + 30_000;
      while (proxy.held() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(proxy.held() > 0, 'a write is hanging');
      const at1 = Date.now();
      a.child.kill('SIGINT');
      const ra = await a.done;
      const took = ra.endedAt - at1;
      assert.equal(ra.status, 130, ra.stderr);
      assert.ok(
        took >= 9_000 && took < 15_000,
        `waited the 10 s grace period for the hung request, then stopped (${took} ms)`,
      );
      assert.equal(JSON.parse(ra.stdout).interrupted, true);
      assert.deepEqual(runStatuses(state1), ['interrupted']);
      assert.ok(unitCounts(state1).running >= 1, 'the unit whose write hung stays running, for the next run to redo');

      // 2. a second Ctrl-C does not wait: exit 130 at once
      const state2 = join(dir, 'twice.db');
      const proxy2 = await stallProxy(target.url);
      t.after(() => proxy2.close());
      const b = start([
        ...backfillArgs(source.url, proxy2.url, state2, endMs, s.startMs),
        '--write-rate',
        '20k',
        '--batch-samples',
        '2000',
        '--no-readback',
      ]);
      await waitUnitsDone(state2, 2, b.child);
      proxy2.stall();
      while (proxy2.held() === 0 && Date.now() < deadline + 30_000) await new Promise((r) => setTimeout(r, 50));
      b.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(b.child.exitCode, null, 'after one Ctrl-C the run is still waiting for the hung request');
      const at2 = Date.now();
      b.child.kill('SIGINT');
      const rb = await b.done;
      assert.equal(rb.status, 130, rb.stderr);
      assert.ok(rb.endedAt - at2 < 1_500, `the second Ctrl-C exits at once (${rb.endedAt - at2} ms)`);
      assert.match(rb.stderr, /SIGINT again, exiting now/);
      assert.equal(rb.stdout, '', 'no summary: it exited at once');
      // the state file is whole: integrity check, and the runs table shows a run that never finished
      const db = new Database(state2, { readonly: true });
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
      db.close();
      assert.deepEqual(runStatuses(state2), ['running']);
      t.diagnostic(`hung target: SIGINT to exit ${took} ms (grace 10 s); second SIGINT to exit ${rb.endedAt - at2} ms`);

      // 3. both resume once the target answers again (the same command: the target is part of the plan), exact
      // copies, every sample once in the counts
      proxy.unstall();
      proxy2.unstall();
      for (const [st, via] of [
        [state1, proxy.url],
        [state2, proxy2.url],
      ]) {
        const again = start(backfillArgs(source.url, via, st, endMs, s.startMs));
        const r = await again.done;
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(r.stdout);
        assert.equal(report.plan.unitsDone, report.plan.units);
        assert.ok(report.run.redoneUnits >= 1, 'the units in flight at the stop are redone');
        assert.equal(report.totals.samples, written.samples, 'each sample counted once across the runs');
      }
      const d = await compareSettled(source.url, target.url, s.startMs, endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, written.samples);
    } finally {
      await proxy.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);
