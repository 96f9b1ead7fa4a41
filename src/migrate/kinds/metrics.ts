import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  BACKFILL_DEFAULTS,
  receiverDefaults,
  receiverKind,
  runBackfill,
  targetPaths,
  type BackfillReport,
} from '../../backfill/index.js';
import { parseSelector } from '../../promql/index.js';
import { parseDuration } from '../../timeutil/index.js';
import {
  checkVerifyWindow,
  DEFAULT_EXCLUDED_SERIES,
  loadQuerySources,
  metricsConnections,
  openSide,
  queryConnections,
  verifyMetrics,
  verifyQueries,
  type MetricsReport,
  type QueriesReport,
} from '../../verify/index.js';
import { DEFAULT_CONSISTENCY_GATE } from '../gates.js';
import type { MigrationStep, StepContext, StepKind } from '../types.js';
import { arg, durationText, endpointName, percent, range, timeText, READ_ONLY_STEP } from './common.js';

const BackfillParams = z
  .object({
    from: endpointName.default('prometheus'),
    to: endpointName.default('mimir'),
    start: timeText,
    end: timeText.default('now'),
    match: z.array(z.string().min(1)).optional(),
    keep_external_labels: z.boolean().default(true),
    remote_write_v2: z.boolean().default(false),
    read_concurrency: z.number().int().min(1).max(64).default(BACKFILL_DEFAULTS.readConcurrency),
    write_concurrency: z.number().int().min(1).max(256).default(BACKFILL_DEFAULTS.writeConcurrency),
    write_rate: z.number().positive().optional(),
    preflight: z.boolean().default(true),
    readback: z.boolean().default(true),
  })
  .strict();
type BackfillParams = z.infer<typeof BackfillParams>;

function backfillStep(def: { id: string; title: string; params: BackfillParams }): MigrationStep {
  const p = def.params;
  const statePath = (ctx: StepContext) => join(ctx.workDir, 'backfill.db');
  return {
    id: def.id,
    title: def.title,
    kind: 'backfill-metrics',
    plan: (ctx) => ({
      summary: `copy every raw sample of ${p.match?.join(' ') ?? 'every series'} from ${p.from} to ${p.to}, ${p.start} .. ${p.end} (remote read -> remote write, resumable)`,
      commands: [
        `stackshift backfill metrics --from ${p.from} --to ${p.to} --start ${arg(p.start)} --end ${arg(p.end)}${(p.match ?? []).map((m) => ` --match ${arg(m)}`).join('')} --state ${arg(statePath(ctx))}`,
      ],
      gates: [],
      rollback:
        'none: the copied samples stay in the target (a copy is idempotent; re-running sends the same samples, which the target stores once)',
    }),
    async run(ctx) {
      const source = ctx.endpoint(p.from, 'prometheus');
      const target = ctx.endpoint(p.to, 'mimir');
      const { startMs, endMs } = range(ctx, p.start, p.end);
      const kind = receiverDefaults(receiverKind(target, targetPaths(target).path));
      const report: BackfillReport = await runBackfill({
        ...BACKFILL_DEFAULTS,
        source,
        target,
        selectors: p.match ?? ['{__name__=~".+"}'],
        startMs,
        endMs,
        relativeRange: false,
        keepExternalLabels: p.keep_external_labels,
        remoteWriteVersion: p.remote_write_v2 ? '2.0' : '1.0',
        readConcurrency: p.read_concurrency,
        writeConcurrency: p.write_concurrency,
        writeRate: p.write_rate,
        windowMs: kind.windowMs,
        maxWindowMs: kind.maxWindowMs,
        statePath: statePath(ctx),
        dryRun: false,
        preflight: p.preflight,
        readBack: p.readback,
      });
      const rejected = report.rejects.reduce((a, r) => a + r.samples, 0);
      return {
        result: report,
        figures: {
          samples: report.totals.samples,
          series: report.totals.series,
          rejected_samples: rejected,
          samples_this_run: report.run?.samples ?? 0,
          runs: report.plan.runs,
        },
        note: `${report.totals.samples} samples of ${report.totals.series} series copied (${report.run?.samples ?? 0} in this run)`,
      };
    },
    verify: async (_ctx, run) => run.figures ?? {},
    rollback: async () => ({ action: 'none', detail: 'copied samples stay in the target; nothing to undo' }),
  };
}

