import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';

/**
 * A contract double of Loki's HTTP API, for tests only (Loki is AGPL and cannot be installed here). Written
 * from docs/sources/reference/loki-http-api.md, docs/sources/operations/request-validation-rate-limits.md,
 * docs/sources/shared/configuration.md (defaults) and, for exact texts, pkg/validation/validate.go,
 * pkg/chunkenc/interface.go (too far behind), pkg/logql/syntax (series limit), pkg/querier/http.go (entries
 * limit) and pkg/logql/range_vector.go (a range is (t - range, t]).
 *
 * - auth_enabled (default): no X-Scope-OrgID -> 401 "no org id"; tenants are stored apart
 * - push: protobuf (raw snappy) or JSON (optionally gzip/deflate/snappy Content-Encoding), 204; a numeric
 *   JSON timestamp -> 400; per entry: older than now - reject_old_samples_max_age (1w) -> 400 too old,
 *   newer than now + creation_grace_period (10m) -> 400 too new, longer than max_line_size (256KB) -> 400,
 *   older than the stream's newest line - max_chunk_age/2 (1h) -> 400 too far behind; the other entries of
 *   the request are stored (as Loki does); an identical (ts, line, metadata) in a stream is stored once;
 *   more than max_global_streams_per_user streams -> 429; ingestion rate (if set) -> 429, nothing stored
 * - query_range: log queries (a stream selector only) with limit (default 100, above
 *   max_entries_limit_per_query 5000 -> 400), direction (default backward), start inclusive, end exclusive;
 *   categorize-labels on request, else metadata merged into the stream labels as Loki 3 does; metric queries
 *   count_over_time(sel[r]) optionally under sum by (...), evaluated at start, start+step, ... <= end over
 *   (t-r, t]; more than max_query_series (500) streams -> 400; above 11,000 points -> 400; longer than
 *   max_query_length (30d1h) -> 400; anything else in LogQL -> 400 (never more lenient than Loki)
 * - series (match[] required), labels, index/stats; /ready
 * Fault hooks for tests: throttle(n, retryAfterSec) answers the next n pushes 429 with Retry-After.
 */
export interface LokiDoubleOptions {
  authEnabled?: boolean;
  maxEntriesLimitPerQuery?: number;
  maxQuerySeries?: number;
  rejectOldSamplesMaxAgeMs?: number;
  creationGracePeriodMs?: number;
  maxChunkAgeMs?: number;
  maxLineSize?: number;
  maxGlobalStreamsPerUser?: number;
  /** Bytes per second per tenant; unset = unlimited. */
  ingestionRateBytes?: number;
  allowStructuredMetadata?: boolean;
}

interface Entry {
  ts: bigint;
  line: string;
  sm?: Record<string, string>;
  seq: number;
}
interface Stream {
  labels: Record<string, string>;
  key: string;
  entries: Entry[];
  maxTs: bigint;
  sorted: boolean;
}
type Matcher = { name: string; op: '=' | '!=' | '=~' | '!~'; value: string; re?: RegExp };

const HOUR_NS = 3_600_000_000_000n;
const DEFAULTS: Required<Omit<LokiDoubleOptions, 'ingestionRateBytes'>> = {
  authEnabled: true,
  maxEntriesLimitPerQuery: 5000,
  maxQuerySeries: 500,
  rejectOldSamplesMaxAgeMs: 7 * 86_400_000,
  creationGracePeriodMs: 600_000,
  maxChunkAgeMs: 2 * 3_600_000,
  maxLineSize: 256 * 1024,
  maxGlobalStreamsPerUser: 5000,
  allowStructuredMetadata: true,
};

export class LokiDouble {
  readonly opts: Required<Omit<LokiDoubleOptions, 'ingestionRateBytes'>> & { ingestionRateBytes?: number };
  url = '';
  readonly tenants = new Map<string, Map<string, Stream>>();
  readonly stats = { pushes: 0, entriesReceived: 0, duplicates: 0, rejected: 0, queries: 0 };
  /** "METHOD /path" of every request. */
  readonly requests: string[] = [];
  private server?: Server;
  private seq = 0;
  private throttles: Array<number> = [];
  private rate = new Map<string, { t: number; used: number }>();

