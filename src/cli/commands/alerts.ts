import { Command } from 'commander';
import { resolve } from 'node:path';
import {
  alertsSide,
  checkAlertmanager,
  renderAlertmanagerCheckText,
  renderAlertsVerifyText,
  verifyAlerts,
} from '../../alerts/index.js';
import { amtoolPath } from './alertmanager.js';
import { type EndpointFlags, type LoadedConfig, type ResolvedEndpoint } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { createProgress } from '../../progress/index.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { contextFor, emit } from '../context.js';
import { durationFlag, pathPrefixFlag, percentFlag } from '../parse.js';

type Opts = Record<string, unknown>;

function side(loaded: LoadedConfig, name: string, flags: EndpointFlags, role: 'source' | 'target'): ResolvedEndpoint {
  return requireEndpoint(loaded, flags, {
    name,
    prefix: role,
    nameFlag: role === 'source' ? 'from' : 'to',
    example: 'http://host:9090',
    defaultType: 'prometheus',
    typeWhenByUrl: 'prometheus',
  });
}

export function registerAlerts(program: Command): void {
  const area = new Command('alerts').description(
    'alert parity between Prometheus and its successor (another Prometheus or the Mimir ruler)',
  );
  const verify = new Command('verify')
    .description(
      'poll /api/v1/alerts on both sides over a window; compare alerts by labels and state (firing / pending / inactive)',
    )
    .option('--from <endpoint>', 'source endpoint name in stackshift.yaml', 'prometheus')
    .option('--to <endpoint>', 'target endpoint name in stackshift.yaml', 'mimir')
    .option('--source-prefix <path>', "path prefix of the source's Prometheus API (default none)")
    .option(
      '--target-prefix <path>',
      "path prefix of the target's Prometheus API: /prometheus for Mimir (default: /prometheus for a mimir endpoint, else none)",
    )
    .option('--window <duration>', 'how long to compare', '10m')
    .option('--interval <duration>', 'time between polls', '15s')
    .option(
      '--grace <duration>',
      'a difference that lasts no longer is evaluation timing, not a finding (default: two intervals)',
    )
    .option('--min-consistency <percent>', 'lowest share of alert observations that must agree', '99')
    .option('--ignore-label <name...>', 'labels left out of the comparison (e.g. one the Mimir ruler adds)')
    .option(
      '--alertmanager-config <file>',
      'route every alert seen through this Alertmanager config (amtool config routes test)',
    )
    .option(
      '--target-alertmanager-config <file>',
      "and through this one (the target's, e.g. Mimir's Alertmanager): an alert that reaches other receivers is a finding",
    )
    .option('--amtool <path>', "amtool binary for the routing check (default: the lab's build, else amtool on PATH)");
  addEndpointOptions(verify, 'source', 'source');
  addEndpointOptions(verify, 'target', 'target');
  verify.addHelpText(
    'after',
    `
Exit codes: 0 the alerts agree; 1 an alert differed for longer than the grace, or consistency is below the gate; 2 bad flags or a side that cannot be read.

Examples:
  stackshift alerts verify --source-url http://prometheus:9090 --target-url http://mimir:8080 --target-prefix /prometheus --target-tenant team-a --window 10m
  stackshift alerts verify --source-url http://old:9090 --target-url http://new:9090 --window 2m --interval 5s --min-consistency 100`,
  );
  verify.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const windowMs = durationFlag('window', opts.window);
    const intervalMs = durationFlag('interval', opts.interval);
    if (intervalMs > windowMs)
      throw new UsageError(
        `--interval (${opts.interval}) is longer than --window (${opts.window})`,
        'the window must hold at least one interval',
      );
    const graceMs = opts.grace === undefined ? undefined : durationFlag('grace', opts.grace, { min: 0 });
    const minConsistency = percentFlag('min-consistency', opts.minConsistency);
    const s = side(ctx.loaded, String(opts.from), endpointFlags(opts, 'source'), 'source');
    const t = side(ctx.loaded, String(opts.to), endpointFlags(opts, 'target'), 'target');
    const targetPrefix =
      pathPrefixFlag('target-prefix', opts.targetPrefix) ?? (t.type === 'mimir' ? '/prometheus' : '');
    const sourcePrefix =
      pathPrefixFlag('source-prefix', opts.sourcePrefix) ?? (s.type === 'mimir' ? '/prometheus' : '');
    const source = alertsSide(`source ${s.url}${sourcePrefix}`, s, sourcePrefix);
    const target = alertsSide(`target ${t.url}${targetPrefix}`, t, targetPrefix);
    const progress = createProgress('alerts verify', Math.floor(windowMs / intervalMs) + 1, 'polls');
    try {
      const report = await verifyAlerts({
        source,
        target,
        windowMs,
        intervalMs,
        graceMs,
        minConsistency,
        ignoreLabels: opts.ignoreLabel as string[] | undefined,
        onPoll: (d) => progress.update(d),
      });
      progress.finish();
      if (opts.targetAlertmanagerConfig && !opts.alertmanagerConfig)
        throw new UsageError(
          "--target-alertmanager-config needs --alertmanager-config (the source side's config) to compare with",
        );
      const routing = opts.alertmanagerConfig
        ? checkAlertmanager({
            amtool: amtoolPath(opts.amtool),
            config: resolve(String(opts.alertmanagerConfig)),
            against: opts.targetAlertmanagerConfig ? resolve(String(opts.targetAlertmanagerConfig)) : undefined,
            alerts: report.seenLabels,
          })
        : undefined;
      const exitCode = Math.max(report.exitCode, routing?.exitCode ?? 0) as 0 | 1;
      const text = () => renderAlertsVerifyText(report) + (routing ? `\n${renderAlertmanagerCheckText(routing)}` : '');
      emit(
        { document: { ...report, routing, exitCode }, text, markdown: () => '```\n' + text() + '```\n', exitCode },
        ctx.format,
      );
    } finally {
      await source.close();
      await target.close();
    }
  });
  area.addCommand(verify);
  program.addCommand(area);
}
