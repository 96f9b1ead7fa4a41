import { z } from 'zod';
import { alertsSide, verifyAlerts } from '../../alerts/index.js';
import { JaegerClient, LokiClient, PrometheusClient, TempoClient } from '../../clients/index.js';
import { HttpClient } from '../../http/index.js';
import { verifyCorrelations } from '../../lgtm/index.js';
import { parseDuration } from '../../timeutil/index.js';
import { JaegerStore, TempoStore, type TraceStore } from '../../traces/index.js';
import type { MigrationStep, StepContext, StepKind } from '../types.js';
import { arg, durationText, endpointName, percent, range, timeText, READ_ONLY_STEP } from './common.js';

/* Wiring checks of the cut-over: alert parity (src/alerts) and the links Grafana offers (src/lgtm). Both read only. */

/** `alerts verify`'s own default gate (its --min-consistency default). */
const ALERTS_MIN_CONSISTENCY = 99;
/** `verify correlations`' own default gate (its --min-linked default). */
const CORRELATIONS_MIN_LINKED = 100;

const apiPrefix = z.string().regex(/^\//, 'a path starting with / (e.g. /prometheus for Mimir, / for none)');

const AlertsVerifyParams = z
  .object({
    from: endpointName.default('prometheus'),
    to: endpointName.default('mimir'),
    source_prefix: apiPrefix.optional(),
    target_prefix: apiPrefix.optional(),
    window: durationText.default('10m'),
    interval: durationText.default('15s'),
    grace: durationText.optional(),
    min_consistency: percent.default(ALERTS_MIN_CONSISTENCY),
    ignore_labels: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((p) => parseDuration(p.interval, 'interval') <= parseDuration(p.window, 'window'), {
    message: 'interval is longer than window: the window must hold at least one interval',
    path: ['interval'],
  });
type AlertsVerifyParams = z.infer<typeof AlertsVerifyParams>;

/** Mimir serves the alerts under its Prometheus HTTP prefix, unless the endpoint's URL already ends with it. */
function mimirPrefix(ep: { type: string; url: string }): string {
  return ep.type === 'mimir' && !/\/prometheus\/?$/.test(ep.url) ? '/prometheus' : '';
}

function alertsVerifyStep(def: { id: string; title: string; params: AlertsVerifyParams }): MigrationStep {
  const p = def.params;
  return {
    id: def.id,
    title: def.title,
    kind: 'alerts-verify',
    plan: () => ({
      summary: `poll the alerts of ${p.from} and ${p.to} every ${p.interval} for ${p.window} and compare them by labels and state`,
      commands: [
        `stackshift alerts verify --from ${p.from} --to ${p.to} --window ${p.window} --interval ${p.interval} --min-consistency ${p.min_consistency}${p.target_prefix ? ` --target-prefix ${arg(p.target_prefix)}` : ''}${p.source_prefix ? ` --source-prefix ${arg(p.source_prefix)}` : ''}`,
      ],
      gates: [],
      rollback: 'none: a verification changes nothing',
    }),
    async run(ctx: StepContext) {
      const s = ctx.endpoint(p.from, 'prometheus');
      const t = ctx.endpoint(p.to, 'prometheus');
      const sourcePrefix = p.source_prefix ?? mimirPrefix(s);
      const targetPrefix = p.target_prefix ?? mimirPrefix(t);
      const source = alertsSide(`source ${s.url}${sourcePrefix}`, s, sourcePrefix);
      const target = alertsSide(`target ${t.url}${targetPrefix}`, t, targetPrefix);
      try {
        const report = await verifyAlerts({
          source,
          target,
          windowMs: parseDuration(p.window, 'window'),
          intervalMs: parseDuration(p.interval, 'interval'),
          graceMs: p.grace === undefined ? undefined : parseDuration(p.grace, 'grace'),
          minConsistency: p.min_consistency,
          ignoreLabels: p.ignore_labels,
        });
        const persistent = report.differences.filter((d) => d.persistent).length;
        return {
          result: report,
          figures: {
            consistency: report.consistency,
            alerts_differing: report.differences.length,
            alerts_differing_persistent: persistent,
            alerts_seen: report.alertsSeen,
            polls: report.polls,
            passed: report.passed ? 1 : 0,
            evidence: report.polls > 0 ? 1 : 0,
          },
          note: `consistency ${report.consistency}% over ${report.polls} polls, ${report.alertsSeen} alerts seen, ${report.differences.length} differing (${persistent} longer than the grace)`,
        };
      } finally {
        await Promise.all([source.close(), target.close()]);
      }
    },
    ...READ_ONLY_STEP,
  };
}

export const alertsVerifyKind: StepKind<AlertsVerifyParams> = {
  kind: 'alerts-verify',
  description:
    'alert parity of the source and the target (Prometheus or the Mimir ruler), poll by poll over a window (src/alerts)',
  params: AlertsVerifyParams as unknown as z.ZodType<AlertsVerifyParams>,
  figures: [
    'consistency',
    'alerts_differing',
    'alerts_differing_persistent',
    'alerts_seen',
    'polls',
    'passed',
    'evidence',
  ],
  defaultGates: [`consistency >= ${ALERTS_MIN_CONSISTENCY}`, 'evidence == 1'],
  endpoints: (p) => [p.from, p.to],
  create: alertsVerifyStep,
};

const CorrelationsParams = z
  .object({
    /** Metrics side (exemplars): a Prometheus or Mimir endpoint (Mimir: API under /prometheus). */
    metrics: endpointName.optional(),
    /** Trace store: a tempo or jaeger endpoint (by its type; jaeger unless typed tempo). */
    traces: endpointName.default('tempo'),
    loki: endpointName.optional(),
    start: timeText,
    end: timeText.default('now'),
    exemplar_query: z.string().min(1).default('{__name__=~".+"}'),
    exemplar_label: z.string().min(1).optional(),
    loki_selector: z.string().min(1).optional(),
    derived_field_regex: z.string().min(1).optional(),
    max_lines: z.number().int().min(1).max(10_000_000).default(20_000),
    /** traces -> logs: span attribute -> Loki label (Grafana's tracesToLogsV2 tags), e.g. { service.name: service_name }. */
    traces_to_logs_tags: z.record(z.string().min(1), z.string().min(1)).optional(),
    sample_traces: z.number().int().min(1).max(100_000).default(20),
    min_linked: percent.default(CORRELATIONS_MIN_LINKED),
    concurrency: z.number().int().min(1).max(256).default(8),
  })
  .strict()
  .refine((p) => p.metrics !== undefined || p.loki !== undefined, {
    message: 'nothing to check: name a metrics endpoint (exemplars) and/or a loki endpoint (log lines)',
    path: ['metrics'],
  });
type CorrelationsParams = z.infer<typeof CorrelationsParams>;

async function openStore(ctx: StepContext, name: string, connections: number): Promise<TraceStore> {
  const ep = ctx.endpoint(name, 'tempo');
  if (ep.type === 'jaeger') {
    const c = new JaegerClient(new HttpClient(ep, { connections }));
    try {
      return await JaegerStore.open(c, { raw: true, pageLimit: 500, windowOnGet: true });
    } catch (e) {
      await c.close();
      throw e;
    }
  }
  const c = new TempoClient(new HttpClient(ep, { connections }));
  try {
    return await TempoStore.open(c, { pageLimit: 500 });
  } catch (e) {
    await c.close();
    throw e;
  }
}

function correlationsStep(def: { id: string; title: string; params: CorrelationsParams }): MigrationStep {
  const p = def.params;
  return {
    id: def.id,
    title: def.title,
    kind: 'verify-correlations',
    plan: () => ({
      summary: `look the trace IDs of ${[p.metrics ? `${p.metrics}'s exemplars` : '', p.loki ? `${p.loki}'s log lines` : ''].filter(Boolean).join(' and ')} over ${p.start} .. ${p.end} up in ${p.traces}`,
      commands: [
        `stackshift verify correlations${p.metrics ? ` --prometheus-url <${p.metrics} url>` : ''} --tempo-url <${p.traces} url>${p.loki ? ` --loki-url <${p.loki} url>` : ''} --start ${arg(p.start)} --end ${arg(p.end)} --min-linked ${p.min_linked}`,
      ],
      gates: [],
      rollback: 'none: a verification changes nothing',
    }),
    async run(ctx) {
      const { startMs, endMs } = range(ctx, p.start, p.end);
      let metrics: PrometheusClient | undefined;
      if (p.metrics) {
        const ep = ctx.endpoint(p.metrics, 'prometheus');
        metrics = new PrometheusClient(
          ep.type === 'mimir' && !/\/prometheus\/?$/.test(ep.url) ? { ...ep, url: `${ep.url}/prometheus` } : ep,
        );
      }
      const loki = p.loki ? new LokiClient(ctx.endpoint(p.loki, 'loki')) : undefined;
      let traces: TraceStore | undefined;
      try {
        traces = await openStore(ctx, p.traces, p.concurrency + 2);
        const report = await verifyCorrelations({
          metrics,
          loki,
          traces,
          startMs,
          endMs,
          exemplarQuery: p.exemplar_query,
          exemplarLabel: p.exemplar_label,
          lokiSelector: p.loki_selector,
          derivedFieldRegex: p.derived_field_regex,
          tracesToLogs: p.traces_to_logs_tags
            ? {
                tags: Object.entries(p.traces_to_logs_tags).map(([key, value]) => ({ key, value })),
                spanStartShiftMs: -120_000,
                spanEndShiftMs: 120_000,
                filterByTraceID: true,
              }
            : undefined,
          maxLines: p.max_lines,
          sampleTraces: p.sample_traces,
          minLinked: p.min_linked,
          concurrency: p.concurrency,
          examples: 10,
        });
        const checks = [report.exemplars, report.logs, report.tracesToLogs];
        const evidence = checks.some((c) => c.checked && c.distinctTraceIds > 0) ? 1 : 0;
        return {
          result: report,
          figures: {
            exemplars_linked: report.exemplars.percent,
            logs_linked: report.logs.percent,
            traces_to_logs_linked: report.tracesToLogs.percent,
            exemplar_trace_ids: report.exemplars.distinctTraceIds,
            log_trace_ids: report.logs.distinctTraceIds,
            traces_followed: report.tracesToLogs.items,
            broken: checks.reduce((n, c) => n + c.broken, 0),
            passed: report.gate.passed ? 1 : 0,
            evidence,
          },
          note: `exemplars ${report.exemplars.percent}% linked, logs ${report.logs.percent}%, traces -> logs ${report.tracesToLogs.percent}%`,
        };
      } finally {
        await Promise.all([metrics?.close(), loki?.close(), traces?.close()]);
      }
    },
    ...READ_ONLY_STEP,
  };
}

export const verifyCorrelationsKind: StepKind<CorrelationsParams> = {
  kind: 'verify-correlations',
  description:
    'the links Grafana offers: exemplar and log-line trace IDs looked up in the trace store, traces followed to their logs (src/lgtm)',
  params: CorrelationsParams as unknown as z.ZodType<CorrelationsParams>,
  figures: [
    'exemplars_linked',
    'logs_linked',
    'traces_to_logs_linked',
    'exemplar_trace_ids',
    'log_trace_ids',
    'traces_followed',
    'broken',
    'passed',
    'evidence',
  ],
  defaultGates: [
    `exemplars_linked >= ${CORRELATIONS_MIN_LINKED}`,
    `logs_linked >= ${CORRELATIONS_MIN_LINKED}`,
    `traces_to_logs_linked >= ${CORRELATIONS_MIN_LINKED}`,
    'evidence == 1',
  ],
  endpoints: (p) => [p.traces, ...(p.metrics ? [p.metrics] : []), ...(p.loki ? [p.loki] : [])],
  create: correlationsStep,
};