  constructor(opts: LokiDoubleOptions = {}) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => text(res, 500, String((e as Error)?.message ?? e)));
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  /** The next n pushes are answered 429 with this Retry-After. */
  throttle(n: number, retryAfterSec: number): void {
    for (let i = 0; i < n; i++) this.throttles.push(retryAfterSec);
  }

  /** Lines stored for a tenant (all streams). */
  lineCount(tenant: string): number {
    let n = 0;
    for (const s of this.tenants.get(tenant)?.values() ?? []) n += s.entries.length;
    return n;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    this.requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/ready') return text(res, 200, 'ready');
    const tenant = (req.headers['x-scope-orgid'] as string | undefined) ?? (this.opts.authEnabled ? undefined : 'fake');
    if (!tenant) return text(res, 401, 'no org id');
    const body = await readAll(req);
    const params = new URLSearchParams(url.search);
    if (
      req.method === 'POST' &&
      (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') &&
      !url.pathname.endsWith('/push')
    ) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    }
    try {
      switch (url.pathname) {
        case '/loki/api/v1/push':
          return this.push(req, res, tenant, body);
        case '/loki/api/v1/query_range':
          return this.queryRange(req, res, tenant, params);
        case '/loki/api/v1/series':
          return this.series(res, tenant, params);
        case '/loki/api/v1/labels':
          return this.labels(res, tenant, params);
        case '/loki/api/v1/index/stats':
          return this.indexStats(res, tenant, params);
        default:
          return text(res, 404, '404 page not found');
      }
    } catch (e) {
      if (e instanceof BadRequest) return text(res, 400, e.message);
      throw e;
    }
  }

  // ---- push ----

  private push(req: IncomingMessage, res: ServerResponse, tenant: string, raw: Buffer): void {
    this.stats.pushes++;
    const retryAfter = this.throttles.shift();
    if (retryAfter !== undefined) {
      res.setHeader('retry-after', String(retryAfter));
      return text(
        res,
        429,
        `Ingestion rate limit exceeded for user ${tenant} (limit: 4194304 bytes/sec) while attempting to ingest '1' lines totaling '1' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`,
      );
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let streams: Array<{
      labels: string | Record<string, string>;
      entries: Array<{ ts: bigint; line: string; sm?: Record<string, string> }>;
    }>;
    if (type === 'application/json') {
      const enc = req.headers['content-encoding'];
      const body =
        enc === 'gzip'
          ? gunzipSync(raw)
          : enc === 'deflate'
            ? inflateSync(raw)
            : enc === 'snappy'
              ? (uncompressSync(raw, { asBuffer: true }) as Buffer)
              : raw;
      streams = parseJsonPush(body.toString('utf8'));
    } else if (type === '' || type === 'application/x-protobuf') {
      let decoded: Buffer;
      try {
        decoded = uncompressSync(raw, { asBuffer: true }) as Buffer;
      } catch (e) {
        throw new BadRequest(`snappy: corrupt input`);
      }
      streams = decodePushRequest(decoded);
    } else {
      return text(res, 415, `unsupported Content-Type ${JSON.stringify(type)}`);
    }
    if (streams.length === 0) throw new BadRequest('error at least one valid stream is required for ingestion');
    const bytes = streams.reduce((n, s) => n + s.entries.reduce((m, e) => m + Buffer.byteLength(e.line), 0), 0);
    const lines = streams.reduce((n, s) => n + s.entries.length, 0);
    if (this.opts.ingestionRateBytes !== undefined && !this.takeRate(tenant, bytes)) {
      this.stats.rejected += lines;
      return text(
        res,
        429,
        `Ingestion rate limit exceeded for user ${tenant} (limit: ${this.opts.ingestionRateBytes} bytes/sec) while attempting to ingest '${lines}' lines totaling '${bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`,
      );
    }
    const store = this.tenants.get(tenant) ?? new Map<string, Stream>();
    this.tenants.set(tenant, store);
    const now = BigInt(Date.now()) * 1_000_000n;
    const oldest = now - BigInt(this.opts.rejectOldSamplesMaxAgeMs) * 1_000_000n;
    const newest = now + BigInt(this.opts.creationGracePeriodMs) * 1_000_000n;
    const errors: string[] = [];
    let status = 400;
    for (const s of streams) {
      const labels = typeof s.labels === 'string' ? parseLabels(s.labels) : s.labels;
      const names = Object.keys(labels);
      const key = streamKey(labels);
      const shown = formatLabels(labels);
      if (names.length === 0) {
        errors.push('error at least one label pair is required per stream');
        continue;
      }
      if (names.length > 15) {
        errors.push(`entry for stream '${shown}' has ${names.length} label names; limit 15`);
        continue;
      }
      let stream = store.get(key);
      if (!stream) {
        if (store.size >= this.opts.maxGlobalStreamsPerUser) {
          status = 429;
          errors.push(
            `Maximum active stream limit exceeded when trying to create stream ${shown}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '${tenant}'`,
          );
          this.stats.rejected += s.entries.length;
          continue;
        }
      }
      const behind: string[] = [];
      for (const e of s.entries) {
        this.stats.entriesReceived++;
        if (e.sm && !this.opts.allowStructuredMetadata) {
          errors.push(
            `stream '${shown}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.`,
          );
          this.stats.rejected++;
          continue;
        }
        if (e.ts < oldest) {
          errors.push(
            `entry for stream '${shown}' has timestamp too old: ${goTime(e.ts)}, oldest acceptable timestamp is: ${goTime(oldest)}`,
          );
          this.stats.rejected++;
          continue;
        }
        if (e.ts > newest) {
          errors.push(`entry for stream '${shown}' has timestamp too new: ${goTime(e.ts)}`);
          this.stats.rejected++;
          continue;
        }
        if (Buffer.byteLength(e.line) > this.opts.maxLineSize) {
          errors.push(
            `Max entry size '${this.opts.maxLineSize}' bytes exceeded for stream '${shown}' while adding an entry with length '${Buffer.byteLength(e.line)}' bytes`,
          );
          this.stats.rejected++;
          continue;
        }
        if (!stream) {
          stream = { labels, key, entries: [], maxTs: -1n, sorted: true };
          store.set(key, stream);
        }
        const cutoff = stream.maxTs - (BigInt(this.opts.maxChunkAgeMs) * 1_000_000n) / 2n;
        if (stream.maxTs >= 0n && e.ts < cutoff) {
          behind.push(
            `entry with timestamp ${goTime(e.ts)} ignored, reason: 'entry too far behind, entry timestamp is: ${rfc3339(e.ts)}, oldest acceptable timestamp is: ${rfc3339(cutoff)}',`,
          );
          this.stats.rejected++;
          continue;
        }
        if (isDuplicate(stream, e)) {
          this.stats.duplicates++;
          continue;
        }
        if (stream.entries.length && e.ts < stream.entries[stream.entries.length - 1]!.ts) stream.sorted = false;
        stream.entries.push({ ts: e.ts, line: e.line, sm: e.sm, seq: this.seq++ });
        if (e.ts > stream.maxTs) stream.maxTs = e.ts;
      }
      if (behind.length)
        errors.push(
          `${behind.join('\n')}\nuser '${tenant}', total ignored: ${behind.length} out of ${s.entries.length} for stream: ${shown}`,
        );
    }
    if (errors.length) return text(res, status, errors.join('\n'));
    res.statusCode = 204;
    res.end();
  }

  private takeRate(tenant: string, bytes: number): boolean {
    const limit = this.opts.ingestionRateBytes!;
    const t = Math.floor(Date.now() / 1000);
    const r = this.rate.get(tenant);
    if (!r || r.t !== t) {
      this.rate.set(tenant, { t, used: bytes });
      return bytes <= limit * 1.5;
    }
    if (r.used + bytes > limit * 1.5) return false;
    r.used += bytes;
    return true;
  }

  // ---- queries ----

  private selectStreams(tenant: string, matchers: Matcher[]): Stream[] {
    const out: Stream[] = [];
    for (const s of this.tenants.get(tenant)?.values() ?? []) if (matchAll(s.labels, matchers)) out.push(s);
    for (const s of out)
      if (!s.sorted) {
        s.entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq));
        s.sorted = true;
      }
    return out;
  }

  private queryRange(req: IncomingMessage, res: ServerResponse, tenant: string, p: URLSearchParams): void {
    this.stats.queries++;
    const query = p.get('query');
    if (!query) throw new BadRequest('query parameter is required');
    const now = BigInt(Date.now()) * 1_000_000n;
    const end = p.has('end') ? parseTs(p.get('end')!, 'end') : now;
    const start = p.has('start') ? parseTs(p.get('start')!, 'start') : end - HOUR_NS;
    if (end < start) throw new BadRequest('end timestamp must not be before start time');
    const maxLen = (30n * 24n + 1n) * HOUR_NS;
    if (end - start > maxLen)
      throw new BadRequest(
        `the query time range exceeds the limit (query length: ${goDuration(end - start)}, limit: 30d1h)`,
      );
    const q = parseQuery(query);
    if (q.kind === 'log') {
      const limit = p.has('limit') ? Number(p.get('limit')) : 100;
      if (!Number.isInteger(limit) || limit <= 0) throw new BadRequest('limit must be a positive value');
      if (limit > this.opts.maxEntriesLimitPerQuery)
        throw new BadRequest(
          `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${this.opts.maxEntriesLimitPerQuery})`,
        );
      const dir = p.get('direction') ?? 'backward';
      if (dir !== 'forward' && dir !== 'backward') throw new BadRequest(`invalid direction '${dir}'`);
      const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '')
        .split(',')
        .map((x) => x.trim())
        .includes('categorize-labels');
      return json(res, 200, {
        status: 'success',
        data: this.logResult(tenant, q.matchers, start, end, limit, dir, categorize),
      });
    }
    const step = p.has('step') ? parseStep(p.get('step')!) : defaultStep(start, end);
    if (step <= 0n)
      throw new BadRequest('zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((end - start) / step > 11_000n)
      throw new BadRequest(
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    return json(res, 200, { status: 'success', data: this.countResult(tenant, q, start, end, step) });
  }

  private logResult(
    tenant: string,
    matchers: Matcher[],
    start: bigint,
    end: bigint,
    limit: number,
    dir: string,
    categorize: boolean,
  ) {
    // Each stream is sorted by (ts, seq); the page is a k-way merge of the streams' runs inside [start, end),
    // taking only `limit` entries (the order of a full sort of every selected entry, without sorting them all)
    const { picked, total } = mergeRange(this.selectStreams(tenant, matchers), start, end, limit, dir === 'forward');
    const groups = new Map<string, { stream: Record<string, string>; values: unknown[] }>();
    for (const { s, e } of picked) {
      const labels = categorize || !e.sm ? s.labels : { ...e.sm, ...s.labels };
      const k = categorize ? s.key : streamKey(labels);
      let g = groups.get(k);
      if (!g) {
        g = { stream: labels, values: [] };
        groups.set(k, g);
      }
      g.values.push(
        categorize && e.sm ? [e.ts.toString(), e.line, { structuredMetadata: e.sm }] : [e.ts.toString(), e.line],
      );
    }
    const data: Record<string, unknown> = {
      resultType: 'streams',
      result: [...groups.values()],
      stats: { summary: { totalEntriesReturned: total } },
    };
    if (categorize) data.encodingFlags = ['categorize-labels'];
    return data;
  }

  private countResult(tenant: string, q: MetricQuery, start: bigint, end: bigint, step: bigint) {
    const streams = this.selectStreams(tenant, q.matchers).filter((s) =>
      s.entries.some((e) => e.ts > start - q.rangeNs && e.ts <= end),
    );
    if (streams.length > this.opts.maxQuerySeries) {
      throw new BadRequest(
        `maximum number of series (${this.opts.maxQuerySeries}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()`,
      );
    }
    const series = new Map<string, { metric: Record<string, string>; points: Map<bigint, number> }>();
    for (const s of streams) {
      const metric: Record<string, string> = {};
      if (q.by) {
        for (const n of q.by) if (s.labels[n]) metric[n] = s.labels[n];
      } else Object.assign(metric, s.labels);
      const k = streamKey(metric);
      let g = series.get(k);
      if (!g) {
        g = { metric, points: new Map() };
        series.set(k, g);
      }
      // one pass: each entry counts in every step t with t - range < ts <= t
      for (const e of s.entries) {
        if (e.ts <= start - q.rangeNs || e.ts > end) continue;
        const first = e.ts <= start ? start : start + ((e.ts - start + step - 1n) / step) * step;
        for (let t = first; t <= end && t - q.rangeNs < e.ts; t += step) g.points.set(t, (g.points.get(t) ?? 0) + 1);
      }
    }
    const result = [...series.values()]
      .filter((g) => g.points.size > 0)
      .map((g) => ({
        metric: g.metric,
        values: [...g.points.entries()]
          .sort((a, b) => (a[0] < b[0] ? -1 : 1))
          .map(([t, v]) => [Number(t / 1_000_000n) / 1000, String(v)]),
      }));
    return { resultType: 'matrix', result, stats: {} };
  }

  private series(res: ServerResponse, tenant: string, p: URLSearchParams): void {
    const selectors = p.getAll('match[]');
    if (selectors.length === 0) throw new BadRequest('at least one match[] argument must be provided');
    const { start, end } = rangeParams(p, 6n * HOUR_NS);
    const out = new Map<string, Record<string, string>>();
    for (const sel of selectors) {
      const q = parseQuery(sel);
      if (q.kind !== 'log') throw new BadRequest(`parse error : only stream selectors are accepted in match[]`);
      for (const s of this.selectStreams(tenant, q.matchers))
        if (s.entries.some((e) => e.ts >= start && e.ts <= end)) out.set(s.key, s.labels);
    }
    json(res, 200, { status: 'success', data: [...out.values()] });
  }

  private labels(res: ServerResponse, tenant: string, p: URLSearchParams): void {
    const { start, end } = rangeParams(p, 6n * HOUR_NS);
    const names = new Set<string>();
    for (const s of this.tenants.get(tenant)?.values() ?? [])
      if (s.entries.some((e) => e.ts >= start && e.ts <= end)) for (const n of Object.keys(s.labels)) names.add(n);
    json(res, 200, { status: 'success', data: [...names].sort() });
  }

  private indexStats(res: ServerResponse, tenant: string, p: URLSearchParams): void {
    const q = parseQuery(p.get('query') ?? '');
    if (q.kind !== 'log') throw new BadRequest('index/stats takes a stream selector');
    const { start, end } = rangeParams(p, HOUR_NS);
    let streams = 0,
      entries = 0,
      bytes = 0;
    for (const s of this.selectStreams(tenant, q.matchers)) {
      let n = 0;
      for (const e of s.entries)
        if (e.ts >= start && e.ts <= end) {
          n++;
          bytes += Buffer.byteLength(e.line);
        }
      if (n) {
        streams++;
        entries += n;
      }
    }
    json(res, 200, { streams, chunks: streams, entries, bytes });
  }
}

