import { HttpClient, HttpError, readBody, statusError } from '../http/index.js';
import { RW1_HEADERS, RW2_HEADERS, writtenHeaders } from '../wire/index.js';

export type RemoteWriteVersion = '1.0' | '2.0';

/**
 * Why a receiver refused (part of) a request. Mimir answers with an `err-mimir-*` id; Prometheus with the
 * TSDB error text. One class per refused request; what the receiver kept of it is `WriteResult.kept`.
 */
export interface RejectClass {
  id: string;
  retryable: false;
  advice: string;
}

const MIMIR_ADVICE: Record<string, string> = {
  'sample-timestamp-too-old':
    "the tenant's out_of_order_time_window (Mimir -ingester.out-of-order-time-window) must cover the oldest backfilled sample; raise it for the tenant during the backfill",
  'sample-out-of-order':
    'enable out-of-order ingestion for the tenant (out_of_order_time_window at least the age of the oldest sample)',
  'sample-duplicate-timestamp':
    'the target already holds different values at these timestamps (another writer or an earlier different copy); check for overlapping sources',
  'too-far-in-past': "raise the tenant's past_grace_period (or leave it 0) so that old samples pass the distributor",
  'too-far-in-future': 'samples newer than now + creation_grace_period: check the source clock',
  'max-series-per-user':
    "raise the tenant's max_global_series_per_user above the number of series being copied, or split the copy by tenant",
  'max-series-per-metric': "raise the tenant's max_global_series_per_metric",
  'max-label-names-per-series': "raise the tenant's max_label_names_per_series",
  'label-value-too-long': "raise the tenant's max_label_value_length",
  'label-name-too-long': "raise the tenant's max_label_name_length",
  'distributor-max-write-message-size': 'lower --batch-samples so requests stay under -distributor.max-recv-msg-size',
  'missing-metric-name': 'the source has series without __name__; narrow --match',
};

const ADVICE: Record<string, string> = {
  'out-of-bounds':
    'the target refuses samples older than its head (Prometheus: set storage.tsdb.out_of_order_time_window to cover the oldest sample; Mimir: out_of_order_time_window for the tenant)',
  'too-old':
    "samples are older than the target's out-of-order window: raise out_of_order_time_window to at least the age of the oldest copied sample",
  'out-of-order': 'enable out-of-order ingestion on the target (storage.tsdb.out_of_order_time_window)',
  'duplicate-timestamp': 'the target already holds different values at these timestamps; check for another writer',
  'request-too-large': 'lower --batch-samples',
  'unsupported-media-type':
    'the receiver does not accept this protobuf message; use remote write 1.0 (drop --remote-write-v2)',
  'http-401': 'check the target credentials and tenant',
  'http-403': 'check the target credentials and tenant',
  'http-404':
    'check the target URL: Mimir /api/v1/push, Prometheus /api/v1/write (with --web.enable-remote-write-receiver)',
  'written-count-mismatch': 'the receiver acknowledged fewer samples than were sent: check its logs and limits',
  'readback-mismatch':
    'the target answered success but holds fewer samples than were sent for these units (redone once, still short): check its logs (out-of-order compaction, limits); the units are redone on the next run',
};

/** The fix for a rejection class, as reported in the backfill summary. */
export function adviceForReject(id: string): string {
  if (id.startsWith('mimir:')) {
    const m = id.slice(6);
    return MIMIR_ADVICE[m] ?? `see Mimir's runbook entry for err-mimir-${m}`;
  }
  return ADVICE[id] ?? 'see the example message in the report';
}

function cls(id: string): RejectClass {
  return { id, retryable: false, advice: adviceForReject(id) };
}

/**
 * TSDB append errors by their text. Prometheus answers them with 400 (out of order, out of bounds, duplicate) or,
 * before 2.44, 500 ("too old sample"): whatever the status, resending the same samples only repeats the refusal.
 */
const APPEND_ERRORS: Array<[string, string]> = [
  ['out of bounds', 'out-of-bounds'],
  ['too old sample', 'too-old'],
  ['out of order sample', 'out-of-order'],
  ['duplicate sample for timestamp', 'duplicate-timestamp'],
  ['too far in the future', 'out-of-bounds'],
];

/** The class of a known TSDB append error in a response body, whatever the status; undefined when none. */
export function appendErrorClass(body: string): string | undefined {
  const mimir = /err-mimir-([a-z0-9-]+)/.exec(body);
  if (mimir) return `mimir:${mimir[1]}`;
  const b = body.toLowerCase();
  return APPEND_ERRORS.find(([text]) => b.includes(text))?.[1];
}

/** Classifies a non-retryable remote-write refusal by its status and body. */
export function classifyReject(status: number, body: string): RejectClass {
  const known = appendErrorClass(body);
  if (known) return cls(known);
  if (status === 413) return cls('request-too-large');
  if (status === 415) return cls('unsupported-media-type');
  return cls(`http-${status}`);
}

/**
 * What a receiver keeps of a request it refuses. Prometheus's remote-write 1.0 handler appends a request in one
 * transaction and rolls it back on the first bad sample: a 400 keeps nothing. Mimir (and Prometheus 3.x for remote
 * write 2.0, which says so in its *-Written headers) ingests the valid samples and reports the first bad one.
 */
