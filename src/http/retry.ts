import { setMaxListeners } from 'node:events';
import { StackshiftError } from '../errors/index.js';
import { HttpError, classifyNetworkError } from './errors.js';

/**
 * The one retry and deadline policy of stackshift. One predicate decides what is worth another attempt
 * (`isRetryableStatus` for answers, `isRetryableError` for failures), one function decides how long to wait
 * (`nextWait`), and one loop (`withRetries`) waits, stopping when the retry budget is spent or when the next
 * wait would end past the caller's deadline. The HTTP client uses the same three for single requests; callers
 * that retry a whole operation (a backfill unit, a metric comparison) use `withRetries` with a deadline of
 * their own. The shape follows OpenTelemetry JS otlp-exporter-base (is-export-retryable + retrying-transport).
 */

export interface RetryPolicy {
  /** First backoff step; attempt n waits up to baseMs * 2^(n-1). */
  baseMs: number;
  /** Largest backoff step. */
  maxMs: number;
  /** Longest Retry-After we are willing to honour; a longer one ends the retries at once. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 200, maxMs: 10_000, maxRetryAfterMs: 120_000 };

/**
 * TSDB append errors: the receiver refused samples, which sending them again only repeats. Prometheus 2.x
 * answers some of them with HTTP 500 (storage errors before 2.50 were not mapped to 400), so the status alone
 * cannot tell them from a transient fault. Texts from prometheus/tsdb/storage errors (ErrOutOfBounds,
 * ErrOutOfOrderSample, ErrTooOldSample, ErrDuplicateSampleForTimestamp).
 */
const KNOWN_APPEND_ERRORS = [
  /out of bounds/i,
  /out of order sample/i,
  /too old sample/i,
  /duplicate sample for timestamp/i,
];

export function isKnownAppendError(body: string | undefined): boolean {
  return body !== undefined && KNOWN_APPEND_ERRORS.some((re) => re.test(body));
}

/** An answer worth sending again: 429, and 5xx except 501/505 and known append errors. */
export function isRetryableStatus(status: number, body?: string): boolean {
  if (status === 429) return true;
  if (status < 500 || status === 501 || status === 505) return false;
  return !isKnownAppendError(body);
}

/**
 * A failure worth trying the whole operation again for: a network error or timeout (before or during the
 * body), a retryable status that survived the client's own retries, or a remote-read stream cut off
 * mid-frame. Refusals, bad input and bugs are not.
 */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof HttpError) {
    if (err.kind === 'status') return err.status !== undefined && isRetryableStatus(err.status, err.bodyExcerpt);
    return err.retryable;
  }
  if (err instanceof StackshiftError) return err.code === 'wire';
  if ((err as { name?: string })?.name === 'AbortError') return false;
  const c = classifyNetworkError(err);
  return c.known && c.retryable;
}

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

export interface WaitInput {
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  /** Attempts allowed in all, the first included. */
  attempts: number;
  policy: RetryPolicy;
  /** Unix ms by which everything must be over; undefined: no deadline. */
  deadlineAt?: number;
  /** What the server asked for (Retry-After), if anything. */
  retryAfterMs?: number;
  now?: number;
  random?: () => number;
}

export type WaitDecision = { waitMs: number } | { stop: 'attempts' | 'deadline' | 'retry-after'; detail: string };

/** How long to wait before the next attempt, or why not to make one. */
export function nextWait(w: WaitInput): WaitDecision {
  if (w.attempt >= w.attempts)
    return { stop: 'attempts', detail: `after ${w.attempt} attempt${w.attempt === 1 ? '' : 's'}` };
  if (w.retryAfterMs !== undefined && w.retryAfterMs > w.policy.maxRetryAfterMs) {
    return {
      stop: 'retry-after',
      detail: `server asks to retry after ${Math.round(w.retryAfterMs / 1000)}s, longer than the ${Math.round(w.policy.maxRetryAfterMs / 1000)}s we wait`,
    };
  }
  const waitMs = w.retryAfterMs ?? backoffDelay(w.attempt - 1, w.policy, w.random);
  if (w.deadlineAt !== undefined) {
    const left = w.deadlineAt - (w.now ?? Date.now());
    if (waitMs >= left)
      return {
        stop: 'deadline',
        detail: `after ${w.attempt} attempt${w.attempt === 1 ? '' : 's'}; the next would start past the deadline`,
      };
  }
  return { waitMs };
}

/** A timer that an AbortSignal ends early (rejecting with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  /** Attempts in all, the first included (1 = no retry). */
  attempts: number;
  policy?: RetryPolicy;
  /** Unix ms: no wait starts that would end past it (see `deadlineAfter`). */
  deadlineAt?: number;
  /** Aborts a wait at once; the attempt itself must honour the signal too. */
  signal?: AbortSignal;
  /** Default `isRetryableError`. */
  isRetryable?: (err: unknown) => boolean;
  /** Before each wait: log, count, record the retry in state. Throwing from it ends the retries with that error. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  random?: () => number;
}

/** Runs `fn` until it succeeds, the error is not retryable, the attempts are spent or the deadline is near. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const isRetryable = o.isRetryable ?? isRetryableError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (o.signal?.aborted || !isRetryable(err)) throw err;
      const d = nextWait({
        attempt,
        attempts: o.attempts,
        policy: o.policy ?? DEFAULT_RETRY,
        deadlineAt: o.deadlineAt,
        random: o.random,
      });
      if (!('waitMs' in d)) throw err;
      o.onRetry?.(err, attempt, d.waitMs);
      await sleep(d.waitMs, o.signal);
    }
  }
}

/** A deadline `ms` from now, for `deadlineAt`; undefined stays undefined (no deadline). */
export function deadlineAfter(ms: number | undefined, now = Date.now()): number | undefined {
  return ms === undefined ? undefined : now + ms;
}

/** How long requests in flight may run on after a run was told to stop (Ctrl-C) before they are aborted. */
export const STOP_GRACE_MS = 10_000;

/**
 * The signal for requests in flight when `stop` means "take no new work": it aborts, with the same reason,
 * `graceMs` after `stop` does, so that work already started can finish but a stopped run ends in bounded time.
 * Without `stop`, undefined (nothing to honour).
 */
export function afterGrace(stop: AbortSignal | undefined, graceMs = STOP_GRACE_MS): AbortSignal | undefined {
  if (!stop) return undefined;
  const ac = new AbortController();
  // every request and wait in flight listens to it: no "possible leak" warning at 11 of them
  setMaxListeners(0, ac.signal);
  const fire = () => {
    const t = setTimeout(() => ac.abort(stop.reason), graceMs);
    t.unref?.();
  };
  if (stop.aborted) fire();
  else stop.addEventListener('abort', fire, { once: true });
  return ac.signal;
}
