// Why one file of about 410 lines: `lgtm config` is one run that generates each config from the same measurements,
// checks each with its real tool and writes them atomically together; the generators themselves live in their own
// files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { LokiClient, PrometheusClient } from '../clients/index.js';
import { UsageError } from '../errors/index.js';
import { backupFile, writeFileAtomic } from '../fsutil/index.js';
import type { TraceStore } from '../traces/index.js';
import { collectorConfig, validateCollectorConfig, type CollectorValidation } from './collector.js';
import { datasourcesYaml, deriveTagMappings, type TagMapping } from './datasources.js';
import { checkPromtailConfig, promtailConfig, type SchemaProblem } from './promtail.js';
import {
  checkPrometheusYaml,
  measureIngestion,
  mergeRemoteWrite,
  remoteWriteBlock,
  type IngestionMeasurement,
  type MergeResult,
  type QueueSizing,
  type QueueSizingOptions,
} from './remote-write.js';
import { detectTraceIdFormat, type TraceIdFormat } from './trace-ids.js';

/**
 * `lgtm config`: every config the parallel run needs, generated from what the live systems report, checked
 * by the real tool of each system where one is given, written atomically into --out-dir (and, with
 * --apply, merged into the live prometheus.yml after a backup).
 */
export interface LgtmConfigParams {
  outDir: string;
  prometheus: PrometheusClient;
  mimirUrl: string;
  tenant?: string;
  prometheusConfig?: string;
  /** Replace --prometheus-config in place (backed up first) instead of writing the merged copy to outDir. */
  apply?: boolean;
  dropMetrics?: string[];
  sendExemplars?: boolean;
  sizing?: QueueSizingOptions;
  /** promtool binaries to run `check config` on the merged prometheus.yml. */
  promtools?: string[];
  collector?: {
    jaegerOtlp?: string;
    tempoOtlp: string;
    tempoTenant?: string;
    bin?: string;
    exporterNames?: 'legacy' | 'new';
  };
  promtail?: { oldLoki: string; newLoki: string; oldTenant?: string; newTenant?: string; paths?: string[] };
  datasources?: {
    tempoUrl: string;
    lokiUrl: string;
    mimirUrl?: string;
    /** Read for span attribute names (Tempo or Jaeger). */
    traces?: TraceStore;
    /** Read for label names and log lines (trace-ID format). */
    loki?: LokiClient;
    /** Read for label names and exemplar labels (Mimir, or the Prometheus while Mimir is empty). */
    metrics?: PrometheusClient;
    windowMs?: number;
  };
  metricsIntervalMs?: number;
}

export interface WrittenFile {
  path: string;
  what: string;
  backup?: string;
  changed: boolean;
}

export interface PromtoolCheck {
  binary: string;
  version: string;
  ok: boolean;
  output: string;
}

export interface LgtmConfigReport {
  measurement: IngestionMeasurement;
  sizing: QueueSizing;
  remoteWriteUrl: string;
  merge?: MergeResult['action'];
  files: WrittenFile[];
  promtool: PromtoolCheck[];
  collector: Array<{ file: string; validation?: CollectorValidation }>;
  promtail?: { file: string; problems: SchemaProblem[]; checkedBy: string };
  datasources?: {
    file: string;
    logTags: TagMapping[];
    metricTags: TagMapping[];
    exemplarLabel: string;
    traceIdFormat?: TraceIdFormat;
    reasons: string[];
  };
  /** False when a real tool refused a generated file (exit 1). */
  ok: boolean;
}

function write(files: WrittenFile[], path: string, text: string, what: string, backupExisting: boolean): void {
  const exists = existsSync(path);
  const before = exists ? readFileSync(path, 'utf8') : undefined;
  if (before === text) {
    files.push({ path, what, changed: false });
    return;
  }
  const backup = exists && backupExisting ? backupFile(path) : undefined;
  writeFileAtomic(path, text);
  files.push({ path, what, changed: true, backup });
}

