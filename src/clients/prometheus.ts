import { StackshiftError } from '../errors/index.js';
import { HttpClient, HttpError, statusError, type Query } from '../http/index.js';
import type { ResolvedEndpoint } from '../config/index.js';

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser?: string;
  buildDate?: string;
  goVersion?: string;
}
export interface RuntimeInfo {
  startTime?: string;
  CWD?: string;
  reloadConfigSuccess?: boolean;
  lastConfigTime?: string;
  corruptionCount?: number;
  goroutineCount?: number;
  GOMAXPROCS?: number;
  GOMEMLIMIT?: number;
  GOGC?: string;
  storageRetention?: string;
  [k: string]: unknown;
}
export interface TsdbStatus {
  headStats: { numSeries: number; numLabelPairs?: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: Array<{ name: string; value: number }>;
  labelValueCountByLabelName: Array<{ name: string; value: number }>;
  memoryInBytesByLabelName: Array<{ name: string; value: number }>;
  seriesCountByLabelValuePair: Array<{ name: string; value: number }>;
}
export interface Target {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval?: string;
  scrapeTimeout?: string;
}
export interface TargetsResponse {
  activeTargets: Target[];
  droppedTargets: Array<{ discoveredLabels: Record<string, string> }>;
}
export interface Rule {
  name: string;
  query: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  type: 'alerting' | 'recording';
  evaluationTime?: number;
  lastEvaluation?: string;
  labels?: Record<string, string>;
  duration?: number;
  state?: string;
}
export interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
  evaluationTime?: number;
  lastEvaluation?: string;
  limit?: number;
}
export interface WalReplayStatus {
  min: number;
  max: number;
  current: number;
}
export type InstantVector = Array<{ metric: Record<string, string>; value: [number, string] }>;
export type RangeMatrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
export type QueryResult =
  | { resultType: 'vector'; result: InstantVector }
  | { resultType: 'matrix'; result: RangeMatrix }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

/** Prometheus answered 503 because it is still starting (TSDB/WAL replay). */
export class NotReadyError extends StackshiftError {
  readonly walReplay?: WalReplayStatus;
  constructor(url: string, walReplay?: WalReplayStatus) {
    // walreplay only has {min,max,current}: current is the last segment loaded, in min..max
    const progress =
      walReplay && walReplay.max > 0
        ? `: replaying its WAL, segment ${walReplay.current} of ${walReplay.min}..${walReplay.max} loaded`
        : '';
    super('not-ready', `Prometheus at ${url} is not ready yet${progress}`, {
      hint: 'wait until /-/ready returns 200 (WAL replay can take minutes on a large head), then run again',
    });
    this.walReplay = walReplay;
  }
}

/**
 * The Prometheus HTTP API (also Mimir's Prometheus-compatible API when given its /prometheus prefix).
 * Every call checks the JSON envelope, so a non-Prometheus server is reported as such rather than as a
 * confusing parse error further on.
 */
export class PrometheusClient {
  readonly http: HttpClient;

  constructor(endpointOrClient: ResolvedEndpoint | HttpClient) {
    this.http = endpointOrClient instanceof HttpClient ? endpointOrClient : new HttpClient(endpointOrClient);
  }

  get url(): string {
    return this.http.endpoint.url;
  }

