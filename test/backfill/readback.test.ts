import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PROBE_METRIC, runBackfill } from '../../src/backfill/index.js';
import { countSamples, resolveSpec, type HistorySpec } from '../../src/lab/index.js';
import { startFaultProxy } from '../faults/proxy.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, compareCopies, params, readAll } from './helpers.js';

const SPEC: HistorySpec = {
  series: 8,
  durationMs: 3 * 3_600_000,
  intervalMs: 60_000,
  seed: 13,
  endMs: Date.UTC(2026, 0, 11),
};

test(
  'read-back: a unit the target acknowledged but does not hold is written again; --no-readback would have lost it',
  { timeout: 240_000 },
  async (t) => {
    const [source, t1, t2] = await Promise.all([
      startServer(t, { name: 'source', history: SPEC }),
      startServer(t, { name: 't1', receiver: true }),
      startServer(t, { name: 't2', receiver: true }),
    ]);
    // each target behind a proxy that answers 204 to its 3rd and 5th writes and drops them
    const lossy = (url: string) => {
      let w = 0;
      return startFaultProxy(url, (_n, method, path) =>
        method === 'POST' && path.startsWith('/api/v1/write') && [3, 5].includes(++w) ? 'blackhole' : 'none',
      );
    };
    const [p1, p2] = await Promise.all([lossy(t1.url), lossy(t2.url)]);
    try {
      const s = resolveSpec(SPEC);
      const range = {
        startMs: s.startMs,
        endMs: s.endMs,
        windowMs: 1_800_000,
        maxWindowMs: 1_800_000,
        batchSamples: 100,
      };
      const on = await runBackfill(
        params(source.url, `${p1.url}/api/v1/write`, join(tempDir(t), 'on.db'), { ...range, targetReadUrl: t1.url }),
      );
      assert.equal(p1.log.filter((e) => e.fault === 'blackhole').length, 2);
      assert.equal(on.readBack?.enabled, true);
      assert.ok(on.readBack!.redoneUnits >= 1, `units written again (${on.readBack!.redoneUnits})`);
      assert.deepEqual(on.rejects, []);
      const d = await compareCopies(source.url, t1.url, s.startMs, s.endMs - 1, GEN);
      assert.deepEqual(d.problems, []);
      assert.equal(d.samples, countSamples(SPEC));

      const off = await runBackfill(
        params(source.url, `${p2.url}/api/v1/write`, join(tempDir(t), 'off.db'), {
          ...range,
          targetReadUrl: t2.url,
          readBack: false,
        }),
      );
      assert.equal(off.readBack?.enabled, false);
      const held = (await readAll(t2.url, s.startMs, s.endMs - 1, GEN)).reduce((a, x) => a + x.timestamps.length, 0);
      assert.ok(
        held < countSamples(SPEC),
        `without read-back the loss goes unnoticed (${held} of ${countSamples(SPEC)} held, summary says ${off.totals.samples})`,
      );
    } finally {
      await Promise.all([p1.close(), p2.close()]);
      await Promise.all([source, t1, t2].map((x) => x.stop()));
    }
  },
);

test(
  'preflight probe: kept and said so by default (verify leaves it out by name); deleted through the admin API when asked',
  { timeout: 180_000 },
  async (t) => {
    const spec: HistorySpec = {
      series: 2,
      durationMs: 3_600_000,
      intervalMs: 60_000,
      seed: 2,
      endMs: Date.UTC(2026, 0, 12),
    };
    // lab servers run with --web.enable-admin-api; in front of `plain`, a proxy answers its admin API as Prometheus
    // does without the flag (503 "admin APIs disabled")
    const [source, admin, plain] = await Promise.all([
      startServer(t, { name: 'source', history: spec }),
      startServer(t, { name: 'admin', receiver: true }),
      startServer(t, { name: 'plain', receiver: true }),
    ]);
    const noAdmin = await startFaultProxy(plain.url, (_n, _m, path) =>
      path.startsWith('/api/v1/admin/') ? '503' : 'none',
    );
    try {
      const s = resolveSpec(spec);
      const probeMatch = [{ type: 'EQ' as const, name: '__name__', value: PROBE_METRIC }];
      const a = await runBackfill(
        params(source.url, `${admin.url}/api/v1/write`, join(tempDir(t), 'a.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
          deleteProbe: true,
        }),
      );
      assert.equal(a.preflight?.readBack, true);
      assert.equal(a.preflight?.probe, 'deleted');
      assert.deepEqual(
        await readAll(admin.url, s.startMs - 60_000, s.endMs, probeMatch),
        [],
        'no probe series left in the target',
      );
      const b = await runBackfill(
        params(source.url, `${noAdmin.url}/api/v1/write`, join(tempDir(t), 'b.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
          deleteProbe: true,
        }),
      );
      const c = await runBackfill(
        params(source.url, `${admin.url}/api/v1/write`, join(tempDir(t), 'c.db'), {
          startMs: s.startMs,
          endMs: s.endMs,
        }),
      );
      assert.equal(c.preflight?.probe, 'kept', 'kept by default');
      // issue 19 item 1: the probe is written inside the range asked for (at its start), nowhere else
      assert.equal(c.preflight?.timestamp, new Date(s.startMs).toISOString());
      assert.equal(b.preflight?.probe, 'kept');
      assert.ok(
        b.advice.some((x) => x.includes(PROBE_METRIC) && /verify metrics leaves/.test(x)),
        'the summary says the probe stays and how verify treats it',
      );
      const kept = await readAll(plain.url, 0, Date.now(), probeMatch);
      assert.deepEqual(
        kept.map((x) => [...x.timestamps]),
        [[s.startMs]],
        'one probe sample, at the start of the range',
      );
      assert.ok(
        noAdmin.log.some((e) => e.path.startsWith('/api/v1/admin/tsdb/delete_series') && e.status === 503),
        'the delete was tried',
      );
    } finally {
      await noAdmin.close();
      await Promise.all([source, admin, plain].map((x) => x.stop()));
    }
  },
);
