// Why one file of about 420 lines: the seven migrate verbs share the file/state options and the engine set-up; each
// verb is its flags and one engine call.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import {
  buildReport,
  DEFAULT_MIGRATION_FILE,
  initMigrationText,
  loadMigrationFile,
  MigrationEngine,
  renderReportHtml,
  renderReportMarkdown,
  renderStatusText,
  type InitEndpoint,
  type MigrationReportDoc,
  type RunSummary,
} from '../../migrate/index.js';
import { log } from '../../log/index.js';
import { DEFAULT_LISTEN, parseListen, StatusServer } from '../../serve/index.js';
import { contextFor, emit, statePath, type CliContext } from '../context.js';
import { collect, intFlag } from '../parse.js';

type Opts = Record<string, unknown>;

function fileOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'migration file', DEFAULT_MIGRATION_FILE)
    .option(
      '--state <file>',
      'SQLite state of the migration (default: <state.dir>/migrate.db or .stackshift/migrate.db)',
    );
}

function open(ctx: CliContext, opts: Opts): MigrationEngine {
  const plan = loadMigrationFile(String(opts.file), Object.keys(ctx.loaded.config.endpoints ?? {}));
  return new MigrationEngine({ plan, loaded: ctx.loaded, statePath: statePath(opts, ctx.loaded, 'migrate.db') });
}

function reportOf(engine: MigrationEngine): MigrationReportDoc {
  return buildReport(engine.plan, engine.statePath, engine.state.steps(), engine.state.events());
}

function runText(s: RunSummary, status: MigrationReportDoc): string {
  const head = {
    complete: 'every selected step is done',
    until: `stopped after ${s.ran[s.ran.length - 1]} (--until)`,
    waiting: `waiting until ${s.waitingUntil ? new Date(s.waitingUntil).toISOString() : '?'}: run again after that to go on`,
    'gate-failed': `gate failed at ${s.failedStep}: the phase stopped`,
    error: `${s.failedStep} failed: ${s.error}`,
  }[s.outcome];
  const lines = [
    `migrate run: ${head}`,
    `  ran: ${s.ran.join(', ') || 'nothing'}; already done: ${s.skipped.join(', ') || 'nothing'}`,
  ];
  for (const g of s.gates ?? [])
    lines.push(`  ${g.passed ? 'ok  ' : 'FAIL'} ${g.gate}: measured ${g.actual ?? 'nothing'}`);
  if (s.rolledBack.length) lines.push(`  rolled back (reverse order): ${s.rolledBack.join(', ')}`);
  return lines.join('\n') + '\n\n' + renderStatusText(status);
}

const ENDPOINT_FLAGS: Array<[string, string, string, string?]> = [
  ['prometheus', 'Prometheus (source of metrics)', 'prometheus'],
  ['mimir', 'Mimir (target of metrics; API and remote write under it)', 'mimir'],
  ['mimir-push', 'Mimir distributor, when writes go elsewhere than the API (push or write URL)', 'mimir'],
  ['mimir-ruler', 'Mimir ruler API, when not under the Mimir URL', 'mimir'],
  ['grafana', 'Grafana whose dashboards move to Mimir', 'grafana'],
  ['jaeger', 'Jaeger query (source of traces)', 'jaeger'],
  ['tempo', 'Tempo query (traces read back and verified)', 'tempo'],
  ['tempo-otlp', 'Tempo OTLP/HTTP receiver (distributor :4318)', 'tempo'],
  ['jaeger-otlp', 'legacy Jaeger OTLP receiver (the dual collector exports there too)', 'jaeger'],
  ['loki', 'current Loki', 'loki'],
  ['new-loki', 'new Loki of the LGTM stack', 'loki'],
];

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

