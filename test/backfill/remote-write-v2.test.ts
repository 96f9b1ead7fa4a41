import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { countSamples, labHas, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, params } from './helpers.js';

const RECEIVER = '3.8.1';
const SPEC: HistorySpec = { series: 30, durationMs: 4 * 3_600_000, intervalMs: 30_000, seed: 19, endMs: Date.UTC(2026, 0, 13) };

test(`remote write 2.0 against a real 2.0 receiver (Prometheus ${RECEIVER}): exact copy, *-Written headers checked`, { timeout: 240_000, skip: labHas('prometheus', RECEIVER) ? false : `the lab has no Prometheus ${RECEIVER} yet (scripts/build-servers.sh)` }, async (t) => {
  const [source, target] = await Promise.all([
    startServer(t, { name: 'source', history: SPEC }),
    startServer(t, { name: 'target', receiver: true, version: RECEIVER }),
  ]);
  try {
    assert.match(target.version, /^3\./);
    const s = resolveSpec(SPEC);
    const report = await runBackfill(params(source.url, `${target.url}/api/v1/write`, join(tempDir(t), 'state.db'), { startMs: s.startMs, endMs: s.endMs, remoteWriteVersion: '2.0', batchSamples: 5000, windowMs: 1_800_000, maxWindowMs: 3_600_000 }));
    assert.equal(report.target.remoteWrite, '2.0');
    assert.equal(report.preflight?.readBack, true);
    // a 2.0 receiver that stored fewer samples than sent would show as written-count-mismatch
    assert.deepEqual(report.rejects, []);
    assert.equal(report.totals.samples, countSamples(SPEC));
    const d = await compareCopies(source.url, target.url, s.startMs, s.endMs - 1, GEN);
    assert.deepEqual(d.problems, []);
    assert.equal(d.samples, countSamples(SPEC));
  } finally {
    await Promise.all([source.stop(), target.stop()]);
  }
});
