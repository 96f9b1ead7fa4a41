import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  countVictoriaSamples,
  startVictoriaMetrics,
  victoriaMetricsVersion,
  writeHistoryRemote,
} from '../../src/lab/index.js';
import { runCli, startServer, tempDir } from '../harness/index.js';

/**
 * VictoriaMetrics from the lab as a backfill receiver: the peer tool's own server takes stackshift's remote
 * write. It has no remote-read API, so the per-unit read-back cannot run there: the copy is refused with the
 * way out (--no-readback), and with it every sample arrives, counted through VictoriaMetrics' own export API.
 */
const MATCH = '{__name__=~"stackshift_gen_.+"}';

test(
  `backfill metrics real Prometheus -> real VictoriaMetrics ${victoriaMetricsVersion()}: every sample, counted by its export API; read-back refused with the way out`,
  { timeout: 300_000 },
  async (t) => {
    const source = await startServer(t, { name: 'vm-source', receiver: true });
    const endMs = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const startMs = endMs - 6 * 3_600_000;
    const written = await writeHistoryRemote(`${source.url}/api/v1/write`, {
      series: 20,
      durationMs: endMs - startMs,
      intervalMs: 60_000,
      seed: 11,
      endMs,
    });
    const vm = await startVictoriaMetrics({ dataDir: join(tempDir(t), 'vm') });
    t.after(() => vm.stop());
    const args = [
      'backfill',
      'metrics',
      '--source-url',
      source.url,
      '--target-url',
      `${vm.url}/api/v1/write`,
      '--start',
      String(startMs / 1000),
      '--end',
      String(endMs / 1000),
      '--match',
      MATCH,
    ];

    const withReadback = await runCli([...args, '--state', join(tempDir(t), 'a.db')], { timeoutMs: 180_000 });
    assert.equal(withReadback.code, 2, withReadback.stderr);
    assert.match(withReadback.stderr, /cannot read the copy back/);
    assert.match(withReadback.stderr, /--no-readback/);

    const res = await runCli([...args, '--state', join(tempDir(t), 'b.db'), '--no-readback', '-o', 'json'], {
      timeoutMs: 180_000,
    });
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as { totals: { samples: number } };
    assert.ok(written.samples > 6_000, `history written (${written.samples} samples)`);
    // the export API is VictoriaMetrics' own view of what it stored (it keeps stale markers as values)
    assert.equal(
      await countVictoriaSamples(vm.url, MATCH, startMs, endMs),
      written.samples,
      'VictoriaMetrics holds every sample of the source',
    );
    assert.ok(report.totals.samples >= written.samples, `the report counts what was sent (${report.totals.samples})`);
  },
);
