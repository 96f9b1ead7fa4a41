import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBackfill } from '../../src/backfill/index.js';
import { collectAssessment } from '../../src/assess/index.js';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import {
  PROMETHEUS,
  resolveSpec,
  writeHistoryRemote,
  waitHeadCompacted,
  type HistorySpec,
} from '../../src/lab/index.js';
import { createSnapshot, verifySnapshot } from '../../src/snapshot/index.js';
import { inspectTsdb } from '../../src/tsdb/index.js';
import { openSide, verifyMetrics } from '../../src/verify/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { GEN, params } from '../backfill/helpers.js';

/**
 * The version matrix: the same exact-copy path (assess, backfill, verify metrics, snapshot, tsdb inspect) with
 * real Prometheus servers of the versions the upgrade runbook moves between, each as source and as target
 * where that direction happens in practice: an old 2.x into the 3.x target, a 3.x back into the 2.55 bridge
 * (rollback), and Debian's 2.42 into the newest 3.x.
 */
const PAIRS: Array<{ source: string; target: string }> = [
  { source: PROMETHEUS.start, target: PROMETHEUS.target },
  { source: PROMETHEUS.target, target: PROMETHEUS.bridge },
  { source: PROMETHEUS.debian, target: PROMETHEUS.latest },
];

// 150 series over 18 h at 2 min with counter resets, gaps and stale markers: 81,000 samples
const SPEC: HistorySpec = {
  series: 150,
  durationMs: 18 * 3_600_000,
  intervalMs: 120_000,
  seed: 7,
  endMs: Date.UTC(2026, 10, 1),
};

/** The version a binary reports through the API ("2.42.0+ds" for Debian's build). */
function sameRelease(reported: string, lab: string): boolean {
  return reported === lab || reported.startsWith(`${lab}.`) || reported.startsWith(`${lab}+`);
}

for (const { source: sv, target: tv } of PAIRS) {
  test(
    `matrix ${sv} -> ${tv}: assess, exact backfill, verify metrics 100 %, snapshot verified, tsdb inspect`,
    { timeout: 300_000 },
    async (t) => {
      const [source, target] = await Promise.all([
        startServer(t, { name: `source-${sv}`, version: sv, receiver: true }),
        startServer(t, { name: `target-${tv}`, version: tv, receiver: true }),
      ]);
      try {
        const written = await writeHistoryRemote(`${source.url}/api/v1/write`, SPEC);
        await waitHeadCompacted(source.url);

        // assess reads the real version from the server (the lab sets it at build time)
        const client = new PrometheusClient(endpointFromUrl(source.url));
        t.after(() => client.close());
        const a = await collectAssessment(client);
        assert.ok(sameRelease(a.prometheus.version, sv), `assess reports ${a.prometheus.version} for ${sv}`);

        const rs = resolveSpec(SPEC);
        const endMs = rs.endMs + SPEC.intervalMs;
        const report = await runBackfill(
          params(source.url, `${target.url}/api/v1/write`, join(tempDir(t), 'state.db'), {
            startMs: rs.startMs,
            endMs,
            windowMs: 1_800_000,
            maxWindowMs: 1_800_000,
          }),
        );
        assert.deepEqual(report.rejects, []);
        assert.equal(report.totals.series, SPEC.series);
        assert.equal(report.totals.samples, written.samples);

        const [s, u] = await Promise.all([
          openSide(endpointFromUrl(source.url)),
          openSide(endpointFromUrl(target.url)),
        ]);
        t.after(async () => {
          await s.close();
          await u.close();
        });
        const v = await verifyMetrics({
          source: s,
          target: u,
          startMs: rs.startMs,
          endMs,
          selectors: [GEN],
          mapping: { add: {}, drop: [] },
          equality: { relativeTolerance: 0 },
          samples: true,
          readWindowMs: 6 * 3_600_000,
          concurrency: 2,
          top: 5,
          recheck: { rounds: 3, delayMs: 2000 },
        });
        assert.equal(v.samples?.expected, written.samples, 'every written sample was compared');
        assert.equal(
          v.samples?.matched,
          written.samples,
          `verify ${sv} -> ${tv}: ${JSON.stringify(v.discrepancies.slice(0, 3))}`,
        );
        assert.equal(v.consistency.percent, 100);

        // a snapshot of the target, verified block by block, and what its blocks are made of
        const tclient = new PrometheusClient(endpointFromUrl(target.url));
        t.after(() => tclient.close());
        const snap = await createSnapshot(tclient);
        const snapDir = join(target.dataDir, 'snapshots', snap.name);
        const checked = await verifySnapshot(snapDir);
        assert.ok(checked.ok, JSON.stringify(checked.problems));
        assert.ok(checked.blocks.length > 0, 'the snapshot holds blocks');
        assert.deepEqual(
          checked.blocks.filter((b) => !b.ok),
          [],
        );
        const inspected = inspectTsdb(snapDir, { level: 'full' });
        assert.deepEqual(inspected.problems, []);
        const samples = inspected.blocks.reduce((n, b) => n + (b.counted?.samples ?? 0), 0);
        // besides the copy, the target may hold the backfill's one-sample preflight probe
        const probe = await tclient.query(`sum(count_over_time({__name__=~"stackshift_backfill_probe.*"}[3650d]))`);
        const probeSamples = probe.resultType === 'vector' ? Number(probe.result[0]?.value[1] ?? 0) : 0;
        assert.equal(
          samples,
          written.samples + probeSamples,
          'the snapshot holds every copied sample (and the probe, if left)',
        );
        for (const b of inspected.blocks) {
          assert.equal(b.indexVersion, 2, `${tv} writes index v2 (${b.ulid})`);
          assert.deepEqual(
            Object.keys(b.chunkEncodings ?? {}),
            ['XOR'],
            `${tv} writes float samples as XOR chunks (${b.ulid})`,
          );
        }
      } finally {
        await Promise.all([source.stop(), target.stop()]);
      }
    },
  );
}