export type ReceiverKind = 'prometheus' | 'mimir' | 'other';
export type KeptOnRefusal = 'none' | 'rest' | 'unknown';

export function keptOnRefusal(kind: ReceiverKind): KeptOnRefusal {
  return kind === 'prometheus' ? 'none' : kind === 'mimir' ? 'rest' : 'unknown';
}

export interface WriteResult {
  /** 'ok' when fully accepted; 'rejected' when the receiver refused some or all samples. */
  outcome: 'ok' | 'rejected';
  status: number;
  reject?: RejectClass;
  /** First 300 characters of the refusal. */
  message?: string;
  /** RW 2.0 `*-Written` counts, when the receiver sent them. */
  written?: { samples: number; histograms: number; exemplars: number };
  /** On a refusal: what the receiver kept of the request. */
  kept?: KeptOnRefusal;
}

/**
 * Remote write 1.0 (default) or 2.0 to Mimir (`/api/v1/push`), Prometheus (`/api/v1/write`) or any receiver.
 * Retries (network errors, 5xx, 429 with Retry-After) are the HTTP layer's, except a 500 whose body is a TSDB
 * append error (Prometheus 2.42's "too old sample"), which is a refusal like the 4xx: the caller counts it and
 * carries on, since resending a refused sample only repeats the refusal. A success is only what the
 * protocol documents: 204, or 200 with an empty body (Mimir); anything else (a web page answering 200) is
 * not a remote-write receiver.
 */
export class RemoteWriteClient {
  readonly http: HttpClient;
  readonly path: string;
  readonly version: RemoteWriteVersion;
  readonly receiver: ReceiverKind;

  /** `path` is appended to the endpoint URL: /api/v1/push (Mimir, the default) or /api/v1/write (Prometheus). */
  constructor(http: HttpClient, opts: { path?: string; version?: RemoteWriteVersion; receiver?: ReceiverKind } = {}) {
    this.http = http;
    this.path = opts.path ?? '/api/v1/push';
    this.version = opts.version ?? '1.0';
    this.receiver =
      opts.receiver ??
      (this.path.endsWith('/api/v1/write') ? 'prometheus' : this.path.endsWith('/api/v1/push') ? 'mimir' : 'other');
  }

  /**
   * Sends one snappy-compressed request body (built by encodeWriteRequest / encodeWriteRequestV2). Retries are
   * the HTTP layer's policy; a 500 counts as retryable only when its body is not a known append error.
   */
  async send(body: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<WriteResult> {
    const res = await this.http.request({
      method: 'POST',
      path: this.path,
      body,
      headers: { ...(this.version === '2.0' ? RW2_HEADERS : RW1_HEADERS) },
      signal: opts.signal,
      // undefined body: "worth reading the body to decide"; then a 500 with an append error is a refusal
      retryStatus: (s, text) =>
        s === 429 ||
        (s > 500 && s < 600) ||
        (s === 500 && (text === undefined || appendErrorClass(text) === undefined)),
    });
    const text = await readBody(res, 1 << 20).catch(() => '');
    if (res.status >= 200 && res.status < 300) return this.success(res.status, res.url, res.headers, text);
    const written = writtenHeaders(res.headers);
    const known = appendErrorClass(text);
    if ((res.status >= 400 && res.status < 500) || known) {
      const kept: KeptOnRefusal = written ? 'rest' : keptOnRefusal(this.receiver);
      return {
        outcome: 'rejected',
        status: res.status,
        reject: classifyReject(res.status, text),
        message: text.replace(/\s+/g, ' ').trim().slice(0, 300),
        written,
        kept,
      };
    }
    // retries exhausted on 5xx/429
    throw statusError('POST', res, text);
  }

  private success(status: number, url: string, headers: Record<string, string>, text: string): WriteResult {
    if ((status !== 204 && status !== 200) || text.trim() !== '') {
      const what = headers['content-type'] ? `${headers['content-type'].split(';')[0]} ` : '';
      throw new HttpError(
        'protocol',
        url,
        `${url} answered a remote-write request with HTTP ${status} and a ${what}body${text.trim() ? ` ("${text.replace(/\s+/g, ' ').trim().slice(0, 60)}")` : ''}: not a remote-write receiver (they answer 204, or 200 with an empty body), so nothing counts as written`,
        {
          status,
          hint: 'point --target-url at Mimir /api/v1/push, or at a Prometheus started with --web.enable-remote-write-receiver (/api/v1/write)',
        },
      );
    }
    const written = writtenHeaders(headers);
    if (this.version === '2.0' && !written) {
      // spec: a 2xx without *-Written headers means a 1.0 receiver decoded the message as an empty v1 request
      throw new HttpError(
        'protocol',
        url,
        `${url} answered a remote write 2.0 request with HTTP ${status} but without X-Prometheus-Remote-Write-*-Written headers: it does not understand 2.0 and stored nothing`,
        {
          status: 415,
          hint: 'use remote write 1.0 (the default) for this target',
        },
      );
    }
    return { outcome: 'ok', status, written };
  }
}
