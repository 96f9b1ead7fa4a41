import { UsageError } from '../errors/index.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 365 * 86_400_000 };

/** Prometheus-style durations: 30s, 1h30m, 2d, 500ms. Returns milliseconds or undefined when malformed. */
export function tryParseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

export function parseDuration(text: string, what = 'duration'): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new UsageError(`invalid ${what} "${text}"`, 'use a Prometheus duration such as 30s, 5m, 2h, 7d or 1h30m');
  return ms;
}

/**
 * A point in time given as RFC 3339, Unix seconds (fractions allowed), or a duration back from `now`
 * ("30d" means 30 days ago). Returns Unix milliseconds.
 */
export function parseTime(text: string, what = 'time', now = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return now;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const back = tryParseDuration(s.replace(/^-/, ''));
  if (back !== undefined) return now - back;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(`invalid ${what} "${text}"`, 'use RFC 3339 (2026-01-31T00:00:00Z), Unix seconds (1767225600) or a duration back from now (30d, 6h)');
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
