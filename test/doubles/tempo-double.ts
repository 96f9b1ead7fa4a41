import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { otlpType } from '../../src/wire/index.js';

/**
 * A contract double of Tempo (AGPL, not run here), written from docs/sources/tempo/api_docs/_index.md and
 * /work/shared/research/traces-logs.md §2 (code references there). Two listeners, as a real deployment has:
 *
 * - distributor `otlpUrl`: POST /v1/traces, OTLP protobuf (gzip allowed) -> 200 with an empty
 *   ExportTraceServiceResponse; a body that does not decode -> 400. Spans outside [now - slack, now + slack]
 *   (`ingestion_time_range_slack`, default 2m) are stored but their block is dated at ingestion time.
 * - query `url`: GET /api/echo ("echo"), /ready, /api/status/buildinfo; GET /api/traces/<id> (gogo jsonpb:
 *   base64 IDs, enum names, int64/uint64 as strings; `batches` for version < 2.6 else `resourceSpans`);
 *   GET /api/v2/traces/<id> (2.6+: {"trace":{...}}); 404 for an unknown ID, 400 for one that is not hex;
 *   spans merged on read by (span ID, kind) like pkg/model/trace/combine.go. GET /api/search (q TraceQL of the
 *   form `{}` or `{ resource.service.name = "x" }`, start/end in seconds, limit default 20): trace IDs as hex
 *   with leading zeros trimmed; without start/end only recently ingested traces (live store); with them a
 *   trace must overlap the window both by its block's (slack-clamped) range and by its real span times, so a
 *   copied historical trace is found by neither window; end - start > 168h -> 400.
 * - multitenancy (option): X-Scope-OrgID required on both listeners, else 401 "no org id"; tenants separate.
 * - faults: `throttle(n, retryAfterS)` answers the next n pushes with 429 and Retry-After.
 */
export interface TempoDoubleOptions {
  multitenancy?: boolean;
  /** Reported by buildinfo; below 2.6 the trace JSON uses `batches` and /api/v2 does not exist. */
  version?: string;
  slackMs?: number;
  /** How long a trace counts as recent for searches without start/end (live store). */
  recentMs?: number;
}

interface StoredSpan {
  span: Record<string, any>;
  resource: Record<string, any>;
  scope: Record<string, any> | undefined;
}
interface StoredTrace {
  spans: StoredSpan[];
  ingestedMs: number;
  blockStartS: number;
  blockEndS: number;
  startNs: bigint;
  endNs: bigint;
  rootService: string;
  rootName: string;
}

const SPAN_KIND = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

export class TempoDouble {
  url = '';
  otlpUrl = '';
  pushes = 0;
  throttled = 0;
  private readonly tenants = new Map<string, Map<string, StoredTrace>>();
  private servers: Server[] = [];
  private throttleLeft = 0;
  private retryAfterS = 1;
  private readonly opts: Required<TempoDoubleOptions>;

  constructor(opts: TempoDoubleOptions = {}) {
    this.opts = { multitenancy: false, version: '2.10.8', slackMs: 120_000, recentMs: 15 * 60_000, ...opts };
  }

