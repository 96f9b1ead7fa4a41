import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { countSamples, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { RW2_HEADERS } from '../../src/wire/index.js';
import { startFaultProxy } from '../faults/proxy.js';
import { labPrometheusBinary } from '../lint/promtool.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, params } from './helpers.js';

const RECEIVER = '3.8.1';
const SPEC: HistorySpec = {
  series: 30,
  durationMs: 4 * 3_600_000,
  intervalMs: 30_000,
  seed: 19,
  endMs: Date.UTC(2026, 0, 13),
};

test(
  `remote write 2.0 against a real 2.0 receiver (Prometheus ${RECEIVER}): exact copy, *-Written headers checked (one answer undercounted by a proxy is reported)`,
  { timeout: 240_000 },
  async (t) => {
    // a receiver that is not built fails the test with the command that builds it (a skip would pass silently)
    labPrometheusBinary(RECEIVER);
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', history: SPEC }),
      startServer(t, { name: 'target', receiver: true, version: RECEIVER }),
    ]);
    // a pass-through proxy records what went over the wire; on the 3rd write (the probe is the 1st) it passes the
    // receiver's answer on with X-Prometheus-Remote-Write-Samples-Written one lower than what the receiver said
    let writes = 0;
    const proxy = await startFaultProxy(target.url, (_n, method, path) =>
      method === 'POST' && path.startsWith('/api/v1/write') && ++writes === 3 ? 'undercount' : 'none',
    );
    try {
      assert.match(target.version, /^3\./);
      const s = resolveSpec(SPEC);
      const report = await runBackfill(
        params(source.url, `${proxy.url}/api/v1/write`, join(tempDir(t), 'state.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
          remoteWriteVersion: '2.0',
          batchSamples: 2000,
          windowMs: 1_800_000,
          maxWindowMs: 3_600_000,
          targetReadUrl: target.url,
        }),
      );
      assert.equal(report.target.remoteWrite, '2.0');
      assert.equal(report.preflight?.readBack, true);
      const wire = proxy.log.filter((e) => e.method === 'POST' && e.path.startsWith('/api/v1/write'));
      assert.ok(wire.length >= 6, `${wire.length} writes`);
      t.diagnostic(
        `${wire.length} remote write 2.0 requests, Samples-Written summed ${wire.reduce((a, e) => a + Number(e.written), 0)} (one lowered by 1), ${countSamples(SPEC)} samples in the history`,
      );
      assert.deepEqual(
        [...new Set(wire.map((e) => e.contentType))],
        [RW2_HEADERS['content-type']],
        'every request was a 2.0 request',
      );
      assert.ok(
        wire.every((e) => e.status === 204 && e.written !== undefined && Number(e.written) > 0),
        'the 2.0 receiver answered every write with its Samples-Written count',
      );
      // the one undercounted answer is the only finding: a 2.0 receiver that stores fewer samples than sent is reported
      assert.deepEqual(
        report.rejects.map((r) => ({ class: r.class, requests: r.requests, samples: r.samples })),
        [{ class: 'written-count-mismatch', requests: 1, samples: 1 }],
      );
      // ... while the receiver itself stored every sample
      const d = await compareCopies(source.url, target.url, s.startMs, s.endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, countSamples(SPEC));
    } finally {
      await proxy.close();
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);