// ---- LogQL (the official grammar) ----

type MetricQuery = { kind: 'count'; matchers: Matcher[]; rangeNs: bigint; by?: string[] };
type Query = { kind: 'log'; matchers: Matcher[] } | MetricQuery;

class BadRequest extends Error {}

function parseQuery(src: string): Query {
  const tree = parser.parse(src);
  let err = -1;
  tree.iterate({
    enter(n) {
      if (n.type.isError && err < 0) err = n.from;
    },
  });
  if (err >= 0 || src.trim() === '')
    throw new BadRequest(`parse error at line 1, col ${err + 1}: syntax error: unexpected input`);
  const expr = tree.topNode.firstChild;
  const at = (n: SyntaxNode) => src.slice(n.from, n.to);
  const node = expr?.firstChild;
  if (node?.name === 'LogExpr') {
    if (node.firstChild?.nextSibling)
      throw new BadRequest('the contract double implements stream selectors only (no pipeline)');
    return { kind: 'log', matchers: matchersOf(node.firstChild!, at) };
  }
  if (node?.name === 'MetricExpr') {
    let inner = node.firstChild;
    let by: string[] | undefined;
    if (inner?.name === 'VectorAggregationExpr') {
      if (inner.getChild('VectorOp')?.firstChild?.name !== 'Sum')
        throw new BadRequest('the contract double implements sum only');
      const grouping = inner.getChild('Grouping');
      if (grouping) {
        if (!grouping.getChild('By')) throw new BadRequest('the contract double implements sum by only');
        by = [];
        const labelsNode = grouping.getChild('Labels');
        if (labelsNode) collectIdentifiers(labelsNode, at, by);
      }
      inner = inner.getChild('MetricExpr')?.firstChild ?? null;
    }
    if (inner?.name === 'RangeAggregationExpr' && inner.getChild('RangeOp')?.firstChild?.name === 'CountOverTime') {
      const lr = inner.getChild('LogRangeExpr')!;
      const sel = lr.getChild('Selector');
      if (!sel || lr.getChild('PipelineExpr') || lr.getChild('OffsetExpr'))
        throw new BadRequest('the contract double implements count_over_time of a stream selector only');
      const dur = at(lr.getChild('Range')!.getChild('Duration')!);
      return { kind: 'count', matchers: matchersOf(sel, at), rangeNs: goDurationNs(dur), by };
    }
  }
  throw new BadRequest(`the contract double does not implement this query: ${src}`);
}

