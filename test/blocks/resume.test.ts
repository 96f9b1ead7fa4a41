import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TMP_SUFFIX, type BlocksReport } from '../../src/blocks/index.js';
import { countSamples, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { inspectBlock } from '../../src/tsdb/index.js';
import { CLI, runCli, startServer, tempDir, waitUntil } from '../harness/index.js';
import { GEN, compareCopies } from '../backfill/helpers.js';

const SPEC: HistorySpec = {
  series: 60,
  durationMs: 12 * 3_600_000,
  intervalMs: 30_000,
  seed: 9,
  endMs: Date.UTC(2026, 2, 1),
};

/** Forwards every request to `target` after `delayMs`: slows each remote read down so a kill lands mid-run. */
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

const visibleBlocks = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((d) => !d.endsWith(TMP_SUFFIX)) : []);

test(
  'backfill blocks: kill -9 mid-run leaves only complete blocks visible; the re-run finishes with each range written once',
  { timeout: 300_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-resume-src', history: SPEC });
    const proxy = await slowProxy(source.url, 1500);
    t.after(() => proxy.close());
    const s = resolveSpec(SPEC);
    const dir = tempDir(t);
    const out = join(dir, 'blocks');
    const base = [
      'backfill',
      'blocks',
      '--start',
      String(s.startMs / 1000),
      '--end',
      String(s.endMs / 1000),
      '--out',
      out,
      '--block-duration',
      '1h',
      '--state',
      join(dir, 'state.db'),
      '--read-concurrency',
      '1',
      '--output',
      'json',
    ];

    const child = spawn(process.execPath, [CLI, ...base, '--source-url', proxy.url], {
      stdio: 'ignore',
      env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' },
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    // kill once at least two blocks are in place and the next one is being written
    // (a block's temp dir lives for milliseconds: on a loaded machine the poll may miss it, so after two blocks
    // it is awaited for a while and the kill lands mid-unit either way, the unit's read being slowed to 1.5 s)
    await waitUntil(async () => visibleBlocks(out).length >= 2, 120_000, 'two blocks in place');
    await waitUntil(
      async () => readdirSync(out).some((d) => d.endsWith(TMP_SUFFIX)),
      10_000,
      'a third in progress',
    ).catch(() => undefined);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const afterKill = visibleBlocks(out);
    assert.ok(afterKill.length >= 2 && afterKill.length < 12, `killed mid-run (${afterKill.length} blocks)`);
    for (const b of afterKill) {
      const info = inspectBlock(join(out, b), { level: 'full' });
      assert.deepEqual(
        info.problems.filter((p) => p.severity === 'error'),
        [],
        `visible block ${b} is complete`,
      );
    }

    // the same command again (same source URL: the state file belongs to it), now at full speed
    proxy.setDelay(0);
    const res = await runCli([...base, '--source-url', proxy.url]);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as BlocksReport;
    assert.equal(r.plan.resumed, true);
    assert.equal(r.run.redoneUnits, 1, 'the unit in progress at the kill was redone');
    assert.equal(r.plan.runs, 2);
    assert.equal(r.totals.blocks, 12);
    assert.equal(r.totals.samples, countSamples(SPEC));
    const final = readdirSync(out);
    assert.equal(final.length, 12, `no temp dir and no duplicate left: ${final.join(' ')}`);
    for (const b of afterKill) assert.ok(final.includes(b), 'blocks of the first run kept, not rewritten');
    const ranges = final.map((b) => inspectBlock(join(out, b), { level: 'headers' }).minTime);
    assert.equal(new Set(ranges).size, 12, 'each hour written once');

    // and the data is whole: into a Prometheus, compared sample by sample with the source
    const target = await startServer(t, { name: 'blk-resume-tgt', waitReady: false });
    await target.stop();
    const { cpSync } = await import('node:fs');
    for (const b of final) cpSync(join(out, b), join(target.dataDir, b), { recursive: true });
    await target.restart();
    const d = await compareCopies(source.url, target.url, s.startMs, s.endMs, GEN);
    assert.deepEqual(d.problems, []);
    assert.equal(d.samples, countSamples(SPEC));
  },
);

test(
  'backfill blocks --prometheus-data-dir: a running Prometheus picks the blocks up at its next reload',
  { timeout: 300_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-live-src', history: SPEC });
    const target = await startServer(t, { name: 'blk-live-tgt' });
    const s = resolveSpec(SPEC);
    const dir = tempDir(t);
    const bad = await runCli([
      'backfill',
      'blocks',
      '--source-url',
      source.url,
      '--start',
      String(s.startMs / 1000),
      '--end',
      String(s.endMs / 1000),
      '--prometheus-data-dir',
      dir,
      '--state',
      join(dir, 's.db'),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /does not look like a Prometheus data directory/);
    const res = await runCli([
      'backfill',
      'blocks',
      '--source-url',
      source.url,
      '--start',
      String(s.startMs / 1000),
      '--end',
      String(s.endMs / 1000),
      '--prometheus-data-dir',
      target.dataDir,
      '--state',
      join(dir, 'state.db'),
      '--output',
      'json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as BlocksReport;
    assert.equal(r.blockDurationMs, 2 * 3_600_000, '2h blocks by default, as Prometheus cuts them');
    assert.ok(r.advice.some((a) => /retention/.test(a)));
    const api = new PrometheusClient(endpointFromUrl(target.url));
    t.after(() => api.close());
    await waitUntil(
      async () => {
        const q = await api.query(`count(count_over_time({__name__=~"stackshift_gen_.+"}[13h]))`, s.endMs);
        return q.resultType === 'vector' && q.result.length === 1 && q.result[0].value[1] === String(SPEC.series);
      },
      180_000,
      'the target to load the blocks',
    );
    const d = await compareCopies(source.url, target.url, s.startMs, s.endMs, GEN);
    assert.deepEqual(d.problems, []);
    assert.equal(d.samples, countSamples(SPEC));
  },
);
