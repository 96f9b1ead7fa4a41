import { endpointFromUrl } from '../config/index.js';
import { parseSelector } from '../promql/index.js';
import { formatCount, formatDuration } from '../progress/index.js';
import { resolveSpec } from '../lab/index.js';
import {
  formatPercent,
  openSide,
  renderMetricsMarkdown,
  renderQueriesMarkdown,
  verifyMetrics,
  verifyQueries,
  type OpenedSide,
  type QueryCase,
} from '../verify/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

/** What the backfill step leaves in ctx.results.backfill, read defensively: any field may be absent. */
interface BackfillResult {
  targetUrl?: unknown;
  selector?: unknown;
  startMs?: unknown;
  endMs?: unknown;
}

/**
 * Parity of the rehearsal's copy: the source against the backfill target when a backfill step ran (its
 * target URL is in ctx.results.backfill), else the source against itself. Full sample parity, a 25 %
 * series sample (to show the confidence interval), and query parity over the source's recording rules and
 * a few queries on the generated metrics.
 */
export const verifyStep: RehearsalStep = {
  id: 'verify',
  title: 'Verify parity: series, raw samples and query results (stackshift verify)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const b = (ctx.results.backfill ?? {}) as BackfillResult;
    const hist = resolveSpec(ctx.history);
    const targetUrl = typeof b.targetUrl === 'string' ? b.targetUrl : ctx.source.url;
    const against =
      targetUrl === ctx.source.url
        ? 'itself (no backfill target in this rehearsal)'
        : `the backfill target ${targetUrl}`;
    const startMs = typeof b.startMs === 'number' ? b.startMs : hist.startMs;
    const endMs = typeof b.endMs === 'number' && b.endMs > startMs ? b.endMs : hist.endMs;
    const selector = typeof b.selector === 'string' ? b.selector : '{__name__=~"stackshift_gen_.+"}';
    const sides: OpenedSide[] = [];
    try {
      sides.push(await openSide(endpointFromUrl(ctx.source.url)));
      sides.push(await openSide(endpointFromUrl(targetUrl)));
      const [source, target] = sides;
      const common = {
        source,
        target,
        startMs,
        endMs,
        selectors: [parseSelector(selector)],
        mapping: { add: {}, drop: [] },
        equality: { relativeTolerance: 0 },
        samples: true,
        readWindowMs: 86_400_000,
        concurrency: 2,
        top: 10,
        minConsistency: 99.9,
        // a receiver that just took a backfill may still be compacting its out-of-order head
        recheck: { rounds: 3, delayMs: 2000 },
      };
      const full = await verifyMetrics(common);
      const sampled = await verifyMetrics({ ...common, sample: { fraction: 0.25, seed: 1 } });
      ctx.results.verify = { consistencyPercent: full.consistency.percent, report: full };

      const rules = await source.api.rules();
      const exprs = [
        ...rules.flatMap((g) =>
          g.rules.filter((r) => r.health === 'ok').map((r) => ({ expr: r.query, where: `rule "${r.name}"` })),
        ),
        { expr: 'sum by (job) (rate(stackshift_gen_requests_total[5m]))', where: 'generated' },
        { expr: 'avg by (instance) (stackshift_gen_temperature_celsius)', where: 'generated' },
        { expr: 'stackshift_gen_requests_total{series="0"}', where: 'generated' },
      ];
      const queries: QueryCase[] = exprs.map((e, i) => ({
        id: i + 1,
        expr: e.expr,
        origin: { file: 'rehearsal', kind: 'query-file', where: e.where },
      }));
      const q = await verifyQueries({
        source,
        target,
        set: {
          queries,
          unsupported: [],
          skipped: {},
          sources: [{ file: 'rehearsal', kind: 'query-file', queries: queries.length, unsupported: 0 }],
        },
        timeMs: endMs - 60_000,
        rangeMs: Math.min(6 * 3_600_000, endMs - startMs),
        stepMs: 60_000,
        tolerance: 1e-5,
        latencyFloorMs: 10,
        timeoutMs: 30_000,
        concurrency: 1,
        top: 10,
        dropLabels: source.externalLabels.map((l) => l.name),
      });
      const s = full.samples!;
      const ci = sampled.consistency.confidenceInterval!;
      const ok =
        full.consistency.percent === 100 &&
        s.expected > 0 &&
        sampled.consistency.percent === 100 &&
        q.totals.mismatched === 0;
      return {
        status: ok ? 'passed' : 'failed',
        summary: `source vs ${against}: consistency ${formatPercent(full.consistency.percent)} (${formatCount(s.matched)} of ${formatCount(s.expected)} samples matched bit-exact, ${full.series.matched}/${full.series.source} series) at ${formatCount(full.throughput!.sourceSamplesPerSecond)} samples/s; 25 % sample ${formatPercent(sampled.consistency.percent)} (CI ${formatPercent(ci.lowPercent)}..${formatPercent(ci.highPercent)}); queries ${q.totals.equal}/${q.totals.executions} equal, p95 ${q.latency.source.p95Ms}/${q.latency.target.p95Ms} ms`,
        details: [
          `Compared the source with ${against} over ${new Date(startMs).toISOString()} .. ${new Date(endMs).toISOString()} (${formatDuration(endMs - startMs)}), selector \`${selector}\`.`,
          '',
          renderMetricsMarkdown(full).replace(/^## /m, '#### '),
          `Sampled run: ${sampled.sampling!.sampled} of ${sampled.sampling!.population} series, consistency ${formatPercent(sampled.consistency.percent)}, 95 % CI ${formatPercent(ci.lowPercent)} .. ${formatPercent(ci.highPercent)}; series fully consistent ${formatPercent(sampled.sampling!.seriesFullyConsistent.percent)} (Wilson 95 % CI from ${formatPercent(sampled.sampling!.seriesFullyConsistent.confidenceInterval.lowPercent)}).`,
          '',
          renderQueriesMarkdown(q).replace(/^## /m, '#### '),
        ].join('\n'),
        data: {
          against: targetUrl,
          consistencyPercent: full.consistency.percent,
          expected: s.expected,
          matched: s.matched,
          series: full.series,
          samplesPerSecond: full.throughput?.sourceSamplesPerSecond,
          sampledPercent: sampled.consistency.percent,
          sampledCi: [ci.lowPercent, ci.highPercent],
          queries: q.totals,
          latency: q.latency,
        },
      };
    } finally {
      await Promise.all(sides.map((x) => x.close()));
    }
  },
};
