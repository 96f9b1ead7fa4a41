import { join } from 'node:path';
import { BACKFILL_DEFAULTS, runBackfill } from '../backfill/index.js';
import { endpointFromUrl } from '../config/index.js';
import { countSamples, resolveSpec, startPrometheus } from '../lab/index.js';
import { formatBytes, formatCount, formatDuration } from '../progress/index.js';
import { mdTable } from '../report/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

const TARGET_CONFIG = `global:
  scrape_interval: 15s
scrape_configs: []
storage:
  tsdb:
    out_of_order_time_window: 3650d
`;

/**
 * Backfill the source's generated history into a second real Prometheus acting as the remote-write target
 * (receiver with an out-of-order window, as a Mimir tenant for backfill needs), and report the figures.
 * The target's URL goes into ctx.results.backfill for a later verify step.
 */
export const backfillStep: RehearsalStep = {
  id: 'backfill',
  title: 'Backfill history into a remote-write target (stackshift backfill metrics)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const target = await startPrometheus({
      name: 'backfill-target',
      config: TARGET_CONFIG,
      dataDir: join(ctx.workDir, 'backfill-target-data'),
      extraArgs: ['--web.enable-remote-write-receiver'],
    });
    ctx.servers.push(target);
    const s = resolveSpec(ctx.history);
    const selector = '{__name__=~"stackshift_gen_.+"}';
    const report = await runBackfill({
      ...BACKFILL_DEFAULTS,
      source: endpointFromUrl(ctx.source.url),
      target: endpointFromUrl(`${target.url}/api/v1/write`, 'prometheus'),
      selectors: [selector],
      startMs: s.startMs,
      endMs: s.endMs,
      // 30-minute units keep the target's appends in order, so the verify step compares against a target that is
      // not compacting an out-of-order head (Prometheus 2.42 can hide samples meanwhile); Mimir needs no such care
      windowMs: 30 * 60_000,
      maxWindowMs: 30 * 60_000,
      statePath: join(ctx.workDir, 'backfill.db'),
    });
    const expected = countSamples(ctx.history);
    const t = report.totals;
    const run = report.run!;
    ctx.results.backfill = {
      targetUrl: target.url,
      selector,
      startMs: s.startMs,
      endMs: s.endMs,
      externalLabels: report.externalLabels,
      samples: t.samples,
      series: t.series,
      state: join(ctx.workDir, 'backfill.db'),
    };
    const ok = t.samples === expected && t.series === ctx.opts.series && report.rejects.length === 0;
    const rejects = report.rejects.reduce((a, r) => a + r.requests, 0);
    return {
      status: ok ? 'passed' : 'failed',
      summary: `${formatCount(t.samples)} samples (expected ${formatCount(expected)}) of ${t.series} series copied at ${formatCount(run.samplesPerSecond)} samples/s in ${formatDuration(run.durationMs)}, ${rejects} rejected requests, target ${target.url}`,
      details: mdTable(
        ['figure', 'value'],
        [
          ['target', `${target.url}/api/v1/write (Prometheus receiver, out-of-order window 3650d)`],
          ['selector', selector],
          ['range', `${report.range.start} .. ${report.range.end}`],
          ['series', t.series],
          ['samples', `${t.samples} (expected ${expected})`],
          ['samples/s', run.samplesPerSecond],
          ['bytes sent', formatBytes(t.bytes)],
          ['requests / retries', `${t.requests} / ${run.retries}`],
          ['units', `${report.plan.unitsDone}/${report.plan.units}`],
          ['preflight read-back', String(report.preflight?.readBack)],
          [
            'external labels',
            `${
              Object.entries(report.externalLabels.labels)
                .map(([k, v]) => `${k}="${v}"`)
                .join(', ') || 'none'
            } ${report.externalLabels.action}`,
          ],
          ['rejects', report.rejects.map((r) => `${r.class}: ${r.requests}`).join(', ') || 'none'],
          ['peak RSS', formatBytes(run.peakRssBytes)],
        ],
      ),
      data: {
        samples: t.samples,
        expected,
        series: t.series,
        samplesPerSecond: run.samplesPerSecond,
        rejects,
        targetUrl: target.url,
      },
    };
  },
};
