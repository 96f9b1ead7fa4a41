import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCKS_DEFAULTS, runBlocks } from '../blocks/index.js';
import { endpointFromUrl } from '../config/index.js';
import { countSamples, resolveSpec, startPrometheus } from '../lab/index.js';
import { parseSelector } from '../promql/index.js';
import { formatCount, formatDuration } from '../progress/index.js';
import { formatPercent, openSide, verifyMetrics, type OpenedSide } from '../verify/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

const SELECTOR = '{__name__=~"stackshift_gen_.+"}';

/**
 * backfill blocks: the generated history copied from the source as TSDB blocks (2h, raw chunks), loaded into a
 * fresh Prometheus and compared with the source sample by sample (verify metrics, bit-exact).
 */
export const blocksStep: RehearsalStep = {
  id: 'blocks',
  title: 'Backfill as TSDB blocks and verify them loaded into a fresh Prometheus (stackshift backfill blocks)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const hist = resolveSpec(ctx.history);
    const out = join(ctx.workDir, 'blocks-out');
    const report = await runBlocks({
      ...BLOCKS_DEFAULTS,
      source: endpointFromUrl(ctx.source.url),
      target: { kind: 'dir', dir: out },
      selectors: [SELECTOR],
      startMs: hist.startMs,
      endMs: hist.endMs,
      blockDurationMs: 2 * 3_600_000,
      statePath: join(ctx.workDir, 'blocks-state.db'),
    });
    const data = join(ctx.workDir, 'blocks-target-data');
    for (const d of readdirSync(out)) cpSync(join(out, d), join(data, d), { recursive: true });
    const target = await startPrometheus({ name: 'blocks-target', config: 'global: {}\n', dataDir: data });
    ctx.servers.push(target);
    const sides: OpenedSide[] = [];
    try {
      sides.push(await openSide(endpointFromUrl(ctx.source.url)));
      sides.push(await openSide(endpointFromUrl(target.url)));
      const [source, tgt] = sides;
      const v = await verifyMetrics({
        source,
        target: tgt,
        startMs: hist.startMs,
        endMs: hist.endMs,
        selectors: [parseSelector(SELECTOR)],
        mapping: { add: {}, drop: [] },
        equality: { relativeTolerance: 0 },
        samples: true,
        readWindowMs: 86_400_000,
        concurrency: 2,
        top: 10,
        minConsistency: 100,
      });
      const want = countSamples(ctx.history);
      const ok = v.consistency.percent === 100 && report.totals.samples === want && v.samples!.expected === want;
      return {
        status: ok ? 'passed' : 'failed',
        summary: `${report.totals.blocks} blocks, ${formatCount(report.totals.samples)} of ${formatCount(want)} samples at ${formatCount(report.run.samplesPerSecond)} samples/s (${report.run.chunksCopied} chunks copied byte for byte, ${report.run.chunksRecut} re-cut); loaded into Prometheus ${target.version}: consistency ${formatPercent(v.consistency.percent)}`,
        details: [
          `Range ${report.range.start} .. ${report.range.end} (${formatDuration(hist.endMs - hist.startMs)}), 2h blocks in ${out}, peak RSS ${Math.round(report.run.peakRssBytes / 1048576)} MB.`,
          '',
          '| ULID | min time | max time | series | samples |',
          '|---|---|---|---|---|',
          ...report.blocks.map(
            (b) =>
              `| ${b.ulid} | ${new Date(b.minTime).toISOString()} | ${new Date(b.maxTime).toISOString()} | ${b.series} | ${b.samples} |`,
          ),
        ].join('\n'),
        data: {
          blocks: report.totals.blocks,
          samples: report.totals.samples,
          samplesPerSecond: report.run.samplesPerSecond,
          consistencyPercent: v.consistency.percent,
        },
      };
    } finally {
      await Promise.all(sides.map((x) => x.close()));
    }
  },
};