export const backfillMetricsKind: StepKind<BackfillParams> = {
  kind: 'backfill-metrics',
  description: 'copy metric history (src/backfill: remote read -> remote write, resumable)',
  params: BackfillParams as z.ZodType<BackfillParams>,
  figures: ['samples', 'series', 'rejected_samples', 'samples_this_run', 'runs'],
  defaultGates: ['rejected_samples == 0'],
  endpoints: (p) => [p.from, p.to],
  create: backfillStep,
};

const VerifyMetricsParams = z
  .object({
    from: endpointName.default('prometheus'),
    to: endpointName.default('mimir'),
    start: timeText.default('1d'),
    end: timeText.default('now'),
    match: z.array(z.string().min(1)).optional(),
    add_labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).optional(),
    drop_labels: z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)).optional(),
    drop_external_labels: z.boolean().default(false),
    tolerance: z.number().min(0).lt(1).default(0),
    series_only: z.boolean().default(false),
    sample: z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?%$/)]).optional(),
    read_window: durationText.default('1d'),
    concurrency: z.number().int().min(1).max(64).default(2),
    exclude_series: z.array(z.string()).optional(),
    top: z.number().int().min(0).max(10_000).default(20),
  })
  .strict();
type VerifyMetricsParams = z.infer<typeof VerifyMetricsParams>;

