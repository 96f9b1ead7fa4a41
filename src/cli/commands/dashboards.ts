import { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GrafanaClient } from '../../clients/index.js';
import { resolveEndpoint } from '../../config/index.js';
import {
  exportGrafana,
  incomplete,
  loadDatasourcesFile,
  migrateFiles,
  migrateGrafana,
  readBackup,
  renderExportMarkdown,
  renderExportText,
  renderMigrationMarkdown,
  renderMigrationText,
  renderRestoreMarkdown,
  renderRestoreText,
  restoreBackup,
  selectDatasources,
  interruptedLine,
  type MigrationReport,
  type RewriteExpr,
} from '../../dashboards/index.js';
import { UsageError } from '../../errors/index.js';
import { applyPromQLFixes } from '../../lint/index.js';
import { HttpClient } from '../../http/index.js';
import { createProgress } from '../../progress/index.js';
import { addEndpointOptions, endpointFlags } from '../endpoint-options.js';
import { contextFor, emit, type CliContext } from '../context.js';
import { INTERRUPTED_EXIT, commandLine, interruptible, reportInterrupted } from '../interrupt.js';
import { intFlag } from '../parse.js';

type Opts = Record<string, unknown>;

function concurrency(v: unknown): number {
  return intFlag('concurrency', v, 1, 32);
}

/** `signal`: aborts the client's requests (a stopped migrate passes its grace-period signal). */
function grafanaClient(ctx: CliContext, opts: Opts, signal?: AbortSignal): GrafanaClient {
  const ep = resolveEndpoint(ctx.loaded, String(opts.endpoint ?? 'grafana'), endpointFlags(opts, 'grafana'), 'grafana');
  return new GrafanaClient(signal ? new HttpClient(ep, { connections: 8, signal }) : ep);
}

/**
 * The command that carries on after a Ctrl-C: the same one, with a --backup-dir next to the first (a backup
 * is never written over, so the rerun's goes to a new directory; the two hold different dashboards).
 */
function rerunCommand(backupDir: string | undefined): string {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === '--backup-dir' || a.startsWith('--backup-dir='));
  if (i < 0 || !backupDir) return commandLine({}, argv);
  let next = `${backupDir}-2`;
  for (let n = 3; existsSync(next); n++) next = `${backupDir}-${n}`;
  const rest = argv[i].includes('=') ? argv.slice(i + 1) : argv.slice(i + 2);
  return commandLine({}, [...argv.slice(0, i), '--backup-dir', next, ...rest]);
}

function withGrafanaOptions(cmd: Command): Command {
  cmd.option('--endpoint <name>', 'Grafana endpoint name in stackshift.yaml', 'grafana');
  addEndpointOptions(cmd, 'grafana', 'Grafana');
  return cmd;
}

function list(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.length ? v.map(String) : undefined;
}

/** Which dashboards a command reads through the API, and how many at once: the same flags on export and migrate. */
function withSelectionOptions(cmd: Command, mode = ''): Command {
  return cmd
    .option('--uid <uid...>', `${mode}only these dashboards`)
    .option('--folder <uid...>', `${mode}only dashboards in these folders`)
    .option('--concurrency <n>', `${mode}dashboards read at once`, '4')
    .option(
      '--namespace <ns>',
      `${mode}Grafana 12+ /apis namespace (default: from the org; stacks-<id> on Grafana Cloud)`,
    );
}

/** --bind-input NAME=datasource, repeatable; NAME may be written with its ${...}. */
function parseBindInputs(values: string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?=(.+)$/.exec(v);
    if (!m)
      throw new UsageError(
        `--bind-input ${JSON.stringify(v)}: expected NAME=datasource`,
        'e.g. --bind-input DS_LOCALHOST=Prometheus (the input name from __inputs, then a datasource name or uid)',
      );
    out[m[1]] = m[2];
  }
  return out;
}

function selection(opts: Opts): { uids?: string[]; folders?: string[]; concurrency: number; namespace?: string } {
  return {
    uids: list(opts.uid),
    folders: list(opts.folder),
    concurrency: concurrency(opts.concurrency),
    namespace: opts.namespace as string | undefined,
  };
}

