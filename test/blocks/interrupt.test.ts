import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TMP_SUFFIX, type BlocksReport } from '../../src/blocks/index.js';
import { countSamples, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { inspectBlock } from '../../src/tsdb/index.js';
import { CLI, startServer, tempDir, waitUntil } from '../harness/index.js';

const SPEC: HistorySpec = {
  series: 60,
  durationMs: 12 * 3_600_000,
  intervalMs: 30_000,
  seed: 9,
  endMs: Date.UTC(2026, 2, 1),
};

/** Forwards every request to `target`, remote reads `delay` ms late, so a signal lands mid-run. */
async function slowProxy(
  target: string,
  delayMs: number,
): Promise<{ url: string; setDelay(ms: number): void; close(): Promise<void> }> {
  const t = new URL(target);
  let delay = delayMs;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      setTimeout(
        () => {
          const up = request(
            { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
            (r) => {
              res.writeHead(r.statusCode ?? 502, r.headers);
              r.pipe(res);
            },
          );
          up.on('error', () => {
            res.destroy();
          });
          up.end(Buffer.concat(parts));
        },
        req.url?.includes('/api/v1/read') ? delay : 0,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setDelay: (ms) => {
      delay = ms;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function run(argv: string[]): {
  kill: (s: NodeJS.Signals) => void;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const c = spawn(argv[0], argv.slice(1), { env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (d) => (stdout += d));
  c.stderr.on('data', (d) => (stderr += d));
  return { kill: (s) => c.kill(s), done: new Promise((r) => c.on('close', (code) => r({ code, stdout, stderr }))) };
}

const visibleBlocks = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((d) => !d.endsWith(TMP_SUFFIX)) : []);

test(
  'backfill blocks: Ctrl-C finishes the block in progress, records the run as interrupted, exits 130; the printed command writes the rest, each range once',
  { timeout: 300_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-int-src', history: SPEC });
    const proxy = await slowProxy(source.url, 1500);
    t.after(() => proxy.close());
    const s = resolveSpec(SPEC);
    const dir = tempDir(t);
    const out = join(dir, 'blocks');
    const state = join(dir, 'state.db');
    const first = run([
      process.execPath,
      CLI,
      'backfill',
      'blocks',
      '--source-url',
      proxy.url,
      '--start',
      String(s.startMs / 1000),
      '--end',
      String(s.endMs / 1000),
      '--out',
      out,
      '--block-duration',
      '1h',
      '--state',
      state,
      '--read-concurrency',
      '1',
      '--output',
      'json',
    ]);
    await waitUntil(async () => visibleBlocks(out).length >= 2, 120_000, 'two blocks in place');
    const at = Date.now();
    first.kill('SIGINT');
    const r = await first.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - at < 10_000, `stopped within the grace period (${Date.now() - at} ms)`);
    const partial = JSON.parse(r.stdout) as BlocksReport;
    assert.equal(partial.interrupted, true);
    assert.ok(
      partial.plan.unitsDone >= 2 && partial.plan.unitsDone < 12,
      `partial: ${partial.plan.unitsDone} of 12 ranges`,
    );
    assert.match(r.stderr, /resume with: stackshift backfill blocks .*--state \S*state\.db/);
    const afterStop = readdirSync(out);
    assert.equal(afterStop.filter((d) => d.endsWith(TMP_SUFFIX)).length, 0, 'no half-written block left');
    assert.equal(afterStop.length, partial.plan.unitsDone, 'the block in progress at the signal was finished');
    const db = new Database(state, { readonly: true });
    const runs = (db.prepare('SELECT status FROM backfill_runs ORDER BY id').all() as Array<{ status: string }>).map(
      (x) => x.status,
    );
    const running = (
      db.prepare("SELECT COUNT(*) AS n FROM backfill_units WHERE status = 'running'").get() as { n: number }
    ).n;
    db.close();
    assert.deepEqual(runs, ['interrupted']);
    assert.equal(running, 0);

    proxy.setDelay(0);
    const m = /resume with: stackshift (.+)$/m.exec(r.stderr)!;
    const again = await run(['sh', '-c', `exec "${process.execPath}" "${CLI}" ${m[1]}`]).done;
    assert.equal(again.code, 0, again.stderr);
    const rep = JSON.parse(again.stdout) as BlocksReport;
    assert.equal(rep.interrupted, undefined);
    assert.equal(rep.run.redoneUnits, 0, 'nothing of the first run written again');
    assert.equal(rep.totals.blocks, 12);
    assert.equal(rep.totals.samples, countSamples(SPEC), 'each sample counted once across the runs');
    const final = readdirSync(out);
    assert.equal(final.length, 12, `no temp dir and no duplicate left: ${final.join(' ')}`);
    for (const b of afterStop) assert.ok(final.includes(b), 'blocks of the first run kept, not rewritten');
    const ranges = final.map((b) => inspectBlock(join(out, b), { level: 'headers' }).minTime);
    assert.equal(new Set(ranges).size, 12, 'each hour written once');
  },
);
