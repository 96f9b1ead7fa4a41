import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { generateHistogramHistory, writeHistogramHistoryRemote } from '../../src/lab/index.js';
import { histogramDifference } from '../../src/verify/index.js';
import { ResetHint, isStaleHistogram, labelsKey } from '../../src/wire/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { NH_FLAGS, NH_SPEC, params, readHistograms } from './helpers.js';

/** (lo, hi) word pair as a JS number: exact for the counts a lab produces. */
const word = (w: Uint32Array, k: number) => w[2 * k + 1] * 4294967296 + w[2 * k];
const f64 = (w: Uint32Array, k: number) => new Float64Array(w.slice(2 * k, 2 * k + 2).buffer)[0];

test(
  'backfill native histograms real Prometheus -> real Prometheus: every histogram equal field by field',
  { timeout: 240_000 },
  async (t) => {
    const [source, target] = await Promise.all([
      startServer(t, { name: 'nh-source', receiver: true, extraArgs: NH_FLAGS }),
      startServer(t, { name: 'nh-target', receiver: true, extraArgs: NH_FLAGS }),
    ]);
    try {
      const written = await writeHistogramHistoryRemote(`${source.url}/api/v1/write`, NH_SPEC);
      const gen = generateHistogramHistory(NH_SPEC);
      const startMs = gen[0].histograms[0].t;
      const endMs = NH_SPEC.endMs! + 1;
      const report = await runBackfill(
        params(source.url, `${target.url}/api/v1/write`, join(tempDir(t), 'state.db'), {
          selectors: ['{__name__="stackshift_lab_native_histogram"}'],
          startMs,
          endMs,
          readConcurrency: 1,
          writeConcurrency: 1,
          batchSamples: 2_000,
          windowMs: 1_800_000,
          maxWindowMs: 1_800_000,
        }),
      );
      if (process.env.NH_DEBUG) console.error(JSON.stringify(report, null, 1));
      assert.deepEqual(report.rejects, []);
      assert.equal(report.totals.series, NH_SPEC.series);
      assert.equal(report.totals.samples, 0, 'no float samples in a histogram-only history');
      assert.equal(report.totals.histogramSamples, written.histograms, 'every histogram sample copied');
      assert.ok(report.totals.requests > 1, 'histograms were batched by weight');

      await target.restart();
      const [src, tgt] = await Promise.all([
        readHistograms(source.url, startMs, endMs),
        readHistograms(target.url, startMs, endMs),
      ]);
      assert.equal(src.size, NH_SPEC.series);
      assert.deepEqual([...tgt.keys()].sort(), [...src.keys()].sort());
      let n = 0,
        stale = 0,
        floats = 0;
      const schemas = new Set<number>();
      for (const [key, a] of src) {
        const b = tgt.get(key)!;
        assert.equal(b.length, a.length, `${key}: histogram count`);
        for (let i = 0; i < a.length; i++) {
          assert.equal(histogramDifference(a[i], b[i]), undefined, `${key} #${i}`);
          n++;
          if (isStaleHistogram(a[i])) stale++;
          else {
            schemas.add(a[i].schema);
            if (a[i].isFloat) floats++;
          }
        }
      }
      assert.equal(n, written.histograms);
      assert.equal(stale, written.staleMarkers, 'stale markers copied');
      // (gauge histograms are covered by the decoder's unit tests: see NH_SPEC.gauges in src/lab/histogram-history.ts)
      assert.ok(
        stale > 0 && floats > 0 && schemas.size >= 4,
        `every kind present: ${stale} stale, ${floats} float, schemas ${[...schemas]}`,
      );

      // the decoder against what was written: Prometheus re-lays buckets out when it extends a chunk's spans, but
      // count, zero count and sum of every sample are stored as sent
      for (const g of gen) {
        const got = src.get(labelsKey(g.labels))!;
        assert.equal(got.length, g.histograms.length);
        g.histograms.forEach((h, i) => {
          const d = got[i];
          assert.equal(d.t, h.t);
          assert.deepEqual(
            [...d.head.subarray(0, 6)],
            [...h.head.subarray(0, 6)],
            `${labelsKey(g.labels)} #${i}: count, zero count, sum bits`,
          );
        });
      }

      // cross-check through PromQL on both servers
      const ps = new PrometheusClient(endpointFromUrl(source.url)),
        pt = new PrometheusClient(endpointFromUrl(target.url));
      try {
        for (const q of [
          'histogram_count(stackshift_lab_native_histogram)',
          'histogram_sum(stackshift_lab_native_histogram)',
          'histogram_fraction(0, 4, stackshift_lab_native_histogram)',
        ]) {
          const [a, b] = await Promise.all([
            ps.queryRange(q, startMs, endMs - 1, 60),
            pt.queryRange(q, startMs, endMs - 1, 60),
          ]);
          const norm = (r: typeof a) =>
            JSON.stringify(
              (r.result as Array<{ metric: Record<string, string>; values: unknown[] }>)
                .map((x) => [JSON.stringify(x.metric), x.values])
                .sort(),
            );
          assert.ok((a.result as unknown[]).length === NH_SPEC.series, `${q}: a result per series`);
          assert.equal(norm(b), norm(a), q);
        }
        // and the count PromQL sees is the count written
        const k = gen[0];
        const last = k.histograms.at(-1)!;
        const r = await pt.query(`histogram_count(stackshift_lab_native_histogram{series="0"})`, last.t);
        const v = Number((r.result as Array<{ value: [number, string] }>)[0].value[1]);
        assert.equal(v, last.isFloat ? f64(last.head, 0) : word(last.head, 0));
      } finally {
        await Promise.all([ps.close(), pt.close()]);
      }
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);

// NH_SPEC ends on a 2 h boundary, so the open head chunk that Prometheus 2.42 re-encodes on a read holds one sample
test(
  'backfill gauge histograms: one unit over the whole range (Prometheus 2.42 cannot serve cut or open gauge chunks), GAUGE hint kept',
  { timeout: 120_000 },
  async (t) => {
    const [source, target] = await Promise.all([
      startServer(t, { name: 'nh-gauge-source', receiver: true, extraArgs: NH_FLAGS }),
      startServer(t, { name: 'nh-gauge-target', receiver: true, extraArgs: NH_FLAGS }),
    ]);
    try {
      // under an hour: one unit writes series after series, and a 2.42 target refuses in-order appends more than
      // an hour older than its newest sample ("out of bounds"; histograms have no out-of-order window there)
      const spec = { ...NH_SPEC, series: 4, hours: 0.9, gauges: true };
      const written = await writeHistogramHistoryRemote(`${source.url}/api/v1/write`, spec);
      const startMs = spec.endMs! - spec.hours * 3_600_000;
      const endMs = spec.endMs! + 1;
      const report = await runBackfill(
        params(source.url, `${target.url}/api/v1/write`, join(tempDir(t), 'state.db'), {
          selectors: ['{__name__="stackshift_lab_native_histogram"}'],
          startMs,
          endMs,
          readConcurrency: 1,
          writeConcurrency: 1,
          batchSamples: 2_000,
          windowMs: endMs - startMs,
          minWindowMs: endMs - startMs,
          maxWindowMs: endMs - startMs,
        }),
      );
      assert.deepEqual(report.rejects, []);
      assert.equal(report.totals.histogramSamples, written.histograms);
      const [src, tgt] = await Promise.all([
        readHistograms(source.url, startMs, endMs),
        readHistograms(target.url, startMs, endMs),
      ]);
      let gauges = 0;
      for (const [key, a] of src) {
        const b = tgt.get(key)!;
        assert.equal(b.length, a.length, key);
        a.forEach((h, i) => {
          assert.equal(histogramDifference(h, b[i]), undefined, `${key} #${i}`);
          if (b[i].resetHint === ResetHint.GAUGE) gauges++;
        });
      }
      assert.ok(gauges > 100, `gauge histograms arrived as gauges (${gauges})`);
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  },
);
