import { StackshiftError } from '../errors/index.js';
import { redact } from '../redact/index.js';

export type HttpErrorKind = 'connect' | 'dns' | 'tls' | 'timeout' | 'status' | 'protocol';

const HINTS: Record<HttpErrorKind, string> = {
  connect: 'check that the server is running and the URL (host and port) is right',
  dns: 'check the host name in the URL',
  tls: 'pass the server CA with tls.ca_file (--<endpoint>-ca-file), or, for a test system only, tls.insecure_skip_verify',
  timeout:
    'the server did not answer in time; raise the endpoint timeout (--<endpoint>-timeout, endpoints.<name>.timeout) or check the server load',
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
  /** For failures without a status: whether trying again may succeed (see isRetryableError). */
  readonly retryable: boolean;

  constructor(
    kind: HttpErrorKind,
    url: string,
    message: string,
    opts: {
      status?: number;
      body?: string;
      hint?: string;
      cause?: unknown;
      headers?: Record<string, string>;
      retryable?: boolean;
    } = {},
  ) {
    const safeUrl = redact(url);
    super(`http-${kind}`, redact(message), {
      hint: opts.hint === undefined ? HINTS[kind] : redact(opts.hint),
      cause: opts.cause,
    });
    this.name = 'HttpError';
    this.kind = kind;
    this.status = opts.status;
    this.url = safeUrl;
    this.bodyExcerpt = opts.body === undefined ? undefined : redact(opts.body.slice(0, 500));
    this.headers = opts.headers;
    this.retryable = opts.retryable ?? (kind === 'connect' || kind === 'timeout');
  }
}

export interface NetworkErrorClass {
  kind: HttpErrorKind;
  reason: string;
  retryable: boolean;
  /** False when the error is not one we recognise (then it is reported, but never retried by isRetryableError). */
  known: boolean;
  hint?: string;
}

const CUT_SHORT_HINT =
  'the server or a proxy in between ended the response early (restart, crash, proxy timeout); rerun, and check the server log and any proxy timeouts';

/** Maps low-level socket/TLS/undici errors to a kind and a short human reason. */
export function classifyNetworkError(err: unknown): NetworkErrorClass {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  const msg = e?.message ?? String(err);
  const k = (kind: HttpErrorKind, reason: string, retryable: boolean, hint?: string): NetworkErrorClass => ({
    kind,
    reason,
    retryable,
    known: true,
    hint,
  });
  if (code === 'ECONNREFUSED') return k('connect', 'connection refused', true);
  if (code === 'UND_ERR_SOCKET' && /other side closed/i.test(msg))
    return k('connect', 'the server closed the connection (other side closed)', true, CUT_SHORT_HINT);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')
    return k('connect', 'connection reset by peer', true, CUT_SHORT_HINT);
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
    return k(
      'connect',
      'response body shorter than its Content-Length (connection closed mid-response)',
      true,
      CUT_SHORT_HINT,
    );
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return k('connect', 'host unreachable', true);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return k('dns', 'host name not found', code === 'EAI_AGAIN');
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return k('timeout', 'connect timed out', true);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT')
    return k('timeout', 'request timed out waiting for the response headers', true);
  if (code === 'UND_ERR_BODY_TIMEOUT') return k('timeout', 'response body stalled (no data within the timeout)', true);
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/i.test(code) || /certificate|ssl|tls/i.test(msg)) {
    return k('tls', `TLS handshake failed: ${e?.cause?.message ?? msg}`, false);
  }
  if (code === 'HPE_INVALID_CONSTANT' || code === 'UND_ERR_INFO' || /Parse Error/i.test(msg))
    return k('protocol', `not an HTTP server (${msg})`, false);
  return { kind: 'connect', reason: `${code ? code + ': ' : ''}${msg}`, retryable: true, known: false };
}

/** An HttpError for a low-level failure of a request to `url`, `display` being "METHOD origin/path". */
export function networkError(err: unknown, url: string, display: string, attempts = 1): HttpError {
  if (err instanceof HttpError) return err;
  const c = classifyNetworkError(err);
  return new HttpError(c.kind, url, `${display}: ${c.reason}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`, {
    cause: err,
    hint: c.hint,
    retryable: c.retryable,
  });
}
