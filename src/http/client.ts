import { Agent, type Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import type { ResolvedEndpoint } from '../config/index.js';
import { log } from '../log/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpError, networkError } from './errors.js';
import { DEFAULT_RETRY, isRetryableStatus, nextWait, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';

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
  /**
   * Total time for one attempt, headers and body (default: the endpoint timeout). A total, not an idle
   * timeout: a server that drips one byte a second is cut off when it runs out.
   */
  timeoutMs?: number;
  /** Unix ms by which the whole request, retries included, must be over (an operation's deadline). */
  deadlineAt?: number;
  /** Cancels the request, its body and any wait between retries. */
  signal?: AbortSignal;
  /** Which answers to retry; default isRetryableStatus (429, 5xx but not known append errors). */
  retryStatus?: (status: number, body?: string) => boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable & { dump?: () => Promise<void> };
  url: string;
}

export interface HttpStats {
  requests: number;
  retries: number;
  bytesSent: number;
}

/** How much of a retryable answer's body is read to tell a known append error from a transient fault. */
const RETRY_BODY_BYTES = 64 * 1024;

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
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

/** How often an open body is checked for time spent waiting on the server. */
const BODY_SAMPLE_MS = 200;

/**
 * The time budget of one attempt. undici's headersTimeout/bodyTimeout only bound idle time, so a server that
 * drips one byte a second never trips them; this clock aborts the request (or its body, mid-read) with a
 * timeout HttpError when the time spent waiting on the server passes the budget.
 *
 * Waiting counts until the headers arrive, then only while nothing is buffered (the reader is starved): a
 * caller that streams a body at its own pace (backfill writes each batch before it reads on, rate-limited)
 * is not the server's delay, and charging it would cut healthy long streams. `deadlineAt`,
 * the operation's deadline, is absolute and counts everything.
 */
class AttemptClock {
  readonly signal: AbortSignal;
  private readonly ac = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private interval?: NodeJS.Timeout;
  private readonly started = Date.now();
  private readonly onOuter: () => void;

  constructor(
    private readonly budgetMs: number,
    private readonly deadlineAt: number | undefined,
    private readonly url: string,
    private readonly display: string,
    private readonly outer?: AbortSignal,
  ) {
    this.signal = this.ac.signal;
    this.onOuter = () => this.ac.abort(outer!.reason);
    if (outer?.aborted) this.onOuter();
    else outer?.addEventListener('abort', this.onOuter, { once: true });
    this.after(Math.min(budgetMs, deadlineAt === undefined ? Infinity : deadlineAt - Date.now()), () => this.timeout());
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(fn, Math.max(1, ms));
    t.unref?.();
    this.timers.push(t);
  }

  private timeout(operation = false): void {
    const what = operation
      ? "the operation's deadline passed while the response was being read"
      : `no complete response within ${formatMs(this.budgetMs)} (the time allowed for one request)`;
    this.ac.abort(new HttpError('timeout', this.url, `${this.display}: ${what}`, { retryable: !operation }));
  }

  /** Headers are in: from now on only time the reader spends starved counts, plus the operation deadline. */
  watchBody(body: Readable): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    if (this.deadlineAt !== undefined) this.after(this.deadlineAt - Date.now(), () => this.timeout(true));
    let waited = Date.now() - this.started;
    let last = Date.now();
    this.interval = setInterval(() => {
      const now = Date.now();
      // nothing buffered: the server, not the reader, is what we are waiting for (a slow reader keeps the buffer full)
      if (body.readableLength === 0) waited += now - last;
      last = now;
      if (waited >= this.budgetMs) this.timeout();
    }, BODY_SAMPLE_MS);
    this.interval.unref?.();
    body.once('close', () => this.clear());
  }

  clear(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    if (this.interval) clearInterval(this.interval);
    this.outer?.removeEventListener('abort', this.onOuter);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * undici destroys a response body with its own error types (a socket closed early, a Content-Length not
 * reached, an idle timeout). Every reader of a body (JSON, text, remote-read frames) should see an HttpError
 * that names the request and says what happened, so the body's destroy maps them once, here.
 */
function classifyBodyErrors(body: Readable, url: string, display: string): void {
  const destroy = body.destroy.bind(body);
  // our own errors (a timeout, a run being stopped) pass as they are
  body.destroy = ((err?: Error) =>
    destroy(
      err === undefined || err instanceof StackshiftError || err?.name === 'AbortError'
        ? err
        : networkError(err, url, display),
    )) as typeof body.destroy;
}

/** Reads at most `max` bytes of a body and drops the rest. */
async function readPrefix(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const b = c as Buffer;
    if (size + b.length >= max) {
      chunks.push(b.subarray(0, max - size));
      body.destroy();
      break;
    }
    chunks.push(b);
    size += b.length;
  }
  return Buffer.concat(chunks);
}

/**
 * One client per endpoint: a keep-alive connection pool with the endpoint's TLS settings, auth and tenant
 * headers, a total deadline per attempt, and retries decided by the policy in retry.ts (network errors,
 * 429 and 5xx that are not known append errors, Retry-After honoured). Other 4xx are returned at once:
 * repeating a bad request only repeats the rejection.
 */
export class HttpClient {
  readonly endpoint: ResolvedEndpoint;
  readonly stats: HttpStats = { requests: 0, retries: 0, bytesSent: 0 };
  private readonly agent: Agent;
  private readonly policy: RetryPolicy;
  private readonly signal?: AbortSignal;

  /** `signal`: aborts every request of this client that does not bring its own (a run being stopped). */
  constructor(
    endpoint: ResolvedEndpoint,
    opts: { connections?: number; retry?: Partial<RetryPolicy>; signal?: AbortSignal } = {},
  ) {
    this.endpoint = endpoint;
    this.signal = opts.signal;
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
    else if (a.kind === 'basic')
      h.authorization = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    return h;
  }

  /** Sends a request, retrying as the policy allows, and returns the last response whatever its status. */
  async request(opts: RequestOptions): Promise<HttpResponse> {
    const url = buildUrl(this.endpoint.url, opts.path, opts.query);
    const href = url.toString();
    const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
    const headers = { ...this.baseHeaders(), ...lower(opts.headers ?? {}) };
    const attempts = (opts.retries ?? this.endpoint.retries) + 1;
    const timeout = opts.timeoutMs ?? this.endpoint.timeoutMs;
    const retryStatus = opts.retryStatus ?? isRetryableStatus;
    const display = `${method} ${url.origin}${url.pathname}`;
    const signal = opts.signal ?? this.signal;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw signal.reason;
      const left = opts.deadlineAt === undefined ? Infinity : opts.deadlineAt - Date.now();
      if (left <= 0)
        throw new HttpError(
          'timeout',
          href,
          `${display}: the operation's deadline passed${attempt > 1 ? ` after ${attempt - 1} attempts` : ' before the request was sent'}`,
          { retryable: false },
        );
      const budget = Math.max(1, Math.min(timeout, left));
      const deadline = new AttemptClock(budget, opts.deadlineAt, href, display, signal);
      this.stats.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method,
          headers,
          body: opts.body,
          signal: deadline.signal,
          headersTimeout: budget,
          bodyTimeout: budget,
        });
        if (opts.body)
          this.stats.bytesSent += typeof opts.body === 'string' ? Buffer.byteLength(opts.body) : opts.body.byteLength;
      } catch (err) {
        deadline.clear();
        if (signal?.aborted) throw signal.reason;
        const e = networkError(err, href, display, attempt);
        const d = e.retryable
          ? nextWait({ attempt, attempts, policy: this.policy, deadlineAt: opts.deadlineAt })
          : undefined;
        if (d && 'waitMs' in d) {
          log.debug('retrying after network error', { url: display, reason: e.message, attempt, delayMs: d.waitMs });
          this.stats.retries++;
          await sleep(d.waitMs, signal);
          continue;
        }
        throw e;
      }
      const resHeaders = flattenHeaders(res.headers as Record<string, string | string[] | undefined>);
      const body = res.body as unknown as Readable;
      classifyBodyErrors(body, href, display);
      deadline.watchBody(body);
      if (retryStatus(res.statusCode)) {
        // read (a bounded part of) the body: a known append error on a 5xx is a refusal, not a fault
        const prefix = await readPrefix(body, RETRY_BODY_BYTES);
        const text = prefix.toString('utf8');
        deadline.clear();
        const replay = () => Object.assign(Readable.from([prefix]), { dump: async () => undefined });
        if (!retryStatus(res.statusCode, text))
          return { status: res.statusCode, headers: resHeaders, body: replay(), url: href };
        const d = nextWait({
          attempt,
          attempts,
          policy: this.policy,
          deadlineAt: opts.deadlineAt,
          retryAfterMs: parseRetryAfter(resHeaders['retry-after']),
        });
        if ('waitMs' in d) {
          log.debug('retrying after HTTP status', { url: display, status: res.statusCode, attempt, delayMs: d.waitMs });
          this.stats.retries++;
          await sleep(d.waitMs, signal);
          continue;
        }
        if (d.stop === 'retry-after') {
          throw new HttpError('status', href, `${display}: HTTP ${res.statusCode}, ${d.detail}`, {
            status: res.statusCode,
            headers: resHeaders,
            body: text,
          });
        }
        return { status: res.statusCode, headers: resHeaders, body: replay(), url: href };
      }
      return { status: res.statusCode, headers: resHeaders, body: res.body as HttpResponse['body'], url: href };
    }
  }

  /** Request and read the whole body as text; throws HttpError for non-2xx unless `accept` allows it. */
  async text(
    opts: RequestOptions & { accept?: (status: number) => boolean; maxBytes?: number },
  ): Promise<{ status: number; headers: Record<string, string>; text: string }> {
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

export function statusError(
  method: string,
  res: { status: number; url: string; headers: Record<string, string> },
  body: string,
): HttpError {
  const u = new URL(res.url);
  const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  let hint: string | undefined;
  if (res.status === 401)
    hint = 'the server rejected the credentials: check the bearer token or basic-auth settings of this endpoint';
  else if (res.status === 403) hint = 'the credentials are valid but lack permission for this API';
  else if (res.status === 404)
    hint = 'the path does not exist on this server: check the URL (and any path prefix such as /prometheus)';
  else if (res.status === 503) hint = 'the server is not ready yet; retry later';
  return new HttpError(
    'status',
    res.url,
    `${method} ${u.origin}${u.pathname}: HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`,
    { status: res.status, body, hint, headers: res.headers },
  );
}
