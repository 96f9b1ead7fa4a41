import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { LabJaeger } from '../../src/lab/index.js';
import { syntheticTraces, type Trace } from '../../src/traces/index.js';
import { CLI, tempDir } from '../harness/index.js';
import { NO_JAEGER, pushTraces, startJaegers, waitForTraces } from './helpers.js';

/**
 * Ctrl-C during `traces copy` on real Jaeger: no batch is claimed after the signal, the one on the wire
 * finishes, the run is recorded as interrupted, the partial summary and the resume command are printed, exit
 * 130; the printed command then copies the rest, every trace once.
 */
const N = 800;
const HOUR = 3_600_000;
const endMs = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const SPEC = { traces: N, seed: 7, startMs: endMs - 2 * HOUR, endMs, services: 2 };
const startUs = BigInt(SPEC.startMs) * 1000n;
const endUs = BigInt(SPEC.endMs) * 1000n;
const range = ['--start', new Date(SPEC.startMs).toISOString(), '--end', new Date(SPEC.endMs).toISOString()];

describe('traces copy: Ctrl-C and resume', { skip: NO_JAEGER }, () => {
  let source: LabJaeger, target: LabJaeger;
  const dir = tempDir(undefined, 'stackshift-traces-interrupt-');
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const f of cleanups) await f();
    rmSync(dir, { recursive: true, force: true });
  });

  before(
    async () => {
      [source, target] = await startJaegers((f) => cleanups.push(f), ['source', 'target']);
      const generated: Trace[] = [...syntheticTraces(SPEC)];
      await pushTraces(source.otlpUrl, generated);
      assert.equal(await waitForTraces(source.url, startUs, endUs, N, 120_000), N);
    },
    { timeout: 300_000 },
  );

  test(
    'SIGINT mid-copy: exit 130, interrupted in the state, nothing left on the wire; the printed command finishes the copy',
    { timeout: 600_000 },
    async () => {
      const state = join(dir, 'copy.db');
      const args = [
        'traces',
        'copy',
        '--jaeger-url',
        source.url,
        '--otlp-url',
        target.otlpUrl,
        '--target-jaeger-url',
        target.url,
        ...range,
        '--state',
        state,
        '--window',
        '30m',
        '--concurrency',
        '1',
        '--batch-spans',
        '200',
        '--rate',
        '2000',
        '-o',
        'json',
      ];
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      let done = 0;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          const db = new Database(state, { readonly: true, fileMustExist: true });
          done = (
            db.prepare("SELECT COUNT(*) AS n FROM traces_copy_traces WHERE status = 'done'").get() as { n: number }
          ).n;
          db.close();
        } catch {
          /* not created yet */
        }
        if (done >= N / 4) break;
      }
      const at = Date.now();
      child.kill('SIGINT');
      const code = await closed;
      assert.equal(code, 130, stderr);
      assert.ok(Date.now() - at < 10_000, `stopped within the grace period (${Date.now() - at} ms)`);
      const partial = JSON.parse(stdout);
      assert.equal(partial.interrupted, true);
      assert.ok(
        partial.totals.traces >= N / 4 && partial.totals.traces < N,
        `partial: ${partial.totals.traces} of ${N} traces`,
      );
      assert.match(stderr, /resume with: stackshift traces copy .*--state \S*copy\.db/);
      const db = new Database(state, { readonly: true });
      const runs = (
        db.prepare('SELECT status FROM traces_copy_runs ORDER BY id').all() as Array<{ status: string }>
      ).map((r) => r.status);
      const sending = (
        db.prepare("SELECT COUNT(*) AS n FROM traces_copy_traces WHERE status = 'sending'").get() as { n: number }
      ).n;
      db.close();
      assert.deepEqual(runs, ['interrupted']);
      assert.equal(sending, 0, 'the batch on the wire at the signal was finished, not left in doubt');

      const m = /resume with: stackshift (.+)$/m.exec(stderr)!;
      const rerun = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
        const c = spawn('sh', ['-c', `exec "${process.execPath}" "${CLI}" ${m[1]}`], {
          env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' },
        });
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        c.on('close', (c2) => res({ code: c2, out, err }));
      });
      assert.equal(rerun.code, 0, rerun.err);
      const rep = JSON.parse(rerun.out);
      assert.equal(rep.totals.traces, N);
      assert.equal(rep.run.traces, N - partial.totals.traces, 'the rerun sent exactly what was left');
      assert.equal(rep.run.settledInFlight + rep.run.resentInFlight, 0, 'nothing was in doubt');
      assert.equal(await waitForTraces(target.url, startUs, endUs, N, 120_000), N);
      const db2 = new Database(state, { readonly: true });
      const rows = db2
        .prepare('SELECT status, COUNT(*) AS n, SUM(sends) AS s FROM traces_copy_traces GROUP BY status')
        .all();
      db2.close();
      assert.deepEqual(rows, [{ status: 'done', n: N, s: N }], 'every trace sent once');
    },
  );
});
