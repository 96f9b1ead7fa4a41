import { StackshiftError } from '../errors/index.js';
import { redact } from '../redact/index.js';

export type HttpErrorKind = 'connect' | 'dns' | 'tls' | 'timeout' | 'status' | 'protocol';

const HINTS: Record<HttpErrorKind, string> = {
  connect: 'check that the server is running and the URL (host and port) is right',
  dns: 'check the host name in the URL',
  tls: 'pass the server CA with tls.ca_file (--<endpoint>-ca-file), or, for a test system only, tls.insecure_skip_verify',
  timeout: 'the server did not answer in time; raise the endpoint timeout or check the server load',
  status: 'see the server response above',
  protocol: 'check that the URL points at the right kind of server',
};

/** Any failure talking to a server. Messages are redacted at construction so they are safe to print anywhere. */
export class HttpError extends StackshiftError {
  readonly kind: HttpErrorKind;
  readonly status?: number;
  readonly url: string;
  readonly bodyExcerpt?: string;
  readonly headers?: Record<string, string>;

  constructor(kind: HttpErrorKind, url: string, message: string, opts: { status?: number; body?: string; hint?: string; cause?: unknown; headers?: Record<string, string> } = {}) {
    const safeUrl = redact(url);
    super(`http-${kind}`, redact(message), { hint: opts.hint ?? HINTS[kind], cause: opts.cause });
    this.name = 'HttpError';
    this.kind = kind;
    this.status = opts.status;
    this.url = safeUrl;
    this.bodyExcerpt = opts.body === undefined ? undefined : redact(opts.body.slice(0, 500));
    this.headers = opts.headers;
  }
}

/** Maps low-level socket/TLS errors to a kind and a short human reason. */
export function classifyNetworkError(err: unknown): { kind: HttpErrorKind; reason: string; retryable: boolean } {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  const msg = e?.message ?? String(err);
  if (code === 'ECONNREFUSED') return { kind: 'connect', reason: 'connection refused', retryable: true };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return { kind: 'connect', reason: 'connection reset by peer', retryable: true };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'connect', reason: 'host unreachable', retryable: true };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', reason: 'host name not found', retryable: code === 'EAI_AGAIN' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', reason: 'connect timed out', retryable: true };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') return { kind: 'timeout', reason: 'request timed out', retryable: true };
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/i.test(code) || /certificate|ssl|tls/i.test(msg)) {
    return { kind: 'tls', reason: `TLS handshake failed: ${e?.cause?.message ?? msg}`, retryable: false };
  }
  if (code === 'HPE_INVALID_CONSTANT' || code === 'UND_ERR_INFO' || /Parse Error/i.test(msg)) return { kind: 'protocol', reason: `not an HTTP server (${msg})`, retryable: false };
  return { kind: 'connect', reason: `${code ? code + ': ' : ''}${msg}`, retryable: true };
}
