import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseVersion } from '../../compat/index.js';
import { UsageError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import { mdTable } from '../../report/index.js';
import {
  UPGRADE_MIGRATIONS,
  binaryVersion,
  dryRun,
  latestBaseline,
  latestRun,
  localDriver,
  postUpgradeGates,
  renderRunHtml,
  rollbackLastRun,
  runUpgrade,
  kubernetesDriver,
  systemdDriver,
  type ServerDriver,
  type GateResult,
  type RunReport,
} from '../../upgrade/index.js';
import { addPrometheusOptions, withPrometheus } from '../endpoint-options.js';
import { contextFor, emit, statePath, STATE_OPTION_HELP, withState } from '../context.js';
import { durationFlag } from '../parse.js';

function runText(r: RunReport): string {
  const lines = [`upgrade ${r.from} -> ${r.to} of ${r.prometheus}: ${r.status.toUpperCase()} (run ${r.runId})`];
  for (const s of r.steps)
    lines.push(`  ${s.status.padEnd(7)} ${s.step}${s.detail?.error ? `: ${String(s.detail.error)}` : ''}`);
  if (r.replay)
    lines.push(
      `  WAL replay and readiness: ${(r.replay.durationMs / 1000).toFixed(1)} s (${r.replay.points.length} progress points)`,
    );
  for (const g of r.gates ?? []) lines.push(`  gate ${g.passed ? 'PASS' : 'FAIL'} ${g.id}: ${g.detail}`);
  if (r.fill)
    lines.push(
      `  zero gap: ${r.fill.samples} samples of ${r.fill.series} series copied from the shadow scraper into the gap`,
    );
  if (r.gap)
    lines.push(
      `  gap: ${r.gap.targets.length} targets, at most ${r.gap.maxMissedIntervals} scrape interval(s) missed; ${r.gap.targets.map((t) => `${t.instance} ${t.missedIntervals}`).join(', ')}`,
    );
  if (r.rollback) lines.push(`  ROLLED BACK: ${r.rollback.reason}; restored ${r.rollback.restored.join(', ')}`);
  return lines.join('\n');
}

function runMarkdown(r: RunReport): string {
  return [
    `## Upgrade ${r.from} -> ${r.to}: ${r.status}`,
    '',
    mdTable(
      ['Step', 'Status', 'Started', 'Finished'],
      r.steps.map((s) => [s.step, s.status, s.startedAt, s.finishedAt ?? '']),
    ),
    '',
    ...(r.gates
      ? [
          mdTable(
            ['Gate', 'Passed', 'Detail'],
            r.gates.map((g) => [g.id, g.passed ? 'yes' : 'NO', g.detail]),
          ),
          '',
        ]
      : []),
    ...(r.gap
      ? [
          mdTable(
            ['Target', 'Interval', 'Missed intervals', 'Gap (s)'],
            r.gap.targets.map((t) => [
              `${t.job}/${t.instance}`,
              `${t.intervalMs} ms`,
              String(t.missedIntervals),
              (t.gapMs / 1000).toFixed(1),
            ]),
          ),
          '',
        ]
      : []),
    ...(r.rollback ? [`**Rolled back:** ${r.rollback.reason}`, ''] : []),
  ].join('\n');
}

const UNIT_HELP =
  'local driver: the args file the server runs from (line 1 the binary, then one flag per line); systemd driver: the unit (prometheus.service); kubernetes driver: statefulset/<name>, deployment/<name> or prometheus/<name> (a Prometheus Operator resource)';

function driverOption(): Option {
  return new Option(
    '--driver <kind>',
    "how the server is stopped, started and pointed at a binary: local (an args file run by stackshift), systemd (systemctl, the unit file's ExecStart) or kubernetes (kubectl patch of the image, rollout status)",
  )
    .choices(['local', 'systemd', 'kubernetes'])
    .default('local');
}

/** The kubernetes driver's flags, on every command that takes --driver. */
function addKubernetesOptions(cmd: Command): Command {
  return cmd
    .option('--namespace <ns>', 'kubernetes driver: the namespace of the resource', 'default')
    .option('--context <name>', "kubernetes driver: the kubeconfig context (default: kubectl's current one)")
    .option('--kubectl <path>', 'kubernetes driver: the kubectl to run', 'kubectl')
    .option(
      '--container <name>',
      'kubernetes driver: the Prometheus container of a StatefulSet/Deployment (default: prometheus, or the only one)',
    );
}

function driverFor(opts: Record<string, unknown>, backupDir: string, rolloutTimeoutMs?: number): ServerDriver {
  if (opts.driver === 'kubernetes')
    return kubernetesDriver(String(opts.unit), {
      kubectl: String(opts.kubectl ?? 'kubectl'),
      namespace: String(opts.namespace ?? 'default'),
      context: opts.context ? String(opts.context) : undefined,
      container: opts.container ? String(opts.container) : undefined,
      rolloutTimeoutMs,
      backupDir,
    });
  return opts.driver === 'systemd' ? systemdDriver(String(opts.unit)) : localDriver(String(opts.unit));
}

/** --data-dir is needed where the server's files are on this host (local, systemd). */
function checkDataDir(opts: Record<string, unknown>, required: boolean): void {
  if (opts.dataDir === undefined) {
    if (required && opts.driver !== 'kubernetes')
      throw new UsageError(
        `--data-dir is required with --driver ${String(opts.driver)}`,
        "give the server's data dir on this machine",
      );
    return;
  }
  if (!existsSync(String(opts.dataDir))) throw new UsageError(`--data-dir ${opts.dataDir} does not exist`);
}

export function registerUpgradeRun(area: Command): void {
  const run = new Command('run')
    .description(
      "run one upgrade stage (2.x -> 2.55.x, or 2.55.x -> 3.x): snapshot, preflight, the stage's fixes, stop, install, start, WAL replay, gates against the baseline, gap measured; resumable after kill -9; a failed gate rolls back",
    )
    .requiredOption('--to <version>', 'the release of this stage: 2.55.1, or a 3.x release from 2.55.x')
    .requiredOption(
      '--binary <path>',
      "the new release's prometheus binary (its promtool beside it checks the config); kubernetes driver: its image",
    )
    .requiredOption('--unit <file|name>', UNIT_HELP)
    .addOption(driverOption())
    .option(
      '--data-dir <dir>',
      "the server's data dir on this machine (snapshot, disk check); not with the kubernetes driver, whose snapshot is copied out with kubectl cp",
    )
    .option(
      '--zero-gap',
      "fill the restart's scrape gap from a shadow scraper (needs --web.enable-remote-write-receiver and an out_of_order_time_window on the server)",
    )
    .option('--no-fixes', "do not apply the stage's config/flag/rule fixes (the gates then show what breaks)")
    .option('--no-auto-rollback', 'on a failed gate, stop and leave the new binary running for inspection')
    .option('--ready-timeout <duration>', 'how long WAL replay and readiness may take', '30m')
    .option('--dry-run', 'print every step with its exact commands; change nothing')
    .option(
      '--report <file>',
      'where to write the stage report as JSON (Markdown and HTML beside it; default: upgrade-run-<id>.json next to the state)',
    )
    .option('--state <file>', STATE_OPTION_HELP);
  addKubernetesOptions(run);
  addPrometheusOptions(run);
  run.addHelpText(
    'after',
    `
Examples:
  stackshift upgrade run --prometheus-url http://127.0.0.1:9090 --to 2.55.1 \\
      --binary /opt/prometheus-2.55.1/prometheus --unit /etc/prometheus/prometheus.args --data-dir /var/lib/prometheus
  stackshift upgrade run ... --to 3.8.1 --binary /opt/prometheus-3.8.1/prometheus --dry-run
  stackshift upgrade run --prometheus-url http://127.0.0.1:9090 --to 3.8.1 --binary /opt/prometheus-3.8.1/prometheus \\
      --driver systemd --unit prometheus.service --data-dir /var/lib/prometheus
  stackshift upgrade run --prometheus-url https://prometheus.example --to 2.55.1 --no-fixes \\
      --binary quay.io/prometheus/prometheus:v2.55.1 --driver kubernetes --unit statefulset/prometheus \\
      --namespace monitoring --context prod --dry-run

Rerun the same command after an interruption: it resumes at the first step not done.
Exit codes: 0 signed off, 1 a gate failed (rolled back unless --no-auto-rollback), 2 usage or runtime error.`,
  );
  run.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (!parseVersion(String(opts.to)))
      throw new UsageError(`--to "${opts.to}" is not a version such as 2.55.1 or 3.8.1`);
    if (opts.driver !== 'kubernetes' && !existsSync(String(opts.binary)))
      throw new UsageError(`--binary ${opts.binary} does not exist`);
    checkDataDir(opts, true);
    const readyTimeoutMs = durationFlag('ready-timeout', opts.readyTimeout);
    const driver = driverFor(opts, dirname(statePath(opts, ctx.loaded)), readyTimeoutMs);
    if (opts.dryRun) {
      const unitBinary = driver.unit().binary;
      const from = (driver.versionOf ? driver.versionOf(unitBinary) : binaryVersion(unitBinary)) ?? '?';
      const steps = dryRun(driver, from, String(opts.to), String(opts.binary));
      emit(
        {
          document: { from, to: opts.to, steps },
          text: () =>
            steps
              .map((s, i) => `${i + 1}. ${s.step}: ${s.does}${s.commands.map((c) => `\n     $ ${c}`).join('')}`)
              .join('\n'),
          markdown: () =>
            mdTable(
              ['Step', 'Does', 'Commands'],
              steps.map((s) => [s.step, s.does, s.commands.join('<br>')]),
            ),
          exitCode: 0,
        },
        ctx.format,
      );
      return;
    }
    const r = await withPrometheus(opts, ctx.loaded, (client) =>
      withState(opts, ctx.loaded, UPGRADE_MIGRATIONS, (db) =>
        runUpgrade({
          client,
          driver,
          state: db,
          to: String(opts.to),
          binary: String(opts.binary),
          dataDir: opts.dataDir === undefined ? undefined : String(opts.dataDir),
          fixes: opts.fixes !== false,
          autoRollback: opts.autoRollback !== false,
          readyTimeoutMs,
          zeroGap: Boolean(opts.zeroGap),
          workDir: dirname(statePath(opts, ctx.loaded)),
        }),
      ),
    );
    const reportFile = opts.report
      ? String(opts.report)
      : join(dirname(statePath(opts, ctx.loaded)), `upgrade-run-${r.runId}.json`);
    writeFileAtomic(reportFile, JSON.stringify(r, null, 2) + '\n');
    writeFileAtomic(reportFile.replace(/\.json$/, '') + '.md', runMarkdown(r) + '\n');
    writeFileAtomic(reportFile.replace(/\.json$/, '') + '.html', renderRunHtml(r));
    emit(
      {
        document: r,
        text: () => runText(r),
        markdown: () => runMarkdown(r),
        exitCode: r.status === 'signed-off' ? 0 : 1,
      },
      ctx.format,
    );
  });
  area.addCommand(run);

  const verify = new Command('verify')
    .description(
      'the post-upgrade comparison against the preflight baseline: version, targets up, rule health, series per metric name before the stop, unknown feature flags',
    )
    .requiredOption('--to <version>', 'the release the server should now run')
    .option('--unit <file|name>', `${UNIT_HELP} (its log tells which --enable-feature tokens were ignored)`)
    .addOption(driverOption())
    .option('--state <file>', STATE_OPTION_HELP);
  addKubernetesOptions(verify);
  addPrometheusOptions(verify);
  verify.addHelpText(
    'after',
    `
Examples:
  stackshift upgrade verify --prometheus-url http://127.0.0.1:9090 --to 3.8.1

Exit codes: 0 every gate passed, 1 a gate failed, 2 usage or runtime error (no baseline: run preflight first).`,
  );
  verify.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const gates: GateResult[] = await withPrometheus(opts, ctx.loaded, (client) =>
      withState(opts, ctx.loaded, UPGRADE_MIGRATIONS, async (db) => {
        const last = latestRun(db, client.url);
        const pre = last
          ? (
              db.prepare("SELECT detail FROM upgrade_steps WHERE run_id = ? AND step = 'preflight'").get(last.id) as
                { detail?: string } | undefined
            )?.detail
          : undefined;
        const baseline = pre
          ? JSON.parse(pre)
          : (() => {
              const b = latestBaseline(db, client.url);
              if (!b)
                throw new UsageError(
                  `no baseline for ${client.url} in the state`,
                  'run stackshift preflight (or upgrade run) before the upgrade',
                );
              return {
                targetsUp: b.baseline.targets.up,
                unhealthyRules: b.baseline.rules.unhealthyList.map((r) => `${r.group}/${r.name}`),
              };
            })();
        return postUpgradeGates(client, opts.unit ? driverFor(opts, dirname(statePath(opts, ctx.loaded))) : undefined, {
          to: String(opts.to),
          baseline,
        });
      }),
    );
    const ok = gates.every((g) => g.passed);
    emit(
      {
        document: { passed: ok, gates },
        text: () => gates.map((g) => `${g.passed ? 'PASS' : 'FAIL'} ${g.id}: ${g.detail}`).join('\n'),
        markdown: () =>
          mdTable(
            ['Gate', 'Passed', 'Detail'],
            gates.map((g) => [g.id, g.passed ? 'yes' : 'NO', g.detail]),
          ),
        exitCode: ok ? 0 : 1,
      },
      ctx.format,
    );
  });
  area.addCommand(verify);

  const rollback = new Command('rollback')
    .description(
      "back to the previous stage's binary and files (from the backups the run made), refusing a rollback the on-disk formats say loses data unless --accept-loss; proves after it that the data written before is readable",
    )
    .requiredOption('--unit <file|name>', UNIT_HELP)
    .addOption(driverOption())
    .requiredOption(
      '--data-dir <dir>',
      "the server's data dir on this machine (what the old release would have to read)",
    )
    .option('--accept-loss', 'roll back even where the facts say the old release loses data')
    .option('--state <file>', STATE_OPTION_HELP);
  addKubernetesOptions(rollback);
  addPrometheusOptions(rollback);
  rollback.addHelpText(
    'after',
    `
Examples:
  stackshift upgrade rollback --prometheus-url http://127.0.0.1:9090 --unit /etc/prometheus/prometheus.args --data-dir /var/lib/prometheus`,
  );
  rollback.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const driver = driverFor(opts, dirname(statePath(opts, ctx.loaded)));
    const r = await withPrometheus(opts, ctx.loaded, (client) =>
      withState(opts, ctx.loaded, UPGRADE_MIGRATIONS, (state) =>
        rollbackLastRun({
          state,
          driver,
          client,
          dataDir: String(opts.dataDir),
          acceptLoss: Boolean(opts.acceptLoss),
        }),
      ),
    );
    const failed = r.gates.filter((g) => !g.passed);
    emit(
      {
        document: r,
        text: () =>
          `rolled back ${r.from} -> ${r.to}: restored ${r.restored.join(', ')}; ${r.seriesAfter}/${r.seriesBefore} series readable at the same instant${r.lost.length ? `; LOST: ${r.lost.join(', ')}` : ''}; gates ${r.gates.length - failed.length}/${r.gates.length} passed${failed.map((g) => `; FAILED ${g.id}: ${g.detail}`).join('')}`,
        markdown: () =>
          `Rolled back ${r.from} -> ${r.to}; ${r.seriesAfter}/${r.seriesBefore} series readable; gates ${r.gates.length - failed.length}/${r.gates.length} passed.`,
        exitCode: r.lost.length || failed.length ? 1 : 0,
      },
      ctx.format,
    );
  });
  area.addCommand(rollback);
}
