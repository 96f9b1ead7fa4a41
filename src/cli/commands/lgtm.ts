// Why one file of about 500 lines: the lgtm area's commands (config, datasources apply|restore) and the correlations
// command share the endpoint resolution and trace-store choice defined at the top; each command is only flags and a
// call into src/lgtm.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { GrafanaClient, JaegerClient, LokiClient, PrometheusClient, TempoClient } from '../../clients/index.js';
import { resolveEndpoint, type LoadedConfig, type ResolvedEndpoint } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { HttpClient } from '../../http/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import {
  applyDatasources,
  readDesiredDatasources,
  renderDatasourcesText,
  restoreDatasources,
  correlationsFromProvisioning,
  generateLgtmConfig,
  renderCorrelationsMarkdown,
  type ProvisionedCorrelations,
  renderCorrelationsText,
  renderLgtmConfigText,
  verifyCorrelations,
} from '../../lgtm/index.js';
import { JaegerStore, TempoStore, type TraceStore } from '../../traces/index.js';
import {
  collect,
  durationFlag,
  intFlag,
  keyValueFlag,
  percentFlag,
  positiveNumberFlag,
  timeRangeFlags,
} from '../parse.js';
import { addEndpointOptions, addPrometheusOptions, endpointFlags, prometheusClient } from '../endpoint-options.js';
import { contextFor, emit } from '../context.js';

/** An endpoint of the role when its URL is given (flag or stackshift.yaml); undefined otherwise. */
export function optionalEndpoint(
  loaded: LoadedConfig,
  opts: Record<string, unknown>,
  prefix: string,
  type: 'tempo' | 'loki' | 'jaeger' | 'prometheus' | 'mimir',
  tenant?: string,
): ResolvedEndpoint | undefined {
  const flags = endpointFlags(opts, prefix);
  if (!flags.url && !loaded.config.endpoints?.[prefix]) return undefined;
  if (!flags.tenant && tenant) flags.tenant = tenant;
  return resolveEndpoint(loaded, prefix, flags, type);
}

/** Tempo (preferred) or Jaeger as the store trace IDs are looked up in / span attributes read from. */
export async function openTraceStore(
  tempo: ResolvedEndpoint | undefined,
  jaeger: ResolvedEndpoint | undefined,
  connections: number,
): Promise<TraceStore | undefined> {
  if (tempo) {
    const c = new TempoClient(new HttpClient(tempo, { connections }));
    try {
      return await TempoStore.open(c, { pageLimit: 500 });
    } catch (e) {
      await c.close();
      throw e;
    }
  }
  if (jaeger) {
    const c = new JaegerClient(new HttpClient(jaeger, { connections }));
    try {
      return await JaegerStore.open(c, { raw: true, pageLimit: 500, windowOnGet: true });
    } catch (e) {
      await c.close();
      throw e;
    }
  }
  return undefined;
}

function headroomFlag(v: unknown): number {
  const n = positiveNumberFlag('headroom', v);
  if (n < 1)
    throw new UsageError(
      `--headroom must be at least 1 (got "${v}"): below 1 the queue cannot even keep up with the live rate`,
    );
  return n;
}