function collectIdentifiers(n: SyntaxNode, at: (n: SyntaxNode) => string, out: string[]): void {
  for (let c = n.firstChild; c; c = c.nextSibling) {
    if (c.name === 'Identifier') out.push(at(c));
    else collectIdentifiers(c, at, out);
  }
}

function matchersOf(selector: SyntaxNode, at: (n: SyntaxNode) => string): Matcher[] {
  const out: Matcher[] = [];
  const walk = (n: SyntaxNode) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.name === 'Matcher') {
        const name = at(c.getChild('Identifier')!);
        const opNode = c.getChild('Identifier')!.nextSibling!;
        const op = at(opNode) as Matcher['op'];
        const value = unquote(at(c.getChild('String')!));
        const m: Matcher = { name, op, value };
        if (op === '=~' || op === '!~') {
          try {
            m.re = new RegExp(`^(?:${value})$`, 's');
          } catch {
            throw new BadRequest(`parse error : error parsing regexp: ${value}`);
          }
        }
        out.push(m);
      } else if (c.name === 'Matchers') walk(c);
    }
  };
  walk(selector);
  if (!out.some((m) => !matchesValue(m, ''))) {
    throw new BadRequest(
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }
  return out;
}

function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  try {
    return JSON.parse(s) as string;
  } catch {
    throw new BadRequest(`parse error : invalid string ${s}`);
  }
}

