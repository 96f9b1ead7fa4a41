import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from '../../src/http/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { RemoteReadClient } from '../../src/clients/index.js';
import {
  historyWithStaleMarkers,
  resolveSpec,
  waitHeadCompacted,
  writeHistoryRemote,
  type HistorySpec,
} from '../../src/lab/index.js';
import { isStaleMarker, labelsKey, valueBitsHex } from '../../src/wire/index.js';
import { startServer } from '../harness/index.js';

const SPEC: HistorySpec = {
  series: 60,
  durationMs: 12 * 3_600_000,
  intervalMs: 30_000,
  seed: 5,
  endMs: Date.UTC(2026, 0, 12),
};

test(
  'lab remote-write history: a real receiver stores every sample bit-exact, stale markers included',
  { timeout: 120_000 },
  async (t) => {
    const prom = await startServer(t, { receiver: true });
    const r = await writeHistoryRemote(`${prom.url}/api/v1/write`, SPEC);
    assert.ok(r.staleMarkers > 0, 'the history has stale markers');
    const want = new Map([...historyWithStaleMarkers(SPEC)].map((s) => [labelsKey(s.labels), s]));
    assert.equal(
      r.samples,
      [...want.values()].reduce((a, s) => a + s.timestamps.length, 0),
    );
    // a 2.42 receiver compacting its out-of-order head answers some reads short: read once it has settled
    await waitHeadCompacted(prom.url);

    const http = new HttpClient(endpointFromUrl(prom.url));
    t.after(() => http.close());
    const s = resolveSpec(SPEC);
    let seen = 0;
    let stale = 0;
    for await (const got of new RemoteReadClient(http).streamSeries({
      startMs: s.startMs,
      endMs: s.endMs + SPEC.intervalMs,
      matchers: [{ type: 'RE', name: '__name__', value: 'stackshift_gen_.+' }],
    })) {
      const w = want.get(labelsKey(got.labels));
      assert.ok(w, labelsKey(got.labels));
      assert.deepEqual([...got.timestamps], [...w.timestamps]);
      for (let i = 0; i < w.timestamps.length; i++) {
        assert.equal(
          valueBitsHex(got.values, i),
          valueBitsHex(w.values, i),
          `${labelsKey(got.labels)} @ ${w.timestamps[i]}`,
        );
        if (isStaleMarker(got.values, i)) stale++;
      }
      seen++;
    }
    assert.equal(seen, SPEC.series);
    assert.equal(stale, r.staleMarkers);
    // stop before the harness's after-hooks remove the temp dir (they run before its own stop)
    await prom.stop();
  },
);
