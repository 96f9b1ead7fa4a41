import { spawnSync } from 'node:child_process';
import { StackshiftError, UsageError } from '../errors/index.js';

/**
 * OpenTelemetry Collector configs for the Jaeger -> Tempo move (research grafana.md §4.1):
 * - dual: one OTLP entry point (gRPC :4317, HTTP :4318), a batch processor, and one traces pipeline that
 *   fans out to an exporter for Jaeger and one for Tempo (Jaeger takes OTLP natively, the `jaeger` exporter
 *   was removed from the collector in v0.85.0);
 * - cutover: the same entry point exporting to Tempo only.
 * An endpoint on port 4317 (or with scheme grpc://) gets the `otlp` (gRPC) exporter with `host:port`; any
 * other gets `otlphttp` with the URL. The names are the pre-v0.144 ones (`otlp`, `otlphttp`), which every
 * collector accepts (v0.144+ as deprecated aliases of `otlp_grpc`, `otlp_http`); `exporterNames: "new"`
 * writes the new names for collectors that have them.
 */
export type CollectorMode = 'dual' | 'cutover';

export interface CollectorOptions {
  jaegerOtlp?: string;
  tempoOtlp: string;
  /** X-Scope-OrgID on the Tempo exporter. */
  tempoTenant?: string;
  mode: CollectorMode;
  exporterNames?: 'legacy' | 'new';
  /** Listen addresses of the OTLP receiver (default 0.0.0.0:4317 / 0.0.0.0:4318). */
  grpcListen?: string;
  httpListen?: string;
}

interface Exporter {
  kind: 'grpc' | 'http';
  endpoint: string;
  insecure: boolean;
}

export function exporterFor(url: string, flag: string): Exporter {
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`);
  } catch {
    throw new UsageError(`${flag} "${url}" is not a URL`, `for example ${flag} http://tempo-distributor:4317`);
  }
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  if (
    u.protocol === 'grpc:' ||
    u.protocol === 'grpcs:' ||
    (port === '4317' && (u.pathname === '/' || u.pathname === ''))
  ) {
    return {
      kind: 'grpc',
      endpoint: `${u.hostname}:${port === '80' ? '4317' : port}`,
      insecure: u.protocol === 'http:' || u.protocol === 'grpc:',
    };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`${flag} "${url}": scheme must be http, https, grpc or grpcs`);
  return {
    kind: 'http',
    endpoint: `${u.protocol}//${u.host}${u.pathname.replace(/\/v1\/traces\/?$/, '').replace(/\/+$/, '')}`,
    insecure: u.protocol === 'http:',
  };
}

function exporterYaml(name: string, e: Exporter, headers: Record<string, string>): string[] {
  const out = [`  ${name}:`, `    endpoint: ${JSON.stringify(e.endpoint)}`];
  if (e.insecure) out.push('    tls:', '      insecure: true');
  if (Object.keys(headers).length) {
    out.push('    headers:');
    for (const [k, v] of Object.entries(headers)) out.push(`      ${k}: ${JSON.stringify(v)}`);
  }
  return out;
}

export function collectorConfig(o: CollectorOptions): string {
  const names =
    o.exporterNames === 'new' ? { grpc: 'otlp_grpc', http: 'otlp_http' } : { grpc: 'otlp', http: 'otlphttp' };
  const tempo = exporterFor(o.tempoOtlp, '--tempo-otlp');
  const exporters: Array<{ name: string; lines: string[] }> = [];
  if (o.mode === 'dual') {
    if (!o.jaegerOtlp)
      throw new UsageError(
        "the dual-export collector needs --jaeger-otlp (the Jaeger collector's OTLP endpoint, e.g. http://jaeger-collector:4317)",
      );
    const j = exporterFor(o.jaegerOtlp, '--jaeger-otlp');
    const n = `${names[j.kind]}/jaeger`;
    exporters.push({ name: n, lines: exporterYaml(n, j, {}) });
  }
  const tn = `${names[tempo.kind]}/tempo`;
  exporters.push({ name: tn, lines: exporterYaml(tn, tempo, o.tempoTenant ? { 'X-Scope-OrgID': o.tempoTenant } : {}) });
  const head =
    o.mode === 'dual'
      ? '# stackshift lgtm config: traces to both Jaeger and Tempo (parallel run). Cut over with collector-cutover.yaml.'
      : '# stackshift lgtm config: cut-over, traces to Tempo only. Go back to the parallel run with collector-dual.yaml.';
  return [
    head,
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      grpc:',
    `        endpoint: ${JSON.stringify(o.grpcListen ?? '0.0.0.0:4317')}`,
    '      http:',
    `        endpoint: ${JSON.stringify(o.httpListen ?? '0.0.0.0:4318')}`,
    'processors:',
    '  batch: {}',
    'exporters:',
    ...exporters.flatMap((e) => e.lines),
    'service:',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      processors: [batch]',
    `      exporters: [${exporters.map((e) => e.name).join(', ')}]`,
    '',
  ].join('\n');
}