function matchesValue(m: Matcher, v: string): boolean {
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.re!.test(v);
    case '!~':
      return !m.re!.test(v);
  }
}

function matchAll(labels: Record<string, string>, ms: Matcher[]): boolean {
  return ms.every((m) => matchesValue(m, labels[m.name] ?? ''));
}

function parseLabels(s: string): Record<string, string> {
  const tree = parser.parse(s);
  let bad = false;
  tree.iterate({
    enter(n) {
      if (n.type.isError) bad = true;
    },
  });
  const sel = tree.topNode.firstChild?.firstChild?.firstChild;
  if (bad || sel?.name !== 'Selector' || sel.nextSibling)
    throw new BadRequest(`Error parsing labels '${s}' with error: 1:2: parse error: unexpected input`);
  const out: Record<string, string> = {};
  const at = (n: SyntaxNode) => s.slice(n.from, n.to);
  for (const m of (() => {
    const list: Matcher[] = [];
    const walk = (n: SyntaxNode) => {
      for (let c = n.firstChild; c; c = c.nextSibling) {
        if (c.name === 'Matcher')
          list.push({
            name: at(c.getChild('Identifier')!),
            op: at(c.getChild('Identifier')!.nextSibling!) as Matcher['op'],
            value: unquote(at(c.getChild('String')!)),
          });
        else if (c.name === 'Matchers') walk(c);
      }
    };
    walk(sel);
    return list;
  })()) {
    if (m.op !== '=') throw new BadRequest(`Error parsing labels '${s}' with error: unexpected operator ${m.op}`);
    if (m.name in out) throw new BadRequest(`stream '${s}' has duplicate label name: '${m.name}'`);
    out[m.name] = m.value;
  }
  return out;
}

