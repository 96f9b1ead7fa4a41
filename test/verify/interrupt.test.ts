import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { metricsReportSchema } from '../../src/verify/index.js';
import { assertSchema } from './fixtures.js';
import { startServer } from '../harness/index.js';

/**
 * Ctrl-C during `verify metrics` on a real Prometheus 2.42: no metric is started after the signal, the one in
 * flight is finished, and the partial summary (the metrics compared so far) is printed with exit 130.
 */

const CLI = resolve('dist/src/cli/main.js');

/** A pass-through that answers every remote read `delayMs` late and counts the reads it answered. */
async function slowReads(
  target: string,
  delayMs: number,
): Promise<{ url: string; reads: () => number; close: () => Promise<void> }> {
  let reads = 0;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const isRead = req.url?.startsWith('/api/v1/read') ?? false;
    if (isRead) await new Promise((r) => setTimeout(r, delayMs));
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
      if (isRead) reads++;
    } catch (e) {
      if (!res.destroyed) res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads: () => reads,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function verify(
  args: string[],
  onStart?: (kill: (sig: NodeJS.Signals) => void) => void,
): Promise<{ status: number | null; stdout: string; stderr: string; endedAt: number }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [CLI, 'verify', 'metrics', ...args], {
      env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => res({ status, stdout, stderr, endedAt: Date.now() }));
    onStart?.((sig) => c.kill(sig));
  });
}

test(
  'Ctrl-C during verify metrics: the metric in flight finishes, no other starts, partial summary and exit 130',
  { timeout: 180_000 },
  async (t) => {
    const spec: HistorySpec = {
      series: 10,
      durationMs: 6 * 3_600_000,
      intervalMs: 60_000,
      seed: 5,
      endMs: Date.UTC(2026, 0, 10),
    };
    const server = await startServer(t, { name: 'verify-src', history: spec });
    const proxy = await slowReads(server.url, 400);
    try {
      const s = resolveSpec(spec);
      const args = [
        '--source-url',
        server.url,
        '--target-url',
        proxy.url,
        '--start',
        String(s.startMs / 1000),
        '--end',
        String((s.endMs + spec.intervalMs) / 1000),
        '--match',
        '{__name__=~"stackshift_gen_.+"}',
        '--read-window',
        '1h',
        '--concurrency',
        '1',
        '--output',
        'json',
      ];

      // a whole run first: both metrics, 100 %, and how many target reads that takes
      const full = await verify(args);
      assert.equal(full.status, 0, full.stderr);
      const whole = JSON.parse(full.stdout);
      assert.equal(whole.consistency.percent, 100);
      assert.equal(whole.interrupted, undefined);
      const readsAll = proxy.reads();
      assert.ok(readsAll >= 4, `target reads of a whole run: ${readsAll}`);

      // the same run, Ctrl-C while the first metric is being read
      const base = proxy.reads();
      let signalledAt = 0;
      const r = await verify(args, (kill) => {
        const poll = setInterval(() => {
          if (proxy.reads() - base >= 2) {
            clearInterval(poll);
            signalledAt = Date.now();
            kill('SIGINT');
          }
        }, 20);
      });
      assert.ok(signalledAt > 0, 'the signal was sent mid-run');
      assert.equal(r.status, 130, r.stderr);
      assert.ok(r.endedAt - signalledAt < 10_000, `stopped within the grace period (${r.endedAt - signalledAt} ms)`);
      const partial = JSON.parse(r.stdout);
      assertSchema(metricsReportSchema, partial);
      assert.ok(partial.interrupted, 'the report says it was interrupted');
      assert.equal(partial.interrupted.metricsTotal, 2);
      assert.equal(
        partial.interrupted.metricsDone,
        1,
        'the metric in flight at the signal was finished; none after it started',
      );
      // the figures are those of the metric compared: every one of its samples, none of the other's
      assert.ok(
        partial.samples.expected > 0 && partial.samples.expected < whole.samples.expected,
        `partial ${partial.samples.expected} of ${whole.samples.expected} samples`,
      );
      assert.equal(partial.samples.matched, partial.samples.expected);
      assert.equal(partial.evidence.passed, false, 'an interrupted comparison never passes the gate');
      assert.match(partial.evidence.reason, /interrupted: 1 of 2 metrics compared/);
      assert.match(r.stderr, /interrupted: 1 of 2 metrics compared/);
      assert.match(r.stderr, /compare them all with: stackshift verify metrics .*--target-url/);
      assert.doesNotMatch(r.stderr, /error:|\n\s+at /);
      // and it stopped reading: no target read after the metric in flight
      const after = proxy.reads() - base;
      assert.ok(after < readsAll, `reads of the interrupted run (${after}) fewer than a whole run's (${readsAll})`);
      t.diagnostic(
        `SIGINT to exit ${r.endedAt - signalledAt} ms; ${partial.samples.expected} of ${whole.samples.expected} samples compared; target reads ${after} of ${readsAll}`,
      );
    } finally {
      await proxy.close();
    }
  },
);