export function registerLgtm(program: Command): void {
  const area = new Command('lgtm').description(
    'wire the LGTM stack: configs for the parallel run generated from the live systems and checked by their real tools',
  );

  const config = addPrometheusOptions(
    new Command('config')
      .description(
        'remote_write for Mimir sized from the measured ingestion (merged into prometheus.yml, comments kept), OpenTelemetry Collector dual-export and cut-over configs, Promtail to both Lokis, Grafana datasource provisioning with correlations',
      )
      .option('--out-dir <dir>', 'directory the generated files are written to (atomically)')
      .option(
        '--mimir-url <url>',
        'Mimir base URL (remote_write goes to <url>/api/v1/push; Grafana queries <url>/prometheus)',
      )
      .option('--tenant <id>', 'Mimir/Tempo/Loki tenant, sent as X-Scope-OrgID')
      .option(
        '--prometheus-config <file>',
        'prometheus.yml to merge the remote_write into (merged copy in --out-dir, or in place with --apply)',
      )
      .option(
        '--apply',
        'replace --prometheus-config in place (timestamped backup first) once every --promtool accepts it',
      )
      .option(
        '--promtool <path>',
        'promtool of the running or the next Prometheus version to `check config` the merged file with, repeatable',
        collect,
      )
      .option(
        '--drop-metrics <regex>',
        'metric names (regex) not to send to Mimir (write_relabel_configs drop), repeatable',
        collect,
      )
      .addOption(
        new Option(
          '--exemplars <mode>',
          'send_exemplars: auto (on when the running Prometheus stores exemplars), on, off',
        )
          .choices(['auto', 'on', 'off'])
          .default('auto'),
      )
      .option('--max-samples-per-send <n>', 'samples per remote-write request', '2000')
      .option(
        '--expected-latency <duration>',
        'expected round trip of one push to Mimir (sets sends per second per shard)',
        '250ms',
      )
      .option('--headroom <factor>', 'max_shards over the shards the live rate needs', '3')
      .option(
        '--measure-interval <duration>',
        'when Prometheus does not scrape itself: time between the two reads of its /metrics',
        '10s',
      )
      .option(
        '--jaeger-otlp <url>',
        'Jaeger collector OTLP endpoint for the dual-export collector (host:4317 gRPC, or an http(s) URL for OTLP/HTTP)',
      )
      .option(
        '--tempo-otlp <url>',
        'Tempo distributor OTLP endpoint (host:4317 gRPC, or http://tempo-distributor:4318)',
      )
      .option(
        '--collector-bin <path>',
        'collector binary to validate the collector configs with (otelcol-contrib, or jaeger v2)',
      )
      .addOption(
        new Option(
          '--exporter-names <names>',
          'otlp/otlphttp (legacy, every collector) or otlp_grpc/otlp_http (collector v0.144+)',
        )
          .choices(['legacy', 'new'])
          .default('legacy'),
      )
      .option('--loki-old <url>', 'the old Loki (Promtail client 1)')
      .option('--loki-new <url>', 'the new Loki (Promtail client 2)')
      .option('--loki-old-tenant <id>', 'tenant_id for the old Loki')
      .option('--loki-new-tenant <id>', 'tenant_id for the new Loki (default --tenant)')
      .option('--log-path <glob>', 'files Promtail tails, repeatable (default /var/log/*.log)', collect)
      .option('--grafana-mimir-url <url>', 'Mimir URL as Grafana reaches it (default --mimir-url)')
      .option('--grafana-tempo-url <url>', 'Tempo URL as Grafana reaches it (default --tempo-url)')
      .option('--grafana-loki-url <url>', 'Loki URL as Grafana reaches it (default --loki-url)'),
  );
  addEndpointOptions(config, 'tempo', 'Tempo query (read for span attribute names; the Grafana Tempo datasource)');
  addEndpointOptions(
    config,
    'loki',
    'new Loki query (read for label names and the trace-ID format of log lines; the Grafana Loki datasource)',
  );
  addEndpointOptions(config, 'jaeger', 'Jaeger query (read for span attribute names while Tempo is still empty)');
  config.addHelpText(
    'after',
    `
Examples:
  stackshift lgtm config --prometheus-url http://prometheus:9090 --mimir-url http://mimir:8080 --tenant prod \\
    --prometheus-config /etc/prometheus/prometheus.yml --promtool /usr/bin/promtool --promtool /opt/prometheus-3.8.1/promtool --out-dir lgtm/
  stackshift lgtm config ... --jaeger-otlp jaeger-collector:4317 --tempo-otlp tempo-distributor:4317 --collector-bin /usr/local/bin/jaeger
  stackshift lgtm config ... --loki-old http://loki-old:3100 --loki-new http://loki:3100 --tempo-url http://tempo:3200 --loki-url http://loki:3100
Exit codes: 0 every file generated and accepted by the tools given, 1 a tool (promtool, collector) or the Promtail schema check refused one, 2 usage or runtime error.`,
  );
  config.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (!opts.outDir) throw new UsageError('--out-dir is required', 'for example --out-dir lgtm/');
    if (!opts.mimirUrl)
      throw new UsageError('--mimir-url is required', 'for example --mimir-url http://mimir-nginx.mimir.svc');
    if (opts.apply && !opts.prometheusConfig)
      throw new UsageError('--apply needs --prometheus-config (the file to change)');
    if ((opts.lokiOld === undefined) !== (opts.lokiNew === undefined))
      throw new UsageError('give both --loki-old and --loki-new (Promtail pushes to both)');
    if (opts.jaegerOtlp && !opts.tempoOtlp)
      throw new UsageError('--jaeger-otlp needs --tempo-otlp (the collector exports to both)');
    const tenant = opts.tenant as string | undefined;
    const tempoEp = optionalEndpoint(ctx.loaded, opts, 'tempo', 'tempo', tenant);
    const lokiEp = optionalEndpoint(ctx.loaded, opts, 'loki', 'loki', tenant);
    const jaegerEp = optionalEndpoint(ctx.loaded, opts, 'jaeger', 'jaeger');
    const grafanaTempo = (opts.grafanaTempoUrl as string | undefined) ?? tempoEp?.url;
    const grafanaLoki = (opts.grafanaLokiUrl as string | undefined) ?? lokiEp?.url;
    if ((grafanaTempo === undefined) !== (grafanaLoki === undefined))
      throw new UsageError(
        'the Grafana datasources need both Tempo and Loki: give --tempo-url and --loki-url (or --grafana-tempo-url and --grafana-loki-url)',
      );
    const exemplars = opts.exemplars === 'on' ? true : opts.exemplars === 'off' ? false : undefined;
    const prom = prometheusClient(opts, ctx.loaded);
    const loki = lokiEp ? new LokiClient(lokiEp) : undefined;
    let traces: TraceStore | undefined;
    try {
      traces = await openTraceStore(jaegerEp ? undefined : tempoEp, jaegerEp, 4);
      const report = await generateLgtmConfig({
        outDir: String(opts.outDir),
        prometheus: prom,
        mimirUrl: String(opts.mimirUrl),
        tenant,
        prometheusConfig: opts.prometheusConfig as string | undefined,
        apply: Boolean(opts.apply),
        promtools: opts.promtool as string[] | undefined,
        dropMetrics: opts.dropMetrics as string[] | undefined,
        sendExemplars: exemplars,
        sizing: {
          maxSamplesPerSend: intFlag('max-samples-per-send', opts.maxSamplesPerSend, 1, 1_000_000),
          expectedLatencyMs: durationFlag('expected-latency', opts.expectedLatency, { min: 1 }),
          headroom: headroomFlag(opts.headroom),
        },
        metricsIntervalMs: durationFlag('measure-interval', opts.measureInterval, { min: 1000 }),
        collector: opts.tempoOtlp
          ? {
              jaegerOtlp: opts.jaegerOtlp as string | undefined,
              tempoOtlp: String(opts.tempoOtlp),
              bin: opts.collectorBin as string | undefined,
              exporterNames: opts.exporterNames as 'legacy' | 'new',
            }
          : undefined,
        promtail: opts.lokiOld
          ? {
              oldLoki: String(opts.lokiOld),
              newLoki: String(opts.lokiNew),
              oldTenant: opts.lokiOldTenant as string | undefined,
              newTenant: (opts.lokiNewTenant as string | undefined) ?? tenant,
              paths: opts.logPath as string[] | undefined,
            }
          : undefined,
        datasources:
          grafanaTempo && grafanaLoki
            ? {
                tempoUrl: grafanaTempo,
                lokiUrl: grafanaLoki,
                mimirUrl: opts.grafanaMimirUrl as string | undefined,
                traces,
                loki,
                metrics: prom,
              }
            : undefined,
      });
      emit({ document: report, text: () => renderLgtmConfigText(report), exitCode: report.ok ? 0 : 1 }, ctx.format);
    } finally {
      await Promise.all([prom.close(), loki?.close(), traces?.close()]);
    }
  });
  area.addCommand(config);
  area.addCommand(datasourcesCommand());
  program.addCommand(area);
}

