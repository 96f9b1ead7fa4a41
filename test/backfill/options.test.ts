import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBackfill, sourcePaths, targetPaths } from '../../src/backfill/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { countSamples, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { startFaultProxy } from '../faults/proxy.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, params } from './helpers.js';

const SPEC: HistorySpec = {
  series: 24,
  durationMs: 6 * 3_600_000,
  intervalMs: 60_000,
  seed: 3,
  endMs: Date.UTC(2026, 0, 3),
};
const CONFIG = 'global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: lab\nscrape_configs: []\n';

test('source and target paths: Prometheus and Mimir as source, push URLs and read-back URLs as target', () => {
  assert.deepEqual(sourcePaths(endpointFromUrl('http://prom:9090')), {
    apiBase: 'http://prom:9090',
    readPath: '/api/v1/read',
  });
  assert.deepEqual(sourcePaths(endpointFromUrl('http://mimir:8080', 'mimir')), {
    apiBase: 'http://mimir:8080/prometheus',
    readPath: '/prometheus/api/v1/read',
  });
  assert.deepEqual(targetPaths(endpointFromUrl('http://mimir:8080', 'mimir')), {
    base: 'http://mimir:8080',
    path: '/api/v1/push',
    readUrl: 'http://mimir:8080/prometheus',
  });
  assert.deepEqual(targetPaths(endpointFromUrl('http://gw/tenant-x/api/v1/push', 'mimir')), {
    base: 'http://gw',
    path: '/tenant-x/api/v1/push',
    readUrl: 'http://gw/tenant-x/prometheus',
  });
  assert.deepEqual(targetPaths(endpointFromUrl('http://prom2:9090/api/v1/write', 'mimir')), {
    base: 'http://prom2:9090',
    path: '/api/v1/write',
    readUrl: 'http://prom2:9090',
  });
});

test('Mimir-style source: API and remote read under /prometheus', { timeout: 120_000 }, async (t) => {
  // a path-prefix proxy in front of a real Prometheus gives Mimir's layout (/prometheus/api/v1/read, ...)
  const [source, target] = await Promise.all([
    startServer(t, { name: 'source', history: SPEC }),
    startServer(t, { name: 'target', receiver: true }),
  ]);
  const proxy = await startFaultProxy(source.url, () => 'none', { stripPrefix: '/prometheus' });
  try {
    const s = resolveSpec(SPEC);
    const r = await runBackfill(
      params(endpointFromUrl(proxy.url, 'mimir'), `${target.url}/api/v1/write`, join(tempDir(t), 'm.db'), {
        startMs: s.startMs,
        endMs: s.endMs,
      }),
    );
    assert.equal(r.source.readPath, '/prometheus/api/v1/read');
    assert.equal(r.totals.samples, countSamples(SPEC));
    assert.ok(proxy.log.some((e) => e.path === '/prometheus/api/v1/read'));
  } finally {
    await proxy.close();
    await Promise.all([source.stop(), target.stop()]);
  }
});

test(
  'backfill options on real servers: dry run, SAMPLES, external labels kept or dropped, shards',
  { timeout: 240_000 },
  async (t) => {
    const dir = tempDir(t);
    const [source, t1, t2, t3] = await Promise.all([
      startServer(t, { name: 'source', history: SPEC, config: CONFIG }),
      startServer(t, { name: 't1', receiver: true }),
      startServer(t, { name: 't2', receiver: true }),
      startServer(t, { name: 't3', receiver: true }),
    ]);
    try {
      const s = resolveSpec(SPEC);
      const total = countSamples(SPEC);
      const range = { startMs: s.startMs, endMs: s.endMs };

      // dry run: estimate from sampled windows, nothing written, the target is never contacted
      const dry = await runBackfill(
        params(source.url, 'http://127.0.0.1:1/api/v1/write', join(dir, 'dry.db'), { ...range, dryRun: true }),
      );
      assert.equal(dry.kind, 'dry-run');
      assert.equal(dry.estimate!.series, SPEC.series);
      assert.ok(
        Math.abs(dry.estimate!.samples - total) / total < 0.25,
        `estimate ${dry.estimate!.samples} vs ${total}`,
      );
      assert.equal(existsSync(join(dir, 'dry.db')), false);

      // SAMPLES response type, external labels kept (default): the copy equals what remote read of the source returns
      const kept = await runBackfill(
        params(source.url, `${t1.url}/api/v1/write`, join(dir, 'kept.db'), { ...range, responseType: 'samples' }),
      );
      assert.equal(kept.totals.samples, total);
      assert.deepEqual(kept.externalLabels, { labels: { cluster: 'lab' }, action: 'kept' });
      assert.deepEqual((await compareCopies(source.url, t1.url, s.startMs, s.endMs - 1, GEN)).problems, []);

      // external labels dropped: the target's series are the source's minus cluster="lab"
      const dropped = await runBackfill(
        params(source.url, `${t2.url}/api/v1/write`, join(dir, 'dropped.db'), { ...range, keepExternalLabels: false }),
      );
      assert.equal(dropped.externalLabels.action, 'dropped');
      const d = await compareCopies(source.url, t2.url, s.startMs, s.endMs - 1, GEN, (x) => ({
        ...x,
        labels: x.labels.filter((l) => l.name !== 'cluster'),
      }));
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, total);

      // two shards into one target: disjoint metric names, together the whole copy
      const shards = [];
      for (const index of [0, 1])
        shards.push(
          await runBackfill(
            params(source.url, `${t3.url}/api/v1/write`, join(dir, `shard${index}.db`), {
              ...range,
              shard: { index, count: 2 },
              namesPerGroup: 1,
            }),
          ),
        );
      assert.equal(shards[0].totals.samples + shards[1].totals.samples, total);
      assert.deepEqual([shards[0].plan.names, shards[1].plan.names], [1, 1], 'one metric name each');
      assert.ok(shards[0].totals.samples > 0 && shards[1].totals.samples > 0);
      assert.deepEqual((await compareCopies(source.url, t3.url, s.startMs, s.endMs - 1, GEN)).problems, []);
    } finally {
      await Promise.all([source, t1, t2, t3].map((x) => x.stop()));
    }
  },
);

test(
  'issue 19 item 17: a dry run over a range much longer than the data (--start 5d on 8 h of history) estimates what is there, not 0',
  { timeout: 120_000 },
  async (t) => {
    // 8 hours ending at the start of the current hour: six 5-minute probes spread over 5 days all fall before it
    const spec: HistorySpec = { series: 20, durationMs: 8 * 3_600_000, intervalMs: 30_000, seed: 31 };
    const source = await startServer(t, { name: 'source', history: spec });
    try {
      const total = countSamples(spec);
      const now = Date.now();
      const dry = await runBackfill(
        params(source.url, 'http://127.0.0.1:1/api/v1/write', join(tempDir(t), 'dry.db'), {
          startMs: now - 5 * 86_400_000,
          endMs: now,
          dryRun: true,
        }),
      );
      assert.equal(dry.kind, 'dry-run');
      t.diagnostic(
        `estimate ${dry.estimate!.samples} samples, ${dry.estimate!.series} series from ${dry.estimate!.windowsProbed} windows; ${total} present`,
      );
      assert.equal(dry.estimate!.series, spec.series);
      assert.ok(
        Math.abs(dry.estimate!.samples - total) / total < 0.25,
        `estimate ${dry.estimate!.samples} vs ${total} present`,
      );
    } finally {
      await source.stop();
    }
  },
);
