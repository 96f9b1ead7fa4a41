import protobuf from 'protobufjs';
import { HttpClient, HttpError, readBody, statusError } from '../http/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { snappyEncode } from '../wire/index.js';

/**
 * Loki's HTTP API (docs/sources/reference/loki-http-api.md): query_range for log lines and for metric
 * queries, series, labels, index/stats, and push as snappy-compressed protobuf (logproto.PushRequest,
 * pkg/push/push.proto) or JSON. Requests go through the http/ client (retries for 5xx, 429 and network
 * errors with Retry-After, redaction, tenant header X-Scope-OrgID from the endpoint).
 */
export interface LokiEntry {
  /** Nanoseconds since the epoch: beyond 2^53, so a BigInt. */
  tsNs: bigint;
  line: string;
  /** Structured metadata (Loki 3); absent when the entry has none. */
  metadata?: Record<string, string>;
}

export interface LokiStream {
  labels: Record<string, string>;
  entries: LokiEntry[];
}

export interface LokiMatrixSeries {
  metric: Record<string, string>;
  /** [unix seconds, value] as Loki returns them. */
  values: Array<[number, number]>;
}

export interface LokiIndexStats {
  streams: number;
  chunks: number;
  entries: number;
  bytes: number;
}

export type PushEncoding = 'protobuf' | 'json';

/** A push the target refused for good (after retries for 429 and 5xx). */
export class LokiPushError extends HttpError {}