function verifyMetricsStep(def: { id: string; title: string; params: VerifyMetricsParams }): MigrationStep {
  const p = def.params;
  return {
    id: def.id,
    title: def.title,
    kind: 'verify-metrics',
    plan: () => ({
      summary: `prove series and raw-sample parity of ${p.from} and ${p.to} over ${p.start} .. ${p.end}`,
      commands: [
        `stackshift verify metrics --from ${p.from} --to ${p.to} --start ${arg(p.start)} --end ${arg(p.end)}${(p.match ?? []).map((m) => ` --match ${arg(m)}`).join('')}`,
      ],
      gates: [],
      rollback: 'none: a verification changes nothing',
    }),
    async run(ctx) {
      const { startMs, endMs } = range(ctx, p.start, p.end);
      const readWindowMs = parseDuration(p.read_window, 'read_window');
      checkVerifyWindow(startMs, endMs, readWindowMs);
      const connections = metricsConnections(p.concurrency);
      const source = await openSide(ctx.endpoint(p.from, 'prometheus'), { connections });
      try {
        const target = await openSide(ctx.endpoint(p.to, 'mimir'), { connections });
        try {
          const drop = [...(p.drop_labels ?? [])];
          if (p.drop_external_labels)
            for (const l of source.externalLabels) if (!drop.includes(l.name)) drop.push(l.name);
          const sample =
            p.sample === undefined
              ? undefined
              : typeof p.sample === 'number'
                ? { count: p.sample, seed: 1 }
                : { fraction: Number(p.sample.slice(0, -1)) / 100, seed: 1 };
          const report: MetricsReport = await verifyMetrics({
            source,
            target,
            startMs,
            endMs,
            selectors: (p.match ?? []).map((m) => parseSelector(m)),
            mapping: { add: p.add_labels ?? {}, drop },
            equality: { relativeTolerance: p.tolerance },
            samples: !p.series_only,
            sample,
            readWindowMs,
            concurrency: p.concurrency,
            top: p.top,
            excludeSeries: p.exclude_series ?? DEFAULT_EXCLUDED_SERIES,
            recheck: { rounds: 2, delayMs: 2000 },
          });
          return {
            result: report,
            figures: {
              consistency: report.consistency.percent,
              evidence: report.evidence.passed ? 1 : 0,
              series_source: report.series.source,
              series_missing: report.series.missing,
              series_extra: report.series.extra,
              samples_expected: report.samples?.expected ?? 0,
              samples_missing: report.samples?.missing ?? 0,
              samples_mismatched: report.samples?.mismatched ?? 0,
            },
            note: `consistency ${report.consistency.percent}% over ${report.series.source} series`,
          };
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    },
    ...READ_ONLY_STEP,
  };
}

export const verifyMetricsKind: StepKind<VerifyMetricsParams> = {
  kind: 'verify-metrics',
  description: 'series and raw-sample parity of two metric stores (src/verify), with the consistency figure',
  params: VerifyMetricsParams as z.ZodType<VerifyMetricsParams>,
  figures: [
    'consistency',
    'evidence',
    'series_source',
    'series_missing',
    'series_extra',
    'samples_expected',
    'samples_missing',
    'samples_mismatched',
  ],
  defaultGates: [DEFAULT_CONSISTENCY_GATE, 'evidence == 1'],
  endpoints: (p) => [p.from, p.to],
  create: verifyMetricsStep,
};

const VerifyQueriesParams = z
  .object({
    from: endpointName.default('prometheus'),
    to: endpointName.default('mimir'),
    queries: z.array(z.string().min(1)).optional(),
    rules: z.array(z.string().min(1)).optional(),
    dashboards: z.array(z.string().min(1)).optional(),
    time: timeText.default('now'),
    range: durationText.default('1h'),
    step: durationText.default('1m'),
    rate_interval: durationText.default('1m'),
    vars: z.record(z.string(), z.string()).optional(),
    tolerance: z.number().min(0).lt(1).default(1e-5),
    max_latency_increase: percent.optional(),
    latency_floor: durationText.default('10ms'),
    timeout: durationText.default('30s'),
    min_nonempty: percent.default(0),
    concurrency: z.number().int().min(1).max(64).default(1),
  })
  .strict()
  .refine((p) => (p.queries?.length ?? 0) + (p.rules?.length ?? 0) + (p.dashboards?.length ?? 0) > 0, {
    message: 'give queries, rules or dashboards (files of queries to compare)',
  });
type VerifyQueriesParams = z.infer<typeof VerifyQueriesParams>;

function verifyQueriesStep(def: { id: string; title: string; params: VerifyQueriesParams }): MigrationStep {
  const p = def.params;
  const files = (ctx: StepContext, list: string[] | undefined) =>
    (list ?? []).map((f) => resolve(ctx.loaded.baseDir, f));
  return {
    id: def.id,
    title: def.title,
    kind: 'verify-queries',
    plan: () => ({
      summary: `run the queries of ${[...(p.queries ?? []), ...(p.rules ?? []), ...(p.dashboards ?? [])].join(', ')} on ${p.from} and ${p.to} and compare the results`,
      commands: [
        `stackshift verify queries --from ${p.from} --to ${p.to}${(p.queries ?? []).map((f) => ` --queries ${arg(f)}`).join('')}${(p.rules ?? []).map((f) => ` --rules ${arg(f)}`).join('')}${(p.dashboards ?? []).map((f) => ` --dashboards ${arg(f)}`).join('')}`,
      ],
      gates: [],
      rollback: 'none: a verification changes nothing',
    }),
    async run(ctx) {
      const timeMs = range(ctx, p.time, p.time).startMs;
      const rangeMs = parseDuration(p.range, 'range');
      const stepMs = parseDuration(p.step, 'step');
      const set = loadQuerySources({
        queryFiles: files(ctx, p.queries),
        ruleFiles: files(ctx, p.rules),
        dashboardFiles: files(ctx, p.dashboards),
        resolve: { stepMs, rangeMs, rateInterval: p.rate_interval, timeMs, vars: p.vars ?? {} },
      });
      const connections = queryConnections(p.concurrency);
      const source = await openSide(ctx.endpoint(p.from, 'prometheus'), { connections });
      try {
        const target = await openSide(ctx.endpoint(p.to, 'mimir'), { connections });
        try {
          const report: QueriesReport = await verifyQueries({
            source,
            target,
            set,
            timeMs,
            rangeMs,
            stepMs,
            tolerance: p.tolerance,
            maxLatencyIncreasePercent: p.max_latency_increase,
            latencyFloorMs: parseDuration(p.latency_floor, 'latency_floor'),
            timeoutMs: parseDuration(p.timeout, 'timeout'),
            concurrency: p.concurrency,
            top: 50,
            minNonEmptyPercent: p.min_nonempty,
            dropLabels: source.externalLabels.map((l) => l.name),
          });
          const compared = report.totals.executions || 1;
          return {
            result: report,
            figures: {
              equal_percent: (100 * report.totals.equal) / compared,
              mismatched: report.totals.mismatched,
              passed: report.passed ? 1 : 0,
              p95_increase_percent: report.latency.p95IncreasePercent,
            },
            note: `${report.totals.equal}/${report.totals.executions} results equal`,
          };
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    },
    ...READ_ONLY_STEP,
  };
}

export const verifyQueriesKind: StepKind<VerifyQueriesParams> = {
  kind: 'verify-queries',
  description: 'query parity (src/verify): queries, rule files and dashboards run on both sides and compared',
  params: VerifyQueriesParams as unknown as z.ZodType<VerifyQueriesParams>,
  figures: ['equal_percent', 'mismatched', 'passed', 'p95_increase_percent'],
  defaultGates: ['passed == 1'],
  endpoints: (p) => [p.from, p.to],
  create: verifyQueriesStep,
};
