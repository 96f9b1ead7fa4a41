import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolveTarget } from '../../compat/index.js';
import { UsageError } from '../../errors/index.js';
import {
  PREFLIGHT_MIGRATION,
  renderPreflightMarkdown,
  renderPreflightText,
  runPreflight,
} from '../../upgrade/index.js';
import { addPrometheusOptions, withPrometheus } from '../endpoint-options.js';
import { contextFor, emit, STATE_OPTION_HELP, withState } from '../context.js';
import { intFlag, positiveNumberFlag } from '../parse.js';

export function registerPreflight(program: Command): void {
  const cmd = new Command('preflight')
    .description(
      'gates before an upgrade stage (free disk, verified snapshot, admin API, config and rules valid) and a baseline for the post-upgrade comparison, stored in the state database',
    )
    .option('--data-dir <dir>', "the server's data dir on this machine")
    .option('--to <version>', 'target of the upgrade (3.5.0, 3.13, 3.x, 2.55.1 ...)')
    .option('--disk-factor <n>', 'free disk needed as a multiple of the TSDB size', '3')
    .option('--snapshot <dir>', 'snapshot to verify (default: the newest in <data-dir>/snapshots)')
    .option('--promtool <bin>', "promtool to validate config and rules with (use the TARGET release's promtool)")
    .option('--config-file <file>', 'prometheus.yml on this machine (default: --config.file from the server)')
    .option('--query <promql...>', 'extra queries to time for the latency baseline')
    .option('--top-rules <n>', 'how many of the most expensive rule expressions to time', '5')
    .option('--state <file>', STATE_OPTION_HELP);
  addPrometheusOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  stackshift preflight --prometheus-url http://127.0.0.1:9090 --data-dir /var/lib/prometheus --to 2.55.1
  stackshift preflight --prometheus-url http://127.0.0.1:9090 --data-dir /var/lib/prometheus --to 3.5.5 \\
      --promtool /opt/prometheus-3.5.5/promtool --query 'sum(rate(http_requests_total[5m]))'

Exit codes: 0 every gate passed, 1 a gate failed (the check says why and what to do), 2 usage or runtime error.`,
  );
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const factor = positiveNumberFlag('disk-factor', opts.diskFactor);
    const top = intFlag('top-rules', opts.topRules, 0, 1000);
    if (opts.to && !resolveTarget(String(opts.to)))
      throw new UsageError(`--to "${opts.to}" is not a version such as 2.55.1, 3.5.0 or 3.x`);
    for (const k of ['dataDir', 'snapshot', 'configFile'] as const)
      if (opts[k] && !existsSync(String(opts[k])))
        throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${opts[k]} does not exist`);
    const r = await withPrometheus(opts, ctx.loaded, (client) =>
      withState(opts, ctx.loaded, [PREFLIGHT_MIGRATION], (db) =>
        runPreflight(client, {
          dataDir: opts.dataDir as string | undefined,
          to: opts.to as string | undefined,
          diskFactor: factor,
          snapshotPath: opts.snapshot as string | undefined,
          promtool: opts.promtool as string | undefined,
          configFile: opts.configFile as string | undefined,
          queries: opts.query as string[] | undefined,
          topRules: top,
          state: db,
        }),
      ),
    );
    emit(
      {
        document: r,
        text: () => renderPreflightText(r),
        markdown: () => renderPreflightMarkdown(r),
        exitCode: r.passed ? 0 : 1,
      },
      ctx.format,
    );
  });
  program.addCommand(cmd);
}
