import { stringify } from 'yaml';
import { UsageError } from '../errors/index.js';
import { formatDuration } from '../promql/index.js';
import { parseDuration } from '../timeutil/index.js';
import { parseMigrationText } from './file.js';

export interface InitEndpoint {
  url: string;
  tenant?: string;
  type?: string;
}

export interface InitOptions {
  name: string;
  /** Endpoints given by flags: written into the file (URL, tenant and type only; credentials belong in stackshift.yaml). */
  endpoints: Record<string, InitEndpoint>;
  /** Endpoint names stackshift.yaml defines. */
  configured: string[];
  fromDatasource: string;
  toDatasource: string;
  tempoDatasource?: string;
  /** History to copy and verify, as a duration back from the first run (runbook: Prometheus keeps 30 days). */
  metricsHistory: string;
  tracesHistory: string;
  logsHistory: string;
  parallelRun: string;
  /** Series the metrics steps copy and verify (default: every series). */
  metricsMatch?: string[];
  /** The live prometheus.yml: the foundation phase merges the Mimir remote_write into it (lgtm-config). */
  prometheusConfig?: string;
  /** The collector config the foundation phase writes (dual export to Jaeger and Tempo; lgtm-config). */
  collectorConfig?: string;
  /** Ask Prometheus to reload after lgtm-config changes its file. */
  reload?: boolean;
  /** Rule files the cut-over syncs to the Mimir ruler (rules-sync). */
  rules?: string[];
  /**
   * alerts-verify before the parallel run (default on): planned when the ruler that evaluates the rules is
   * known (rule files to sync, or a mimir-ruler endpoint). `false` leaves it out.
   */
  alertsVerify?: boolean;
  /** How long alerts-verify polls both sides (default 10m, `alerts verify --window`). */
  alertsWindow?: string;
  /**
   * verify-correlations after the dashboards (default on): planned when Grafana and Tempo are known (with
   * the new Loki when it is). `false` leaves it out.
   */
  correlations?: boolean;
}

const q = (s: string) => JSON.stringify(s);

/**
 * The runbook's plan (foundation and dual collection -> Mimir and backfill -> Grafana, dashboards and
 * correlations -> cut-over -> decommission) as a stackshift-migration.yaml, with the steps the given
 * endpoints allow. The text is validated before it is returned.
 */
