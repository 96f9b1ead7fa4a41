import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { UsageError } from '../errors/index.js';
import { LineIndex } from '../lint/index.js';

/**
 * A Promtail config that ships the same files to the old and the new Loki during the parallel run: two
 * `clients:` (Promtail pushes every batch to each). There is no Promtail binary in this lab, so the result is
 * checked structurally against the documented schema (grafana/loki docs/sources/send-data/promtail/
 * configuration.md: top-level blocks, client_config, positions, scrape_config, static_config) instead of
 * by the real tool. Note from that page: Promtail sends to its clients on one thread, so a Loki that
 * keeps failing with retryable errors delays the other; the backoff is bounded here (max_period 30s,
 * max_retries 10) so the old Loki cannot hold the new one back for the documented 8.5 minutes.
 */
export interface PromtailOptions {
  oldLoki: string;
  newLoki: string;
  oldTenant?: string;
  newTenant?: string;
  /** Files to tail (`__path__` globs), default /var/log/*.log. */
  paths?: string[];
  job?: string;
  /** Extra static labels on every stream (host=..., env=...). */
  labels?: Record<string, string>;
  positionsFile?: string;
  httpListenPort?: number;
}

export function lokiPushUrl(base: string): string {
  const u = base.replace(/\/+$/, '');
  return /\/loki\/api\/v1\/push$/.test(u) ? u : `${u}/loki/api/v1/push`;
}

const q = (s: string) => JSON.stringify(s);

export function promtailConfig(o: PromtailOptions): string {
  const paths = o.paths?.length ? o.paths : ['/var/log/*.log'];
  const job = o.job ?? 'varlogs';
  const client = (url: string, tenant: string | undefined, which: string) => [
    `  - url: ${q(lokiPushUrl(url))}   # ${which}`,
    ...(tenant ? [`    tenant_id: ${q(tenant)}`] : []),
    '    batchwait: 1s',
    '    batchsize: 1048576',
    '    backoff_config:',
    '      min_period: 500ms',
    '      max_period: 30s',
    '      max_retries: 10',
    '    timeout: 10s',
  ];
  const lines = [
    '# stackshift lgtm config: Promtail shipping the same lines to the old and the new Loki (parallel run).',
    '# Promtail sends to its clients one after the other: an unreachable old Loki slows the new one down, so',
    '# drop the old client at cut-over.',
    'server:',
    `  http_listen_port: ${o.httpListenPort ?? 9080}`,
    '  grpc_listen_port: 0',
    'positions:',
    `  filename: ${q(o.positionsFile ?? '/var/lib/promtail/positions.yaml')}`,
    'clients:',
    ...client(o.oldLoki, o.oldTenant, 'old Loki'),
    ...client(o.newLoki, o.newTenant, 'new Loki'),
    'scrape_configs:',
    `  - job_name: ${q(job)}`,
    '    static_configs:',
  ];
  for (const p of paths) {
    lines.push('      - targets: [localhost]', '        labels:', `          job: ${q(job)}`);
    for (const [k, v] of Object.entries(o.labels ?? {})) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k))
        throw new UsageError(`label name "${k}" is not a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)`);
      lines.push(`          ${k}: ${q(v)}`);
    }
    lines.push(`          __path__: ${q(p)}`);
  }
  return lines.join('\n') + '\n';
}

/** Keys the documented schema allows, per block (only the blocks this generator writes are descended into). */
export const PROMTAIL_SCHEMA = {
  top: [
    'global',
    'server',
    'clients',
    'positions',
    'scrape_configs',
    'limits_config',
    'target_config',
    'options',
    'tracing',
  ],
  server: [
    'disable',
    'profiling_enabled',
    'http_listen_address',
    'http_listen_port',
    'grpc_listen_address',
    'grpc_listen_port',
    'register_instrumentation',
    'graceful_shutdown_timeout',
    'http_server_read_timeout',
    'http_server_write_timeout',
    'http_server_idle_timeout',
    'grpc_server_max_recv_msg_size',
    'grpc_server_max_send_msg_size',
    'grpc_server_max_concurrent_streams',
    'log_level',
    'http_path_prefix',
    'health_check_target',
    'enable_runtime_reload',
  ],
  client: [
    'url',
    'headers',
    'tenant_id',
    'batchwait',
    'batchsize',
    'basic_auth',
    'oauth2',
    'bearer_token',
    'bearer_token_file',
    'proxy_url',
    'tls_config',
    'backoff_config',
    'drop_rate_limited_batches',
    'external_labels',
    'timeout',
  ],
  backoff_config: ['min_period', 'max_period', 'max_retries'],
  positions: ['filename', 'sync_period', 'ignore_invalid_yaml'],
  scrape_config: [
    'job_name',
    'pipeline_stages',
    'decompression',
    'journal',
    'encoding',
    'syslog',
    'loki_push_api',
    'windows_events',
    'gcplog',
    'azure_event_hub',
    'kafka',
    'gelf',
    'cloudflare',
    'heroku_drain',
    'relabel_configs',
    'static_configs',
    'file_sd_configs',
    'kubernetes_sd_configs',
    'consul_sd_configs',
    'consulagent_sd_configs',
    'docker_sd_configs',
  ],
  static_config: ['targets', 'labels'],
} as const;

