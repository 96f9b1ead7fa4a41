import { HttpClient, HttpError, readBody, statusError } from '../http/index.js';
import {
  encodeReadRequest,
  newDecodeStats,
  seriesFromFrames,
  seriesFromSamplesResponse,
  snappyDecode,
  type DecodeStats,
  type Matcher,
  type SeriesSamples,
} from '../wire/index.js';

const STREAMED_CT = 'application/x-streamed-protobuf';

export interface RemoteReadQuery {
  /** Inclusive bounds, as remote read defines them. */
  startMs: number;
  endMs: number;
  matchers: Matcher[];
}

export interface StreamOptions {
  /** 'streamed' (default) asks for STREAMED_XOR_CHUNKS first and accepts SAMPLES; 'samples' asks for SAMPLES only. */
  responseType?: 'streamed' | 'samples';
  /** Filled in while streaming: frames, bytes, histogram and unknown-encoding counts, and which response type the server chose. */
  stats?: DecodeStats & { responseType?: 'streamed' | 'samples' };
  /** A series' arrays may be reused for the next one (the consumer copies them before asking for more). */
  reuse?: boolean;
  /** Aborts the request and its body (a run being stopped). */
  signal?: AbortSignal;
}

/**
 * Prometheus remote read (`/api/v1/read`; Mimir: `/prometheus/api/v1/read`). Streams STREAMED_XOR_CHUNKS when
 * the server offers it, holding one frame and one series in memory; falls back to SAMPLES (one snappy
 * message, bounded by the server's read-sample-limit) when it does not.
 */
export class RemoteReadClient {
  readonly http: HttpClient;
  readonly path: string;

  constructor(http: HttpClient, opts: { path?: string } = {}) {
    this.http = http;
    this.path = opts.path ?? '/api/v1/read';
  }

  async *streamSeries(q: RemoteReadQuery, opts: StreamOptions = {}): AsyncIterable<SeriesSamples> {
    const stats: DecodeStats & { responseType?: 'streamed' | 'samples' } = opts.stats ?? newDecodeStats();
    const accepted = opts.responseType === 'samples' ? (['samples'] as const) : (['streamed', 'samples'] as const);
    const body = encodeReadRequest([{ startMs: q.startMs, endMs: q.endMs, matchers: q.matchers }], [...accepted]);
    const res = await this.http.request({
      method: 'POST',
      path: this.path,
      body,
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'accept-encoding': 'snappy',
        'x-prometheus-remote-read-version': '0.1.0',
      },
      signal: opts.signal,
    });
    const url = `${this.http.endpoint.url}${this.path}`;
    if (res.status < 200 || res.status >= 300) {
      const text = await readBody(res, 1 << 20).catch(() => '');
      const err = statusError('POST', res, text);
      if (res.status === 404 || res.status === 405) {
        throw new HttpError('status', url, `${err.message}: no remote-read endpoint here`, {
          status: res.status,
          hint: 'point the source at Prometheus (path /api/v1/read) or Mimir (/prometheus/api/v1/read); check --source-url and any path prefix',
        });
      }
      if (res.status === 400 && /exceeded sample limit/.test(text)) {
        throw new HttpError('status', url, err.message, {
          status: 400,
          hint: 'the server refused a SAMPLES response this large; use the streamed response type or smaller windows',
        });
      }
      throw err;
    }
    const ct = (res.headers['content-type'] ?? '').toLowerCase();
    try {
      if (ct.startsWith(STREAMED_CT)) {
        stats.responseType = 'streamed';
        yield* seriesFromFrames(res.body, q.startMs, q.endMs, stats, undefined, opts.reuse);
      } else if (ct.startsWith('application/x-protobuf')) {
        stats.responseType = 'samples';
        const chunks: Buffer[] = [];
        for await (const c of res.body) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks);
        const msg = (res.headers['content-encoding'] ?? 'snappy').includes('snappy') ? snappyDecode(raw) : raw;
        yield* seriesFromSamplesResponse(msg, q.startMs, q.endMs, stats);
      } else {
        const text = await readBody(res, 4096).catch(() => '');
        throw new HttpError(
          'protocol',
          url,
          `${url} did not answer like a remote-read endpoint (HTTP ${res.status}, content type "${ct || 'none'}"${text ? `: "${text.replace(/\s+/g, ' ').slice(0, 60)}"` : ''})`,
          {
            status: res.status,
            hint: 'point the source at Prometheus (path /api/v1/read) or Mimir (/prometheus/api/v1/read)',
          },
        );
      }
    } finally {
      // stop the transfer when the consumer breaks out early
      if (!res.body.destroyed) res.body.destroy();
    }
  }
}
