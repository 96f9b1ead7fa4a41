import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LokiClient } from '../clients/index.js';
import { endpointFromUrl, type LoadedConfig } from '../config/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { HttpClient } from '../http/index.js';
import { labHas, serverVersion, startJaeger, startPrometheus, waitReady, type LabJaeger } from '../lab/index.js';
import { generateLogs } from '../logs/index.js';
import {
  buildReport,
  initMigrationText,
  MigrationEngine,
  parseMigrationText,
  renderReportHtml,
  renderReportMarkdown,
  type InitEndpoint,
  type MigrationReportDoc,
  type RunSummary,
} from '../migrate/index.js';
import { formatDuration } from '../promql/index.js';
import { encodeTraces, spanCount, syntheticTraces } from '../traces/index.js';
import { OtlpTraceExporter } from '../wire/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from './fixtures/dashboards.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

/**
 * The migration itself, as `stackshift migrate` runs it: `migrate init`'s default plan written for the lab's
 * endpoints, then run end to end through the engine (durable state, gates, the wait of the parallel run):
 *
 *   source Prometheus (the rehearsal's)        prometheus; its prometheus.yml gets the remote_write, reloaded
 *   a real Prometheus under /prometheus        mimir (API, remote read) and mimir-push (its write receiver)
 *   the Mimir ruler double                     mimir-ruler (the source's rules synced to it)
 *   a real Jaeger                              jaeger, jaeger-otlp
 *   the Tempo double                           tempo, tempo-otlp
 *   the Loki double, two tenants               loki, new-loki
 *   the Grafana double with the fixtures       grafana
 *
 * Every gate must hold and the HTML report is written beside the rehearsal's. Then a second run, on a fresh
 * state and a fresh target, whose copy leaves one series out (its backfill's match skips it; the verification
 * reads with the plan's own match): the gate fails, the phase is rolled back, and its report says which gate
 * and why. The series is not deleted on the target instead: Prometheus 2.55.1 to 3.16.0 panics on remote read
 * when a delete_series tombstone meets out-of-order data outside the series' in-order range (tsdb/tombstones
 * Intervals.Add runs past the end after the querier's trimFront and trimBack), which is what a backfill behind
 * a live remote_write produces.
 * Grafana, Loki, Tempo and Mimir are AGPL and not run here: their contract doubles come from the repository
 * build (dist/test/doubles); without them the step is skipped and says so.
 */

const TARGET_CONFIG = `global:
  scrape_interval: 15s
scrape_configs: []
storage:
  tsdb:
    out_of_order_time_window: 3650d
`;

/** One in four generated series: the metric phases stay short on two cores. */
const MATCH = '{__name__=~"stackshift_gen_.+", job="api"}';
/** The failed run's copy skips series 0; its verification reads with MATCH and must miss it. */
const COPY_SKIPPING_ONE = '{__name__=~"stackshift_gen_.+", job="api", series!="0"}';
const SKIPPED = '{__name__=~"stackshift_gen_.+", job="api", series="0"}';
const PARALLEL_RUN = '10s';
const TENANT = 'rehearsal';

type Double = { start(): Promise<unknown>; stop?(): Promise<void>; close?(): Promise<void>; url: string };

/** The plan text with the backfill step's match replaced (the verification keeps the plan's own). */
function backfillMatch(text: string, match: string): string {
  const at = text.indexOf('kind: backfill-metrics');
  const line = at < 0 ? -1 : text.indexOf('match: [', at);
  if (line < 0) throw new Error('migrate init wrote no backfill-metrics step with a match');
  const end = text.indexOf('\n', line);
  return text.slice(0, line) + `match: [${JSON.stringify(match)}]` + text.slice(end);
}

async function loadDouble<T>(file: string): Promise<T | undefined> {
  const path = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'doubles', file);
  return existsSync(path) ? ((await import(path)) as T) : undefined;
}