function parseJsonPush(body: string): Array<{
  labels: Record<string, string>;
  entries: Array<{ ts: bigint; line: string; sm?: Record<string, string> }>;
}> {
  let doc: { streams?: Array<{ stream?: Record<string, string>; values?: unknown[] }> };
  try {
    doc = JSON.parse(body);
  } catch (e) {
    throw new BadRequest(`loghttp.PushRequest.Streams: ReadArray: ${(e as Error).message}`);
  }
  return (doc.streams ?? []).map((s) => ({
    labels: s.stream ?? {},
    entries: (s.values ?? []).map((v) => {
      if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string')
        throw new BadRequest(
          'loghttp.PushRequest.Streams: []*loghttp.Stream: Values: decode entry: timestamp and line must be strings',
        );
      if (!/^\d+$/.test(v[0])) throw new BadRequest(`strconv.ParseInt: parsing "${v[0]}": invalid syntax`);
      const sm =
        v[2] && typeof v[2] === 'object' && Object.keys(v[2]).length ? (v[2] as Record<string, string>) : undefined;
      return { ts: BigInt(v[0]), line: v[1], sm };
    }),
  }));
}

function decodePushRequest(
  buf: Buffer,
): Array<{ labels: string; entries: Array<{ ts: bigint; line: string; sm?: Record<string, string> }> }> {
  const r = protobuf.Reader.create(buf);
  const streams: Array<{ labels: string; entries: Array<{ ts: bigint; line: string; sm?: Record<string, string> }> }> =
    [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== 1) {
      r.skipType(tag & 7);
      continue;
    }
    const end = r.uint32() + r.pos;
    const s = { labels: '', entries: [] as Array<{ ts: bigint; line: string; sm?: Record<string, string> }> };
    while (r.pos < end) {
      const t = r.uint32();
      if (t >>> 3 === 1) s.labels = r.string();
      else if (t >>> 3 === 2) {
        const eend = r.uint32() + r.pos;
        let sec = 0n,
          nanos = 0,
          line = '';
        let sm: Record<string, string> | undefined;
        while (r.pos < eend) {
          const et = r.uint32();
          if (et >>> 3 === 1) {
            const tend = r.uint32() + r.pos;
            while (r.pos < tend) {
              const tt = r.uint32();
              if (tt >>> 3 === 1) sec = BigInt(r.int64().toString());
              else if (tt >>> 3 === 2) nanos = r.int32();
              else r.skipType(tt & 7);
            }
          } else if (et >>> 3 === 2) line = r.string();
          else if (et >>> 3 === 3) {
            const lend = r.uint32() + r.pos;
            let name = '',
              value = '';
            while (r.pos < lend) {
              const lt = r.uint32();
              if (lt >>> 3 === 1) name = r.string();
              else if (lt >>> 3 === 2) value = r.string();
              else r.skipType(lt & 7);
            }
            (sm ??= {})[name] = value;
          } else r.skipType(et & 7);
        }
        s.entries.push({ ts: sec * 1_000_000_000n + BigInt(nanos), line, sm });
      } else r.skipType(t & 7);
    }
    streams.push(s);
  }
  return streams;
}

