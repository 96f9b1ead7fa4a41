import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointFromUrl } from '../../src/config/index.js';
import { writeHistogramHistoryRemote } from '../../src/lab/index.js';
import { openSide, verifyMetrics } from '../../src/verify/index.js';
import { startServer } from '../harness/index.js';
import { NH_FLAGS, NH_SPEC } from '../backfill/helpers.js';

test(
  'verify metrics compares native histograms bit for bit: 100 % on a copy, one altered bucket caught',
  { timeout: 180_000 },
  async (t) => {
    const [source, copy, altered] = await Promise.all(
      ['nh-src', 'nh-copy', 'nh-altered'].map((name) => startServer(t, { name, receiver: true, extraArgs: NH_FLAGS })),
    );
    try {
      const w = await writeHistogramHistoryRemote(`${source.url}/api/v1/write`, NH_SPEC);
      await writeHistogramHistoryRemote(`${copy.url}/api/v1/write`, NH_SPEC);
      // the same history with one bucket of one sample off by one (series 1, sample 40, last positive bucket; the
      // count follows so that the histogram stays valid)
      let altered1: number | undefined;
      const inc = (w: Uint32Array, k: number) => {
        w[2 * k] = (w[2 * k] + 1) >>> 0;
        if (w[2 * k] === 0) w[2 * k + 1] = (w[2 * k + 1] + 1) >>> 0;
      };
      await writeHistogramHistoryRemote(`${altered.url}/api/v1/write`, NH_SPEC, {
        alter: (series, i, h) => {
          if (series !== 1 || i !== 40) return h;
          const positive = h.positive.slice(),
            head = h.head.slice();
          inc(positive, positive.length / 2 - 1);
          inc(head, 0);
          altered1 = h.t;
          return { ...h, positive, head };
        },
      });
      assert.ok(altered1, 'one sample altered');
      const startMs = NH_SPEC.endMs! - NH_SPEC.hours * 3_600_000;
      const endMs = NH_SPEC.endMs! + 1;
      const [s, c, a] = await Promise.all([source, copy, altered].map((x) => openSide(endpointFromUrl(x.url))));
      t.after(() => Promise.all([s.close(), c.close(), a.close()]));
      const opts = {
        startMs,
        endMs,
        selectors: [[{ type: 'EQ' as const, name: '__name__', value: 'stackshift_lab_native_histogram' }]],
        mapping: { add: {}, drop: [] },
        equality: { relativeTolerance: 0 },
        samples: true,
        readWindowMs: 3_600_000,
        concurrency: 2,
        top: 20,
      };

      const good = await verifyMetrics({ ...opts, source: s, target: c });
      assert.equal(good.samples!.expected, w.histograms, 'every histogram sample compared');
      assert.equal(good.samples!.matched, w.histograms);
      assert.equal(good.samples!.histogramSamplesNotCompared, 0);
      assert.equal(good.consistency.percent, 100);

      const bad = await verifyMetrics({ ...opts, source: s, target: a });
      assert.equal(bad.samples!.mismatched, 1, 'the altered bucket is one mismatched sample');
      assert.equal(bad.samples!.matched, w.histograms - 1);
      assert.equal(bad.samples!.seriesDifferent, 1);
      const d = bad.discrepancies.find((x) => x.kind === 'different')!;
      assert.equal(d.labels.series, '1');
      assert.equal(d.firstDifference?.timestampMs, altered1);
      assert.ok(bad.consistency.percent < 100);
    } finally {
      await Promise.all([source.stop(), copy.stop(), altered.stop()]);
    }
  },
);