export interface SchemaProblem {
  line: number;
  path: string;
  message: string;
}

/** Checks a Promtail config against PROMTAIL_SCHEMA: unknown keys, missing required keys, wrong shapes. */
export function checkPromtailConfig(text: string): SchemaProblem[] {
  const doc = parseDocument(text);
  const lines = new LineIndex(text);
  const out: SchemaProblem[] = [];
  if (doc.errors.length)
    return [
      { line: lines.position(doc.errors[0]!.pos[0]).line, path: '', message: doc.errors[0]!.message.split('\n')[0]! },
    ];
  const js = doc.toJS() as Record<string, unknown> | null;
  const lineOf = (path: Array<string | number>) => {
    const n = (doc as Document).getIn(path, true) as { range?: number[] } | undefined;
    return n?.range ? lines.position(n.range[0]!).line : 1;
  };
  const keys = (obj: unknown, allowed: readonly string[], path: Array<string | number>) => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      out.push({ line: lineOf(path), path: path.join('.'), message: 'must be a mapping' });
      return;
    }
    for (const k of Object.keys(obj))
      if (!allowed.includes(k))
        out.push({
          line: lineOf([...path, k]),
          path: [...path, k].join('.'),
          message: `unknown key "${k}" (documented: ${allowed.join(', ')})`,
        });
  };
  if (!js || !isMap(doc.contents)) return [{ line: 1, path: '', message: 'a Promtail config is a mapping' }];
  keys(js, PROMTAIL_SCHEMA.top, []);
  if (js.server !== undefined) keys(js.server, PROMTAIL_SCHEMA.server, ['server']);
  if (js.positions !== undefined) keys(js.positions, PROMTAIL_SCHEMA.positions, ['positions']);
  const clients = js.clients;
  if (!Array.isArray(clients) || clients.length === 0)
    out.push({ line: lineOf(['clients']), path: 'clients', message: 'clients must list at least one Loki' });
  else
    clients.forEach((c, i) => {
      keys(c, PROMTAIL_SCHEMA.client, ['clients', i]);
      const url = (c as Record<string, unknown>)?.url;
      if (typeof url !== 'string' || !/^https?:\/\/[^/]+\/.*loki\/api\/v1\/push$/.test(url))
        out.push({
          line: lineOf(['clients', i]),
          path: `clients.${i}.url`,
          message: 'url is required and must include the push path (http://host:3100/loki/api/v1/push)',
        });
      const b = (c as Record<string, unknown>)?.backoff_config;
      if (b !== undefined) keys(b, PROMTAIL_SCHEMA.backoff_config, ['clients', i, 'backoff_config']);
      for (const d of ['batchwait', 'timeout']) {
        const v = (c as Record<string, unknown>)?.[d];
        if (v !== undefined && !/^[0-9]+(ms|[smhdwy])$/.test(String(v)))
          out.push({
            line: lineOf(['clients', i, d]),
            path: `clients.${i}.${d}`,
            message: `${d} must be a duration ([0-9]+(ms|[smhdwy]))`,
          });
      }
    });
  const scs = js.scrape_configs;
  if (!Array.isArray(scs) || !isSeq(doc.get('scrape_configs', true)))
    out.push({ line: lineOf(['scrape_configs']), path: 'scrape_configs', message: 'scrape_configs must be a list' });
  else
    scs.forEach((sc, i) => {
      keys(sc, PROMTAIL_SCHEMA.scrape_config, ['scrape_configs', i]);
      if (typeof (sc as Record<string, unknown>)?.job_name !== 'string')
        out.push({
          line: lineOf(['scrape_configs', i]),
          path: `scrape_configs.${i}.job_name`,
          message: 'job_name is required',
        });
      const st = (sc as Record<string, unknown>)?.static_configs;
      if (Array.isArray(st))
        st.forEach((s, j) => {
          keys(s, PROMTAIL_SCHEMA.static_config, ['scrape_configs', i, 'static_configs', j]);
          const labels = (s as Record<string, unknown>)?.labels as Record<string, unknown> | undefined;
          for (const k of Object.keys(labels ?? {}))
            if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k))
              out.push({
                line: lineOf(['scrape_configs', i, 'static_configs', j, 'labels', k]),
                path: `scrape_configs.${i}.static_configs.${j}.labels.${k}`,
                message: 'not a label name',
              });
          if (!labels || typeof labels.__path__ !== 'string')
            out.push({
              line: lineOf(['scrape_configs', i, 'static_configs', j]),
              path: `scrape_configs.${i}.static_configs.${j}.labels.__path__`,
              message: 'a file target needs labels.__path__ (the glob of files to tail)',
            });
        });
    });
  return out;
}
