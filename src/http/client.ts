import { Agent, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import type { ResolvedEndpoint } from '../config/index.js';
import { log } from '../log/index.js';
import { HttpError, classifyNetworkError } from './errors.js';

export type Query = Record<string, string | number | boolean | undefined | Array<string | number>>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Appended to the endpoint URL's path. */
  path: string;
  query?: Query;
  headers?: Record<string, string>;
  /** Must be replayable, since a retry sends it again. */
  body?: Uint8Array | string;
  /** Overrides the endpoint's retry count (0 = one attempt). */
  retries?: number;
  timeoutMs?: number;
  /** Which statuses to retry; default 5xx and 429. */
  retryStatus?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable & { dump?: () => Promise<void> };
  url: string;
}

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** Longest Retry-After we are willing to honour before giving up. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 200, maxMs: 10_000, maxRetryAfterMs: 120_000 };

export interface HttpStats {
  requests: number;
  retries: number;
  bytesSent: number;
}

const defaultRetryStatus = (s: number) => s === 429 || s >= 500;

/** Retry-After as seconds or an HTTP date; returns ms or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads retrying clients. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return Math.round(cap / 2 + random() * (cap / 2));
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function buildUrl(base: string, path: string, query?: Query): URL {
  const u = new URL(base);
  u.pathname = (u.pathname.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '')).replace(/\/{2,}/g, '/');
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, String(item));
      else u.searchParams.append(k, String(v));
    }
  }
  return u;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One client per endpoint: a keep-alive connection pool with the endpoint's TLS settings, auth and tenant
 * headers, and retries for what is worth retrying (network errors, 5xx, 429 with Retry-After). Other 4xx
 * are returned at once: repeating a bad request only repeats the rejection.
 */
export class HttpClient {
  readonly endpoint: ResolvedEndpoint;
  readonly stats: HttpStats = { requests: 0, retries: 0, bytesSent: 0 };
  private readonly agent: Agent;
  private readonly policy: RetryPolicy;

  constructor(endpoint: ResolvedEndpoint, opts: { connections?: number; retry?: Partial<RetryPolicy> } = {}) {
    this.endpoint = endpoint;
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.agent = new Agent({
      connections: opts.connections ?? 16,
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(endpoint.timeoutMs, 10_000),
      connect: {
        ca: endpoint.tls.ca,
        cert: endpoint.tls.cert,
        key: endpoint.tls.key,
        servername: endpoint.tls.serverName,
        rejectUnauthorized: !endpoint.tls.insecureSkipVerify,
      },
    });
  }

  private baseHeaders(): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': 'stackshift/0.1', ...lower(this.endpoint.headers) };
    if (this.endpoint.tenant) h['x-scope-orgid'] = this.endpoint.tenant;
    const a = this.endpoint.auth;
    if (a.kind === 'bearer') h.authorization = `Bearer ${a.token}`;
    else if (a.kind === 'basic') h.authorization = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    return h;
  }

  /** Sends a request, retrying as the policy allows, and returns the last response whatever its status. */
  async request(opts: RequestOptions): Promise<HttpResponse> {
    const url = buildUrl(this.endpoint.url, opts.path, opts.query);
    const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
    const headers = { ...this.baseHeaders(), ...lower(opts.headers ?? {}) };
    const retries = opts.retries ?? this.endpoint.retries;
    const timeout = opts.timeoutMs ?? this.endpoint.timeoutMs;
    const retryStatus = opts.retryStatus ?? defaultRetryStatus;
    const display = `${method} ${url.origin}${url.pathname}`;
    for (let attempt = 0; ; attempt++) {
      this.stats.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method,
          headers,
          body: opts.body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
        if (opts.body) this.stats.bytesSent += typeof opts.body === 'string' ? Buffer.byteLength(opts.body) : opts.body.byteLength;
      } catch (err) {
        const c = classifyNetworkError(err);
        if (c.retryable && attempt < retries) {
          const delay = backoffDelay(attempt, this.policy);
          log.debug('retrying after network error', { url: display, reason: c.reason, attempt: attempt + 1, delayMs: delay });
          this.stats.retries++;
          await sleep(delay);
          continue;
        }
        throw new HttpError(c.kind, url.toString(), `${display}: ${c.reason}${attempt > 0 ? ` (after ${attempt + 1} attempts)` : ''}`, { cause: err });
      }
      const resHeaders = flattenHeaders(res.headers as Record<string, string | string[] | undefined>);
      if (retryStatus(res.statusCode) && attempt < retries) {
        const ra = parseRetryAfter(resHeaders['retry-after']);
        await res.body.dump().catch(() => undefined);
        if (ra !== undefined && ra > this.policy.maxRetryAfterMs) {
          throw new HttpError('status', url.toString(), `${display}: HTTP ${res.statusCode}, server asks to retry after ${Math.round(ra / 1000)}s, longer than the ${this.policy.maxRetryAfterMs / 1000}s we wait`, { status: res.statusCode, headers: resHeaders });
        }
        const delay = ra ?? backoffDelay(attempt, this.policy);
        log.debug('retrying after HTTP status', { url: display, status: res.statusCode, attempt: attempt + 1, delayMs: delay });
        this.stats.retries++;
        await sleep(delay);
        continue;
      }
      return { status: res.statusCode, headers: resHeaders, body: res.body as HttpResponse['body'], url: url.toString() };
    }
  }

  /** Request and read the whole body as text; throws HttpError for non-2xx unless `accept` allows it. */
  async text(opts: RequestOptions & { accept?: (status: number) => boolean; maxBytes?: number }): Promise<{ status: number; headers: Record<string, string>; text: string }> {
    const res = await this.request(opts);
    const text = await readBody(res, opts.maxBytes ?? 64 * 1024 * 1024);
    const ok = opts.accept ? opts.accept(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) throw statusError(opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), res, text);
    return { status: res.status, headers: res.headers, text };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function lower(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

export async function readBody(res: HttpResponse, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.body.destroy();
      throw new HttpError('protocol', res.url, `response from ${res.url} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function statusError(method: string, res: { status: number; url: string; headers: Record<string, string> }, body: string): HttpError {
  const u = new URL(res.url);
  const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  let hint: string | undefined;
  if (res.status === 401) hint = 'the server rejected the credentials: check the bearer token or basic-auth settings of this endpoint';
  else if (res.status === 403) hint = 'the credentials are valid but lack permission for this API';
  else if (res.status === 404) hint = 'the path does not exist on this server: check the URL (and any path prefix such as /prometheus)';
  else if (res.status === 503) hint = 'the server is not ready yet; retry later';
  return new HttpError('status', res.url, `${method} ${u.origin}${u.pathname}: HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, { status: res.status, body, hint, headers: res.headers });
}
