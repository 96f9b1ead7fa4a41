import { join } from 'node:path';
import { z } from 'zod';
import { JaegerClient, TempoClient } from '../../clients/index.js';
import { HttpClient } from '../../http/index.js';
import {
  LOGS_COPY_DEFAULTS,
  LOGS_VERIFY_DEFAULTS,
  parseStreamSelector,
  runLogsCopy,
  verifyLogs,
} from '../../logs/index.js';
import { parseDuration } from '../../timeutil/index.js';
import {
  copyTraces,
  JaegerStore,
  TempoStore,
  TRACES_COPY_DEFAULTS,
  verifyTraces,
  type TraceStore,
} from '../../traces/index.js';
import { OtlpTraceExporter } from '../../wire/index.js';
import { DEFAULT_CONSISTENCY_GATE } from '../gates.js';
import type { MigrationStep, StepContext, StepKind } from '../types.js';
import { arg, durationText, endpointName, range, timeText, READ_ONLY_STEP } from './common.js';

/* Traces (src/traces) and logs (src/logs): copy and verify steps over the capabilities' public surfaces. */

async function openJaeger(
  ctx: StepContext,
  name: string,
  pageLimit: number,
  connections: number,
): Promise<JaegerStore> {
  const client = new JaegerClient(new HttpClient(ctx.endpoint(name, 'jaeger'), { connections }));
  try {
    return await JaegerStore.open(client, { raw: true, pageLimit, windowOnGet: true });
  } catch (e) {
    await client.close();
    throw e;
  }
}

async function openTempo(
  ctx: StepContext,
  name: string,
  pageLimit: number,
  connections: number,
  v2: boolean,
): Promise<TempoStore> {
  const client = new TempoClient(new HttpClient(ctx.endpoint(name, 'tempo'), { connections }));
  try {
    return await TempoStore.open(client, { v2, pageLimit });
  } catch (e) {
    await client.close();
    throw e;
  }
}

const us = (ms: number) => BigInt(ms) * 1000n;

const TracesCopyParams = z
  .object({
    from: endpointName.default('jaeger'),
    otlp: endpointName.default('tempo-otlp'),
    readback: endpointName.optional(),
    start: timeText,
    end: timeText.default('now'),
    services: z.array(z.string().min(1)).optional(),
    window: durationText.default('1h'),
    batch_spans: z.number().int().min(1).default(TRACES_COPY_DEFAULTS.batchSpans),
    concurrency: z.number().int().min(1).max(64).default(TRACES_COPY_DEFAULTS.concurrency),
    rate: z.number().int().positive().optional(),
  })
  .strict();
type TracesCopyParams = z.infer<typeof TracesCopyParams>;

function tracesCopyStep(def: { id: string; title: string; params: TracesCopyParams }): MigrationStep {
  const p = def.params;
  const statePath = (ctx: StepContext) => join(ctx.workDir, 'traces-copy.db');
  return {
    id: def.id,
    title: def.title,
    kind: 'traces-copy',
    plan: (ctx) => ({
      summary: `copy every trace of ${p.from} over ${p.start} .. ${p.end} to the OTLP receiver ${p.otlp} (resumable, each trace sent once)`,
      commands: [
        `stackshift traces copy --from ${p.from} --otlp-url ${arg(ctx.endpointUrl(p.otlp) ?? `<${p.otlp} url>`)} --start ${arg(p.start)} --end ${arg(p.end)} --state ${arg(statePath(ctx))}`,
      ],
      gates: [],
      rollback: 'none: copied traces stay in the target (a re-run sends none twice)',
    }),
    async run(ctx) {
      const { startMs, endMs } = range(ctx, p.start, p.end);
      const otlp = ctx.endpoint(p.otlp, 'tempo');
      const http = new HttpClient(
        { ...otlp, retries: TRACES_COPY_DEFAULTS.retries },
        { connections: p.concurrency + 1 },
      );
      let source: JaegerStore | undefined;
      let readback: TraceStore | undefined;
      try {
        source = await openJaeger(ctx, p.from, TRACES_COPY_DEFAULTS.pageLimit, p.concurrency + 2);
        readback = p.readback ? await openTempo(ctx, p.readback, TRACES_COPY_DEFAULTS.pageLimit, 2, false) : undefined;
        const report = await copyTraces({
          source,
          exporter: new OtlpTraceExporter(http, { gzip: true }),
          readback,
          startUs: us(startMs),
          endUs: us(endMs),
          services: p.services,
          windowUs: us(parseDuration(p.window, 'window')),
          batchSpans: p.batch_spans,
          concurrency: p.concurrency,
          rate: p.rate,
          statePath: statePath(ctx),
          sourceId: ctx.endpoint(p.from, 'jaeger').url,
          targetId: `${otlp.url}${otlp.tenant ? ` tenant ${otlp.tenant}` : ''}`,
        });
        return {
          result: report,
          figures: {
            traces: report.totals.traces,
            spans: report.totals.spans,
            rejected_spans: report.totals.rejectedSpans + report.totals.rejectedTraces,
          },
          note: `${report.totals.traces} traces copied`,
        };
      } finally {
        await Promise.all([source?.close(), readback?.close(), http.close()]);
      }
    },
    verify: async (_ctx, run) => run.figures ?? {},
    rollback: async () => ({ action: 'none', detail: 'copied traces stay in the target; nothing to undo' }),
  };
}

