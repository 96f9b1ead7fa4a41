import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { collectAssessment, renderAssessmentMarkdown, renderAssessmentText } from '../../assess/index.js';
import { UsageError } from '../../errors/index.js';
import { parseVersion } from '../../compat/index.js';
import { addEndpointOptions, prometheusClient } from '../endpoint-options.js';
import { contextFor, emit } from '../context.js';

export function registerAssess(program: Command): void {
  const cmd = new Command('assess')
    .description(
      'one-screen assessment of a live Prometheus: version, upgrade path, flags, storage, remote read/write, targets, rules, findings',
    )
    .option('--endpoint <name>', 'endpoint name in stackshift.yaml', 'prometheus')
    .option('--data-dir <dir>', 'Prometheus data dir on this machine, for TSDB size and free disk')
    .option('--to <version>', 'target version for the upgrade path (default: latest LTS)')
    .option(
      '--fail-on <severity>',
      'exit 1 when a finding at or above this severity exists: critical | warning | info | never',
      'critical',
    );
  addEndpointOptions(cmd, 'prometheus', 'Prometheus');
  cmd.addHelpText(
    'after',
    `
Examples:
  stackshift assess --prometheus-url http://prom:9090
  stackshift assess --prometheus-url http://prom:9090 --data-dir /var/lib/prometheus --to 3.5.0
  stackshift assess --endpoint prometheus --output json > assessment.json
  PROM_TOKEN=... stackshift assess --prometheus-url https://prom --prometheus-bearer-token-env PROM_TOKEN`,
  );
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const failOn = String(opts.failOn);
    if (!['critical', 'warning', 'info', 'never'].includes(failOn))
      throw new UsageError(`--fail-on must be critical, warning, info or never (got "${failOn}")`);
    if (opts.to && !parseVersion(String(opts.to)))
      throw new UsageError(`--to "${opts.to}" is not a version such as 3.5.0`);
    if (opts.dataDir && !existsSync(String(opts.dataDir)))
      throw new UsageError(`--data-dir ${opts.dataDir} does not exist`);
    const client = prometheusClient(opts, ctx.loaded);
    try {
      const a = await collectAssessment(client, {
        dataDir: opts.dataDir as string | undefined,
        targetVersion: opts.to as string | undefined,
      });
      const rank = { critical: 0, warning: 1, info: 2, never: -1 } as const;
      const limit = rank[failOn as keyof typeof rank];
      const failed = a.findings.some((f) => rank[f.severity] <= limit);
      emit(
        {
          document: a,
          text: () => renderAssessmentText(a),
          markdown: () => renderAssessmentMarkdown(a),
          exitCode: failed ? 1 : 0,
        },
        ctx.format,
      );
    } finally {
      await client.close();
    }
  });
  program.addCommand(cmd);
}
