import { Command } from 'commander';
import { resolve } from 'node:path';
import {
  AlertmanagerRecords,
  alertmanagerTargetKey,
  alertsSide,
  checkAlertmanager,
  migrateAlertmanager,
  MimirAlertmanagerClient,
  parseLabelSet,
  renderAlertmanagerCheckText,
  renderAlertmanagerMigrateText,
} from '../../alerts/index.js';
import { amtoolBinary, labHas, serverVersion } from '../../lab/index.js';
import { addEndpointOptions, addPrometheusOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { resolveEndpoint } from '../../config/index.js';
import { contextFor, emit, statePath } from '../context.js';
import { collect } from '../parse.js';

type Opts = Record<string, unknown>;

/** amtool: --amtool, else the lab's build of the Alertmanager version the lab pins, else amtool on PATH. */
export function amtoolPath(v: unknown): string {
  if (v) return resolve(String(v));
  const version = serverVersion('alertmanager');
  return labHas('alertmanager', version, 'amtool') ? amtoolBinary(version) : 'amtool';
}

export function registerAlertmanager(program: Command): void {
  const area = new Command('alertmanager').description(
    "Alertmanager configs checked with the real amtool, and moved to Mimir's Alertmanager",
  );
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

  const migrate = new Command('migrate')
    .description(
      "move an Alertmanager config (and the templates it names) to Mimir's Alertmanager (POST /api/v1/alerts), checked by amtool check-config first; the diff against what Mimir holds, never over a config changed there without --force",
    )
    .requiredOption(
      '--alertmanager-config <file>',
      'alertmanager.yml to move (its templates: are read and uploaded by file name)',
    )
    .option('--template <file>', 'a template file to upload as well, repeatable', collect)
    .option('--endpoint <name>', 'Mimir endpoint name in stackshift.yaml', 'mimir')
    .option('--tenant <id>', 'Mimir tenant (X-Scope-OrgID); same as --mimir-tenant')
    .option('--dry-run', 'check and show the diff; change nothing (not even the state file)')
    .option('--diff', 'print the diff also when applying')
    .option('--force', 'replace a config that was changed in Mimir (or not put there by stackshift); it is saved first')
    .option(
      '--state <file>',
      'what earlier migrations put into Mimir (default: <state.dir>/alertmanager.db or .stackshift/alertmanager.db)',
    )
    .option(
      '--backup-dir <dir>',
      "where Mimir's config is saved before it is replaced (default: stackshift-backup/alertmanager-<time>)",
    )
    .option('--amtool <path>', "amtool binary (default: the lab's build, else amtool on PATH)");
  addEndpointOptions(migrate, 'mimir', 'Mimir');
  migrate.addHelpText(
    'after',
    `
Exit codes: 0 migrated or already the same; 1 amtool check-config refused the config, or Mimir holds a config changed there (review the diff, then --force); 2 bad input or Mimir refused the config.

Examples:
  stackshift alertmanager migrate --alertmanager-config /etc/alertmanager/alertmanager.yml --mimir-url http://mimir:8080 --tenant team-a --dry-run
  stackshift alertmanager migrate --alertmanager-config alertmanager.yml --template templates/slack.tmpl --mimir-url http://mimir:8080 --tenant team-a`,
  );
  migrate.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const flags = endpointFlags(opts, 'mimir');
    if (opts.tenant) flags.tenant = String(opts.tenant);
    const endpoint = requireEndpoint(ctx.loaded, flags, {
      name: String(opts.endpoint),
      prefix: 'mimir',
      nameFlag: 'endpoint',
      role: 'Mimir',
      example: 'http://mimir:8080 (and --tenant)',
      defaultType: 'mimir',
    });
    const dryRun = Boolean(opts.dryRun);
    const client = new MimirAlertmanagerClient(endpoint);
    const records = AlertmanagerRecords.open(
      statePath(opts, ctx.loaded, 'alertmanager.db'),
      alertmanagerTargetKey(endpoint.url, endpoint.tenant),
      dryRun,
    );
    try {
      const report = await migrateAlertmanager({
        amtool: amtoolPath(opts.amtool),
        config: resolve(String(opts.alertmanagerConfig)),
        templates: ((opts.template as string[] | undefined) ?? []).map((f) => resolve(f)),
        client,
        records,
        dryRun,
        force: Boolean(opts.force),
        backupDir: opts.backupDir as string | undefined,
      });
      emit(
        {
          document: report,
          text: () => renderAlertmanagerMigrateText(report, { diff: Boolean(opts.diff) }),
          exitCode: report.exitCode,
        },
        ctx.format,
      );
    } finally {
      records.close();
      await client.close();
    }
  });
  area.addCommand(migrate);
  program.addCommand(area);
}