export function registerMigrate(program: Command): void {
  const area = new Command('migrate').description(
    'run a phased migration (Prometheus + Jaeger + Loki -> LGTM) from a plan file: durable state, gates, resume, rollback, report',
  );

  const init = new Command('init')
    .description(
      "write the runbook's default plan (foundation and dual collection -> Mimir and backfill -> Grafana -> cut-over -> decommission) for the endpoints given",
    )
    .option('-f, --file <path>', 'migration file to write', DEFAULT_MIGRATION_FILE)
    .option('--name <name>', 'migration name', 'lgtm-migration')
    .option('--force', 'overwrite an existing file')
    .option('--from-datasource <name|uid>', 'Grafana datasource dashboards move away from', 'Prometheus')
    .option('--to-datasource <name|uid>', 'Grafana datasource dashboards move to', 'Mimir')
    .option('--tempo-datasource <name|uid>', 'Tempo datasource for exemplar links on the migrated dashboards')
    .option('--metrics-history <duration>', 'metric history to copy and verify', '30d')
    .option('--traces-history <duration>', 'trace history to copy and verify', '7d')
    .option('--logs-history <duration>', 'log history to copy and verify', '14d')
    .option('--parallel-run <duration>', 'parallel run of both stacks before decommissioning', '7d')
    .option(
      '--match <selector>',
      'series the metrics steps copy and verify (repeatable; default every series)',
      collect,
    )
    .option('--prometheus-config <file>', 'live prometheus.yml the foundation phase adds the Mimir remote_write to')
    .option(
      '--collector-config <file>',
      'OpenTelemetry Collector config the foundation phase writes (needs --tempo-otlp-url)',
    )
    .option('--reload', 'reload Prometheus (POST /-/reload) after its config changes or is rolled back')
    .option(
      '--rules <path>',
      'rule files, directories or globs the cut-over syncs to the Mimir ruler (repeatable)',
      collect,
    )
    .option(
      '--no-alerts-verify',
      'leave out the alert parity check before the parallel run (planned when --rules or --mimir-ruler-url is given)',
    )
    .option('--alerts-window <duration>', 'how long the alert parity check polls both sides', '10m')
    .option(
      '--no-verify-correlations',
      'leave out the exemplar and log-line link check after the dashboards (planned when Grafana and Tempo are given)',
    );
  for (const [name, label] of ENDPOINT_FLAGS) init.option(`--${name}-url <url>`, `${label} URL`);
  init
    .option('--mimir-tenant <id>', 'Mimir tenant (X-Scope-OrgID)')
    .option('--tempo-tenant <id>', 'Tempo tenant (X-Scope-OrgID)');
  init.addHelpText(
    'after',
    `
Examples:
  stackshift migrate init --prometheus-url http://prometheus:9090 --mimir-url http://mimir:8080 --mimir-tenant pyairtable --grafana-url http://grafana:3000
  stackshift migrate init --prometheus-url http://prometheus:9090 --mimir-url http://mimir:8080 --prometheus-config /etc/prometheus/prometheus.yml --reload --rules rules/
  stackshift migrate init          # endpoints from stackshift.yaml (prometheus, mimir, mimir-push, mimir-ruler, grafana, jaeger, jaeger-otlp, tempo, tempo-otlp, loki, new-loki)
Credentials are never written to the plan: keep them in stackshift.yaml under the same endpoint names.`,
  );
  init.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const file = resolve(String(opts.file));
    if (existsSync(file) && !opts.force)
      throw new UsageError(`${file} exists`, 'pass --force to overwrite it, or --file <other path>');
    const endpoints: Record<string, InitEndpoint> = {};
    for (const [name, , type] of ENDPOINT_FLAGS) {
      const url = opts[camel(`${name}-url`)] as string | undefined;
      if (!url) continue;
      try {
        const u = new URL(url);
        if (u.username || u.password)
          throw new UsageError(
            `--${name}-url carries credentials`,
            'keep credentials in stackshift.yaml (bearer_token_file, basic_auth.password_file); the plan holds URLs only',
          );
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`--${name}-url "${url}" is not a URL`, 'for example http://prometheus:9090');
      }
      const tenant = name.startsWith('mimir')
        ? opts.mimirTenant
        : name === 'tempo' || name === 'tempo-otlp'
          ? opts.tempoTenant
          : undefined;
      endpoints[name] = { url, ...(tenant ? { tenant: String(tenant) } : {}), ...(name !== type ? { type } : {}) };
    }
    const text = initMigrationText({
      name: String(opts.name),
      endpoints,
      configured: Object.keys(ctx.loaded.config.endpoints ?? {}),
      fromDatasource: String(opts.fromDatasource),
      toDatasource: String(opts.toDatasource),
      tempoDatasource: opts.tempoDatasource as string | undefined,
      metricsHistory: String(opts.metricsHistory),
      tracesHistory: String(opts.tracesHistory),
      logsHistory: String(opts.logsHistory),
      parallelRun: String(opts.parallelRun),
      metricsMatch: opts.match as string[] | undefined,
      prometheusConfig: opts.prometheusConfig as string | undefined,
      collectorConfig: opts.collectorConfig as string | undefined,
      reload: Boolean(opts.reload),
      rules: opts.rules as string[] | undefined,
      alertsVerify: opts.alertsVerify !== false,
      alertsWindow: String(opts.alertsWindow),
      correlations: opts.verifyCorrelations !== false,
    });
    writeFileAtomic(file, text);
    emit(
      {
        document: { file, written: true },
        text: () => `wrote ${file}\nnext: stackshift migrate plan --file ${String(opts.file)}\n`,
        exitCode: 0,
      },
      ctx.format,
    );
  });

  const plan = fileOptions(
    new Command('plan').description(
      'show what every step would do: commands, gates, rollback, and where the state stands',
    ),
  );
  plan.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const engine = open(ctx, opts);
    try {
      const steps = engine.describe();
      const doc = {
        kind: 'stackshift.migrate.plan',
        steps: steps.map((d) => ({
          phase: d.step.phase,
          id: d.step.id,
          kind: d.step.kind,
          title: d.step.title,
          status: d.row?.status ?? 'pending',
          ...d.plan,
        })),
      };
      const text = () => {
        const out: string[] = [];
        let phase = 0;
        for (const d of doc.steps) {
          if (d.phase !== phase) {
            phase = d.phase;
            out.push(`Phase ${phase}`);
          }
          out.push(`  ${d.id} [${d.kind}, ${d.status}]: ${d.title}`, `    does:     ${d.summary}`);
          for (const c of d.commands) out.push(`    command:  ${c}`);
          if (d.gates.length) out.push(`    gates:    ${d.gates.join('; ')}`);
          out.push(`    rollback: ${d.rollback}`);
        }
        return out.join('\n') + '\n';
      };
      emit({ document: doc, text, exitCode: 0 }, ctx.format);
    } finally {
      engine.close();
    }
  });

  const run = fileOptions(
    new Command('run').description(
      'carry out the plan from where it stopped: done steps are never repeated; a failed gate stops the phase (exit 1)',
    ),
  )
    .option('--phase <n>', 'run only this phase (earlier phases must be done)')
    .option('--until <step>', 'stop after this step')
    .option('--auto-rollback', "when a gate fails (or a step errs), roll back that phase's steps in reverse order")
    .option(
      '--ui',
      'serve the live status page (as migrate serve: page, /events, /api/state, /metrics) while the run goes on; its URL on stderr; it stops with the run',
    )
    .option('--ui-listen <host:port>', 'address of the --ui page (a bare port is loopback)', DEFAULT_LISTEN);
  run.addHelpText(
    'after',
    `
Examples:
  stackshift migrate run
  stackshift migrate run --phase 2 --auto-rollback
  stackshift migrate run --until dashboards-migrate
One run per state file at a time: a second is refused (exit 2). After kill -9, run again: it resumes.
Exit codes: 0 done, stopped at --until or waiting, 1 a gate failed, 2 usage or runtime error.`,
  );
  run.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const listen = opts.ui ? parseListen(String(opts.uiListen)) : undefined;
    const engine = open(ctx, opts);
    let ui: StatusServer | undefined;
    try {
      if (listen) {
        if (!listen.loopback)
          log.warn(
            `--ui-listen ${listen.host}:${listen.port} reaches beyond this machine: the page and /metrics have no authentication`,
          );
        // the engine has created the state file: the server reads it read-only, beside the run's writes
        const names = new Map(engine.plan.phases.map((ph) => [ph.index, ph.name]));
        ui = new StatusServer({ statePath: engine.statePath, listen, phaseNames: (i) => names.get(i) });
        process.stderr.write(`migrate run: live status page ${await ui.start()} (stops when the run ends)\n`);
      }
      const summary = await engine.run({
        phase: opts.phase === undefined ? undefined : intFlag('phase', opts.phase, 1, 1000),
        until: opts.until as string | undefined,
        autoRollback: Boolean(opts.autoRollback),
      });
      const status = reportOf(engine);
      const { steps: _s, ...rest } = summary;
      const code = summary.outcome === 'gate-failed' ? 1 : summary.outcome === 'error' ? 2 : 0;
      emit(
        {
          document: { ...rest, status: { ...status, events: undefined } },
          text: () => runText(summary, status),
          exitCode: code,
        },
        ctx.format,
      );
      if (summary.outcome === 'error') process.stderr.write(`error: step ${summary.failedStep}: ${summary.error}\n`);
    } finally {
      if (ui) {
        // the last state goes out to open pages before the server goes
        ui.tick();
        await ui.stop();
      }
      engine.close();
    }
  });

  const status = fileOptions(new Command('status').description('where every phase and step stands, with gate figures'));
  status.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const engine = open(ctx, opts);
    try {
      const r = reportOf(engine);
      emit(
        { document: r, text: () => renderStatusText(r), markdown: () => renderReportMarkdown(r), exitCode: 0 },
        ctx.format,
      );
    } finally {
      engine.close();
    }
  });

  const rollback = fileOptions(
    new Command('rollback').description(
      'undo steps in reverse order: every phase after --to (default: all); dashboards come back from their backups',
    ),
  )
    .option('--to <phase>', 'keep phases up to this one (0: roll back everything)', '0')
    .option(
      '--force',
      'roll back even what others changed since a step ran (a rule group edited in Mimir after rules-sync): their edits are lost',
    );
  rollback.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const engine = open(ctx, opts);
    try {
      const r = await engine.rollback(intFlag('to', opts.to, 0, 1000), { force: Boolean(opts.force) });
      const st = reportOf(engine);
      emit(
        {
          document: { rolledBack: r.rolledBack, status: { ...st, events: undefined } },
          text: () =>
            `migrate rollback: ${r.rolledBack.length ? `rolled back ${r.rolledBack.join(', ')}` : 'nothing to roll back'}\n\n${renderStatusText(st)}`,
          exitCode: 0,
        },
        ctx.format,
      );
    } finally {
      engine.close();
    }
  });

  const report = fileOptions(
    new Command('report').description(
      'write the migration report: JSON, Markdown and one self-contained HTML file (inline SVG charts)',
    ),
  ).option('--out-dir <dir>', 'directory for migration-report.{json,md,html}', '.');
  report.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const engine = open(ctx, opts);
    try {
      const r = reportOf(engine);
      const dir = resolve(String(opts.outDir));
      const files = {
        json: join(dir, 'migration-report.json'),
        markdown: join(dir, 'migration-report.md'),
        html: join(dir, 'migration-report.html'),
      };
      writeFileAtomic(files.json, JSON.stringify(r, null, 2) + '\n');
      writeFileAtomic(files.markdown, renderReportMarkdown(r));
      writeFileAtomic(files.html, renderReportHtml(r));
      emit(
        {
          document: { files, status: r.status },
          text: () => `wrote ${files.json}\nwrote ${files.markdown}\nwrote ${files.html}\n`,
          exitCode: 0,
        },
        ctx.format,
      );
    } finally {
      engine.close();
    }
  });

  const serve = new Command('serve')
    .description(
      'a live page of the migration (steps with progress and ETA, gates, recent events; server-sent events), its state as JSON and /metrics for Prometheus; reads the state file read-only',
    )
    .option(
      '--state <file>',
      'SQLite state of the migration (default: <state.dir>/migrate.db or .stackshift/migrate.db); it may not exist yet',
    )
    .option('-f, --file <path>', 'migration file for the phase names (default: the one the state names)')
    .option(
      '--listen <host:port>',
      'address to listen on; a bare port is loopback; any other than loopback is served with a warning (no auth)',
      DEFAULT_LISTEN,
    );
  serve.addHelpText(
    'after',
    `
Examples:
  stackshift migrate serve --listen 127.0.0.1:9466 &   # then: stackshift migrate run
  stackshift migrate serve --state /var/lib/stackshift/migrate.db --listen 0.0.0.0:9466
Routes: / (the page), /events (text/event-stream), /api/state (JSON), /metrics (Prometheus text format).
It takes no lease and writes nothing: migrate run goes on beside it. Ctrl-C stops it (exit 0).`,
  );
  serve.action(async (opts: Opts, command: Command) => {
    const ctx = contextFor(command);
    const listen = parseListen(String(opts.listen));
    if (!listen.loopback)
      log.warn(
        `listening on ${listen.host}:${listen.port}, beyond this machine: the page and /metrics have no authentication; anyone who reaches the port sees the migration's state`,
      );
    const known = Object.keys(ctx.loaded.config.endpoints ?? {});
    const plans = new Map<string, Map<number, string> | undefined>();
    const phaseNames = (index: number, recorded: string | undefined) => {
      const file = (opts.file as string | undefined) ?? recorded;
      if (!file) return undefined;
      if (!plans.has(file)) {
        try {
          const p = loadMigrationFile(file, known);
          plans.set(file, new Map(p.phases.map((ph) => [ph.index, ph.name])));
        } catch (e) {
          log.warn(`phase names: ${(e as Error).message}; the page numbers the phases instead`);
          plans.set(file, undefined);
        }
      }
      return plans.get(file)?.get(index);
    };
    const state = statePath(opts, ctx.loaded, 'migrate.db');
    const server = new StatusServer({ statePath: state, listen, phaseNames });
    const url = await server.start();
    emit(
      {
        document: { url, state, listen: `${listen.host}:${listen.port}`, loopback: listen.loopback },
        text: () => `serving ${url} (state ${state}); Ctrl-C stops it\n`,
        exitCode: 0,
      },
      ctx.format,
    );
    if (!server.status.available) log.info(`${state} does not exist yet: the page shows the run once it starts`);
    // a server has nothing left half done when stopped: Ctrl-C is its normal end, exit 0
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log.info(`${signal}: stopping the status server (the state file was only read)`);
    await server.stop();
    process.exitCode = 0;
  });

  area
    .addCommand(init)
    .addCommand(plan)
    .addCommand(run)
    .addCommand(status)
    .addCommand(rollback)
    .addCommand(report)
    .addCommand(serve);
  program.addCommand(area);
}