  async start(): Promise<this> {
    const listen = (h: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void) =>
      new Promise<string>((resolve) => {
        const s = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => h(req, res, Buffer.concat(chunks)));
        });
        this.servers.push(s);
        s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`));
      });
    this.url = await listen((q, r, b) => this.query(q, r, b));
    this.otlpUrl = await listen((q, r, b) => this.push(q, r, b));
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.closeAllConnections();
            s.close(() => r());
          }),
      ),
    );
  }

  throttle(n: number, retryAfterS = 1): void {
    this.throttleLeft = n;
    this.retryAfterS = retryAfterS;
  }

  /** Test hook: removes a trace (to prove verify reports a missing one). */
  delete(idHex: string, tenant = 'single-tenant'): boolean {
    return this.tenants.get(tenant)?.delete(idHex.padStart(32, '0')) ?? false;
  }

  traceCount(tenant = 'single-tenant'): number {
    return this.tenants.get(tenant)?.size ?? 0;
  }

  private tenant(req: IncomingMessage, res: ServerResponse): string | undefined {
    if (!this.opts.multitenancy) return 'single-tenant';
    const t = req.headers['x-scope-orgid'];
    if (typeof t !== 'string' || t === '') {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('no org id');
      return undefined;
    }
    return t;
  }

  private push(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const tenant = this.tenant(req, res);
    if (!tenant) return;
    if (this.throttleLeft > 0) {
      this.throttleLeft--;
      this.throttled++;
      res.writeHead(429, { 'retry-after': String(this.retryAfterS), 'content-type': 'application/x-protobuf' }).end();
      return;
    }
    let msg: any;
    try {
      const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      const T = otlpType('ExportTraceServiceRequest');
      msg = T.toObject(T.decode(raw), { longs: String, bytes: Array, defaults: false });
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`proto: ${(e as Error).message}`);
      return;
    }
    this.pushes++;
    const now = Date.now();
    let store = this.tenants.get(tenant);
    if (!store) this.tenants.set(tenant, (store = new Map()));
    for (const rs of msg.resource_spans ?? []) {
      for (const ss of rs.scope_spans ?? []) {
        for (const sp of ss.spans ?? []) {
          const id = Buffer.from(sp.trace_id).toString('hex');
          const s = BigInt(sp.start_time_unix_nano ?? 0);
          const e = BigInt(sp.end_time_unix_nano ?? 0);
          let t = store.get(id);
          // AdjustTimeRangeForSlack: a span outside [now - slack, now + slack] dates its block at ingestion time
          const inSlack =
            Number(s / 1_000_000n) >= now - this.opts.slackMs && Number(e / 1_000_000n) <= now + this.opts.slackMs;
          const bs = inSlack ? Number(s / 1_000_000_000n) : Math.floor(now / 1000);
          const be = inSlack ? Number(e / 1_000_000_000n) : Math.ceil(now / 1000);
          if (!t)
            store.set(
              id,
              (t = {
                spans: [],
                ingestedMs: now,
                blockStartS: bs,
                blockEndS: be,
                startNs: s,
                endNs: e,
                rootService: '',
                rootName: '',
              }),
            );
          t.blockStartS = Math.min(t.blockStartS, bs);
          t.blockEndS = Math.max(t.blockEndS, be);
          if (s < t.startNs) t.startNs = s;
          if (e > t.endNs) t.endNs = e;
          if (!sp.parent_span_id || Buffer.from(sp.parent_span_id).every((b: number) => b === 0)) {
            t.rootName = sp.name ?? '';
            t.rootService =
              (rs.resource?.attributes ?? []).find((a: any) => a.key === 'service.name')?.value?.string_value ?? '';
          }
          t.spans.push({ span: sp, resource: rs.resource ?? {}, scope: ss.scope });
        }
      }
    }
    const R = otlpType('ExportTraceServiceResponse');
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(R.encode(R.create({})).finish());
  }

  private query(req: IncomingMessage, res: ServerResponse, _body: Buffer): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, v: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    if (u.pathname === '/ready') {
      res.writeHead(200).end('ready');
      return;
    }
    if (u.pathname === '/api/echo') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('echo');
      return;
    }
    if (u.pathname === '/api/status/buildinfo') {
      json(200, { version: this.opts.version, revision: 'double', branch: 'double', goVersion: 'go1.24' });
      return;
    }
    const tenant = this.tenant(req, res);
    if (!tenant) return;
    const store = this.tenants.get(tenant) ?? new Map<string, StoredTrace>();
    const v26 = versionAtLeast(this.opts.version, 2, 6);
    const m = /^\/api(\/v2)?\/traces\/([^/]+)$/.exec(u.pathname);
    if (m) {
      if (m[1] && !v26) {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      const hex = m[2].toLowerCase();
      if (!/^[0-9a-f]{1,32}$/.test(hex)) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`invalid traceID: ${m[2]}`);
        return;
      }
      const t = store.get(hex.padStart(32, '0'));
      const startS = u.searchParams.get('start');
      const endS = u.searchParams.get('end');
      const inRange =
        !t || (!startS && !endS) || (t.blockEndS >= Number(startS ?? 0) && t.blockStartS <= Number(endS ?? Infinity));
      if (!t || !inRange) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('trace not found');
        return;
      }
      const body = { [v26 ? 'resourceSpans' : 'batches']: gogoBatches(t) };
      json(200, m[1] ? { trace: body } : body);
      return;
    }
    if (u.pathname === '/api/search') {
      const limit = Number(u.searchParams.get('limit') ?? 20);
      const start = u.searchParams.get('start');
      const end = u.searchParams.get('end');
      if (start && end && Number(end) - Number(start) > 168 * 3600) {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end(`range specified by start and end exceeds 168h0m0s. received start=${start} end=${end}`);
        return;
      }
      if (limit > 262144) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`limit ${limit} exceeds max search limit 262144`);
        return;
      }
      const q = u.searchParams.get('q') ?? '{}';
      const svc = /resource\.service\.name\s*=\s*"([^"]*)"/.exec(q)?.[1];
      const hits: unknown[] = [];
      for (const [id, t] of store) {
        if (hits.length >= limit) break;
        if (
          svc !== undefined &&
          !t.spans.some((s) =>
            (s.resource.attributes ?? []).some((a: any) => a.key === 'service.name' && a.value?.string_value === svc),
          )
        )
          continue;
        if (start || end) {
          const a = Number(start ?? 0);
          const b = Number(end ?? Infinity);
          const blockOverlaps = t.blockEndS >= a && t.blockStartS <= b;
          const realOverlaps = Number(t.endNs / 1_000_000_000n) >= a && Number(t.startNs / 1_000_000_000n) <= b;
          if (!blockOverlaps || !realOverlaps) continue;
        } else if (Date.now() - t.ingestedMs > this.opts.recentMs) continue;
        hits.push({
          traceID: id.replace(/^0+/, ''),
          rootServiceName: t.rootService,
          rootTraceName: t.rootName,
          startTimeUnixNano: t.startNs.toString(),
          durationMs: Number((t.endNs - t.startNs) / 1_000_000n),
        });
      }
      json(200, { traces: hits, metrics: { inspectedTraces: store.size } });
      return;
    }
    res.writeHead(404).end('404 page not found\n');
  }
}

function versionAtLeast(v: string, major: number, minor: number): boolean {
  const [a, b] = v.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

const b64 = (bytes: number[] | undefined) => Buffer.from(bytes ?? []).toString('base64');

/** gogo jsonpb of protobufjs objects: base64 bytes, enum names, 64-bit integers as strings, zero values omitted. */
function anyValue(v: any): Record<string, unknown> {
  if (!v) return {};
  if (v.string_value !== undefined) return { stringValue: v.string_value };
  if (v.bool_value !== undefined) return { boolValue: v.bool_value };
  if (v.int_value !== undefined) return { intValue: String(v.int_value) };
  if (v.double_value !== undefined) return { doubleValue: v.double_value };
  if (v.bytes_value !== undefined) return { bytesValue: b64(v.bytes_value) };
  if (v.array_value !== undefined) return { arrayValue: { values: (v.array_value.values ?? []).map(anyValue) } };
  if (v.kvlist_value !== undefined) return { kvlistValue: { values: kvs(v.kvlist_value.values) } };
  return {};
}

function kvs(list: any[] | undefined): unknown[] {
  return (list ?? []).map((kv) => ({ key: kv.key, value: anyValue(kv.value) }));
}

function omitEmpty(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).filter(
      ([, v]) => v !== undefined && v !== '' && v !== 0 && !(Array.isArray(v) && v.length === 0),
    ),
  );
}

function gogoBatches(t: StoredTrace): unknown[] {
  // combine: one copy per (span ID, kind), as Tempo's combiner does on read
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const s of t.spans) {
    const key = `${b64(s.span.span_id)}/${s.span.kind ?? 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const sp = s.span;
    out.push({
      resource: omitEmpty({
        attributes: kvs(s.resource.attributes),
        droppedAttributesCount: s.resource.dropped_attributes_count,
      }),
      scopeSpans: [
        {
          scope: s.scope
            ? omitEmpty({ name: s.scope.name, version: s.scope.version, attributes: kvs(s.scope.attributes) })
            : {},
          spans: [
            omitEmpty({
              traceId: b64(sp.trace_id),
              spanId: b64(sp.span_id),
              traceState: sp.trace_state,
              parentSpanId: sp.parent_span_id ? b64(sp.parent_span_id) : undefined,
              name: sp.name,
              kind: SPAN_KIND[sp.kind ?? 0],
              startTimeUnixNano: sp.start_time_unix_nano,
              endTimeUnixNano: sp.end_time_unix_nano,
              attributes: kvs(sp.attributes),
              droppedAttributesCount: sp.dropped_attributes_count,
              events: (sp.events ?? []).map((e: any) =>
                omitEmpty({
                  timeUnixNano: e.time_unix_nano,
                  name: e.name,
                  attributes: kvs(e.attributes),
                  droppedAttributesCount: e.dropped_attributes_count,
                }),
              ),
              droppedEventsCount: sp.dropped_events_count,
              links: (sp.links ?? []).map((l: any) =>
                omitEmpty({
                  traceId: b64(l.trace_id),
                  spanId: b64(l.span_id),
                  traceState: l.trace_state,
                  attributes: kvs(l.attributes),
                  flags: l.flags,
                }),
              ),
              droppedLinksCount: sp.dropped_links_count,
              status: omitEmpty({
                message: sp.status?.message,
                code: sp.status?.code ? STATUS[sp.status.code] : undefined,
              }),
              flags: sp.flags,
            }),
          ],
        },
      ],
    });
  }
  return out;
}