export function initMigrationText(o: InitOptions): string {
  const have = (n: string) => n in o.endpoints || o.configured.includes(n);
  if (!have('prometheus') || !have('mimir')) {
    throw new UsageError(
      'migrate init needs the Prometheus and the Mimir to plan the metrics phase',
      'pass --prometheus-url and --mimir-url (and --mimir-tenant), or define endpoints.prometheus and endpoints.mimir in stackshift.yaml',
    );
  }
  const logs = have('loki') && have('new-loki');
  const traces = have('jaeger') && have('tempo');
  const otlp = have('tempo-otlp');
  // Mimir's distributor and query path may be apart (microservices, or a gateway): mimir-push takes the writes
  const pushTo = have('mimir-push') ? 'mimir-push' : 'mimir';
  const ruler = have('mimir-ruler') ? 'mimir-ruler' : 'mimir';
  const collector = o.collectorConfig !== undefined && otlp;
  const dualCollection = o.prometheusConfig !== undefined || collector;
  const match = o.metricsMatch?.length ? [`          match: [${o.metricsMatch.map(q).join(', ')}]`] : [];
  // what Mimir must hold before the legacy retention goes: the copied history and everything since
  const finalWindow = formatDuration(
    parseDuration(o.metricsHistory, '--metrics-history') + parseDuration(o.parallelRun, '--parallel-run'),
  );
  // the ruler is known when rules are synced to it or its endpoint is named: its alerts are compared then
  const alerts = o.alertsVerify !== false && (Boolean(o.rules?.length) || have('mimir-ruler'));
  const alertsWindowMs = parseDuration(o.alertsWindow ?? '10m', '--alerts-window');
  // alerts verify's own poll interval (15s), shortened so a short window still polls a few times
  const alertsIntervalMs = Math.max(1000, Math.min(15_000, Math.floor(alertsWindowMs / 3000) * 1000));
  const correlations = o.correlations !== false && have('grafana') && have('tempo');
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(
    '# stackshift migration plan: `stackshift migrate plan` shows it, `stackshift migrate run` carries it out',
    '# (resumable; a failed gate stops the phase), `stackshift migrate report` writes JSON, Markdown and HTML.',
    '# ${VAR} and ${VAR:-default} are read from the environment. Credentials: stackshift.yaml (bearer_token_file,',
    '# basic_auth.password_file) under the same endpoint names; what this file sets for a name wins.',
    'version: 1',
    `name: ${o.name}`,
    'description: Prometheus + Jaeger + Loki -> LGTM (Mimir, Tempo, Loki, Grafana), phased, with a parallel run',
  );
  if (Object.keys(o.endpoints).length) {
    push('endpoints:');
    const eps: Record<string, Record<string, string>> = {};
    for (const [n, e] of Object.entries(o.endpoints))
      eps[n] = { url: e.url, ...(e.tenant ? { tenant: e.tenant } : {}), ...(e.type ? { type: e.type } : {}) };
    push(
      ...stringify(eps)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  push('phases:');
  const signalGates: string[] = [];
  if (logs || traces || dualCollection) {
    push('  - name: Foundation and dual collection', '    steps:');
    if (dualCollection) {
      push(
        '      - id: dual-collection',
        '        kind: lgtm-config',
        '        title: Dual collection (remote_write to Mimir, collector exporting to both; originals kept for rollback)',
        '        params:',
        '          prometheus: prometheus',
        `          mimir: ${pushTo}`,
        ...(o.prometheusConfig !== undefined ? [`          prometheus_config: ${q(o.prometheusConfig)}`] : []),
        ...(collector
          ? [
              `          collector_config: ${q(o.collectorConfig!)}`,
              `          collector_mode: ${have('jaeger-otlp') ? 'dual' : 'cutover'}`,
              ...(have('jaeger-otlp') ? ['          jaeger_otlp: jaeger-otlp'] : []),
              '          tempo_otlp: tempo-otlp',
            ]
          : []),
        ...(o.reload ? ['          reload: true'] : []),
        '        gates: ["in_place == 1"]',
      );
    }
    if (logs) {
      push(
        '      - id: logs-copy',
        '        kind: logs-copy',
        '        title: Copy log history to the new Loki',
        '        params:',
        '          from: loki',
        '          to: new-loki',
        `          start: ${q(o.logsHistory)}`,
      );
      push(
        '      - id: logs-verify',
        '        kind: logs-verify',
        '        title: Logs parity (history and dual collection)',
        '        params:',
        '          from: loki',
        '          to: new-loki',
        `          start: ${q(o.logsHistory)}`,
        '        gates: ["consistency >= 99.9", "evidence == 1"]',
      );
      signalGates.push('logs-verify.consistency >= 99.9');
    }
    if (traces) {
      if (otlp)
        push(
          '      - id: traces-copy',
          '        kind: traces-copy',
          '        title: Copy trace history from Jaeger to Tempo',
          '        params:',
          '          from: jaeger',
          '          otlp: tempo-otlp',
          '          readback: tempo',
          `          start: ${q(o.tracesHistory)}`,
        );
      push(
        '      - id: traces-verify',
        '        kind: traces-verify',
        '        title: Traces parity by ID',
        '        params:',
        '          from: jaeger',
        '          to: tempo',
        `          start: ${q(o.tracesHistory)}`,
        '        gates: ["consistency >= 99.9", "evidence == 1"]',
      );
      signalGates.push('traces-verify.consistency >= 99.9');
    }
  }
  push(
    '  - name: Mimir and backfill',
    '    steps:',
    '      - id: backfill-metrics',
    '        kind: backfill-metrics',
    '        title: Copy metric history from Prometheus to Mimir',
    '        params:',
    '          from: prometheus',
    `          to: ${pushTo}`,
    `          start: ${q(o.metricsHistory)}`,
    ...match,
    '        gates: ["rejected_samples == 0"]',
    '      - id: verify-metrics',
    '        kind: verify-metrics',
    '        title: Metrics parity (series and raw samples)',
    '        params:',
    '          from: prometheus',
    '          to: mimir',
    `          start: ${q(o.metricsHistory)}`,
    ...match,
    '        gates: ["consistency >= 99.9", "evidence == 1"]',
  );
  signalGates.unshift('verify-metrics.consistency >= 99.9');
  if (have('grafana')) {
    push(
      '  - name: Grafana, dashboards and correlations',
      '    steps:',
      '      - id: dashboards-migrate',
      '        kind: dashboards-migrate',
      '        title: Point dashboards at Mimir (originals backed up; rollback restores them)',
      '        params:',
      '          grafana: grafana',
      `          from_datasource: ${q(o.fromDatasource)}`,
      `          to_datasource: ${q(o.toDatasource)}`,
      ...(o.tempoDatasource ? [`          tempo_datasource: ${q(o.tempoDatasource)}`] : []),
      '        gates: ["incomplete == 0", "remaining == 0"]',
    );
    if (correlations)
      push(
        '      - id: verify-correlations',
        '        kind: verify-correlations',
        '        title: The links Grafana offers (exemplars and log lines to traces in Tempo)',
        '        params:',
        '          metrics: mimir',
        '          traces: tempo',
        ...(have('new-loki') ? ['          loki: new-loki'] : []),
        `          start: ${q(o.tracesHistory)}`,
        '        gates: ["exemplars_linked >= 100", "logs_linked >= 100", "traces_to_logs_linked >= 100", "evidence == 1"]',
      );
  }
  push('  - name: Cut-over', '    steps:');
  if (o.rules?.length)
    push(
      '      - id: rules-sync',
      '        kind: rules-sync',
      '        title: Alert and recording rules to the Mimir ruler (namespaces recorded; rollback puts them back)',
      '        params:',
      `          ruler: ${ruler}`,
      `          rules: [${o.rules.map(q).join(', ')}]`,
      '        gates: ["conflicts == 0", "failed == 0", "in_place == 1"]',
    );
  if (alerts)
    push(
      '      - id: alerts-verify',
      '        kind: alerts-verify',
      '        title: Alert parity of Prometheus and the Mimir ruler, poll by poll, before the parallel run',
      '        params:',
      '          from: prometheus',
      `          to: ${ruler}`,
      `          window: ${q(formatDuration(alertsWindowMs))}`,
      `          interval: ${q(formatDuration(alertsIntervalMs))}`,
      '        gates: ["consistency >= 99", "evidence == 1"]',
    );
  push(
    '      - id: cutover-gate',
    '        kind: gate',
    "        title: Every signal at the runbook's 99.9 % before traffic moves",
    '        params:',
    '          note: switch writers and alert routing to the LGTM endpoints once this gate holds',
    `        gates: [${signalGates.map(q).join(', ')}]`,
    '      - id: parallel-run',
    '        kind: wait',
    `        title: Parallel run for ${o.parallelRun}`,
    '        params:',
    `          duration: ${q(o.parallelRun)}`,
    '          reason: both stacks collect; legacy components stay up',
    '  - name: Decommission',
    '    steps:',
    '      - id: final-verify-metrics',
    '        kind: verify-metrics',
    '        title: Metrics parity over the history and the parallel run, before Prometheus retention is cut',
    '        params:',
    '          from: prometheus',
    '          to: mimir',
    `          start: ${q(finalWindow)}`,
    ...match,
    '        gates: ["consistency >= 99.9", "evidence == 1"]',
    '      - id: decommission-gate',
    '        kind: gate',
    '        title: Legacy components may go (stop Jaeger, cut Prometheus retention to 7d)',
    '        params:',
    '          note: stop the legacy Jaeger and reduce Prometheus retention by hand once this gate holds',
    '        gates: ["final-verify-metrics.consistency >= 99.9"]',
  );
  const text = lines.join('\n') + '\n';
  // what init writes must load: a template error is a bug here, not the user's
  parseMigrationText(text, '(generated plan)', o.configured, { ...process.env });
  return text;
}