export const tracesCopyKind: StepKind<TracesCopyParams> = {
  kind: 'traces-copy',
  description: 'copy trace history from Jaeger to an OTLP receiver such as Tempo (src/traces), resumable',
  params: TracesCopyParams as z.ZodType<TracesCopyParams>,
  figures: ['traces', 'spans', 'rejected_spans'],
  defaultGates: ['rejected_spans == 0'],
  endpoints: (p) => [p.from, p.otlp, ...(p.readback ? [p.readback] : [])],
  create: tracesCopyStep,
};

const TracesVerifyParams = z
  .object({
    from: endpointName.default('jaeger'),
    to: endpointName.default('tempo'),
    start: timeText,
    end: timeText.default('now'),
    services: z.array(z.string().min(1)).optional(),
    sample: z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?%$/)]).optional(),
    concurrency: z.number().int().min(1).max(256).default(8),
    tempo_api_v2: z.boolean().default(false),
  })
  .strict();
type TracesVerifyParams = z.infer<typeof TracesVerifyParams>;

function tracesVerifyStep(def: { id: string; title: string; params: TracesVerifyParams }): MigrationStep {
  const p = def.params;
  return {
    id: def.id,
    title: def.title,
    kind: 'traces-verify',
    plan: () => ({
      summary: `fetch every trace of ${p.from} over ${p.start} .. ${p.end}${p.sample ? ` (sample ${p.sample})` : ''} from ${p.to} by ID and compare span by span`,
      commands: [
        `stackshift traces verify --from ${p.from} --to ${p.to} --start ${arg(p.start)} --end ${arg(p.end)}${p.sample ? ` --sample ${p.sample}` : ''}`,
      ],
      gates: [],
      rollback: 'none: a verification changes nothing',
    }),
    async run(ctx) {
      const { startMs, endMs } = range(ctx, p.start, p.end);
      const source = await openJaeger(ctx, p.from, TRACES_COPY_DEFAULTS.pageLimit, p.concurrency + 2);
      try {
        const target = await openTempo(ctx, p.to, TRACES_COPY_DEFAULTS.pageLimit, p.concurrency + 2, p.tempo_api_v2);
        try {
          const sample =
            p.sample === undefined
              ? undefined
              : typeof p.sample === 'number'
                ? { kind: 'count' as const, n: p.sample }
                : { kind: 'fraction' as const, fraction: Number(p.sample.slice(0, -1)) / 100 };
          const report = await verifyTraces({
            source,
            target,
            startUs: us(startMs),
            endUs: us(endMs),
            services: p.services,
            sample,
            seed: 1,
            concurrency: p.concurrency,
            compare: { clockSkew: false },
            top: 20,
          });
          return {
            result: report,
            figures: {
              consistency: report.consistency.percent,
              traces: report.traces.compared,
              traces_missing: report.traces.missing,
              evidence: report.traces.compared > 0 ? 1 : 0,
            },
            note: `consistency ${report.consistency.percent}% over ${report.traces.compared} traces`,
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

export const tracesVerifyKind: StepKind<TracesVerifyParams> = {
  kind: 'traces-verify',
  description: 'trace parity by ID, span by span (src/traces), with the consistency figure',
  params: TracesVerifyParams as z.ZodType<TracesVerifyParams>,
  figures: ['consistency', 'traces', 'traces_missing', 'evidence'],
  defaultGates: [DEFAULT_CONSISTENCY_GATE, 'evidence == 1'],
  endpoints: (p) => [p.from, p.to],
  create: tracesVerifyStep,
};

const LogsCopyParams = z
  .object({
    from: endpointName.default('loki'),
    to: endpointName.default('new-loki'),
    selector: z.string().min(1).default('{job=~".+"}'),
    start: timeText,
    end: timeText.default('now'),
    window: durationText.default('1h'),
    concurrency: z.number().int().min(1).max(64).default(LOGS_COPY_DEFAULTS.concurrency),
  })
  .strict();
type LogsCopyParams = z.infer<typeof LogsCopyParams>;

function logsCopyStep(def: { id: string; title: string; params: LogsCopyParams }): MigrationStep {
  const p = def.params;
  const statePath = (ctx: StepContext) => join(ctx.workDir, 'logs-copy.db');
  return {
    id: def.id,
    title: def.title,
    kind: 'logs-copy',
    plan: (ctx) => ({
      summary: `copy every line of ${p.selector} from ${p.from} to ${p.to} over ${p.start} .. ${p.end} (resumable)`,
      commands: [
        `stackshift logs copy --from ${p.from} --to ${p.to} --selector ${arg(p.selector)} --start ${arg(p.start)} --end ${arg(p.end)} --state ${arg(statePath(ctx))}`,
      ],
      gates: [],
      rollback: 'none: copied lines stay in the target (a line pushed twice is stored once)',
    }),
    async run(ctx) {
      const { startMs, endMs } = range(ctx, p.start, p.end);
      const report = await runLogsCopy({
        ...LOGS_COPY_DEFAULTS,
        source: ctx.endpoint(p.from, 'loki'),
        target: ctx.endpoint(p.to, 'loki'),
        selector: parseStreamSelector(p.selector),
        startMs,
        endMs,
        windowMs: parseDuration(p.window, 'window'),
        concurrency: p.concurrency,
        statePath: statePath(ctx),
      });
      return {
        result: report,
        figures: { lines: report.lines, streams: report.streams, complete: report.complete ? 1 : 0 },
        note: `${report.lines} lines of ${report.streams} streams`,
      };
    },
    verify: async (_ctx, run) => run.figures ?? {},
    rollback: async () => ({ action: 'none', detail: 'copied lines stay in the target; nothing to undo' }),
  };
}

export const logsCopyKind: StepKind<LogsCopyParams> = {
  kind: 'logs-copy',
  description: 'copy log history from one Loki to another (src/logs), resumable',
  params: LogsCopyParams as z.ZodType<LogsCopyParams>,
  figures: ['lines', 'streams', 'complete'],
  defaultGates: ['complete == 1'],
  endpoints: (p) => [p.from, p.to],
  create: logsCopyStep,
};

const LogsVerifyParams = z
  .object({
    from: endpointName.default('loki'),
    to: endpointName.default('new-loki'),
    selector: z.string().min(1).default('{job=~".+"}'),
    start: timeText,
    end: timeText.default('now'),
    window: durationText.default('1h'),
    sample: z
      .number()
      .gt(0)
      .max(100)
      .default(LOGS_VERIFY_DEFAULTS.sampleFraction * 100),
    add_labels: z.record(z.string(), z.string()).optional(),
    drop_labels: z.array(z.string()).optional(),
  })
  .strict();
type LogsVerifyParams = z.infer<typeof LogsVerifyParams>;

function logsVerifyStep(def: { id: string; title: string; params: LogsVerifyParams }): MigrationStep {
  const p = def.params;
  return {
    id: def.id,
    title: def.title,
    kind: 'logs-verify',
    plan: () => ({
      summary: `compare streams, line counts per ${p.window} window and a ${p.sample}% sample of lines of ${p.selector} on ${p.from} and ${p.to} over ${p.start} .. ${p.end}`,
      commands: [
        `stackshift logs verify --from ${p.from} --to ${p.to} --selector ${arg(p.selector)} --start ${arg(p.start)} --end ${arg(p.end)} --sample ${p.sample}%`,
      ],
      gates: [],
      rollback: 'none: a verification changes nothing',
    }),
    async run(ctx) {
      const { startMs, endMs } = range(ctx, p.start, p.end);
      const V = LOGS_VERIFY_DEFAULTS;
      const report = await verifyLogs({
        source: ctx.endpoint(p.from, 'loki'),
        target: ctx.endpoint(p.to, 'loki'),
        selector: parseStreamSelector(p.selector),
        startMs,
        endMs,
        windowMs: parseDuration(p.window, 'window'),
        mapping: { add: p.add_labels ?? {}, drop: p.drop_labels ?? [] },
        maxSeries: V.maxSeries,
        pageSize: V.pageSize,
        sample: { fraction: p.sample / 100, seed: V.seed },
        ignoreMetadata: V.ignoreMetadata,
        minConsistency: 0,
        top: V.top,
        concurrency: V.concurrency,
      });
      return {
        result: report,
        figures: {
          consistency: report.consistency.percent,
          lines_expected: report.lines.expected,
          streams_missing: report.streams.missing.length,
          evidence: report.lines.expected > 0 ? 1 : 0,
        },
        note: `consistency ${report.consistency.percent}% over ${report.lines.expected} lines`,
      };
    },
    ...READ_ONLY_STEP,
  };
}

export const logsVerifyKind: StepKind<LogsVerifyParams> = {
  kind: 'logs-verify',
  description:
    'log parity of two Lokis: streams, counts per window, sampled lines (src/logs), with the consistency figure',
  params: LogsVerifyParams as z.ZodType<LogsVerifyParams>,
  figures: ['consistency', 'lines_expected', 'streams_missing', 'evidence'],
  defaultGates: [DEFAULT_CONSISTENCY_GATE, 'evidence == 1'],
  endpoints: (p) => [p.from, p.to],
  create: logsVerifyStep,
};
