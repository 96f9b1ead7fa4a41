import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { RemoteWriteClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import { generateHistory, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { encodeWriteRequest, labelsKey, snappyEncode, type Label } from '../../src/wire/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, params, readAll } from './helpers.js';

const SPEC: HistorySpec = {
  series: 6,
  durationMs: 2 * 3_600_000,
  intervalMs: 60_000,
  seed: 31,
  endMs: Date.UTC(2026, 0, 9),
  irregular: false,
};

async function writeOne(url: string, labels: Label[], t: number, v: number): Promise<void> {
  const http = new HttpClient(endpointFromUrl(url));
  try {
    const r = await new RemoteWriteClient(http, { path: '/api/v1/write' }).send(
      snappyEncode(encodeWriteRequest([{ labels, timestamps: Float64Array.of(t), values: Float64Array.of(v) }])),
    );
    assert.equal(r.outcome, 'ok');
  } finally {
    await http.close();
  }
}

test(
  'real Prometheus receiver: one bad series costs none of its neighbours (refused requests split and re-sent); after the receiver is fixed, a rerun re-sends the refused units',
  { timeout: 240_000 },
  async (t) => {
    // the target refuses out-of-order samples (no out-of-order window) and already holds one newer sample of series 0
    const [source, target] = await Promise.all([
      startServer(t, { name: 'source', history: SPEC }),
      startServer(t, { name: 'target', receiver: true, oooWindow: '0s' }),
    ]);
    try {
      const s = resolveSpec(SPEC);
      const gen = generateHistory(SPEC);
      const x = gen[0];
      const xLabels: Label[] = Object.entries(x.labels)
        .map(([name, value]) => ({ name, value }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const xKey = labelsKey(xLabels);
      const T = s.startMs + 50 * 60_000 + 7; // off the 60 s grid: no duplicate, only order
      await writeOne(target.url, xLabels, T, 42);
      const xSamples = [...x.samples()];
      const older = xSamples.filter(([ts]) => ts < T).length;
      assert.ok(older > 30, `series 0 has samples before the newer one (${older})`);

      const state = join(tempDir(t), 'state.db');
      // in time order, one request at a time: everything else is in order for a receiver without an out-of-order window
      const p = params(source.url, `${target.url}/api/v1/write`, state, {
        startMs: s.startMs,
        endMs: s.endMs,
        batchSamples: 50,
        readConcurrency: 1,
        writeConcurrency: 1,
        windowMs: 1_800_000,
        maxWindowMs: 1_800_000,
        namesPerGroup: 10,
      });
      const first = await runBackfill(p);
      assert.equal(first.target.keptOnRefusal, 'none');
      assert.deepEqual(
        first.rejects.map((r) => [r.class, r.samples]),
        [['out-of-order', older]],
        'exactly the older samples of series 0 are refused',
      );

      // every other series arrived whole although it shared requests with series 0
      const src = new Map(
        (await readAll(source.url, s.startMs, s.endMs - 1, GEN)).map((q) => [labelsKey(q.labels), q.timestamps.length]),
      );
      const got = new Map(
        (await readAll(target.url, s.startMs, s.endMs - 1, GEN)).map((q) => [labelsKey(q.labels), q.timestamps.length]),
      );
      assert.equal(src.size, SPEC.series);
      for (const [k, n] of src) {
        if (k === xKey)
          assert.equal(got.get(k), n - older + 1, 'series 0: its samples from the newer one on, plus that one');
        else assert.equal(got.get(k), n, `neighbour ${k} complete`);
      }

      // the user fixes the receiver as the summary advises (an out-of-order window), then runs the same command again
      writeFileSync(
        target.configFile,
        readFileSync(target.configFile, 'utf8').replace(
          'out_of_order_time_window: 0s',
          'out_of_order_time_window: 3650d',
        ),
      );
      await target.restart();
      const second = await runBackfill(p);
      assert.ok(
        second.run!.retriedRejectedUnits >= 1,
        `the refused units were sent again (${second.run!.retriedRejectedUnits})`,
      );
      assert.deepEqual(second.rejects, []);
      assert.equal(second.totals.samples, first.totals.samples, 'each sample counted once across the two runs');
      const after = new Map(
        (await readAll(target.url, s.startMs, s.endMs - 1, GEN)).map((q) => [labelsKey(q.labels), q.timestamps.length]),
      );
      assert.equal(
        after.get(xKey),
        src.get(xKey)! + 1,
        'series 0 now complete (plus the newer sample that was there before)',
      );
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);