/** `promtool check config` on the merged text, from a temp file beside the original so relative paths resolve. */
export function promtoolCheckConfig(bin: string, text: string, besideFile: string): PromtoolCheck {
  const ver = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (ver.error)
    throw new UsageError(
      `--promtool ${bin}: cannot run it (${ver.error.message})`,
      'name a promtool binary of the running or the next Prometheus version',
    );
  const version = /version (\S+)/.exec(`${ver.stdout}${ver.stderr}`)?.[1] ?? 'unknown';
  const tmp = join(dirname(besideFile), `.${basename(besideFile)}.stackshift-check-${process.pid}.yml`);
  writeFileAtomic(tmp, text);
  try {
    const r = spawnSync(bin, ['check', 'config', tmp], { encoding: 'utf8', timeout: 120_000 });
    return {
      binary: bin,
      version,
      ok: r.status === 0,
      output: `${r.stdout ?? ''}${r.stderr ?? ''}`.replaceAll(tmp, besideFile).trim(),
    };
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}

async function spanAttributes(store: TraceStore, startUs: bigint, endUs: bigint, maxTraces = 200): Promise<string[]> {
  const keys = new Set<string>();
  let n = 0;
  for await (const page of store.search(undefined, startUs, endUs)) {
    for (const t of page) {
      for (const s of t.spans) {
        for (const a of s.resource.attributes) keys.add(a.key);
        for (const a of s.attributes) keys.add(a.key);
      }
      if (++n >= maxTraces) break;
    }
    if (n >= maxTraces) break;
  }
  return [...keys].sort();
}

export async function generateLgtmConfig(p: LgtmConfigParams): Promise<LgtmConfigReport> {
  const outDir = resolve(p.outDir);
  mkdirSync(outDir, { recursive: true });
  const files: WrittenFile[] = [];
  let ok = true;

  // a. remote_write (the config is read and parsed before anything is measured: bad input fails fast)
  let configText: string | undefined;
  const src = p.prometheusConfig ? resolve(p.prometheusConfig) : undefined;
  if (src) {
    try {
      configText = readFileSync(src, 'utf8');
    } catch (e) {
      throw new UsageError(`--prometheus-config ${src}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    checkPrometheusYaml(configText, src);
  }
  const measurement = await measureIngestion(p.prometheus, { metricsIntervalMs: p.metricsIntervalMs });
  const block = remoteWriteBlock(measurement, {
    mimirUrl: p.mimirUrl,
    tenant: p.tenant,
    dropMetrics: p.dropMetrics,
    sendExemplars: p.sendExemplars,
    sizing: p.sizing,
  });
  write(
    files,
    join(outDir, 'remote-write.yaml'),
    `remote_write:\n${block.itemText
      .split('\n')
      .map((l) => (l ? `  ${l}` : l))
      .join('\n')}`,
    'remote_write block for Mimir',
    false,
  );
  let merge: MergeResult | undefined;
  const promtool: PromtoolCheck[] = [];
  if (src && configText !== undefined) {
    const text = configText;
    merge = mergeRemoteWrite(text, block, src);
    for (const bin of p.promtools ?? []) {
      const c = promtoolCheckConfig(bin, merge.text, src);
      promtool.push(c);
      if (!c.ok) ok = false;
    }
    if (ok) {
      if (p.apply) {
        if (merge.changed) {
          const backup = backupFile(src);
          writeFileAtomic(src, merge.text);
          files.push({
            path: src,
            what: `prometheus.yml with the Mimir remote_write (${merge.action})`,
            backup,
            changed: true,
          });
        } else files.push({ path: src, what: 'prometheus.yml already holds this remote_write', changed: false });
      } else write(files, join(outDir, 'prometheus.yml'), merge.text, `merged copy of ${src} (${merge.action})`, false);
    }
  }

  // b. collector
  const collector: LgtmConfigReport['collector'] = [];
  if (p.collector) {
    for (const mode of (p.collector.jaegerOtlp ? ['dual', 'cutover'] : ['cutover']) as Array<'dual' | 'cutover'>) {
      const text = collectorConfig({
        mode,
        jaegerOtlp: p.collector.jaegerOtlp,
        tempoOtlp: p.collector.tempoOtlp,
        tempoTenant: p.collector.tempoTenant ?? p.tenant,
        exporterNames: p.collector.exporterNames,
      });
      const file = join(outDir, `collector-${mode}.yaml`);
      write(
        files,
        file,
        text,
        mode === 'dual'
          ? 'OpenTelemetry Collector: traces to Jaeger and Tempo'
          : 'OpenTelemetry Collector: cut-over, traces to Tempo only',
        false,
      );
      const validation = p.collector.bin ? validateCollectorConfig(p.collector.bin, file, text) : undefined;
      if (validation && (!validation.ok || validation.missing.length)) ok = false;
      collector.push({ file, validation });
    }
  }

  // c. promtail
  let promtail: LgtmConfigReport['promtail'];
  if (p.promtail) {
    const text = promtailConfig({ ...p.promtail });
    const file = join(outDir, 'promtail.yaml');
    const problems = checkPromtailConfig(text);
    if (problems.length) ok = false;
    write(files, file, text, 'Promtail: the same lines to the old and the new Loki', false);
    promtail = {
      file,
      problems,
      checkedBy: "structural check against Promtail's documented schema (no Promtail binary here)",
    };
  }

  // d. datasources
  let datasources: LgtmConfigReport['datasources'];
  if (p.datasources) {
    const d = p.datasources;
    const endMs = Date.now();
    const startMs = endMs - (d.windowMs ?? 3_600_000);
    const reasons: string[] = [];
    const attrs = d.traces ? await spanAttributes(d.traces, BigInt(startMs) * 1000n, BigInt(endMs) * 1000n) : undefined;
    if (d.traces)
      reasons.push(
        `span attributes read from ${d.traces.describe}: ${attrs!.length ? attrs!.slice(0, 15).join(', ') : 'none in the last hour'}`,
      );
    let lokiLabels: string[] | undefined;
    let traceIdFormat: TraceIdFormat | undefined;
    if (d.loki) {
      const sNs = BigInt(startMs) * 1_000_000n;
      const eNs = BigInt(endMs) * 1_000_000n;
      lokiLabels = (await d.loki.labels(sNs, eNs)).filter((l) => !l.startsWith('__'));
      const pick = ['service_name', 'job', 'app', 'namespace'].find((l) => lokiLabels!.includes(l)) ?? lokiLabels[0];
      if (pick) {
        const streams = await d.loki.queryStreams({
          query: `{${pick}=~".+"}`,
          startNs: sNs,
          endNs: eNs,
          limit: 2000,
          direction: 'backward',
        });
        traceIdFormat = detectTraceIdFormat(streams.flatMap((s) => s.entries.map((e) => e.line)));
        reasons.push(
          traceIdFormat
            ? `trace-ID format from ${traceIdFormat.scanned} Loki lines: ${traceIdFormat.style} key ${traceIdFormat.key}, ${traceIdFormat.lengths.join('/')} hex digits -> ${traceIdFormat.regex} (${traceIdFormat.matched} lines match)`
            : `no trace ID in ${streams.reduce((a, s) => a + s.entries.length, 0)} Loki lines of the last hour: derived field left at the default regex`,
        );
      }
    }
    let metricLabels: string[] | undefined;
    let exemplarLabel = 'trace_id';
    const metricQueries: Array<{ name: string; query: string }> = [];
    if (d.metrics) {
      metricLabels = (await d.metrics.labels(undefined, startMs, endMs)).filter((l) => l !== '__name__');
      try {
        const ex = await d.metrics.api<Array<{ exemplars: Array<{ labels: Record<string, string> }> }>>(
          '/api/v1/query_exemplars',
          { query: '{__name__=~".+"}', start: startMs / 1000, end: endMs / 1000 },
          { method: 'POST' },
        );
        const names = new Map<string, number>();
        for (const s of ex ?? [])
          for (const e of s.exemplars ?? [])
            for (const k of Object.keys(e.labels ?? {})) if (/trace/i.test(k)) names.set(k, (names.get(k) ?? 0) + 1);
        const best = [...names.entries()].sort((a, b) => b[1] - a[1])[0];
        if (best) {
          exemplarLabel = best[0];
          reasons.push(`exemplar trace-ID label "${best[0]}" seen on ${best[1]} exemplars`);
        } else reasons.push('no exemplars with a trace label in the last hour: exemplar label left at trace_id');
      } catch (e) {
        reasons.push(`exemplars not readable (${(e as Error).message}): exemplar label left at trace_id`);
      }
      const names = await d.metrics.labelValues('__name__', undefined, startMs, endMs).catch(() => [] as string[]);
      const calls = ['traces_spanmetrics_calls_total', 'traces_span_metrics_calls_total', 'calls_total'].find((n) =>
        names.includes(n),
      );
      if (calls) metricQueries.push({ name: 'Request rate', query: `sum(rate(${calls}{$$__tags}[5m]))` });
    }
    const logs = deriveTagMappings(attrs, lokiLabels, 'Loki', 'service_name');
    const metrics = deriveTagMappings(attrs, metricLabels, 'Mimir', 'service');
    reasons.push(
      ...logs.reasons.map((r) => `traces-to-logs: ${r}`),
      ...metrics.reasons.map((r) => `traces-to-metrics: ${r}`),
    );
    const file = join(outDir, 'grafana-datasources.yaml');
    write(
      files,
      file,
      datasourcesYaml(
        {
          mimirUrl: d.mimirUrl ?? p.mimirUrl,
          tempoUrl: d.tempoUrl,
          lokiUrl: d.lokiUrl,
          tenant: p.tenant,
          exemplarLabel,
          logTags: logs.mappings,
          metricTags: metrics.mappings,
          metricQueries,
          traceIdFormat,
        },
        reasons,
      ),
      'Grafana datasource provisioning with correlations',
      false,
    );
    datasources = { file, logTags: logs.mappings, metricTags: metrics.mappings, exemplarLabel, traceIdFormat, reasons };
  }

  return {
    measurement,
    sizing: block.sizing,
    remoteWriteUrl: block.url,
    merge: merge?.action,
    files,
    promtool,
    collector,
    promtail,
    datasources,
    ok,
  };
}

export function renderLgtmConfigText(r: LgtmConfigReport): string {
  const out: string[] = [`remote_write -> ${r.remoteWriteUrl}`];
  for (const a of r.sizing.arithmetic) out.push(`  ${a}`);
  out.push(
    `  queue_config: ${Object.entries(r.sizing.queue)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  if (r.merge) out.push(`  prometheus.yml: ${r.merge}`);
  for (const c of r.promtool)
    out.push(
      `  promtool ${c.version} check config: ${
        c.ok
          ? 'SUCCESS'
          : `FAILED\n${c.output
              .split('\n')
              .map((l) => `    ${l}`)
              .join('\n')}`
      }`,
    );
  for (const c of r.collector) {
    out.push(`collector ${c.file}`);
    if (c.validation) {
      out.push(`  ${c.validation.version}: validate ${c.validation.ok ? 'ok' : `FAILED: ${c.validation.output}`}`);
      if (c.validation.missing.length)
        out.push(`  components missing from this build: ${c.validation.missing.join(', ')}`);
    } else out.push('  not validated (give --collector-bin)');
  }
  if (r.promtail) {
    out.push(
      `promtail ${r.promtail.file} (${r.promtail.checkedBy}): ${r.promtail.problems.length ? r.promtail.problems.map((p) => `line ${p.line} ${p.path}: ${p.message}`).join('; ') : 'ok'}`,
    );
  }
  if (r.datasources) {
    out.push(`datasources ${r.datasources.file}`);
    for (const x of r.datasources.reasons) out.push(`  ${x}`);
  }
  out.push('files:');
  for (const f of r.files)
    out.push(`  ${f.changed ? 'wrote' : 'unchanged'} ${f.path} — ${f.what}${f.backup ? ` (backup ${f.backup})` : ''}`);
  out.push(
    r.ok
      ? 'OK'
      : 'FAILED: a real tool or the schema check refused a generated file (see above); the live prometheus.yml was not touched',
  );
  return out.join('\n') + '\n';
}
