import { UsageError } from '../errors/index.js';

/**
 * What one `verify metrics` run covers: the window (bounded before anything is planned) and the metric names
 * left out on both sides.
 */

/** The metric `stackshift backfill metrics` writes once to prove the target accepts writes (not part of the copy). */
export const DEFAULT_EXCLUDED_SERIES = ['stackshift_backfill_probe'];

/**
 * Read windows one run may plan (27 years of 1d windows). A range beyond it is a typo (milliseconds typed
 * as seconds, a far-future --end), refused before anything is read rather than planned window by window.
 */
export const MAX_READ_WINDOWS = 10_000;

/** Refuses a window that is empty, not finite, or would need more than MAX_READ_WINDOWS remote-read requests per metric. */
export function checkVerifyWindow(startMs: number, endMs: number, readWindowMs: number): void {
  const when = (ms: number) =>
    Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || !Number.isFinite(readWindowMs) || readWindowMs <= 0) {
    throw new UsageError(
      `the verify window ${when(startMs)} .. ${when(endMs)} (read window ${readWindowMs} ms) is not a valid time range`,
      'give --start and --end as RFC 3339 times or Unix seconds',
    );
  }
  if (startMs >= endMs)
    throw new UsageError(
      `--start (${when(startMs)}) must be before --end (${when(endMs)})`,
      'the window is [start, end); for the last day use --start 1d --end now',
    );
  const windows = Math.ceil((endMs - startMs) / readWindowMs);
  if (windows > MAX_READ_WINDOWS) {
    throw new UsageError(
      `the window ${when(startMs)} .. ${when(endMs)} needs ${windows.toLocaleString('en-US')} read windows of ${readWindowMs / 1000}s per metric, more than the ${MAX_READ_WINDOWS.toLocaleString('en-US')} a run plans`,
      'check --start and --end (Unix seconds, not milliseconds), or raise --read-window',
    );
  }
}

/** Anchored, like PromQL's =~; a pattern that does not compile is a usage error naming it. */
export function excludeMatcher(patterns: string[]): (name: string) => boolean {
  const res = patterns.map((p) => {
    try {
      return new RegExp(`^(?:${p})$`);
    } catch (e) {
      throw new UsageError(
        `--exclude-series "${p}" is not a valid regular expression: ${(e as Error).message}`,
        "for example --exclude-series 'stackshift_.*'",
      );
    }
  });
  return (name) => res.some((r) => r.test(name));
}
