import { gzipSync } from 'node:zlib';
import { HttpClient, HttpError, readBody, statusError } from '../http/index.js';
import { decodeExportTraceResponse } from './otlp-encode.js';

/**
 * OTLP/HTTP trace export (opentelemetry-proto docs/specification.md, "OTLP/HTTP"): POST /v1/traces with a
 * protobuf ExportTraceServiceRequest, gzip-compressed. Retries follow the spec exactly: 429, 502, 503 and
 * 504 (and network errors) are retried with backoff, honouring Retry-After; every other status is final.
 * A 200 may carry partial_success.rejected_spans: those spans were refused for good and must not be re-sent.
 */
export const OTLP_RETRYABLE = new Set([429, 502, 503, 504]);

export interface OtlpExportResult {
  outcome: 'ok' | 'partial' | 'rejected' | 'too-large';
  status: number;
  rejectedSpans: number;
  message?: string;
  bytesSent: number;
}

export class OtlpTraceExporter {
  readonly http: HttpClient;
  readonly path: string;
  readonly gzip: boolean;

  /** `path` is appended to the endpoint URL (default /v1/traces, the OTLP/HTTP path on :4318). */
  constructor(http: HttpClient, opts: { path?: string; gzip?: boolean } = {}) {
    this.http = http;
    this.path = opts.path ?? '/v1/traces';
    this.gzip = opts.gzip ?? true;
  }

  /**
   * An empty ExportTraceServiceRequest, which every OTLP receiver accepts with 200 and stores nothing from:
   * proves the URL before any state is written. One retry only, so a wrong URL fails fast.
   */
  async probe(): Promise<void> {
    let r: OtlpExportResult;
    try {
      r = await this.export(new Uint8Array(0), 0, 1);
    } catch (e) {
      if (e instanceof HttpError)
        throw new HttpError(e.kind, e.url, `OTLP receiver check failed: ${e.message}`, {
          status: e.status,
          hint: e.hint,
        });
      throw e;
    }
    if (r.outcome !== 'ok') {
      throw new HttpError(
        'protocol',
        this.http.endpoint.url + this.path,
        `${this.http.endpoint.url}${this.path} refused an empty OTLP trace export (HTTP ${r.status}${r.message ? `: ${r.message.slice(0, 160)}` : ''})`,
        { hint: 'point --otlp-url at an OTLP/HTTP receiver (Tempo distributor or collector, port 4318)' },
      );
    }
  }

  async export(request: Uint8Array, spans: number, retries?: number): Promise<OtlpExportResult> {
    const body = this.gzip ? gzipSync(request, { level: 1 }) : request;
    const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
    if (this.gzip) headers['content-encoding'] = 'gzip';
    const res = await this.http.request({
      method: 'POST',
      path: this.path,
      body,
      headers,
      retries,
      retryStatus: (s) => OTLP_RETRYABLE.has(s),
    });
    const chunks: Buffer[] = [];
    if (res.status >= 200 && res.status < 300) {
      for await (const c of res.body) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      let partial: { rejectedSpans: bigint; errorMessage: string } | undefined;
      const type = res.headers['content-type'] ?? '';
      if (raw.length && /text\/html/.test(type)) {
        throw new HttpError(
          'protocol',
          res.url,
          `${res.url} is not an OTLP/HTTP receiver: it answered a trace export with an HTML page (HTTP ${res.status})`,
          {
            hint: 'point --otlp-url at an OTLP/HTTP receiver (Tempo distributor or collector, port 4318), not at a UI or query port',
          },
        );
      }
      try {
        if (type.includes('json')) {
          const j = raw.length
            ? (JSON.parse(raw.toString('utf8')) as {
                partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string };
              })
            : {};
          if (j.partialSuccess)
            partial = {
              rejectedSpans: BigInt(j.partialSuccess.rejectedSpans ?? 0),
              errorMessage: j.partialSuccess.errorMessage ?? '',
            };
        } else if (raw.length) partial = decodeExportTraceResponse(raw);
      } catch (e) {
        throw new HttpError(
          'protocol',
          res.url,
          `${res.url} answered HTTP ${res.status} with a body that is not an ExportTraceServiceResponse: ${(e as Error).message}`,
          { hint: 'point --otlp-url at an OTLP/HTTP receiver (Tempo distributor or collector, port 4318)' },
        );
      }
      if (partial && (partial.rejectedSpans > 0n || partial.errorMessage)) {
        // a non-zero count is final; a message alone is a warning (spec: "rejected_spans ... MUST be 0" for warnings)
        return {
          outcome: partial.rejectedSpans > 0n ? 'partial' : 'ok',
          status: res.status,
          rejectedSpans: Number(partial.rejectedSpans),
          message: partial.errorMessage,
          bytesSent: body.byteLength,
        };
      }
      return { outcome: 'ok', status: res.status, rejectedSpans: 0, bytesSent: body.byteLength };
    }
    const text = await readBody(res, 1 << 20).catch(() => '');
    if (res.status === 413)
      return {
        outcome: 'too-large',
        status: 413,
        rejectedSpans: 0,
        message: text.slice(0, 300),
        bytesSent: body.byteLength,
      };
    if (res.status === 400)
      return {
        outcome: 'rejected',
        status: 400,
        rejectedSpans: spans,
        message: text.replace(/\s+/g, ' ').trim().slice(0, 300),
        bytesSent: body.byteLength,
      };
    const err = statusError('POST', res, text);
    if (res.status === 404 || res.status === 405) {
      throw new HttpError('status', res.url, `${err.message}`, {
        status: res.status,
        hint: "this is not an OTLP/HTTP traces receiver: point --otlp-url at Tempo's distributor or a collector on port 4318 (the path /v1/traces is added)",
      });
    }
    throw err;
  }
}
