import { Command } from 'commander';
import { resolve } from 'node:path';
import {
  MimirRulerClient,
  openRulesRecords,
  parseNamespaceFrom,
  renderRulesSyncMarkdown,
  renderRulesSyncText,
  runRulesSync,
  targetKey,
} from '../../ruler/index.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { pathPrefixFlag } from '../parse.js';
import { contextFor, emit, statePath } from '../context.js';

type Opts = Record<string, unknown>;

export function registerRules(program: Command): void {
  const area = new Command('rules').description(
    'Prometheus rule files and PrometheusRule resources -> the Mimir ruler',
  );
  const sync = new Command('sync')
    .description(
      'show the diff per rule group (added / changed / removed / changed in Mimir), then apply it to the Mimir ruler',
    )
    .requiredOption(
      '--rules <paths...>',
      'rule files, directories or quoted globs ("k8s/**/*.yaml"): Prometheus rule files, mimirtool namespace files, PrometheusRule resources',
    )
    .option('--endpoint <name>', 'Mimir endpoint name in stackshift.yaml', 'mimir')
    .option('--tenant <id>', 'Mimir tenant (X-Scope-OrgID); same as --mimir-tenant')
    .option('--prefix <path>', "Mimir's Prometheus HTTP prefix (-http.prometheus-http-prefix)", '/prometheus')
    .option(
      '--namespace-from <how>',
      'ruler namespace of each group: file (file name; namespace: of a mimirtool file; <namespace>/<name> of a PrometheusRule), dir (directory name) or fixed:NAME',
      'file',
    )
    .option('--dry-run', 'show the diff; change nothing (not even the state file)')
    .option('--prune', 'delete groups that are in Mimir (in the namespaces the files own) but not in the files')
    .option('--force', 'overwrite (or, with --prune, delete) groups that were changed in Mimir since the last sync')
    .option(
      '--to-version <version>',
      'the Prometheus version whose PromQL the ruler speaks: 3.x applies the Prometheus 3 fixes (lint prom3) to every expression, e.g. 3.8.1',
    )
    .option('--from-version <version>', 'the Prometheus version the rules come from (for --to-version; default 2.55.1)')
    .option(
      '--promtool <path>',
      'check the groups as they will be sent with this promtool (of the --to-version) before anything is sent',
    )
    .option(
      '--state <file>',
      'what earlier syncs wrote, to tell edits in Mimir apart (default: <state.dir>/rules.db or .stackshift/rules.db)',
    )
    .option(
      '--backup-dir <dir>',
      "where the ruler's groups are saved before any is replaced or deleted (default: stackshift-backup/rules-<time>)",
    )
    .option('--show-unchanged', 'list unchanged groups too');
  addEndpointOptions(sync, 'mimir', 'Mimir');
  sync.addHelpText(
    'after',
    `
Exit codes: 0 nothing to change or all applied; 1 conflicts blocked the sync (groups edited in Mimir, pass --force
after reviewing them); 2 bad input, a group Mimir refused, or a promtool failure.

Examples:
  stackshift rules sync --rules rules/ --mimir-url http://mimir:8080 --tenant team-a --dry-run
  stackshift rules sync --rules "k8s/**/*.yaml" --mimir-url http://mimir:8080 --tenant team-a --prune
  stackshift rules sync --rules rules/ --mimir-url http://mimir:8080 --tenant team-a --to-version 3.8.1 --promtool /opt/prometheus-3.8.1/promtool`,
  );
  sync.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const namespaceFrom = parseNamespaceFrom(opts.namespaceFrom as string | undefined);
    const flags = endpointFlags(opts, 'mimir');
    if (opts.tenant) flags.tenant = String(opts.tenant);
    const name = String(opts.endpoint);
    const endpoint = requireEndpoint(ctx.loaded, flags, {
      name,
      prefix: 'mimir',
      nameFlag: 'endpoint',
      role: 'Mimir',
      example: 'http://mimir:8080 (and --tenant)',
      defaultType: 'mimir',
    });
    const prefix = pathPrefixFlag('prefix', opts.prefix ?? '/prometheus')!;
    const client = new MimirRulerClient(endpoint, { prefix });
    const dryRun = Boolean(opts.dryRun);
    const records = openRulesRecords(
      statePath(opts, ctx.loaded, 'rules.db'),
      targetKey(endpoint.url, client.prefix, endpoint.tenant),
      dryRun,
    );
    try {
      const report = await runRulesSync({
        rules: (opts.rules as string[]).map(String),
        namespaceFrom,
        client,
        records,
        dryRun,
        prune: Boolean(opts.prune),
        force: Boolean(opts.force),
        toVersion: opts.toVersion as string | undefined,
        fromVersion: opts.fromVersion as string | undefined,
        promtool: opts.promtool ? resolve(String(opts.promtool)) : undefined,
        backupDir: opts.backupDir as string | undefined,
      });
      emit(
        {
          document: report,
          text: () => renderRulesSyncText(report, { showUnchanged: Boolean(opts.showUnchanged) }),
          markdown: () => renderRulesSyncMarkdown(report),
          exitCode: report.exitCode,
        },
        ctx.format,
      );
    } finally {
      records.close();
      await client.close();
    }
  });
  area.addCommand(sync);
  program.addCommand(area);
}
