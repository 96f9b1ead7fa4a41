import { Command } from 'commander';
import { resolve } from 'node:path';
import { alertsSide, checkAlertmanager, parseLabelSet, renderAlertmanagerCheckText } from '../../alerts/index.js';
import { amtoolBinary, labHas, serverVersion } from '../../lab/index.js';
import { addPrometheusOptions, endpointFlags } from '../endpoint-options.js';
import { resolveEndpoint } from '../../config/index.js';
import { contextFor, emit } from '../context.js';
import { collect } from '../parse.js';

type Opts = Record<string, unknown>;

/** amtool: --amtool, else the lab's build of the Alertmanager version the lab pins, else amtool on PATH. */
export function amtoolPath(v: unknown): string {
  if (v) return resolve(String(v));
  const version = serverVersion('alertmanager');
  return labHas('alertmanager', version, 'amtool') ? amtoolBinary(version) : 'amtool';
}

export function registerAlertmanager(program: Command): void {
  const area = new Command('alertmanager').description('Alertmanager configs checked with the real amtool');
  const check = new Command('check')
    .description(
      'amtool check-config on the config (and --against), then the receivers each alert reaches (amtool config routes test)',
    )
    .requiredOption('--alertmanager-config <file>', 'Alertmanager config file (--config is stackshift.yaml)')
    .option(
      '--against <file>',
      "a second config (e.g. the one for Mimir's Alertmanager): every alert must reach the same receivers in both",
    )
    .option(
      '--alert <labels>',
      'an alert\'s labels to route, alertname=X,severity=page or {alertname="X"}; repeatable',
      collect,
    )
    .option(
      '--alerts-from-prometheus',
      'also route every active alert of the Prometheus (or Mimir ruler) that --prometheus-url / --endpoint names',
    )
    .option('--prometheus-prefix <path>', 'path prefix of that Prometheus API (/prometheus for the Mimir ruler)', '')
    .option('--amtool <path>', "amtool binary (default: the lab's build, else amtool on PATH)");
  addPrometheusOptions(check);
  check.addHelpText(
    'after',
    `
Exit codes: 0 valid and (with --against) every alert reaches the same receivers; 1 a config fails check-config or an alert is routed differently; 2 bad flags.

Examples:
  stackshift alertmanager check --alertmanager-config alertmanager.yml --alert alertname=HighErrorRate,severity=page
  stackshift alertmanager check --alertmanager-config alertmanager.yml --against mimir-alertmanager.yml --alerts-from-prometheus --prometheus-url http://prometheus:9090`,
  );
  check.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const alerts = ((opts.alert as string[] | undefined) ?? []).map(parseLabelSet);
    if (opts.alertsFromPrometheus) {
      const ep = resolveEndpoint(ctx.loaded, String(opts.endpoint), endpointFlags(opts, 'prometheus'), 'prometheus');
      const side = alertsSide(`prometheus ${ep.url}`, ep, String(opts.prometheusPrefix ?? ''));
      try {
        const seen = new Set(alerts.map((a) => JSON.stringify(Object.entries(a).sort())));
        for (const a of await side.fetch()) {
          const k = JSON.stringify(Object.entries(a.labels).sort());
          if (!seen.has(k)) {
            seen.add(k);
            alerts.push(a.labels);
          }
        }
      } finally {
        await side.close();
      }
    }
    const report = checkAlertmanager({
      amtool: amtoolPath(opts.amtool),
      config: resolve(String(opts.alertmanagerConfig)),
      against: opts.against ? resolve(String(opts.against)) : undefined,
      alerts,
    });
    emit({ document: report, text: () => renderAlertmanagerCheckText(report), exitCode: report.exitCode }, ctx.format);
  });
  area.addCommand(check);
  program.addCommand(area);
}