// ---- small helpers ----

/**
 * An identical (ts, line, metadata) already in the stream: Loki stores it once. Nothing stored is at a newer
 * timestamp than the stream's newest (the in-order case); otherwise the stream is sorted (TimSort: linear
 * when only the tail is out of place) and the run of that nanosecond is searched. The same answer as a key
 * set per stream, without holding a key string for every stored line.
 */
function isDuplicate(stream: Stream, e: { ts: bigint; line: string; sm?: Record<string, string> }): boolean {
  if (e.ts > stream.maxTs) return false;
  if (!stream.sorted) {
    stream.entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq));
    stream.sorted = true;
  }
  let ek: string | undefined;
  for (let i = lowerBound(stream.entries, e.ts); i < stream.entries.length; i++) {
    const x = stream.entries[i]!;
    if (x.ts !== e.ts) break;
    if (x.line === e.line && (ek ??= entryKey(e.ts, e.line, e.sm)) === entryKey(x.ts, x.line, x.sm)) return true;
  }
  return false;
}

/** First index in a (ts, seq)-sorted run whose ts is >= t. */
function lowerBound(entries: Entry[], t: bigint): number {
  let lo = 0,
    hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The first `limit` entries of the selected streams in [start, end), in Loki's order: by timestamp (ascending
 * forward, descending backward), then by stream, then by arrival within a stream and nanosecond (arrival order
 * forward, reversed backward). A binary heap of one cursor per stream; each stream's entries are sorted.
 */
