import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BlocksReport } from '../../src/blocks/index.js';
import {
  labHas,
  promtoolBinary,
  resolveSpec,
  writeHistogramHistoryRemote,
  writeHistoryRemote,
  type HistorySpec,
} from '../../src/lab/index.js';
import { isStaleHistogram } from '../../src/wire/index.js';
import { histogramDifference, type MetricsReport } from '../../src/verify/index.js';
import { runCli, startServer, tempDir } from '../harness/index.js';
import { GEN, NH_FLAGS, NH_SPEC, compareCopies, readHistograms, waitHeadCompacted } from '../backfill/helpers.js';

// 120 series over 10 hours at 60 s (the source's chunks of 120 samples span 2 h, from even hours, so 3 h blocks cut
// through chunks and most hold two chunks of a series), with counter
// resets, gaps and a stale marker at the start of every gap; native histograms of NH_SPEC in the last 2.5 hours
const END = NH_SPEC.endMs!;
const SPEC: HistorySpec = { series: 120, durationMs: 10 * 3_600_000, intervalMs: 60_000, seed: 7, endMs: END };
const VERSIONS = ['2.42', '2.48.1', '2.55.1', '3.8.1', '3.16.0'];

test(
  'backfill blocks: history with resets, gaps, stale markers and native histograms loads in every lab Prometheus and verifies bit-exact',
  { timeout: 900_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-source', receiver: true, extraArgs: NH_FLAGS });
    // histograms first: Prometheus 2.42 takes no out-of-order histograms, and floats older than the head are out of order
    const hist = await writeHistogramHistoryRemote(`${source.url}/api/v1/write`, NH_SPEC);
    const floats = await writeHistoryRemote(`${source.url}/api/v1/write`, SPEC);
    await waitHeadCompacted(source.url);
    assert.ok(floats.staleMarkers > 10 && hist.staleMarkers > 0, 'history has stale markers of both kinds');

    // a start and an end off the block boundaries (one interval before the first sample, two after the last)
    const startMs = resolveSpec(SPEC).startMs - 60_000;
    const endMs = END + 120_000;
    const dir = tempDir(t);
    const out = join(dir, 'blocks');
    const res = await runCli([
      'backfill',
      'blocks',
      '--source-url',
      source.url,
      '--start',
      String(startMs / 1000),
      '--end',
      String(endMs / 1000),
      '--match',
      '{__name__=~"stackshift_gen_.+|stackshift_lab_native_histogram"}',
      '--out',
      out,
      '--block-duration',
      '3h',
      '--state',
      join(dir, 'state.db'),
      '--output',
      'json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as BlocksReport;
    assert.equal(r.totals.samples, floats.samples, 'every float sample (stale markers included) copied');
    assert.equal(r.totals.histogramSamples, hist.histograms, 'every histogram sample copied');
    assert.equal(r.totals.series, SPEC.series + NH_SPEC.series);
    assert.ok(
      r.totals.blocks >= 4 && r.totals.blocks <= 5,
      `one block per 3 h (UTC 00, 03, ...) holding samples (${r.totals.blocks})`,
    );
    assert.ok(r.run.chunksCopied > 2 * r.totals.series, 'chunks copied as they are');
    const dirs = readdirSync(out).sort();
    assert.equal(dirs.length, r.totals.blocks);
    assert.ok(
      dirs.every((d) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(d)),
      `only complete blocks visible: ${dirs.join(' ')}`,
    );

    // our own verifier and promtool read them
    const insp = await runCli(['tsdb', 'inspect', '--verify', out]);
    assert.equal(insp.code, 0, insp.stdout + insp.stderr);
    assert.match(insp.stdout, /No problems found/);
    const list = spawnSync(promtoolBinary(), ['tsdb', 'list', out], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim().split('\n').length, dirs.length + 1, 'promtool lists every block');
    const analyze = spawnSync(promtoolBinary(), ['tsdb', 'analyze', out, dirs[2]], { encoding: 'utf8' });
    assert.equal(analyze.status, 0, analyze.stderr);
    assert.match(analyze.stdout, /Series: \d+/);

    const srcHist = await readHistograms(source.url, startMs, endMs);
    const present = VERSIONS.filter((v) => labHas('prometheus', v));
    assert.ok(present.includes('2.42'), 'Debian Prometheus 2.42 is always there');
    for (const version of VERSIONS) {
      if (!present.includes(version)) {
        t.diagnostic(`Prometheus ${version} not built in the lab yet: not checked`);
        continue;
      }
      const target = await startTargetWithBlocks(t, version, out, dirs);
      const d = await compareCopies(source.url, target.url, startMs, endMs, GEN);
      assert.deepEqual(d.problems, [], `Prometheus ${version}`);
      assert.equal(d.samples, floats.samples, `Prometheus ${version}: samples`);
      assert.equal(d.staleMarkers, floats.staleMarkers, `Prometheus ${version}: stale markers bit-exact`);
      // a narrow window inside one block and inside chunks: Prometheus picks chunks by the index's min/max times
      const narrow = await compareCopies(
        source.url,
        target.url,
        END - 3 * 3_600_000 - 40 * 60_000 + 7_000,
        END - 3 * 3_600_000 - 20 * 60_000,
        GEN,
      );
      assert.deepEqual(narrow.problems, [], `Prometheus ${version}, narrow window`);
      assert.ok(
        narrow.samples > SPEC.series * 10,
        `Prometheus ${version}: narrow window holds samples (${narrow.samples})`,
      );

      const tgtHist = await readHistograms(target.url, startMs, endMs);
      assert.equal(tgtHist.size, NH_SPEC.series, `Prometheus ${version}: histogram series`);
      let n = 0;
      let stale = 0;
      for (const [key, a] of srcHist) {
        const b = tgtHist.get(key) ?? [];
        assert.equal(b.length, a.length, `${version} ${key}: histogram count`);
        for (let i = 0; i < a.length; i++) {
          assert.equal(histogramDifference(a[i], b[i]), undefined, `${version} ${key} #${i}`);
          n++;
          if (isStaleHistogram(a[i])) stale++;
        }
      }
      assert.equal(n, hist.histograms);
      assert.equal(stale, hist.staleMarkers);

      const v = await runCli([
        'verify',
        'metrics',
        '--source-url',
        source.url,
        '--target-url',
        target.url,
        '--start',
        String(startMs / 1000),
        '--end',
        String(endMs / 1000),
        '--match',
        '{__name__=~"stackshift_gen_.+"}',
        '--output',
        'json',
      ]);
      assert.equal(v.code, 0, v.stderr);
      const doc = JSON.parse(v.stdout) as MetricsReport;
      assert.equal(doc.consistency.percent, 100, `Prometheus ${version}: verify metrics`);
      assert.equal(doc.samples!.expected, floats.samples);
      await target.stop();
    }
  },
);

async function startTargetWithBlocks(
  t: Parameters<typeof startServer>[0],
  version: string,
  out: string,
  dirs: string[],
) {
  // the harness starts a server on a fresh data dir; the blocks go in before it starts (no WAL, nothing to replay)
  const s = await startServer(t, { name: `blk-${version}`, version, waitReady: false });
  await s.stop();
  for (const d of dirs) cpSync(join(out, d), join(s.dataDir, d), { recursive: true });
  await s.restart();
  return s;
}

test('backfill blocks: an empty window writes no block and says so', { timeout: 120_000 }, async (t) => {
  const source = await startServer(t, { name: 'blk-empty', receiver: true });
  await writeHistoryRemote(`${source.url}/api/v1/write`, {
    series: 4,
    durationMs: 3_600_000,
    intervalMs: 60_000,
    seed: 3,
    endMs: END,
  });
  const dir = tempDir(t);
  const out = join(dir, 'blocks');
  // a week before the history: names exist in no block of it
  const res = await runCli([
    'backfill',
    'blocks',
    '--source-url',
    source.url,
    '--start',
    String((END - 8 * 86_400_000) / 1000),
    '--end',
    String((END - 7 * 86_400_000) / 1000),
    '--out',
    out,
    '--state',
    join(dir, 's.db'),
    '--output',
    'json',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(res.stdout) as BlocksReport;
  assert.equal(r.totals.blocks, 0);
  assert.equal(r.totals.samples, 0);
  let entries: string[] = [];
  try {
    entries = readdirSync(out);
  } catch {
    /* never created */
  }
  assert.deepEqual(entries, []);
});