/** The components a config names, by kind ("exporters" -> ["otlp", "otlphttp"]), type part only. */
export function componentsUsed(
  configText: string,
): Record<'receivers' | 'processors' | 'exporters' | 'extensions' | 'connectors', string[]> {
  const out = {
    receivers: [] as string[],
    processors: [] as string[],
    exporters: [] as string[],
    extensions: [] as string[],
    connectors: [] as string[],
  };
  let section: keyof typeof out | undefined;
  for (const line of configText.split('\n')) {
    const top = /^([a-z]+):/.exec(line);
    if (top) {
      section = (top[1] in out ? top[1] : undefined) as keyof typeof out | undefined;
      continue;
    }
    const key = /^  ([A-Za-z0-9_]+)(?:\/[^:]*)?:/.exec(line);
    if (section && key && !out[section].includes(key[1]!)) out[section].push(key[1]!);
  }
  return out;
}

export interface CollectorValidation {
  binary: string;
  version: string;
  ok: boolean;
  output: string;
  /** Components the config names that the binary does not have ("exporters/otlp_grpc"). */
  missing: string[];
  /** What the binary offers, by kind. */
  available: Record<string, string[]>;
}

/**
 * Checks a config with a real collector build: `<bin> validate --config FILE` (the otelcol command every
 * collector distribution, Jaeger v2 included, carries), and `<bin> components` to name any component the
 * config uses that the build lacks.
 */
export function validateCollectorConfig(bin: string, file: string, configText: string): CollectorValidation {
  const comp = spawnSync(bin, ['components'], { encoding: 'utf8', timeout: 30_000 });
  if (comp.error)
    throw new UsageError(
      `--collector-bin ${bin}: cannot run it (${comp.error.message})`,
      'name a collector binary: otelcol-contrib, or jaeger (v2 is a collector distribution)',
    );
  // `components` starts with buildinfo: {command, description, version} (an unstamped build has version "")
  const info = (k: string) =>
    new RegExp(`^\\s+${k}:\\s*"?([^"\\n]*)"?\\s*$`, 'm')
      .exec(/^buildinfo:\n((?:\s+.*\n)*)/m.exec(comp.stdout ?? '')?.[1] ?? '')?.[1]
      ?.trim();
  const version = [
    info('description') || info('command') || bin,
    info('version') || '(version not stamped in this build)',
  ].join(' ');
  const available = parseComponents(`${comp.stdout ?? ''}`);
  const used = componentsUsed(configText);
  const missing: string[] = [];
  if (Object.keys(available).length) {
    for (const [kind, list] of Object.entries(used))
      for (const c of list) if (!(available[kind] ?? []).includes(c)) missing.push(`${kind}/${c}`);
  }
  const r = spawnSync(bin, ['validate', `--config=${file}`], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new StackshiftError('collector', `${bin} validate: ${r.error.message}`);
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { binary: bin, version, ok: r.status === 0, output, missing, available };
}

/** `components` prints YAML with lists of `name:` entries (newer) or bare names (older) per kind. */
export function parseComponents(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let kind: string | undefined;
  for (const line of text.split('\n')) {
    const k = /^(receivers|processors|exporters|extensions|connectors):\s*$/.exec(line);
    if (k) {
      kind = k[1]!;
      out[kind] = [];
      continue;
    }
    if (/^\S/.test(line)) {
      kind = undefined;
      continue;
    }
    if (!kind) continue;
    const m = /^\s*-\s+(?:name:\s+)?([A-Za-z0-9_]+)\s*$/.exec(line);
    if (m) out[kind]!.push(m[1]!);
  }
  return out;
}