function mergeRange(
  streams: Stream[],
  start: bigint,
  end: bigint,
  limit: number,
  forward: boolean,
): { picked: Array<{ s: Stream; e: Entry }>; total: number } {
  type Cursor = { s: Stream; i: number; stop: number };
  const heap: Cursor[] = [];
  for (const s of streams) {
    const lo = lowerBound(s.entries, start);
    const hi = lowerBound(s.entries, end);
    if (lo < hi) heap.push(forward ? { s, i: lo, stop: hi } : { s, i: hi - 1, stop: lo - 1 });
  }
  // a before b in the output
  const before = (a: Cursor, b: Cursor): boolean => {
    const ta = a.s.entries[a.i]!.ts,
      tb = b.s.entries[b.i]!.ts;
    if (ta !== tb) return forward ? ta < tb : ta > tb;
    return a.s.key < b.s.key;
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const picked: Array<{ s: Stream; e: Entry }> = [];
  while (heap.length && picked.length < limit) {
    const c = heap[0]!;
    picked.push({ s: c.s, e: c.s.entries[c.i]! });
    c.i += forward ? 1 : -1;
    if (c.i === c.stop) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length) down(0);
  }
  return { picked, total: picked.length };
}

function streamKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\xff${labels[k]}`)
    .join('\xfe');
}

function formatLabels(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

function entryKey(ts: bigint, line: string, sm?: Record<string, string>): string {
  return `${ts}\xff${line}\xff${sm ? streamKey(sm) : ''}`;
}

/** Loki's parseTimestamp: RFC 3339, float seconds, or an integer (seconds when at most 10 digits, else ns). */
function parseTs(v: string, what: string): bigint {
  if (/^\d+$/.test(v)) return v.length <= 10 ? BigInt(v) * 1_000_000_000n : BigInt(v);
  if (/^\d+\.\d+$/.test(v)) {
    const [s, f] = v.split('.');
    return BigInt(s!) * 1_000_000_000n + BigInt((f! + '000000000').slice(0, 9));
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadRequest(`invalid ${what} timestamp ${JSON.stringify(v)}`);
  return BigInt(t) * 1_000_000n;
}

function rangeParams(p: URLSearchParams, dflt: bigint): { start: bigint; end: bigint } {
  const now = BigInt(Date.now()) * 1_000_000n;
  const end = p.has('end') ? parseTs(p.get('end')!, 'end') : now;
  const start = p.has('start') ? parseTs(p.get('start')!, 'start') : end - dflt;
  return { start, end };
}

function parseStep(v: string): bigint {
  if (/^\d+(\.\d+)?$/.test(v)) return BigInt(Math.round(Number(v) * 1000)) * 1_000_000n;
  return goDurationNs(v);
}

function defaultStep(start: bigint, end: bigint): bigint {
  const s = (end - start) / 250n / 1_000_000_000n;
  return (s < 1n ? 1n : s) * 1_000_000_000n;
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: HOUR_NS,
  d: 24n * HOUR_NS,
  w: 168n * HOUR_NS,
  y: 8760n * HOUR_NS,
};

function goDurationNs(v: string): bigint {
  if (!/^(\d+(ns|us|µs|ms|s|m|h|d|w|y))+$/.test(v))
    throw new BadRequest(`parse error : not a valid duration string: ${JSON.stringify(v)}`);
  let ns = 0n;
  for (const m of v.matchAll(/(\d+)(ns|us|µs|ms|s|m|h|d|w|y)/g)) ns += BigInt(m[1]!) * UNIT_NS[m[2]!]!;
  return ns;
}

function goDuration(ns: bigint): string {
  const h = ns / HOUR_NS;
  const m = (ns % HOUR_NS) / 60_000_000_000n;
  const s = (ns % 60_000_000_000n) / 1_000_000_000n;
  return `${h}h${m}m${s}s`;
}

/** Go's time.Time.String() in UTC: 2026-01-02 03:04:05.123456789 +0000 UTC. */
function goTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString();
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? '.' + frac : ''} +0000 UTC`;
}

function rfc3339(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks)));
    req.on('error', rej);
  });
}

function text(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