export function registerDashboards(program: Command): void {
  const area = new Command('dashboards').description(
    'Grafana dashboards: export them, point every datasource reference at Mimir (files or API), restore exactly',
  );

  const exp = withGrafanaOptions(
    withSelectionOptions(
      new Command('export')
        .description(
          'save every dashboard ({dashboard, meta}) under a directory per folder, with the folder tree, datasources and library panels',
        )
        .requiredOption('--out <dir>', 'directory to write (new, empty, or an earlier export)'),
    ),
  );
  exp.addHelpText(
    'after',
    `
Examples:
  GRAFANA_TOKEN=... stackshift dashboards export --grafana-url http://grafana:3000 --grafana-bearer-token-env GRAFANA_TOKEN --out backup/
  stackshift dashboards export --out backup/ --folder team-a --output json`,
  );
  exp.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const client = grafanaClient(ctx, opts);
    const progress = createProgress('export', 0, 'dashboards');
    try {
      const r = await exportGrafana({
        client,
        output: String(opts.out),
        ...selection(opts),
        onProgress: (d) => progress.update(d),
      });
      progress.finish();
      emit(
        {
          document: r,
          text: () => renderExportText(r),
          markdown: () => renderExportMarkdown(r),
          exitCode: incomplete(r.outcomes) ? 1 : 0,
        },
        ctx.format,
      );
    } finally {
      await client.close();
    }
  });

  const mig = withGrafanaOptions(
    withSelectionOptions(
      new Command('migrate')
        .description(
          'point every reference to one datasource at another: panels, targets, collapsed and legacy rows, variables, annotations, __inputs, library panels',
        )
        .requiredOption('--from-datasource <name|uid>', 'datasource to move away from (name or uid)')
        .requiredOption('--to-datasource <name|uid>', 'datasource to move to (name or uid)')
        .option('--in <path>', 'files mode: a dashboard file or a directory of them (no Grafana needed)')
        .option('--out <path>', 'files mode: write migrated copies here (default: in place, with a backup)')
        .option(
          '--datasources <file>',
          'files mode: what GET /api/datasources returns (default: datasources.json in --in)',
        )
        .option('--dry-run', 'change nothing; print the summary and a unified diff')
        .option('--diff', 'print the unified diff also when applying')
        .option(
          '--backup-dir <dir>',
          'where originals are saved before anything changes (default: stackshift-backup/dashboards-<time>)',
        )
        .option('--exemplars', 'turn on exemplars for range queries of time-series and heatmap panels on the target')
        .option(
          '--tempo-datasource <name|uid>',
          "link the target datasource's exemplars to this Tempo datasource (implies --exemplars)",
        )
        .option('--exemplar-label <label>', 'exemplar label that holds the trace id', 'trace_id')
        .option(
          '--fix-promql <from:to>',
          'also apply the Prometheus 3 PromQL fixes (lint prom3, cutover stage) to queries that run on the target, e.g. 2.55.1:3.5.0',
        )
        .option(
          '--allow-missing-uid',
          'files mode: no longer needed (a dashboard without uid is migrated with a warning)',
        )
        .option(
          '--bind-input <NAME=datasource...>',
          'bind a ${NAME} import placeholder whose label names no datasource, e.g. DS_LOCALHOST=Prometheus',
        )
        .option(
          '--keep-inputs',
          'leave ${DS_*} import placeholders and __inputs alone instead of binding them to the target',
        )
        .option('--message <text>', 'version-history message for each save (API mode, at most 500 characters)'),
      'API mode: ',
    ),
  );
  mig.addHelpText(
    'after',
    `
Examples:
  stackshift dashboards migrate --from-datasource Prometheus --to-datasource Mimir --dry-run
  stackshift dashboards migrate --from-datasource prometheus --to-datasource mimir --tempo-datasource tempo
  stackshift dashboards migrate --in backup/ --out migrated/ --datasources datasources.json \\
      --from-datasource Prometheus --to-datasource Mimir
  stackshift dashboards migrate --in provisioning/dashboards --from-datasource Prometheus --to-datasource Mimir
  stackshift dashboards migrate --in backup/ --out migrated/ --from-datasource Prometheus --to-datasource Mimir --fix-promql 2.55.1:3.5.0
  stackshift dashboards migrate --in exported/ --from-datasource Prometheus --to-datasource Mimir --bind-input DS_LOCALHOST=Prometheus`,
  );
  mig.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const from = String(opts.fromDatasource);
    const to = String(opts.toDatasource);
    const dryRun = Boolean(opts.dryRun);
    const exemplars = Boolean(opts.exemplars || opts.tempoDatasource);
    if (opts.message !== undefined && String(opts.message).length > 500)
      throw new UsageError('--message is longer than 500 characters, which Grafana refuses');
    const rewriteExpr = promqlFixer(opts.fixPromql as string | undefined);
    const bindInputs = parseBindInputs(opts.bindInput as string[] | undefined);
    let report: MigrationReport;
    if (opts.in !== undefined) {
      if (opts.grafanaUrl)
        throw new UsageError(
          '--in (files mode) and --grafana-url (API mode) exclude each other',
          'drop --grafana-url to rewrite files, or drop --in to migrate through the Grafana API',
        );
      for (const k of ['uid', 'folder', 'message', 'namespace'] as const) {
        if (opts[k] !== undefined)
          throw new UsageError(
            `--${k} applies to API mode only`,
            'drop it, or drop --in to work through the Grafana API',
          );
      }
      const input = String(opts.in);
      if (!existsSync(input))
        throw new UsageError(`--in ${input} does not exist`, 'pass a dashboard file or a directory of dashboards');
      const dsFile = opts.datasources !== undefined ? String(opts.datasources) : defaultDatasourcesFile(input);
      if (!dsFile)
        throw new UsageError(
          'files mode needs the datasource list: pass --datasources <file>',
          'save GET /api/datasources of your Grafana (curl -H "Authorization: Bearer $TOKEN" $GRAFANA/api/datasources > datasources.json); `dashboards export` writes it as datasources.json',
        );
      const { catalog, file } = loadDatasourcesFile(dsFile);
      const sel = selectDatasources(catalog, file, from, to, opts.tempoDatasource as string | undefined);
      const progress = createProgress('migrate', 0, 'files');
      // Ctrl-C: no file is started after it, the write in flight finishes, partial summary, exit 130
      const stop = interruptible();
      report = await migrateFiles({
        input,
        output: opts.out as string | undefined,
        catalog,
        ...sel,
        exemplarLabel: String(opts.exemplarLabel),
        exemplars,
        keepInputs: Boolean(opts.keepInputs),
        rewriteExpr,
        dryRun,
        diff: dryRun || Boolean(opts.diff),
        backupDir: opts.backupDir as string | undefined,
        exclude: [file],
        bindInputs,
        signal: stop.signal,
        onProgress: (d, t) => {
          progress.setTotal(t);
          progress.update(d);
        },
      }).finally(() => stop.dispose());
      progress.finish();
    } else {
      if (opts.out !== undefined || opts.datasources !== undefined)
        throw new UsageError(
          '--out and --datasources belong to files mode',
          'add --in <dir> to rewrite files, or drop them to migrate through the Grafana API',
        );
      // Ctrl-C: no dashboard is started after it, the save in flight gets the grace period, partial summary, exit 130
      const stop = interruptible();
      const client = grafanaClient(ctx, opts, stop.inFlight);
      const progress = createProgress('migrate', 0, 'dashboards');
      try {
        report = await migrateGrafana({
          client,
          from,
          to,
          tempo: opts.tempoDatasource as string | undefined,
          exemplarLabel: String(opts.exemplarLabel),
          exemplars,
          keepInputs: Boolean(opts.keepInputs),
          rewriteExpr,
          dryRun,
          diff: dryRun || Boolean(opts.diff),
          backupDir: opts.backupDir as string | undefined,
          message: opts.message as string | undefined,
          bindInputs,
          ...selection(opts),
          signal: stop.signal,
          onProgress: (d) => progress.update(d),
        });
      } finally {
        stop.dispose();
        progress.finish();
        await client.close();
      }
    }
    const r = report;
    emit(
      {
        document: r,
        text: () => renderMigrationText(r),
        markdown: () => renderMigrationMarkdown(r),
        exitCode: r.interrupted ? INTERRUPTED_EXIT : incomplete(r.outcomes) ? 1 : 0,
      },
      ctx.format,
    );
    if (r.interrupted) {
      const undo = r.backupDir
        ? `; the originals of what changed are in ${r.backupDir} (undo with: stackshift dashboards restore --from ${r.backupDir}${r.mode === 'api' ? ' --grafana-url ...' : ''})`
        : '';
      reportInterrupted(`${interruptedLine(r)}${undo}`, rerunCommand(r.backupDir), 'carry on');
    }
  });

  const res = withGrafanaOptions(
    new Command('restore')
      .description(
        'put back exactly what a backup (from migrate) or an export holds; what is overwritten is backed up first',
      )
      .requiredOption('--from <dir>', 'backup or export directory')
      .option('--out <dir>', 'files backups: restore into this directory instead of the original one')
      .option('--uid <uid...>', 'only these dashboards (or library panels)')
      .option('--dry-run', 'change nothing; print what would be restored and a unified diff')
      .option('--diff', 'print the unified diff also when applying')
      .option('--force', 'restore even dashboards edited in Grafana after stackshift saved them')
      .option('--backup-dir <dir>', 'where the current state is saved before it is overwritten')
      .option('--message <text>', 'version-history message for each save'),
  );
  res.addHelpText(
    'after',
    `
Examples:
  stackshift dashboards restore --from stackshift-backup/dashboards-20250101T120000Z --grafana-url http://grafana:3000
  stackshift dashboards restore --from backup/ --uid node-exporter --dry-run
  stackshift dashboards restore --from stackshift-backup/dashboards-20250101T120000Z   # a files-mode backup`,
  );
  res.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const from = String(opts.from);
    const mode = readBackup(from).descriptor.mode;
    if (mode === 'files' && opts.grafanaUrl)
      throw new UsageError(`${from} is a backup of files, not of a Grafana`, 'drop --grafana-url');
    const client = mode === 'api' ? grafanaClient(ctx, opts) : undefined;
    try {
      const dryRun = Boolean(opts.dryRun);
      const r = await restoreBackup({
        from,
        client,
        output: opts.out as string | undefined,
        uids: list(opts.uid),
        dryRun,
        diff: dryRun || Boolean(opts.diff),
        force: Boolean(opts.force),
        backupDir: opts.backupDir as string | undefined,
        message: opts.message as string | undefined,
      });
      emit(
        {
          document: r,
          text: () => renderRestoreText(r),
          markdown: () => renderRestoreMarkdown(r),
          exitCode: incomplete(r.outcomes) ? 1 : 0,
        },
        ctx.format,
      );
    } finally {
      await client?.close();
    }
  });

  area.addCommand(exp).addCommand(mig).addCommand(res);
  program.addCommand(area);
}

function defaultDatasourcesFile(input: string): string | undefined {
  const abs = resolve(input);
  if (!statSync(abs).isDirectory()) return undefined;
  const f = join(abs, 'datasources.json');
  return existsSync(f) ? f : undefined;
}

/** `--fix-promql 2.55.1:3.5.0`: the lint engine's cutover PromQL fixes, with Grafana variables masked. */
function promqlFixer(spec: string | undefined): RewriteExpr | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d+\.\d+(?:\.\d+)?):(\d+\.\d+(?:\.\d+)?)$/.exec(spec);
  if (!m) throw new UsageError(`--fix-promql "${spec}" is not <from>:<to>`, 'for example --fix-promql 2.55.1:3.5.0');
  return (expr) =>
    applyPromQLFixes(expr, { from: m[1], to: m[2], templates: true, stage: 'cutover', origin: 'dashboard' });
}
