import { Command } from 'commander';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { parseVersion, resolveTarget } from '../../compat/index.js';
import { UsageError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import { log } from '../../log/index.js';
import { verifySnapshot } from '../../snapshot/index.js';
import { inspectTsdb } from '../../tsdb/index.js';
import {
  lintChangesProvider,
  planUpgrade,
  readServerFacts,
  renderPlanHtml,
  renderPlanMarkdown,
  renderPlanText,
  replayFromLog,
  type PlanInput,
} from '../../upgrade/index.js';
import { addEndpointOptions, withPrometheus } from '../endpoint-options.js';
import { contextFor, emit } from '../context.js';
import { registerUpgradeRun } from './upgrade-run.js';
import { positiveNumberFlag } from '../parse.js';

export function registerUpgrade(program: Command): void {
  const area = new Command('upgrade').description(
    'plan a Prometheus upgrade: path, required changes, rollback, downtime, risks',
  );
  const plan = new Command('plan')
    .description(
      'the path (e.g. 2.48.1 -> 2.55.1 -> 3.5.x), per stage the required changes (dual/cutover), rollback feasibility and why, expected restart time, a risk register with heat map and a checklist',
    )
    .option('--from <version>', 'current version (default: asked from --prometheus-url)')
    .option('--to <version>', 'target: 3.5.0, 3.13 (newest patch), 3.x / lts (latest LTS), latest', 'lts')
    .option('--endpoint <name>', 'endpoint name in stackshift.yaml', 'prometheus')
    .option(
      '--data-dir <dir>',
      "the server's data dir on this machine: WAL size for the restart estimate, formats on disk, free disk",
    )
    .option('--log-file <file>', 'Prometheus log containing its last startup: the measured WAL replay speed')
    .option('--snapshot <dir>', 'a snapshot to verify and count as the backup')
    .option('--disk-factor <n>', 'free disk needed as a multiple of the TSDB size', '3')
    .option('--html <file>', 'also write the plan as HTML (with a coloured heat map)')
    .option(
      '--lint <paths...>',
      'configs, rule files, dashboards and flag files to lint per stage (the lint prom3 engine): findings become required changes with file:line evidence',
    )
    .option(
      '--flags-from <sources...>',
      'with --lint: where the flags come from (systemd unit, args file, manifest, http://server)',
    );
  addEndpointOptions(plan, 'prometheus', 'Prometheus');
  plan.addHelpText(
    'after',
    `
Examples:
  stackshift upgrade plan --from 2.48.1 --to 3.5.0
  stackshift upgrade plan --prometheus-url http://prom:9090 --to 3.x --output markdown > plan.md
  stackshift upgrade plan --prometheus-url http://127.0.0.1:9090 --data-dir /var/lib/prometheus \\
      --log-file /var/log/prometheus.log --to 3.13 --html plan.html
  stackshift upgrade plan --from 2.48.1 --to 3.5.0 --lint prometheus.yml rules/ dashboards/ --flags-from prometheus.service`,
  );
  plan.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (opts.from && !parseVersion(String(opts.from)))
      throw new UsageError(`--from "${opts.from}" is not a version such as 2.48.1`);
    if (!resolveTarget(String(opts.to)))
      throw new UsageError(`--to "${opts.to}" is not a version such as 3.5.0, 3.13, 3.x or latest`);
    const factor = positiveNumberFlag('disk-factor', opts.diskFactor);
    if (opts.dataDir && !existsSync(String(opts.dataDir)))
      throw new UsageError(`--data-dir ${opts.dataDir} does not exist`);
    if (opts.logFile && !existsSync(String(opts.logFile)))
      throw new UsageError(`--log-file ${opts.logFile} does not exist`);
    const input: PlanInput = { from: opts.from as string | undefined, to: String(opts.to) };
    const wantServer =
      Boolean(opts.prometheusUrl) || (!opts.from && Boolean(ctx.loaded.config.endpoints?.[String(opts.endpoint)]));
    if (!opts.from && !wantServer)
      throw new UsageError('give --from, or --prometheus-url to ask the server its version');
    if (wantServer) {
      input.server = await withPrometheus(opts, ctx.loaded, async (client) => {
        await client.ensureReady();
        return readServerFacts(client);
      });
    }
    if (opts.dataDir) {
      const dir = String(opts.dataDir);
      input.inspection = inspectTsdb(dir, { level: 'scan' });
      const fs = statfsSync(dir);
      input.disk = { freeBytes: fs.bavail * fs.bsize, factor };
    }
    if (opts.logFile) {
      const wal = input.inspection?.wal;
      input.replay = replayFromLog(
        readFileSync(String(opts.logFile), 'utf8'),
        (seg) => wal?.segments.find((s) => Number(s.name) === seg)?.bytes,
      );
      if (!input.replay)
        log.warn('no completed WAL replay found in the log file; the restart estimate uses an assumed speed', {
          file: String(opts.logFile),
        });
    }
    if (opts.snapshot) {
      const v = await verifySnapshot(String(opts.snapshot));
      input.snapshot = { name: String(opts.snapshot).split('/').filter(Boolean).pop()!, verified: v.ok };
    } else if (input.inspection?.snapshots.length) {
      const s = input.inspection.snapshots[input.inspection.snapshots.length - 1];
      const v = await verifySnapshot(s.path);
      input.snapshot = { name: s.name, verified: v.ok };
    }
    if (opts.lint) {
      const from = input.from ?? input.server?.version;
      const target = resolveTarget(String(opts.to))!.version;
      if (from && parseVersion(from))
        input.changesProvider = await lintChangesProvider(
          opts.lint as string[],
          parseVersion(from)!.raw,
          target,
          (opts.flagsFrom as string[] | undefined) ?? [],
        );
    }
    const p = planUpgrade(input);
    if (opts.html) {
      writeFileAtomic(String(opts.html), renderPlanHtml(p));
      log.info('HTML plan written', { file: String(opts.html) });
    }
    emit(
      { document: p, text: () => renderPlanText(p), markdown: () => renderPlanMarkdown(p), exitCode: 0 },
      ctx.format,
    );
  });
  area.addCommand(plan);
  registerUpgradeRun(area);
  program.addCommand(area);
}
