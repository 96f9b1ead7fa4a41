import { join } from 'node:path';
import { runBackfill } from '../backfill/index.js';
import { endpointFromUrl } from '../config/index.js';
import { startPrometheus, writeHistogramHistoryRemote, type HistogramHistorySpec } from '../lab/index.js';
import { formatBytes, formatCount, formatDuration } from '../progress/index.js';
import { mdTable } from '../report/index.js';
import { formatPercent, openSide, verifyMetrics, type OpenedSide } from '../verify/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

const CONFIG = `global:
  scrape_interval: 15s
scrape_configs: []
storage:
  tsdb:
    out_of_order_time_window: 3650d
`;
const FLAGS = ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms'];
const METRIC = 'stackshift_lab_native_histogram';

/**
 * Native histograms end to end: a source and a target of their own (the rehearsal's main source runs
 * without --enable-feature=native-histograms, which the upgrade steps compare flag for flag), a generated
 * histogram history (integer and float, schema change, counter reset, stale marker, gauges), stackshift
 * backfill metrics from one to the other and stackshift verify metrics over the copy, which must be 100 %.
 * Prometheus 2.42 re-encodes a chunk on a read when the query range cuts it or when it is the open head chunk,
 * and fails doing so for gauge histograms: one unit over the whole range and a history ending on a chunk
 * boundary avoid both. One unit writes series after series, so the history stays under the hour a 2.42 target
 * accepts in-order appends behind its newest sample (it has no out-of-order window for histograms).
 */
export const histogramStep: RehearsalStep = {
  id: 'native-histograms',
  title: 'Backfill and verify native histograms (encodings 2 and 3 as remote-write histograms)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const [source, target] = await Promise.all(
      ['nh-source', 'nh-target'].map((name) =>
        startPrometheus({ name, config: CONFIG, dataDir: join(ctx.workDir, `${name}-data`), extraArgs: FLAGS }),
      ),
    );
    ctx.servers.push(source, target);
    // the last sample on a 2 h boundary opens a new head chunk, so the open chunk 2.42 re-encodes on every read
    // holds one sample; a longer open gauge chunk fails the read ("unexpected counter reset")
    const last = Math.floor(Date.now() / 7_200_000) * 7_200_000;
    const spec: HistogramHistorySpec = {
      series: 16,
      hours: 0.9,
      intervalMs: 15_000,
      seed: ctx.opts.seed,
      gauges: true,
      endMs: last,
    };
    const written = await writeHistogramHistoryRemote(`${source.url}/api/v1/write`, spec);
    const startMs = last - spec.hours * 3_600_000;
    const endMs = last + 1;
    const report = await runBackfill({
      source: endpointFromUrl(source.url),
      target: endpointFromUrl(`${target.url}/api/v1/write`, 'prometheus'),
      selectors: [`{__name__="${METRIC}"}`],
      startMs,
      endMs,
      keepExternalLabels: true,
      remoteWriteVersion: '1.0',
      responseType: 'streamed',
      readConcurrency: 1,
      writeConcurrency: 1,
      batchSamples: 5_000,
      windowMs: endMs - startMs,
      minWindowMs: endMs - startMs,
      maxWindowMs: endMs - startMs,
      unitSamples: 2_000_000,
      namesPerGroup: 20,
      statePath: join(ctx.workDir, 'histogram-backfill.db'),
      dryRun: false,
      preflight: true,
      retries: 10,
    });
    const sides: OpenedSide[] = [];
    try {
      sides.push(await openSide(endpointFromUrl(source.url)), await openSide(endpointFromUrl(target.url)));
      const v = await verifyMetrics({
        source: sides[0],
        target: sides[1],
        startMs,
        endMs,
        selectors: [[{ type: 'EQ', name: '__name__', value: METRIC }]],
        mapping: { add: {}, drop: [] },
        equality: { relativeTolerance: 0 },
        samples: true,
        readWindowMs: endMs - startMs,
        concurrency: 2,
        top: 10,
      });
      const t = report.totals;
      const run = report.run!;
      const s = v.samples!;
      const ok =
        t.histogramSamples === written.histograms &&
        report.rejects.length === 0 &&
        v.consistency.percent === 100 &&
        s.expected === written.histograms;
      return {
        status: ok ? 'passed' : 'failed',
        summary: `${formatCount(t.histogramSamples)} of ${formatCount(written.histograms)} histogram samples (${written.staleMarkers} stale markers) in ${t.series} series copied in ${formatDuration(run.durationMs)}; verify: ${formatPercent(v.consistency.percent)} of ${formatCount(s.expected)} compared field by field`,
        details: mdTable(
          ['figure', 'value'],
          [
            ['source / target', `${source.url} / ${target.url} (--enable-feature=native-histograms)`],
            [
              'written to the source',
              `${written.histograms} histograms, ${written.series} series, ${written.requests} requests`,
            ],
            ['copied', `${t.histogramSamples} in ${t.requests} requests, ${formatBytes(t.bytes)}`],
            [
              'copy rate',
              `${formatCount(run.durationMs > 0 ? (t.histogramSamples * 1000) / run.durationMs : 0)} histograms/s`,
            ],
            ['rejects', report.rejects.map((r) => `${r.class}: ${r.requests}`).join(', ') || 'none'],
            [
              'verify',
              `${formatPercent(v.consistency.percent)}: ${s.matched} matched, ${s.mismatched} mismatched, ${s.missing} missing, ${s.unexpected} unexpected`,
            ],
          ],
        ),
        data: {
          written: written.histograms,
          copied: t.histogramSamples,
          consistency: v.consistency.percent,
          requests: t.requests,
        },
      };
    } finally {
      await Promise.all(sides.map((x) => x.close()));
    }
  },
};