/** fetch, with what was asked and why it failed in the error (undici says only "fetch failed"). */
async function call(what: string, url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${what} (${url}): ${cause?.code ?? ''} ${cause?.message ?? (e as Error).message}`.trim());
  }
}

async function seedGrafana(url: string, token: string): Promise<void> {
  const api = async (path: string, body: unknown) => {
    const r = await call(`Grafana double ${path}`, url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`Grafana double ${path}: HTTP ${r.status} ${await r.text()}`);
  };
  for (const { id: _id, ...ds } of FIXTURE_DATASOURCES) await api('/api/datasources', ds);
  for (const f of FIXTURE_DASHBOARDS) {
    const d = JSON.parse(f.text) as Record<string, unknown>;
    if (!d.uid) continue; // the API needs a uid to find it again
    await api('/api/dashboards/db', { dashboard: { ...d, id: null }, overwrite: true });
  }
}

interface RunRecord {
  summaries: RunSummary[];
  report: MigrationReportDoc;
  ms: number;
}

/** Runs the plan until it completes or stops, sleeping through the parallel-run wait. */
async function runToEnd(engine: MigrationEngine, opts: { until?: string; autoRollback?: boolean } = {}) {
  const summaries: RunSummary[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await engine.run(opts);
    summaries.push(s);
    if (s.outcome !== 'waiting') break;
    await new Promise((r) => setTimeout(r, Math.max(0, (s.waitingUntil ?? Date.now()) - Date.now()) + 200));
  }
  return summaries;
}

function writeReports(dir: string, base: string, report: MigrationReportDoc): string {
  writeFileAtomic(join(dir, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(dir, `${base}.md`), renderReportMarkdown(report));
  const html = join(dir, `${base}.html`);
  writeFileAtomic(html, renderReportHtml(report));
  return html;
}

export const migrateStep: RehearsalStep = {
  id: 'migrate',
  title: "The runbook's default plan through the migrate engine: every gate green, then a failed gate rolled back",
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const jaegerVersion = serverVersion('jaeger');
    if (!labHas('jaeger', jaegerVersion))
      return { status: 'skipped', summary: `jaeger ${jaegerVersion} is not built (scripts/build-servers.sh)` };
    const grafanaMod = await loadDouble<{ GrafanaDouble: new () => Double & { token: string } }>('grafana-double.js');
    const lokiMod = await loadDouble<{ LokiDouble: new () => Double }>('loki-double.js');
    const tempoMod = await loadDouble<{ TempoDouble: new () => Double & { otlpUrl: string } }>('tempo-double.js');
    const rulerMod = await loadDouble<{ startMimirRulerDouble(): Promise<{ url: string; close(): Promise<void> }> }>(
      'mimir-ruler-double.js',
    );
    if (!grafanaMod || !lokiMod || !tempoMod || !rulerMod)
      return {
        status: 'skipped',
        summary: 'the contract doubles of Grafana, Loki, Tempo and the Mimir ruler are not built (npm run build)',
      };
    const dir = join(ctx.workDir, 'migrate');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const closers: Array<() => Promise<unknown>> = [];
    try {
      // the stand-in for Mimir: a real Prometheus under /prometheus, receiving remote write
      const version = labHas('prometheus', '3.8.1') ? '3.8.1' : undefined;
      const startTarget = async (name: string) => {
        const target = await startPrometheus({
          name,
          version,
          config: TARGET_CONFIG,
          dataDir: join(dir, `${name}-data`),
          extraArgs: [
            '--web.route-prefix=/prometheus',
            '--web.external-url=http://127.0.0.1/prometheus',
            '--web.enable-remote-write-receiver',
          ],
          waitReady: false,
        });
        ctx.servers.push(target);
        await waitReady(`${target.url}/prometheus`, 60_000);
        return target;
      };
      const mimir = await startTarget('migrate-mimir');
      const jaeger: LabJaeger = await startJaeger({ name: 'migrate-jaeger', dir: join(dir, 'jaeger') });
      closers.push(() => jaeger.stop());
      const grafana = new grafanaMod.GrafanaDouble();
      const loki = new lokiMod.LokiDouble();
      const tempo = new tempoMod.TempoDouble();
      await Promise.all([grafana.start(), loki.start(), tempo.start()]);
      closers.push(
        () => grafana.stop!(),
        () => loki.stop!(),
        () => tempo.stop!(),
      );
      const ruler = await rulerMod.startMimirRulerDouble();
      closers.push(() => ruler.close());
      await seedGrafana(grafana.url, grafana.token);

      // data of the other signals: log lines in the old Loki's tenant, recent traces in Jaeger
      const logs = generateLogs({ streams: 10, linesPerStream: 200, hours: 2, seed: ctx.opts.seed });
      const oldLoki = new LokiClient(endpointFromUrl(loki.url, 'loki', { tenant: `${TENANT}-old` }));
      try {
        for (const s of logs.streams) await oldLoki.push([s]);
      } finally {
        await oldLoki.close();
      }
      const traceEnd = Date.now() - 60_000;
      const traces = [
        ...syntheticTraces({
          traces: 100,
          seed: ctx.opts.seed,
          startMs: traceEnd - 30 * 60_000,
          endMs: traceEnd,
          services: 3,
        }),
      ];
      const push = new HttpClient(endpointFromUrl(jaeger.otlpUrl, 'tempo'));
      try {
        const r = await new OtlpTraceExporter(push).export(encodeTraces(traces), spanCount(traces));
        if (r.outcome !== 'ok') return { status: 'failed', summary: `Jaeger refused the traces (HTTP ${r.status})` };
      } finally {
        await push.close();
      }

      // the plan, as `migrate init` writes it for these endpoints
      const hist = Date.now() - (ctx.history.endMs! - ctx.opts.durationMs) + 60 * 60_000;
      // the Grafana token lives in "stackshift.yaml" (here: the loaded config), never in the plan
      const loaded: LoadedConfig = {
        config: { endpoints: { grafana: { url: grafana.url, bearer_token: grafana.token } } } as LoadedConfig['config'],
        baseDir: dir,
      };
      // a fresh run copies the logs into a tenant of its own: Loki refuses lines older than what a stream holds
      const planFor = (name: string, targetUrl: string, newLokiTenant: string, copySkipsOne = false) => {
        const endpoints: Record<string, InitEndpoint> = {
          prometheus: { url: ctx.source.url },
          mimir: { url: `${targetUrl}/prometheus`, tenant: TENANT, type: 'mimir' },
          'mimir-push': { url: `${targetUrl}/prometheus/api/v1/write`, tenant: TENANT, type: 'mimir' },
          'mimir-ruler': { url: ruler.url, tenant: TENANT, type: 'mimir' },
          jaeger: { url: jaeger.url, type: 'jaeger' },
          'jaeger-otlp': { url: jaeger.otlpUrl, type: 'jaeger' },
          tempo: { url: tempo.url, type: 'tempo' },
          'tempo-otlp': { url: tempo.otlpUrl, type: 'tempo' },
          loki: { url: loki.url, tenant: `${TENANT}-old`, type: 'loki' },
          'new-loki': { url: loki.url, tenant: newLokiTenant, type: 'loki' },
        };
        const text = initMigrationText({
          name,
          endpoints,
          configured: ['grafana'],
          fromDatasource: 'Prometheus',
          toDatasource: 'Mimir',
          tempoDatasource: 'Tempo',
          metricsHistory: formatDuration(Math.ceil(hist / 60_000) * 60_000),
          tracesHistory: '1h',
          logsHistory: '3h',
          parallelRun: PARALLEL_RUN,
          metricsMatch: [MATCH],
          prometheusConfig: ctx.source.configFile,
          collectorConfig: join(dir, 'otel-collector.yaml'),
          reload: true,
          rules: [join(dirname(ctx.source.configFile), 'rules.yml')],
          // the ruler double stores groups but evaluates none (no alerts API), and the generated log lines carry
          // trace IDs of no trace: both checks run on real servers in test/migrate/wiring.test.ts instead
          alertsVerify: false,
          correlations: false,
        });
        const file = join(dir, `${name}.yaml`);
        const written = copySkipsOne ? backfillMatch(text, COPY_SKIPPING_ONE) : text;
        writeFileAtomic(file, written);
        return { file, plan: parseMigrationText(written, file, ['grafana'], process.env) };
      };
      const { file, plan } = planFor('rehearsal', mimir.url, `${TENANT}-new`);

      // 1. the whole plan, every gate green
      const t0 = Date.now();
      const green = new MigrationEngine({ plan, loaded, statePath: join(dir, 'migrate.db') });
      let first: RunRecord;
      try {
        const summaries = await runToEnd(green);
        first = {
          summaries,
          report: buildReport(plan, green.statePath, green.state.steps(), green.state.events()),
          ms: Date.now() - t0,
        };
      } finally {
        green.close();
      }
      const html = writeReports(ctx.opts.outDir, 'migration-report', first.report);
      // the dual collection is live: the source, reloaded with the remote_write, sends its own series too
      // (the first send waits for the WAL replay after the reload: a few seconds, more on a loaded machine)
      const liveUp = () =>
        fetch(`${mimir.url}/prometheus/api/v1/query?query=${encodeURIComponent('count(up)')}`)
          .then((r) => r.json() as Promise<{ data?: { result?: Array<{ value: [number, string] }> } }>)
          .then((d) => Number(d.data?.result?.[0]?.value[1] ?? 0))
          .catch(() => 0);
      let live = await liveUp();
      for (const until = Date.now() + 60_000; live === 0 && Date.now() < until; live = await liveUp())
        await new Promise((r) => setTimeout(r, 1000));
      const last = first.summaries[first.summaries.length - 1]!;
      const steps = first.report.phases.flatMap((p) => p.steps);
      const gates = first.report.gates;
      const greenOk =
        last.outcome === 'complete' &&
        steps.every((s) => s.status === 'done') &&
        gates.length > 0 &&
        gates.every((g) => g.passed);

      // 2. a fresh state and a fresh target; the copy leaves a series out, the verification must miss it
      const t1 = Date.now();
      const failedTarget = await startTarget('migrate-mimir-failed');
      const failedPlan = planFor('rehearsal-failed-gate', failedTarget.url, `${TENANT}-new-failed`, true).plan;
      const redEngine = new MigrationEngine({ plan: failedPlan, loaded, statePath: join(dir, 'migrate-failed.db') });
      let second: RunRecord;
      try {
        const summaries = await runToEnd(redEngine, { autoRollback: true });
        second = {
          summaries,
          report: buildReport(failedPlan, redEngine.statePath, redEngine.state.steps(), redEngine.state.events()),
          ms: Date.now() - t1,
        };
      } finally {
        redEngine.close();
      }
      // the copy really left it out: the failed target holds none of the skipped series
      const skippedOnTarget = await call(
        'series on the failed-gate target',
        `${failedTarget.url}/prometheus/api/v1/series?match[]=${encodeURIComponent(SKIPPED)}&start=0`,
      )
        .then((r) => r.json() as Promise<{ data?: unknown[] }>)
        .then((d) => d.data?.length ?? -1);
      const failedHtml = writeReports(ctx.opts.outDir, 'migration-report-failed-gate', second.report);
      const stop = second.summaries[second.summaries.length - 1]!;
      const failedSteps = second.report.phases.flatMap((p) => p.steps);
      const verify = failedSteps.find((s) => s.id === 'verify-metrics');
      const failedGate = verify?.gates?.find((g) => !g.passed);
      const phase2 = second.report.phases.find((p) => p.steps.some((s) => s.id === 'verify-metrics'))!;
      const redOk =
        skippedOnTarget === 0 &&
        stop.outcome === 'gate-failed' &&
        stop.failedStep === 'verify-metrics' &&
        phase2.steps.every((s) => s.status === 'rolled-back') &&
        failedGate?.figure === 'consistency' &&
        /gate failed: consistency >= 99\.9/.test(verify?.error ?? '') &&
        second.report.phases
          .filter((p) => p.index > phase2.index)
          .every((p) => p.steps.every((s) => s.status === 'pending'));

      const stepLine = steps.map((s) => `${s.id} ${s.status}`).join(', ');
      return {
        status: greenOk && redOk ? 'passed' : 'failed',
        summary: `${steps.length} steps in ${first.report.phases.length} phases, ${gates.filter((g) => g.passed).length}/${gates.length} gates green in ${formatDuration(first.ms)}, ${live} live \`up\` series remote-written to the target (${html}); failed-gate run: ${stop.outcome} at ${stop.failedStep ?? '-'} (${failedGate ? `${failedGate.gate}: measured ${failedGate.actual}` : 'no failed gate'}), rolled back ${stop.rolledBack.join(', ') || 'nothing'} in ${formatDuration(second.ms)} (${failedHtml})`,
        details: [
          `Plan: \`${file}\` (written by \`migrate init\` for the lab's endpoints). Steps: ${stepLine}.`,
          '',
          `Failed-gate run (fresh state and target; the backfill copied ${COPY_SKIPPING_ONE}, the verification read ${MATCH}): ${verify?.error ?? 'no error recorded'}.`,
          '',
          renderReportMarkdown(first.report).replace(/^# /gm, '#### '),
        ].join('\n'),
        data: {
          green: {
            outcome: last.outcome,
            ms: first.ms,
            liveUpSeries: live,
            gates: gates.length,
            passed: gates.filter((g) => g.passed).length,
          },
          failed: {
            outcome: stop.outcome,
            failedStep: stop.failedStep,
            rolledBack: stop.rolledBack,
            gate: failedGate,
            ms: second.ms,
          },
          reports: [html, failedHtml],
        },
      };
    } finally {
      for (const c of closers.reverse()) await c().catch(() => undefined);
    }
  },
};
