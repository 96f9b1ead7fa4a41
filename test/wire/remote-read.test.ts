import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from '../../src/http/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { RemoteReadClient } from '../../src/clients/index.js';
import { generateHistory, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { labelsKey, newDecodeStats, type SeriesSamples } from '../../src/wire/index.js';
import { startServer } from '../harness/index.js';

const SPEC: HistorySpec = {
  series: 40,
  durationMs: 8 * 3_600_000,
  intervalMs: 15_000,
  seed: 11,
  endMs: Date.UTC(2026, 0, 10),
};

function expected(spec: HistorySpec, minT: number, maxT: number): Map<string, Array<[number, number]>> {
  const m = new Map<string, Array<[number, number]>>();
  for (const g of generateHistory(spec)) {
    const labels = Object.entries(g.labels)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const samples = [...g.samples()].filter(([t]) => t >= minT && t <= maxT);
    if (samples.length) m.set(labelsKey(labels), samples);
  }
  return m;
}

function assertSeriesEqual(got: SeriesSamples[], want: Map<string, Array<[number, number]>>): void {
  assert.equal(got.length, want.size);
  for (const s of got) {
    const w = want.get(labelsKey(s.labels));
    assert.ok(w, `unexpected series ${labelsKey(s.labels)}`);
    assert.equal(s.timestamps.length, w.length, labelsKey(s.labels));
    for (let i = 0; i < w.length; i++) {
      assert.equal(s.timestamps[i], w[i][0]);
      assert.equal(s.values[i], w[i][1]);
    }
  }
}

test(
  'remote read from a real Prometheus: streamed chunks and SAMPLES give every raw sample, in label order',
  { timeout: 120_000 },
  async (t) => {
    const prom = await startServer(t, { history: SPEC });
    const http = new HttpClient(endpointFromUrl(prom.url));
    t.after(() => http.close());
    const rr = new RemoteReadClient(http);
    const s = resolveSpec(SPEC);
    // a window cutting through chunks on both sides: client-side filtering must keep exactly [start, end]
    const startMs = s.startMs + 3_600_000 + 7_000;
    const endMs = s.endMs - 2 * 3_600_000 - 1;
    const want = expected(SPEC, startMs, endMs);
    const matchers = [{ type: 'RE' as const, name: '__name__', value: 'stackshift_gen_.*' }];

    const stats = newDecodeStats() as ReturnType<typeof newDecodeStats> & { responseType?: 'streamed' | 'samples' };
    const streamed: SeriesSamples[] = [];
    for await (const x of rr.streamSeries({ startMs, endMs, matchers }, { stats })) streamed.push(x);
    assert.equal(stats.responseType, 'streamed');
    assert.ok(stats.frames >= 1 && stats.chunks >= streamed.length);
    assertSeriesEqual(streamed, want);
    const keys = streamed.map((x) => labelsKey(x.labels));
    assert.deepEqual(keys, [...keys].sort(), 'series come in label order');

    const sstats = newDecodeStats() as ReturnType<typeof newDecodeStats> & { responseType?: 'streamed' | 'samples' };
    const samples: SeriesSamples[] = [];
    for await (const x of rr.streamSeries({ startMs, endMs, matchers }, { responseType: 'samples', stats: sstats }))
      samples.push(x);
    assert.equal(sstats.responseType, 'samples');
    assertSeriesEqual(samples, want);
    // stop before the harness's after-hooks remove the temp dir (they run before its own stop)
    await prom.stop();
  },
);