/** The metrics side of `verify correlations`: Mimir (API under /prometheus) or a Prometheus. */
export function metricsClient(loaded: LoadedConfig, opts: Record<string, unknown>): PrometheusClient | undefined {
  const mimir = optionalEndpoint(loaded, opts, 'mimir', 'mimir');
  const prom = optionalEndpoint(loaded, opts, 'prometheus', 'prometheus');
  if (mimir && prom) throw new UsageError('give either --mimir-url or --prometheus-url, not both');
  if (mimir) {
    const url = /\/prometheus\/?$/.test(mimir.url) ? mimir.url : `${mimir.url}/prometheus`;
    return new PrometheusClient({ ...mimir, url });
  }
  return prom ? new PrometheusClient(prom) : undefined;
}

/** `verify correlations` (registered under `verify`). */
export function correlationsCommand(): Command {
  const cmd = new Command('correlations')
    .description(
      'do the links Grafana offers lead somewhere? exemplar trace IDs (query_exemplars) and trace IDs in Loki lines (derived-field regex) looked up in Tempo or Jaeger; percentages and every broken link named',
    )
    .option('--start <time>', 'start of the window: RFC 3339, Unix seconds or a duration back from now (1h)')
    .option('--end <time>', 'end of the window', 'now')
    .option(
      '--exemplar-query <promql>',
      'PromQL whose selectors pick the series whose exemplars are checked',
      '{__name__=~".+"}',
    )
    .option(
      '--exemplar-label <name>',
      'exemplar label holding the trace ID (default: the first named like trace_id, traceID, traceId)',
    )
    .option(
      '--loki-selector <selector>',
      'stream selector of the log lines checked (default: every stream of a label Loki lists)',
    )
    .option(
      '--derived-field-regex <regex>',
      'the Loki derived field matcherRegex (one capture group); default: detected from the lines',
    )
    .option('--max-lines <n>', 'log lines read at most', '20000')
    .option(
      '--datasources <file>',
      'Grafana datasource provisioning (as `lgtm config` writes it): the exemplar label, derived-field regex and tracesToLogsV2 settings are taken from it',
    )
    .option(
      '--traces-to-logs-tag <attr=label>',
      "traces -> logs: span attribute mapped to a Loki label (tracesToLogsV2 tags), repeatable; with --datasources the file's tags are used",
      collect,
    )
    .option('--sample-traces <n>', 'traces followed to their logs (traces -> logs check)', '20')
    .option('--min-linked <percent>', 'exit 1 when either check links fewer trace IDs than this', '100')
    .option('--concurrency <n>', 'trace lookups in flight', '8')
    .option('--examples <n>', 'broken links listed per check', '10')
    .option('--report <file.json>', 'write the JSON report here');
  addEndpointOptions(cmd, 'mimir', 'Mimir (metrics side; API under /prometheus)');
  addEndpointOptions(cmd, 'prometheus', 'Prometheus (metrics side)');
  addEndpointOptions(cmd, 'tempo', 'Tempo query (trace store)');
  addEndpointOptions(cmd, 'jaeger', 'Jaeger query (trace store, before the cut-over)');
  addEndpointOptions(cmd, 'loki', 'Loki query (logs side)');
  cmd.addHelpText(
    'after',
    `
Examples:
  stackshift verify correlations --mimir-url http://mimir:8080 --tempo-url http://tempo:3200 --loki-url http://loki:3100 --start 1h
  stackshift verify correlations --prometheus-url http://prometheus:9090 --jaeger-url http://jaeger:16686 --loki-url http://loki:3100 --loki-tenant prod --start 6h --min-linked 99
Exit codes: 0 every checked link at or above --min-linked, 1 below it, 2 usage or runtime error.`,
  );
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (!opts.start)
      throw new UsageError('--start is required', 'for example --start 1h or --start 2026-01-01T00:00:00Z');
    const { startMs, endMs } = timeRangeFlags(opts.start, opts.end, { now: Date.now() });
    const minLinked = percentFlag('min-linked', opts.minLinked);
    const concurrency = intFlag('concurrency', opts.concurrency, 1, 256);
    const tempo = optionalEndpoint(ctx.loaded, opts, 'tempo', 'tempo');
    const jaeger = optionalEndpoint(ctx.loaded, opts, 'jaeger', 'jaeger');
    if (tempo && jaeger) throw new UsageError('give either --tempo-url or --jaeger-url as the trace store, not both');
    if (!tempo && !jaeger)
      throw new UsageError('no trace store: give --tempo-url http://tempo:3200 or --jaeger-url http://jaeger:16686');
    const metrics = metricsClient(ctx.loaded, opts);
    const lokiEp = optionalEndpoint(ctx.loaded, opts, 'loki', 'loki');
    if (!metrics && !lokiEp)
      throw new UsageError(
        'nothing to check: give --mimir-url or --prometheus-url (exemplars) and/or --loki-url (log lines)',
      );
    let prov: ProvisionedCorrelations = {};
    if (opts.datasources) {
      const f = resolve(String(opts.datasources));
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (e) {
        throw new UsageError(`--datasources ${f}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
      }
      prov = correlationsFromProvisioning(text, f);
    }
    const tagFlags = keyValueFlag('traces-to-logs-tag', opts.tracesToLogsTag, { example: 'service.name=service_name' });
    const tracesToLogs = Object.keys(tagFlags).length
      ? {
          tags: Object.entries(tagFlags).map(([key, value]) => ({ key, value })),
          spanStartShiftMs: -120_000,
          spanEndShiftMs: 120_000,
          filterByTraceID: true,
        }
      : prov.tracesToLogs;
    const loki = lokiEp ? new LokiClient(lokiEp) : undefined;
    let traces: TraceStore | undefined;
    try {
      traces = await openTraceStore(tempo, jaeger, concurrency + 2);
      const report = await verifyCorrelations({
        metrics,
        loki,
        traces: traces!,
        startMs,
        endMs,
        exemplarQuery: String(opts.exemplarQuery),
        exemplarLabel: (opts.exemplarLabel as string | undefined) ?? prov.exemplarLabel,
        lokiSelector: opts.lokiSelector as string | undefined,
        derivedFieldRegex: (opts.derivedFieldRegex as string | undefined) ?? prov.derivedFieldRegex,
        tracesToLogs,
        sampleTraces: intFlag('sample-traces', opts.sampleTraces, 1, 100_000),
        maxLines: intFlag('max-lines', opts.maxLines, 1, 10_000_000),
        minLinked,
        concurrency,
        examples: intFlag('examples', opts.examples, 0, 10_000),
      });
      if (opts.report) writeFileAtomic(String(opts.report), JSON.stringify(report, null, 2) + '\n');
      emit(
        {
          document: report,
          text: () => renderCorrelationsText(report),
          markdown: () => renderCorrelationsMarkdown(report),
          exitCode: report.gate.passed ? 0 : 1,
        },
        ctx.format,
      );
    } finally {
      await Promise.all([metrics?.close(), loki?.close(), traces?.close()]);
    }
  });
  return cmd;
}

function grafanaFor(loaded: LoadedConfig, opts: Record<string, unknown>): GrafanaClient {
  return new GrafanaClient(
    resolveEndpoint(loaded, String(opts.endpoint ?? 'grafana'), endpointFlags(opts, 'grafana'), 'grafana'),
  );
}

/** `lgtm datasources apply|restore`: the provisioning file through Grafana's datasource API, undoable. */
function datasourcesCommand(): Command {
  const group = new Command('datasources').description(
    "the generated Mimir/Tempo/Loki datasources applied through Grafana's datasource API, with a backup and an exact restore",
  );
  const apply = new Command('apply')
    .description(
      'create or update each datasource of the provisioning file by uid (a second apply changes nothing); every datasource is saved before the first write',
    )
    .requiredOption(
      '--datasources <file>',
      'Grafana datasource provisioning file (the grafana-datasources.yaml `lgtm config` writes)',
    )
    .option('--set-default <uid>', "make this datasource of the file Grafana's default (e.g. mimir)")
    .option('--dry-run', 'change nothing; show what would be created or updated, with a diff')
    .option('--diff', 'print the diff also when applying')
    .option(
      '--backup-dir <dir>',
      'where every datasource is saved before the first write (default: stackshift-backup/datasources-<time>)',
    )
    .option('--endpoint <name>', 'Grafana endpoint name in stackshift.yaml', 'grafana');
  addEndpointOptions(apply, 'grafana', 'Grafana');
  apply.addHelpText(
    'after',
    `
Exit codes: 0 applied (or nothing to change); 1 a datasource was refused by Grafana or blocked (read-only, name taken by another uid); 2 bad input.

Examples:
  stackshift lgtm datasources apply --datasources lgtm/grafana-datasources.yaml --grafana-url http://grafana:3000 --grafana-bearer-token-env GRAFANA_TOKEN --dry-run
  stackshift lgtm datasources apply --datasources lgtm/grafana-datasources.yaml --set-default mimir`,
  );
  apply.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const desired = readDesiredDatasources(resolve(String(opts.datasources)));
    const client = grafanaFor(ctx.loaded, opts);
    try {
      const r = await applyDatasources({
        client,
        desired,
        setDefault: opts.setDefault as string | undefined,
        dryRun: Boolean(opts.dryRun),
        backupDir: opts.backupDir as string | undefined,
      });
      emit(
        { document: r, text: () => renderDatasourcesText(r, { diff: Boolean(opts.diff) }), exitCode: r.exitCode },
        ctx.format,
      );
    } finally {
      await client.close();
    }
  });
  const restore = new Command('restore')
    .description(
      'put back exactly what a backup of `lgtm datasources apply` holds: saved datasources as they were, created ones deleted; the current state is saved first',
    )
    .requiredOption('--from <dir>', 'backup directory (or its datasources.json) that apply printed')
    .option('--dry-run', 'change nothing; show what would be put back, with a diff')
    .option('--diff', 'print the diff also when restoring')
    .option('--backup-dir <dir>', 'where the current state is saved before the restore changes it')
    .option('--endpoint <name>', 'Grafana endpoint name in stackshift.yaml', 'grafana');
  addEndpointOptions(restore, 'grafana', 'Grafana');
  restore.addHelpText(
    'after',
    `
Exit codes: 0 restored (or nothing to put back); 1 Grafana refused a write; 2 bad input.

Examples:
  stackshift lgtm datasources restore --from stackshift-backup/datasources-2026-12-07T17-00-00-000Z --grafana-url http://grafana:3000`,
  );
  restore.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const client = grafanaFor(ctx.loaded, opts);
    try {
      const r = await restoreDatasources({
        client,
        from: String(opts.from),
        dryRun: Boolean(opts.dryRun),
        backupDir: opts.backupDir as string | undefined,
      });
      emit(
        { document: r, text: () => renderDatasourcesText(r, { diff: Boolean(opts.diff) }), exitCode: r.exitCode },
        ctx.format,
      );
    } finally {
      await client.close();
    }
  });
  return group.addCommand(apply).addCommand(restore);
}
