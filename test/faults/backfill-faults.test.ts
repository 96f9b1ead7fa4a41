import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, params } from '../backfill/helpers.js';
import { startFaultProxy, type Fault } from './proxy.js';

const SPEC: HistorySpec = {
  series: 40,
  durationMs: 8 * 3_600_000,
  intervalMs: 15_000,
  seed: 9,
  endMs: Date.UTC(2026, 0, 5),
};
const WRITE_FAULTS: Fault[] = [
  '429',
  '503',
  'reset-before',
  'reset-after',
  'slow',
  'timeout',
  '400-mimir',
  '400-prom',
  '500-too-old',
  '413',
];
const REFUSALS = new Set<Fault>(['400-mimir', '400-prom', '500-too-old', '413']);

test(
  'backfill through a fault-injecting proxy that stores nothing it refuses: retries what is retryable, re-sends the acceptable part of every refusal, exact copy',
  { timeout: 300_000 },
  async (t) => {
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', history: SPEC }),
      startServer(t, { name: 'target', receiver: true }),
    ]);
    // faults on every other write after the preflight probe, one of each kind, then clean
    let writes = 0;
    const proxy = await startFaultProxy(target.url, (_n, method, path) => {
      if (method !== 'POST' || !path.startsWith('/api/v1/write')) return 'none';
      writes++;
      if (writes < 3 || writes % 2 === 0) return 'none';
      return WRITE_FAULTS[(writes - 3) / 2] ?? 'none';
    });
    try {
      const s = resolveSpec(SPEC);
      const targetEp = { ...endpointFromUrl(`${proxy.url}/api/v1/write`, 'prometheus'), timeoutMs: 1000 };
      const report = await runBackfill(
        params(source.url, targetEp, join(tempDir(t), 'state.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
          batchSamples: 2000,
          writeConcurrency: 2,
        }),
      );
      const writesLog = proxy.log.filter((e) => e.method === 'POST' && e.path.startsWith('/api/v1/write'));
      assert.deepEqual(
        writesLog.filter((e) => e.fault !== 'none').map((e) => e.fault),
        WRITE_FAULTS,
        'every fault was injected once',
      );

      for (const e of writesLog) {
        const later = writesLog.filter((x) => x.hash === e.hash && x.n > e.n);
        // a refusal (whatever its status: Prometheus 2.42 answers "too old sample" with 500) is never sent again as is
        if (REFUSALS.has(e.fault))
          assert.equal(later.length, 0, `a refused request (${e.fault}) must not be resent unchanged`);
        if (['429', '503', 'reset-before', 'reset-after', 'timeout'].includes(e.fault)) {
          assert.ok(
            later.some((x) => x.status === 204),
            `${e.fault} was retried to success`,
          );
          if (e.fault === '429')
            assert.ok(later[0].at - e.at >= 950, `Retry-After: 1 honoured (${later[0].at - e.at} ms)`);
        }
      }
      // the Prometheus receiver keeps nothing of a refused request: each was split and its parts sent again, so
      // nothing is lost and nothing is reported refused
      assert.equal(report.target.keptOnRefusal, 'none');
      assert.deepEqual(report.rejects, []);
      assert.ok(report.run!.retries >= 5);
      assert.equal(report.readBack?.enabled, true);

      const d = await compareCopies(source.url, target.url, s.startMs, s.endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(report.totals.samples, d.samples);
    } finally {
      await proxy.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);

test(
  'read-side faults at the source (503, reset, slow, a body cut in the middle of a frame): units are retried, the copy is exact',
  { timeout: 300_000 },
  async (t) => {
    const spec: HistorySpec = {
      series: 12,
      durationMs: 4 * 3_600_000,
      intervalMs: 30_000,
      seed: 17,
      endMs: Date.UTC(2026, 0, 7),
    };
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', history: spec }),
      startServer(t, { name: 'target', receiver: true }),
    ]);
    const READ_FAULTS: Fault[] = ['503', 'truncate', 'reset-before', 'slow', 'truncate'];
    let reads = 0;
    const proxy = await startFaultProxy(source.url, (_n, method, path) => {
      if (method !== 'POST' || !path.startsWith('/api/v1/read')) return 'none';
      reads++;
      return reads % 2 === 1 ? (READ_FAULTS[(reads - 1) / 2] ?? 'none') : 'none';
    });
    try {
      const s = resolveSpec(spec);
      const report = await runBackfill(
        params(proxy.url, `${target.url}/api/v1/write`, join(tempDir(t), 'state.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
          windowMs: 1_800_000,
          maxWindowMs: 1_800_000,
          readConcurrency: 1,
        }),
      );
      const readLog = proxy.log.filter((e) => e.method === 'POST' && e.path.startsWith('/api/v1/read'));
      assert.deepEqual(
        readLog.filter((e) => e.fault !== 'none').map((e) => e.fault),
        READ_FAULTS,
        'every read fault was injected once',
      );
      for (const e of readLog.filter(
        (x) => x.fault === 'truncate' || x.fault === '503' || x.fault === 'reset-before',
      )) {
        assert.ok(
          readLog.some((x) => x.hash === e.hash && x.n > e.n && x.status === 200),
          `the read cut by ${e.fault} was sent again and answered`,
        );
      }
      assert.ok(report.run!.retries >= 3, `retries counted (${report.run!.retries})`);
      assert.deepEqual(report.rejects, []);
      const d = await compareCopies(source.url, target.url, s.startMs, s.endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(report.totals.samples, d.samples);
    } finally {
      await proxy.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);

test(
  'a 413 is split in halves and re-sent for any receiver kind, never counted as refused',
  { timeout: 240_000 },
  async (t) => {
    const spec: HistorySpec = {
      series: 10,
      durationMs: 2 * 3_600_000,
      intervalMs: 30_000,
      seed: 23,
      endMs: Date.UTC(2026, 0, 8),
    };
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', history: spec }),
      startServer(t, { name: 'target', receiver: true }),
    ]);
    // the proxy presents the real receiver under a Mimir-style push path, so the engine treats it as a receiver
    // that keeps the rest of a refused request (no bisecting of refusals): only the 413 rule splits here
    let writes = 0;
    const proxy = await startFaultProxy(
      `${target.url}/api/v1/write`,
      (_n, method) => {
        if (method !== 'POST') return 'none';
        writes++;
        return writes === 3 || writes === 4 ? '413' : 'none';
      },
      { stripPrefix: '/gw/api/v1/push' },
    );
    try {
      const s = resolveSpec(spec);
      const report = await runBackfill(
        params(source.url, endpointFromUrl(`${proxy.url}/gw/api/v1/push`, 'mimir'), join(tempDir(t), 'state.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
          batchSamples: 1000,
          writeConcurrency: 1,
          targetReadUrl: target.url,
        }),
      );
      assert.equal(report.target.keptOnRefusal, 'rest');
      const tooLarge = proxy.log.filter((e) => e.fault === '413');
      assert.equal(tooLarge.length, 2);
      // the first 413 was split; its first half drew the second 413 and was split again
      for (const e of tooLarge)
        assert.ok(!proxy.log.some((x) => x.hash === e.hash && x.n > e.n), 'a 413 body is never sent again as is');
      assert.deepEqual(report.rejects, []);
      const d = await compareCopies(source.url, target.url, s.startMs, s.endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, report.totals.samples);
    } finally {
      await proxy.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);
