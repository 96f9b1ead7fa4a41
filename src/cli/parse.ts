import { UsageError } from '../errors/index.js';
import { formatTime, isRelativeTime, parseTime, tryParseDuration } from '../timeutil/index.js';

/**
 * Typed flag parsers: one place for what an integer, a rate, a duration, a percentage and a time flag
 * accept, and for the one-line message that names the flag and the value when they do not. Commands call
 * them with the flag's name (without the dashes) and commander's raw value.
 */

/** How far past now a time flag may reach: clocks of client and server may differ by this much. */
export const FUTURE_SKEW_MS = 5 * 60_000;

function text(v: unknown): string {
  return String(v ?? '').trim();
}

/** A whole number in [min, max]. */
export function intFlag(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const s = text(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${s}")`);
  return Number(s);
}

/** A number above zero (a factor such as --disk-factor 3 or 1.5). */
export function positiveNumberFlag(name: string, v: unknown): number {
  const s = text(v);
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number (got "${s}")`);
  return n;
}

/** Samples per second: 50000, 200k, 1.5M. Undefined stays undefined (no limit). */
export function rateFlag(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const s = text(v);
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
  if (!m || Number(m[1]) <= 0)
    throw new UsageError(
      `--${name} must be a positive number of samples per second such as 50000 or 200k (got "${s}")`,
    );
  return Number(m[1]) * ({ '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[m[2]] ?? 1);
}

/**
 * A Prometheus duration (30s, 5m, 1h30m) in ms. Zero is refused unless `min` is 0: a zero timeout or window
 * would mean "never" or "nothing", never what was meant.
 */
export function durationFlag(name: string, v: unknown, opts: { min?: number; max?: number } = {}): number {
  const s = text(v);
  const ms = tryParseDuration(s);
  if (ms === undefined)
    throw new UsageError(
      `--${name} "${s}" is not a duration`,
      'use a Prometheus duration such as 30s, 5m, 2h, 7d or 1h30m',
    );
  const min = opts.min ?? 1;
  if (ms < min)
    throw new UsageError(
      ms === 0
        ? `--${name} must be above 0 (got "${s}")`
        : `--${name} must be at least ${formatDurationMs(min)} (got "${s}")`,
      ms === 0 ? 'a zero duration would disable it; give a real value such as 30s' : undefined,
    );
  if (opts.max !== undefined && ms > opts.max)
    throw new UsageError(`--${name} must be at most ${formatDurationMs(opts.max)} (got "${s}")`);
  return ms;
}

/** 99.9 or 99.9% -> 99.9, within [0, 100]. */
export function percentFlag(name: string, v: unknown): number {
  const raw = text(v);
  const s = raw.replace(/%$/, '');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0 || n > 100)
    throw new UsageError(`--${name} must be a percentage from 0 to 100 such as 99.9 (got "${raw}")`);
  return n;
}

/** A non-negative percentage that may exceed 100 (an increase: 20 or 250%). */
export function increasePercentFlag(name: string, v: unknown): number {
  const raw = text(v);
  const s = raw.replace(/%$/, '');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`--${name} must be a percentage such as 20 (got "${raw}")`);
  return n;
}

export interface TimeFlagOptions {
  /** The moment relative times count back from; take it once per command so every flag agrees. */
  now: number;
  /** How far past now is accepted (default FUTURE_SKEW_MS). */
  futureSkewMs?: number;
}

/**
 * A time flag: RFC 3339 with an offset, Unix seconds or a duration back from now. A time beyond now plus a
 * small skew is refused: writing or reading at a future time is a typo, and a write there can make a target
 * refuse every present-day sample afterwards.
 */
export function timeFlag(name: string, v: unknown, o: TimeFlagOptions): number {
  const ms = parseTime(text(v), `--${name}`, o.now);
  const skew = o.futureSkewMs ?? FUTURE_SKEW_MS;
  if (ms > o.now + skew) {
    throw new UsageError(
      `--${name} ${formatTime(ms)} is in the future (now is ${formatTime(o.now)})`,
      `give a time up to now (times more than ${formatDurationMs(skew)} ahead are refused): for example --${name} now or --${name} 1h`,
    );
  }
  if (ms < 0)
    throw new UsageError(`--${name} ${formatTime(ms)} is before 1970`, 'give a time after 1970-01-01T00:00:00Z');
  return ms;
}

export interface TimeRange {
  startMs: number;
  endMs: number;
  /** True when either end was given relative to now (30d, now), so a rerun means a different range. */
  relative: boolean;
}

/** A [start, end) pair of time flags: both valid, start before end. */
export function timeRangeFlags(
  start: unknown,
  end: unknown,
  o: TimeFlagOptions & { startName?: string; endName?: string },
): TimeRange {
  const sn = o.startName ?? 'start';
  const en = o.endName ?? 'end';
  const startMs = timeFlag(sn, start, o);
  const endMs = timeFlag(en, end, o);
  if (startMs >= endMs)
    throw new UsageError(
      `--${sn} (${formatTime(startMs)}) must be before --${en} (${formatTime(endMs)})`,
      `the range is [${sn}, ${en}); for the last day use --${sn} 1d --${en} now`,
    );
  return { startMs, endMs, relative: [start, end].some((x) => isRelativeTime(text(x))) };
}

/** name=value pairs of a repeatable flag (--var job=api, --add-label cluster=eu1). */
export function keyValueFlag(
  name: string,
  values: unknown,
  opts: { keyPattern?: RegExp; example: string },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of (values as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || (opts.keyPattern && !opts.keyPattern.test(kv.slice(0, i))))
      throw new UsageError(`--${name} "${kv}" is not name=value`, `for example --${name} ${opts.example}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** Collects a repeatable flag's values (commander argParser): --set a=1 --set b=2. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Collects a repeatable flag whose values may also be comma-separated lists: --rule a,b --rule c. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** An HTTP path prefix (/prometheus, or / for none); undefined when the flag is absent. */
export function pathPrefixFlag(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const s = text(v);
  if (s && !s.startsWith('/'))
    throw new UsageError(
      `--${name} "${s}" must start with /`,
      `e.g. --${name} /prometheus (Mimir's default), or --${name} / for none`,
    );
  return s;
}

function formatDurationMs(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
