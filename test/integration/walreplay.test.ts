import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusClient, NotReadyError } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { collectAssessment } from '../../src/assess/index.js';
import { startServer, runCli, waitUntil, STACK_LINE } from '../harness/index.js';

/**
 * A real Prometheus caught during WAL replay. An exporter with many series fills the WAL for a few seconds;
 * the server is killed (so nothing is compacted away) and restarted, and stackshift is asked while it replays.
 */
const SERIES = 250_000;

test('a Prometheus replaying its WAL answers 503: assess exits 2 with the replay progress, no stack trace', async (t) => {
  let body = '';
  for (let i = 0; i < SERIES; i++) body += `wal_fill_bytes{shard="${i % 16}",i="${i}"} ${i}\n`;
  const exporter = createServer((_q, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        exporter.closeAllConnections();
        exporter.close(() => r());
      }),
  );
  const port = (exporter.address() as AddressInfo).port;
  const prom = await startServer(t, {
    config: `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: fill\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`,
    extraArgs: ['--storage.tsdb.wal-compression'],
  });
  const c = new PrometheusClient(endpointFromUrl(prom.url));
  t.after(() => c.close());
  await waitUntil(
    async () => {
      const r = await c.query('count(count_over_time(wal_fill_bytes[1m]) >= 6)');
      return r.resultType === 'vector' && r.result.length > 0 && Number(r.result[0].value[1]) === SERIES;
    },
    120_000,
    'six scrapes of every series',
  );

  process.kill(prom.pid, 'SIGKILL');
  await prom.restart({ wait: false });

  const seen: string[] = [];
  let notReady: NotReadyError | undefined;
  let cli: ReturnType<typeof runCli> | undefined;
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    try {
      await collectAssessment(c);
      break;
    } catch (e) {
      if (!(e instanceof NotReadyError)) continue; // connection refused until the listener is up
      notReady = e;
      seen.push(e.message);
      cli ??= runCli(['assess', '--prometheus-url', prom.url]);
    }
  }
  assert.ok(notReady && cli, 'caught the server during replay');
  assert.match(notReady.message, /is not ready yet/);
  assert.match(notReady.hint ?? '', /WAL replay/);
  const run = await cli;
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^error: Prometheus at http:\/\/127\.0\.0\.1:\d+ is not ready yet/);
  assert.doesNotMatch(run.stderr, STACK_LINE);
  assert.equal(run.stderr.trim().split('\n').length, 2, 'one line and a hint');
  t.diagnostic(`replay observed for ${seen.length} polls; last: ${seen.at(-1)}; CLI exit ${run.code}`);
  await waitUntil(
    async () => (await c.healthy()) && (await c.ensureReady().then(() => true)),
    120_000,
    'replay to finish',
  );
  const r = await c.query('count(wal_fill_bytes)');
  assert.equal(r.resultType === 'vector' && Number(r.result[0].value[1]), SERIES, 'no series lost across the restart');
});
