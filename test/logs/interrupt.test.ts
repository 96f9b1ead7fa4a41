import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { CopyState } from '../../src/logs/index.js';
import { CLI, tempDir, waitUntil } from '../harness/index.js';
import { expectedKeys, generateLogs, lokiUnderTest, readAll, seed } from './helpers.js';

const SELECTOR = '{job="stackshift-gen"}';

function run(
  argv: string[],
  env: Record<string, string | undefined> = {},
): { kill: (s: NodeJS.Signals) => void; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const c = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (d) => (stdout += d));
  c.stderr.on('data', (d) => (stderr += d));
  return { kill: (s) => c.kill(s), done: new Promise((r) => c.on('close', (code) => r({ code, stdout, stderr }))) };
}

test(
  'logs copy: Ctrl-C mid-copy finishes the units in flight, records the run as interrupted, exits 130; the printed command copies the rest, every line once and none sent twice',
  { timeout: 600_000 },
  async (t) => {
    const loki = await lokiUnderTest(t);
    const data = generateLogs({ streams: 20, linesPerStream: 3000, hours: 4, seed: 5 });
    await seed(loki.source, data.streams);
    const state = join(tempDir(t), 'copy.db');
    const args = [
      'logs',
      'copy',
      ...loki.flags,
      '--selector',
      SELECTOR,
      '--start',
      String(data.startMs / 1000),
      '--end',
      String(data.endMs / 1000),
      '--state',
      state,
      '--batch-lines',
      '500',
      '--concurrency',
      '2',
      '--streams-per-unit',
      '2',
      '--output',
      'json',
    ];
    const first = run([process.execPath, CLI, ...args], { STACKSHIFT_TEST_PUSH_DELAY_MS: '20' });
    await waitUntil(
      async () => {
        if (!existsSync(state)) return false;
        const s = new CopyState(state);
        try {
          return s.totals().unitsDone >= 5;
        } catch {
          return false;
        } finally {
          s.db.close();
        }
      },
      300_000,
      'five finished units',
    );
    const at = Date.now();
    first.kill('SIGINT');
    const r = await first.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - at < 10_000, `stopped within the grace period (${Date.now() - at} ms)`);
    const partial = JSON.parse(r.stdout);
    assert.equal(partial.interrupted, true);
    assert.equal(partial.complete, false);
    assert.ok(
      partial.units.done >= 5 && partial.units.done < partial.units.total,
      `partial: ${partial.units.done} of ${partial.units.total} units`,
    );
    assert.match(r.stderr, /resume with: stackshift logs copy .*--state \S*copy\.db/);
    const db = new Database(state, { readonly: true });
    const runs = (db.prepare('SELECT status FROM logs_runs ORDER BY id').all() as Array<{ status: string }>).map(
      (x) => x.status,
    );
    const running = (db.prepare("SELECT COUNT(*) AS n FROM logs_units WHERE status = 'running'").get() as { n: number })
      .n;
    db.close();
    assert.deepEqual(runs, ['interrupted']);
    assert.equal(running, 0, 'the units in flight at the signal were finished');
    const dupBefore = loki.double?.stats.duplicates ?? 0;

    const m = /resume with: stackshift (.+)$/m.exec(r.stderr)!;
    const again = await run(['sh', '-c', `exec "${process.execPath}" "${CLI}" ${m[1]}`]).done;
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    assert.equal(report.complete, true);
    assert.equal(report.lines, data.lines, 'the summary counts each line once across both runs');
    assert.equal(report.runs, 2);
    assert.equal(report.units.redoneAfterCrash, 0, 'no unit redone: nothing was cut off');
    assert.equal(
      report.thisRun.lines,
      data.lines - partial.lines,
      'the second run sent exactly what the first had not',
    );
    const got = await readAll(loki.target, SELECTOR, data.startMs, data.endMs);
    const want = expectedKeys(data.streams);
    assert.equal(got.size, want.size, 'no line lost');
    for (const [k, n] of want) assert.equal(got.get(k), n, `exactly once: ${k.slice(0, 100)}`);
    if (loki.double) assert.equal(loki.double.stats.duplicates, dupBefore, 'no line was pushed twice');
  },
);