  async api<T>(
    path: string,
    query?: Query,
    opts: { method?: 'GET' | 'POST'; retries?: number; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const method = opts.method ?? 'GET';
    let res;
    if (method === 'POST' && query) {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined) continue;
        if (Array.isArray(v)) v.forEach((x) => body.append(k, String(x)));
        else body.append(k, String(v));
      }
      res = await this.http.text({
        method,
        path,
        body: body.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
        retries: opts.retries,
        accept: () => true,
        retryStatus: retry503Not,
      });
    } else {
      res = await this.http.text({
        method,
        path,
        query,
        headers: opts.headers,
        retries: opts.retries,
        accept: () => true,
        retryStatus: retry503Not,
      });
    }
    if (res.status === 503) throw new NotReadyError(this.url, await this.walReplay().catch(() => undefined));
    let parsed: { status?: string; data?: T; error?: string; errorType?: string; warnings?: string[] } | undefined;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || (parsed.status !== 'success' && parsed.status !== 'error')) {
      if (res.status >= 400)
        throw statusError(method, { status: res.status, url: `${this.url}${path}`, headers: res.headers }, res.text);
      throw new HttpError(
        'protocol',
        `${this.url}${path}`,
        `${this.url} did not answer ${path} like a Prometheus API (HTTP ${res.status}, ${describeBody(res.headers['content-type'], res.text)})`,
        {
          status: res.status,
          hint: 'check that the URL points at Prometheus (or at Mimir with its /prometheus prefix)',
        },
      );
    }
    if (parsed.status === 'error') {
      throw new HttpError(
        'status',
        `${this.url}${path}`,
        `${method} ${this.url}${path}: ${parsed.errorType ?? 'error'}: ${parsed.error ?? 'unknown error'}`,
        {
          status: res.status,
          hint: parsed.error === 'admin APIs disabled' ? 'start Prometheus with --web.enable-admin-api' : undefined,
        },
      );
    }
    return parsed.data as T;
  }

  buildInfo() {
    return this.api<BuildInfo>('/api/v1/status/buildinfo');
  }
  /** Every flag with its effective value, defaults included: presence does not mean "set explicitly". */
  flags() {
    return this.api<Record<string, string>>('/api/v1/status/flags');
  }
  runtimeInfo() {
    return this.api<RuntimeInfo>('/api/v1/status/runtimeinfo');
  }
  /** The loaded config as YAML; secrets come back as <secret>. */
  async config(): Promise<string> {
    return (await this.api<{ yaml: string }>('/api/v1/status/config')).yaml;
  }
  tsdbStatus(limit?: number) {
    return this.api<TsdbStatus>('/api/v1/status/tsdb', limit ? { limit } : undefined);
  }
  targets(state: 'active' | 'dropped' | 'any' = 'active') {
    return this.api<TargetsResponse>('/api/v1/targets', { state });
  }
  async rules(type?: 'alert' | 'record'): Promise<RuleGroup[]> {
    return (await this.api<{ groups: RuleGroup[] }>('/api/v1/rules', { type })).groups;
  }
  /** `headers` e.g. `Cache-Control: no-store`, which makes Mimir's query-frontend bypass its results cache. */
  query(query: string, time?: number, timeout?: string, headers?: Record<string, string>) {
    return this.api<QueryResult>(
      '/api/v1/query',
      { query, time: time === undefined ? undefined : time / 1000, timeout },
      { method: 'POST', headers },
    );
  }
  queryRange(
    query: string,
    startMs: number,
    endMs: number,
    stepSeconds: number,
    timeout?: string,
    headers?: Record<string, string>,
  ) {
    return this.api<QueryResult>(
      '/api/v1/query_range',
      { query, start: startMs / 1000, end: endMs / 1000, step: stepSeconds, timeout },
      { method: 'POST', headers },
    );
  }
  series(match: string[], startMs?: number, endMs?: number) {
    return this.api<Array<Record<string, string>>>(
      '/api/v1/series',
      {
        'match[]': match,
        start: startMs === undefined ? undefined : startMs / 1000,
        end: endMs === undefined ? undefined : endMs / 1000,
      },
      { method: 'POST' },
    );
  }
  labels(match?: string[], startMs?: number, endMs?: number) {
    return this.api<string[]>('/api/v1/labels', {
      'match[]': match,
      start: startMs === undefined ? undefined : startMs / 1000,
      end: endMs === undefined ? undefined : endMs / 1000,
    });
  }
  labelValues(label: string, match?: string[], startMs?: number, endMs?: number) {
    return this.api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, {
      'match[]': match,
      start: startMs === undefined ? undefined : startMs / 1000,
      end: endMs === undefined ? undefined : endMs / 1000,
    });
  }
  /** Not gated by readiness, so it answers during replay. Only {min,max,current} exist in the code. */
  async walReplay(): Promise<WalReplayStatus> {
    const res = await this.http.text({ path: '/api/v1/status/walreplay', retries: 0 });
    const parsed = JSON.parse(res.text) as { data: WalReplayStatus };
    return parsed.data;
  }

  /** true when /-/ready says 200; throws NotReadyError (with WAL replay progress) on 503. */
  async ensureReady(): Promise<void> {
    const res = await this.http.text({ path: '/-/ready', retries: 1, accept: () => true, retryStatus: retry503Not });
    if (res.status === 200) return;
    if (res.status === 503) throw new NotReadyError(this.url, await this.walReplay().catch(() => undefined));
    if (res.status === 401 || res.status === 403)
      throw statusError('GET', { status: res.status, url: `${this.url}/-/ready`, headers: res.headers }, res.text);
    throw new HttpError(
      'protocol',
      `${this.url}/-/ready`,
      `${this.url} does not look like Prometheus: GET /-/ready answered HTTP ${res.status} (${describeBody(res.headers['content-type'], res.text)})`,
      {
        status: res.status,
        hint: 'check that the URL points at Prometheus (or at Mimir with its /prometheus prefix)',
      },
    );
  }

  async healthy(): Promise<boolean> {
    const res = await this.http.text({ path: '/-/healthy', retries: 0, accept: () => true });
    return res.status === 200;
  }

  close() {
    return this.http.close();
  }
}

/** 503 from Prometheus means "replaying the WAL": retrying for seconds will not help, reporting progress will. */
function retry503Not(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 503);
}

function describeBody(contentType: string | undefined, text: string): string {
  const ct = contentType ? contentType.split(';')[0] : 'no content type';
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 60);
  return snippet ? `${ct}: "${snippet}${text.length > 60 ? '…' : ''}"` : ct;
}
