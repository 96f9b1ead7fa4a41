import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { RULES } from '../../compat/index.js';
import { PrometheusClient } from '../../clients/index.js';
import { endpointFromUrl, resolveEndpoint, type ResolvedEndpoint } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import {
  fixFiles,
  INPUT_MISSING_RULE,
  INPUT_UNKNOWN_RULE,
  PROMTOOL_RULE,
  promtoolVersion,
  lintFiles,
  PARSE_ERROR_RULE,
  renderLintMarkdown,
  renderLintSarif,
  renderLintText,
  resolveVersions,
  type LintResult,
  type Stage,
} from '../../lint/index.js';
import { log } from '../../log/index.js';
import { contextFor, emit } from '../context.js';
import { VERSION } from '../program.js';
import { collectList } from '../parse.js';

const RANK = { error: 0, warning: 1, info: 2 } as const;

export function registerLint(program: Command): void {
  const lint = new Command('lint').description('static checks of configs, rules, dashboards and flags');
  const cmd = new Command('prom3')
    .description(
      'Prometheus 3 readiness: lint (and fix) prometheus.yml, rule files, dashboards and flags for a 2.x -> 3.x upgrade',
    )
    .argument(
      '[paths...]',
      'prometheus.yml, rule files, PrometheusRule CRDs, Mimir ruler files, Grafana dashboards, flag files, or directories',
    )
    .option('--from <version>', 'version running now', '2.55.1')
    .option('--to <version>', 'target version (default: the latest LTS, 3.13.2)')
    .addOption(
      new Option(
        '--stage <stage>',
        'dual|2.55: fixes valid on the running version (or 2.55) and 3.x; cutover: the config set for the 3.x binary',
      ).choices(['dual', '2.55', 'cutover']),
    )
    .option('--fix', 'write the fixes of the stage (default stage dual); each file is backed up first')
    .option(
      '--out-dir <dir>',
      'with --fix: write fixed copies here instead of editing in place (recommended for --stage cutover)',
    )
    .option('--dry-run', 'with --fix: show what would change, write nothing')
    .option(
      '--flags-from <source>',
      'Prometheus flags: systemd unit, args file, Kubernetes/compose manifest, http(s)://server or endpoint:NAME from stackshift.yaml (live); repeatable',
      collectList,
      [],
    )
    .option(
      '--promtool <path>',
      'also report what this promtool (that of the target version) says: check config / check rules, as located findings',
    )
    .option('--rule <ids>', 'only these rule ids (comma-separated; repeatable)', collectList, [])
    .option(
      '--fail-on <severity>',
      'exit 1 when a finding at or above this severity exists: error | warning | info | never',
      'error',
    );
  cmd.addHelpText(
    'after',
    `
Examples:
  stackshift lint prom3 --to 3.5.0 prometheus.yml rules/ dashboards/ --flags-from prometheus.service
  stackshift lint prom3 --to 3.5.0 prometheus.yml --fix                       # dual fixes, backups kept
  stackshift lint prom3 --to 3.5.0 --stage 2.55 prometheus.yml rules/         # valid on 2.55 and 3.x
  stackshift lint prom3 --to 3.5.0 --stage cutover --fix --out-dir cutover/ prometheus.yml rules/
  stackshift lint prom3 --flags-from http://prom:9090 --output sarif > prom3.sarif
  stackshift lint prom3 --to 3.8.1 --promtool /opt/prometheus-3.8.1/promtool prometheus.yml`,
  );
  cmd.action(async (paths: string[], opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command, ['text', 'json', 'markdown', 'sarif']);
    const failOn = String(opts.failOn);
    if (!['error', 'warning', 'info', 'never'].includes(failOn))
      throw new UsageError(`--fail-on must be error, warning, info or never (got "${failOn}")`);
    // endpoint:NAME takes the server from stackshift.yaml, with its auth and TLS settings
    const endpoints = new Map<string, ResolvedEndpoint>();
    const flagsFrom = ((opts.flagsFrom as string[] | undefined) ?? []).map((s) => {
      if (!s.startsWith('endpoint:')) return s;
      const ep = resolveEndpoint(ctx.loaded, s.slice('endpoint:'.length), {}, 'prometheus');
      endpoints.set(ep.url, ep);
      return ep.url;
    });
    const fetchFlags = endpoints.size
      ? async (url: string) => {
          // credentials go only to the endpoint they belong to; a plain URL gets none
          const client = new PrometheusClient(endpoints.get(url) ?? endpointFromUrl(url));
          try {
            return await client.flags();
          } finally {
            await client.close();
          }
        }
      : undefined;
    if (paths.length === 0 && flagsFrom.length === 0)
      throw new UsageError(
        'nothing to lint: name files or directories, or --flags-from',
        'stackshift lint prom3 prometheus.yml rules/ --flags-from prometheus.service',
      );
    if ((opts.outDir || opts.dryRun) && !opts.fix)
      throw new UsageError('--out-dir and --dry-run only make sense with --fix');
    for (const p of paths)
      if (!existsSync(p))
        throw new UsageError(
          `${p} does not exist`,
          'name prometheus.yml, rule files, dashboards or directories holding them',
        );
    const known = [...RULES, PARSE_ERROR_RULE, INPUT_MISSING_RULE, INPUT_UNKNOWN_RULE, PROMTOOL_RULE].map((r) => r.id);
    for (const id of opts.rule as string[])
      if (!known.includes(id)) throw new UsageError(`--rule ${id}: no such rule`, `rules: ${known.join(', ')}`);
    resolveVersions({ from: String(opts.from), to: opts.to as string | undefined });
    const promtool = opts.promtool as string | undefined;
    if (promtool) promtoolVersion(promtool); // a usage error now rather than after the lint
    const common = {
      from: String(opts.from),
      to: opts.to as string | undefined,
      flagsFrom,
      fetchFlags,
      promtool,
      rules: (opts.rule as string[]).length ? (opts.rule as string[]) : undefined,
    };
    let result: LintResult;
    let document: unknown;
    if (opts.fix) {
      const stage = (opts.stage as Exclude<Stage, 'all'> | undefined) ?? 'dual';
      if (stage === 'cutover' && !opts.outDir && !opts.dryRun)
        log.warn('writing the cutover config in place: it is valid only for the 3.x binary (consider --out-dir)');
      const fixed = await fixFiles(paths, {
        ...common,
        stage,
        outDir: opts.outDir as string | undefined,
        dryRun: Boolean(opts.dryRun),
      });
      for (const f of fixed.files) {
        log.info(opts.dryRun ? 'would fix' : 'fixed', {
          file: f.file,
          fixes: f.fixes,
          ...(f.written && f.written !== f.file ? { written: f.written } : {}),
          ...(f.backup ? { backup: f.backup } : {}),
        });
        for (const c of f.changes) log.info(`  line ${c.line}: ${c.ruleId}: ${c.description}`);
      }
      for (const r of fixed.rejected)
        log.error('not written: fixed text failed validation', { file: r.file, reason: r.reason });
      if (fixed.files.length === 0 && fixed.rejected.length === 0) log.info('nothing to fix', { stage });
      // promtool reads what is on disk: with --promtool the written result is linted again
      result =
        promtool && !opts.dryRun && fixed.files.length
          ? await lintFiles(opts.outDir ? [String(opts.outDir)] : paths, { ...common, stage })
          : fixed.after;
      document = {
        ...result,
        fixed: fixed.files.map(({ before: _b, after: _a, ...rest }) => rest),
        rejected: fixed.rejected,
        passes: fixed.passes,
      };
      if (fixed.rejected.length) process.exitCode = 2;
    } else {
      result = await lintFiles(paths, { ...common, stage: (opts.stage as Stage | undefined) ?? 'all' });
      document = result;
    }
    const limit = failOn === 'never' ? -1 : RANK[failOn as keyof typeof RANK];
    const failed = result.findings.some((f) => RANK[f.severity] <= limit);
    emit(
      {
        document,
        text: () => renderLintText(result),
        markdown: () => renderLintMarkdown(result),
        sarif: () => renderLintSarif(result, VERSION),
        exitCode: process.exitCode === 2 ? 2 : failed ? 1 : 0,
      },
      ctx.format,
    );
  });
  lint.addCommand(cmd);
  program.addCommand(lint);
}