/** `{a="1", b="2"}` as Loki's label parser reads it (names sorted, values Go-quoted). */
export function formatStreamLabels(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

/** Loki takes times as ns epoch strings; ms in, ns string out. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

/** The response header that makes Loki 3 return structured metadata apart from the stream labels. */
const CATEGORIZE = { 'x-loki-response-encoding-flags': 'categorize-labels' };

interface ApiEnvelope<T> {
  status?: string;
  data?: T;
  error?: string;
  errorType?: string;
}

export class LokiClient {
  readonly http: HttpClient;

  /** `signal` aborts every request (a stopped run, after its grace period). */
  constructor(endpoint: ResolvedEndpoint, opts: { connections?: number; signal?: AbortSignal } = {}) {
    this.http = new HttpClient(endpoint, { connections: opts.connections ?? 8, signal: opts.signal });
  }

  get url(): string {
    return this.http.endpoint.url;
  }

  private async getJson<T>(
    path: string,
    query: Record<string, string | number | string[] | undefined>,
    headers?: Record<string, string>,
  ): Promise<T> {
    const { text } = await this.http.text({ path, query, headers });
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new HttpError(
        'protocol',
        this.url + path,
        `GET ${this.url}${path}: the answer is not JSON (${text.slice(0, 80)})`,
        { hint: 'check that the URL points at Loki (port 3100 by default)' },
      );
    }
  }

  /** Log lines of a LogQL log query in [startNs, endNs), at most `limit` entries, in `direction` order. */
  async queryStreams(q: {
    query: string;
    startNs: bigint;
    endNs: bigint;
    limit: number;
    direction: 'forward' | 'backward';
  }): Promise<LokiStream[]> {
    const r = await this.getJson<
      ApiEnvelope<{
        resultType: string;
        result: Array<{
          stream: Record<string, string>;
          values: Array<[string, string, { structuredMetadata?: Record<string, string> }?]>;
        }>;
        encodingFlags?: string[];
      }>
    >(
      '/loki/api/v1/query_range',
      { query: q.query, start: q.startNs.toString(), end: q.endNs.toString(), limit: q.limit, direction: q.direction },
      CATEGORIZE,
    );
    const data = r.data;
    if (!data || data.resultType !== 'streams')
      throw new HttpError(
        'protocol',
        this.url,
        `query_range for ${q.query} answered resultType ${data?.resultType ?? 'none'}, expected streams`,
      );
    return data.result.map((s) => ({
      labels: s.stream,
      entries: s.values.map((v) => {
        const e: LokiEntry = { tsNs: BigInt(v[0]), line: v[1] };
        const sm = v[2]?.structuredMetadata;
        if (sm && Object.keys(sm).length > 0) e.metadata = sm;
        return e;
      }),
    }));
  }

  /** A metric query over (start, end] evaluated every `stepSec` seconds. */
  async queryMatrix(q: {
    query: string;
    startNs: bigint;
    endNs: bigint;
    stepSec: number;
  }): Promise<LokiMatrixSeries[]> {
    const r = await this.getJson<
      ApiEnvelope<{
        resultType: string;
        result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
      }>
    >('/loki/api/v1/query_range', {
      query: q.query,
      start: q.startNs.toString(),
      end: q.endNs.toString(),
      step: q.stepSec,
    });
    const data = r.data;
    if (!data || data.resultType !== 'matrix')
      throw new HttpError(
        'protocol',
        this.url,
        `query_range for ${q.query} answered resultType ${data?.resultType ?? 'none'}, expected matrix`,
      );
    return data.result.map((s) => ({
      metric: s.metric,
      values: s.values.map(([t, v]) => [Number(t), Number(v)] as [number, number]),
    }));
  }

  /** Label sets of the streams matching any of the selectors in [start, end]. */
  async series(selectors: string[], startNs: bigint, endNs: bigint): Promise<Array<Record<string, string>>> {
    const r = await this.getJson<ApiEnvelope<Array<Record<string, string>>>>('/loki/api/v1/series', {
      'match[]': selectors,
      start: startNs.toString(),
      end: endNs.toString(),
    });
    return r.data ?? [];
  }

  async labels(startNs: bigint, endNs: bigint): Promise<string[]> {
    const r = await this.getJson<ApiEnvelope<string[]>>('/loki/api/v1/labels', {
      start: startNs.toString(),
      end: endNs.toString(),
    });
    return r.data ?? [];
  }

  /** Approximate: Loki leaves out what is still in the ingesters (docs: index/stats). */
  async indexStats(selector: string, startNs: bigint, endNs: bigint): Promise<LokiIndexStats> {
    return this.getJson<LokiIndexStats>('/loki/api/v1/index/stats', {
      query: selector,
      start: startNs.toString(),
      end: endNs.toString(),
    });
  }

  /**
   * Pushes streams; resolves on 204. 429 and 5xx are retried by the http client (Retry-After honoured);
   * any other refusal, or a 429 that outlasts the retries, throws LokiPushError with Loki's text.
   */
  async push(streams: LokiStream[], encoding: PushEncoding = 'protobuf'): Promise<{ bytes: number }> {
    const body = encoding === 'protobuf' ? encodePushRequest(streams) : Buffer.from(JSON.stringify(pushJson(streams)));
    const headers =
      encoding === 'protobuf' ? { 'content-type': 'application/x-protobuf' } : { 'content-type': 'application/json' };
    const res = await this.http.request({ method: 'POST', path: '/loki/api/v1/push', body, headers });
    const text = await readBody(res, 1 << 20);
    if (res.status >= 200 && res.status < 300) return { bytes: body.byteLength };
    const e = statusError('POST', res, text);
    throw new LokiPushError('status', res.url, e.message, {
      status: res.status,
      body: text,
      headers: res.headers,
      hint: e.hint,
    });
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** The JSON push body: timestamps as ns strings (a number is a 400), metadata as the optional third element. */
export function pushJson(streams: LokiStream[]): {
  streams: Array<{
    stream: Record<string, string>;
    values: Array<[string, string] | [string, string, Record<string, string>]>;
  }>;
} {
  return {
    streams: streams.map((s) => ({
      stream: s.labels,
      values: s.entries.map((e) =>
        e.metadata ? [e.tsNs.toString(), e.line, e.metadata] : [e.tsNs.toString(), e.line],
      ),
    })),
  };
}

/**
 * logproto.PushRequest, raw-block snappy compressed (util.RawSnappy in pkg/loghttp/push/push.go):
 *   PushRequest { repeated StreamAdapter streams = 1 }
 *   StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2 }
 *   EntryAdapter { google.protobuf.Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3 }
 *   LabelPairAdapter { string name = 1; string value = 2 }; Timestamp { int64 seconds = 1; int32 nanos = 2 }
 */
export function encodePushRequest(streams: LokiStream[]): Buffer {
  const w = protobuf.Writer.create();
  for (const s of streams) {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(formatStreamLabels(s.labels));
    for (const e of s.entries) {
      w.uint32((2 << 3) | 2).fork();
      const seconds = e.tsNs / 1_000_000_000n;
      const nanos = Number(e.tsNs % 1_000_000_000n);
      w.uint32((1 << 3) | 2).fork();
      if (seconds !== 0n) w.uint32(1 << 3).int64(seconds.toString());
      if (nanos !== 0) w.uint32(2 << 3).int32(nanos);
      w.ldelim();
      w.uint32((2 << 3) | 2).string(e.line);
      if (e.metadata) {
        for (const name of Object.keys(e.metadata).sort()) {
          w.uint32((3 << 3) | 2).fork();
          w.uint32((1 << 3) | 2).string(name);
          w.uint32((2 << 3) | 2).string(e.metadata[name]!);
          w.ldelim();
        }
      }
      w.ldelim();
    }
    w.ldelim();
  }
  return snappyEncode(w.finish());
}
