import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { collectAssessment, renderAssessmentMarkdown, type Assessment } from '../assess/index.js';
import { PrometheusClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import {
  BROKEN_RULE_EXPR,
  DEAD_TARGET,
  historyBlocks,
  installBlocks,
  countSamples,
  prometheusVersion,
  resolveSpec,
  startPrometheus,
  type HistorySpec,
  type LabServer,
} from '../lab/index.js';
import { log } from '../log/index.js';
import { formatDuration } from '../progress/index.js';
import { mdTable } from '../report/index.js';
import { UPGRADE_STEPS } from './upgrade-steps.js';
import { dashboardsStep } from './dashboards.js';
import { lintStep } from './lint.js';
import { backfillStep } from './backfill-step.js';
import { verifyStep } from './verify-step.js';
import { histogramStep } from './histogram-step.js';
import { labVersionsStep } from './lab-versions-step.js';
import { logsStep } from './logs-step.js';
import { blocksStep } from './blocks-step.js';
import { upgradeRunStep } from './upgrade-run-step.js';
import { tracesStep } from './traces-step.js';
import { migrateStep } from './migrate-step.js';

/**
 * The local rehearsal: real Prometheus servers on loopback with generated history, and stackshift driving
 * every capability that exists, one step after another, ending in a report. Each capability adds a step
 * to REHEARSAL_STEPS; a failing step is reported and the remaining steps still run where they can.
 */
export interface RehearsalOptions {
  outDir: string;
  series: number;
  durationMs: number;
  intervalMs: number;
  seed: number;
  keepRunning?: boolean;
}

export interface RehearsalContext {
  opts: RehearsalOptions;
  workDir: string;
  history: HistorySpec;
  source: LabServer;
  servers: LabServer[];
  /** Step outputs by step id, for later steps to use. */
  results: Record<string, unknown>;
}

export interface StepOutcome {
  status: 'passed' | 'failed' | 'skipped';
  summary: string;
  /** Markdown section body for the report. */
  details?: string;
  data?: unknown;
}

export interface RehearsalStep {
  id: string;
  title: string;
  run(ctx: RehearsalContext): Promise<StepOutcome>;
}

const assessStep: RehearsalStep = {
  id: 'assess',
  title: 'Assess the source Prometheus',
  async run(ctx) {
    const client = new PrometheusClient(endpointFromUrl(ctx.source.url));
    try {
      const a: Assessment = await collectAssessment(client, {
        dataDir: ctx.source.dataDir,
        seriesWindowMs: ctx.opts.durationMs + 86_400_000,
      });
      ctx.results.assess = a;
      const genSeries = a.storage.topMetrics
        .filter((m) => m.name.startsWith('stackshift_gen'))
        .reduce((s, m) => s + m.series, 0);
      const ok = genSeries === ctx.opts.series && a.targets.down === 1 && a.rules.unhealthy === 1;
      return {
        status: ok ? 'passed' : 'failed',
        summary: `Prometheus ${a.prometheus.version}: ${a.storage.totalSeries} series (${genSeries} generated, expected ${ctx.opts.series}), ${a.targets.up} targets up / ${a.targets.down} down (1 down on purpose), ${a.rules.unhealthy} unhealthy rule (1 on purpose), ${a.findings.length} findings`,
        details: renderAssessmentMarkdown(a).replace(/^## /m, '#### '),
        data: {
          version: a.prometheus.version,
          totalSeries: a.storage.totalSeries,
          generatedSeries: genSeries,
          findings: a.findings.length,
        },
      };
    } finally {
      await client.close();
    }
  },
};

export const REHEARSAL_STEPS: RehearsalStep[] = [
  assessStep,
  labVersionsStep,
  lintStep,
  backfillStep,
  verifyStep,
  blocksStep,
  histogramStep,
  ...UPGRADE_STEPS,
  upgradeRunStep,
  dashboardsStep,
  logsStep,
  tracesStep,
  migrateStep,
];

const SOURCE_CONFIG = `global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels:
    cluster: rehearsal
rule_files:
  - rules.yml
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:{{port}}']
  # deliberately down: nothing listens on port 1
  - job_name: legacy-exporter
    static_configs:
      - targets: ['${DEAD_TARGET}']
`;

const SOURCE_RULES = `groups:
  - name: rehearsal
    rules:
      - record: job:stackshift_gen_requests:rate5m
        expr: sum by (job) (rate(stackshift_gen_requests_total[5m]))
      # deliberately broken at evaluation time
      - record: rehearsal:broken_join
        expr: ${BROKEN_RULE_EXPR}
`;

export async function runRehearsal(
  opts: RehearsalOptions,
  steps: RehearsalStep[] = REHEARSAL_STEPS,
): Promise<{
  passed: boolean;
  reportFile: string;
  outcomes: Array<{ id: string; title: string; ms: number } & StepOutcome>;
}> {
  const outDir = resolve(opts.outDir);
  const workDir = join(outDir, 'work');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  // the end is resolved once: every step reads the same range, even when the rehearsal crosses an hour boundary
  // (left to each resolveSpec call, a step started after it would look one hour later than the blocks hold)
  const spec: HistorySpec = {
    series: opts.series,
    durationMs: opts.durationMs,
    intervalMs: opts.intervalMs,
    seed: opts.seed,
  };
  const history: HistorySpec = { ...spec, endMs: resolveSpec(spec).endMs };
  const t0 = Date.now();
  log.info('generating history', {
    series: opts.series,
    duration: formatDuration(opts.durationMs),
    samples: countSamples(history),
  });
  const blocks = await historyBlocks(history);
  const sourceData = join(workDir, 'source-data');
  installBlocks(blocks, sourceData);
  const source = await startPrometheus({
    name: 'source',
    config: SOURCE_CONFIG,
    dataDir: sourceData,
    files: { 'rules.yml': SOURCE_RULES },
  });
  log.info('source Prometheus ready', { url: source.url, version: prometheusVersion() });
  const ctx: RehearsalContext = { opts, workDir, history, source, servers: [source], results: {} };
  // Let one scrape and one rule evaluation happen, so targets and rules have a health to report.
  await waitFor(async () => {
    const c = new PrometheusClient(endpointFromUrl(source.url));
    try {
      const [t, r] = await Promise.all([c.targets(), c.rules()]);
      return (
        t.activeTargets.length >= 2 &&
        t.activeTargets.every((x) => x.health !== 'unknown') &&
        r.length > 0 &&
        r.every((g) => g.rules.every((x) => x.health !== 'unknown'))
      );
    } finally {
      await c.close();
    }
  }, 60_000);

  const outcomes: Array<{ id: string; title: string; ms: number } & StepOutcome> = [];
  try {
    for (const step of steps) {
      const s0 = Date.now();
      log.info(`step ${step.id}: ${step.title}`);
      let o: StepOutcome;
      try {
        o = await step.run(ctx);
      } catch (e) {
        o = { status: 'failed', summary: `error: ${(e as Error).message}` };
      }
      outcomes.push({ id: step.id, title: step.title, ms: Date.now() - s0, ...o });
      log.info(`step ${step.id} ${o.status}: ${o.summary}`);
    }
  } finally {
    if (!opts.keepRunning) for (const s of ctx.servers) await s.stop();
  }
  const passed = outcomes.every((o) => o.status !== 'failed');
  const md = [
    '# stackshift rehearsal report',
    '',
    `Generated ${new Date().toISOString()} in ${formatDuration(Date.now() - t0)}. Prometheus ${prometheusVersion()} on loopback; history: ${opts.series} series over ${formatDuration(opts.durationMs)} at ${opts.intervalMs / 1000}s (seed ${opts.seed}).`,
    '',
    `**Result: ${passed ? 'PASSED' : 'FAILED'}**`,
    '',
    mdTable(
      ['Step', 'Status', 'Time', 'Summary'],
      outcomes.map((o) => [o.title, o.status, formatDuration(o.ms), o.summary]),
    ),
    '',
    ...outcomes.flatMap((o) => (o.details ? [`## ${o.title}`, '', o.details, ''] : [])),
  ].join('\n');
  const reportFile = join(outDir, 'report.md');
  writeFileAtomic(reportFile, md);
  writeFileAtomic(
    join(outDir, 'report.json'),
    JSON.stringify({ passed, history, outcomes: outcomes.map(({ details: _d, ...rest }) => rest) }, null, 2) + '\n',
  );
  return { passed, reportFile, outcomes };
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}
