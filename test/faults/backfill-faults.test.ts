import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, params } from '../backfill/helpers.js';
import { startFaultProxy, type Fault } from './proxy.js';

const SPEC: HistorySpec = { series: 40, durationMs: 8 * 3_600_000, intervalMs: 15_000, seed: 9, endMs: Date.UTC(2026, 0, 5) };
const FAULTS: Fault[] = ['429', '503', 'reset-before', 'reset-after', 'slow', 'timeout', '400-mimir', '400-prom', '400-mimir'];

test('backfill through a fault-injecting proxy: completes, retries only what is retryable, reports 400s by class', { timeout: 240_000 }, async (t) => {
  const [source, target] = await Promise.all([startServer(t, { name: 'source', history: SPEC }), startServer(t, { name: 'target', receiver: true })]);
  // faults on every other write after the preflight probe, one of each kind, then clean
  let writes = 0;
  const proxy = await startFaultProxy(target.url, (_n, method, path) => {
    if (method !== 'POST' || !path.startsWith('/api/v1/write')) return 'none';
    writes++;
    if (writes < 3 || writes % 2 === 0) return 'none';
    return FAULTS[(writes - 3) / 2] ?? 'none';
  });
  try {
    const s = resolveSpec(SPEC);
    const targetEp = { ...endpointFromUrl(`${proxy.url}/api/v1/write`, 'prometheus'), timeoutMs: 1000 };
    const report = await runBackfill(params(source.url, targetEp, join(tempDir(t), 'state.db'), { startMs: s.startMs, endMs: s.endMs, batchSamples: 2000, writeConcurrency: 2 }));
    const writesLog = proxy.log.filter((e) => e.method === 'POST');
    assert.deepEqual(writesLog.filter((e) => e.fault !== 'none').map((e) => e.fault), FAULTS, 'every fault was injected once');

    // retryable faults were retried until they got through; 400s were never sent again
    for (const e of writesLog) {
      const later = writesLog.filter((x) => x.hash === e.hash && x.n > e.n);
      if (e.status === 400) assert.equal(later.length, 0, `a 400 (${e.fault}) must not be retried`);
      if (['429', '503', 'reset-before', 'reset-after', 'timeout'].includes(e.fault)) {
        assert.ok(later.some((x) => x.status === 204 || x.status === 400), `${e.fault} was retried to success`);
        if (e.fault === '429') assert.ok(later[0].at - e.at >= 950, `Retry-After: 1 honoured (${later[0].at - e.at} ms)`);
      }
    }
    assert.deepEqual(report.rejects.map((r) => [r.class, r.requests]), [['mimir:sample-timestamp-too-old', 2], ['out-of-order', 1]]);
    assert.match(report.rejects[0].advice, /out_of_order_time_window/);
    assert.ok(report.advice.some((a) => a.startsWith('mimir:sample-timestamp-too-old:')));
    assert.ok(report.run!.retries >= 5);

    // the proxy forwarded the refused requests too (soft errors), so the copy is still exact
    const d = await compareCopies(source.url, target.url, s.startMs, s.endMs - 1, GEN);
    assert.deepEqual(d.problems, []);
    assert.equal(report.totals.samples, d.samples);
  } finally {
    await proxy.close();
    await Promise.all([source.stop(), target.stop()]);
  }
});
