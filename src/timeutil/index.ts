import { UsageError } from '../errors/index.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 365 * 86_400_000,
};

/** The largest time a JavaScript Date holds (8.64e15 ms, year 275760). */
const MAX_DATE_MS = 8.64e15;

/**
 * Unix seconds above this are taken for milliseconds typed where seconds are expected: 1e11 seconds is the
 * year 5138, 1e11 milliseconds is 1973. Any real time given in seconds is far below it.
 */
export const MILLISECONDS_THRESHOLD = 1e11;

/** Prometheus-style durations: 30s, 1h30m, 2d, 500ms. Returns milliseconds or undefined when malformed. */
export function tryParseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return Number.isSafeInteger(total) ? total : undefined;
}

export function parseDuration(text: string, what = 'duration'): number {
  const ms = tryParseDuration(text);
  if (ms === undefined)
    throw new UsageError(`invalid ${what} "${text}"`, 'use a Prometheus duration such as 30s, 5m, 2h, 7d or 1h30m');
  return ms;
}

/** True for the forms parseTime reads relative to now ("now", "30d", "-6h"). */
export function isRelativeTime(text: string): boolean {
  const s = text.trim();
  return s === 'now' || tryParseDuration(s.replace(/^-/, '')) !== undefined;
}

const TIME_HINT =
  'use RFC 3339 with an offset (2026-01-31T00:00:00Z), Unix seconds (1767225600) or a duration back from now (30d, 6h)';
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * A point in time given as RFC 3339 with an offset, Unix seconds (fractions allowed), or a duration back from
 * `now` ("30d" means 30 days ago). Returns Unix milliseconds. Refused with a hint: a date or time without an
 * offset (JavaScript would read 2026-01-01T00:00 as local time and 2026-01-01 as UTC), a number that looks
 * like milliseconds, and anything a Date cannot hold.
 */
export function parseTime(text: string, what = 'time', now = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return now;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    if (Math.abs(n) >= MILLISECONDS_THRESHOLD) {
      const asMs =
        Math.abs(n) <= MAX_DATE_MS ? ` (as milliseconds it would be ${new Date(Math.round(n)).toISOString()})` : '';
      throw new UsageError(
        `${what} "${text}" looks like milliseconds, but Unix seconds are expected${asMs}`,
        `divide by 1000 (${what} ${Math.trunc(n / 1000)}), or use RFC 3339 such as 2026-01-31T00:00:00Z`,
      );
    }
    return Math.round(n * 1000);
  }
  const back = tryParseDuration(s.replace(/^-/, ''));
  if (back !== undefined) {
    if (back > now)
      throw new UsageError(`${what} "${text}" reaches back before 1970`, 'use a shorter duration or an RFC 3339 time');
    return now - back;
  }
  const m = DATE_TIME.exec(s);
  if (m) {
    if (!m[8]) {
      const example = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? ''}`;
      throw new UsageError(
        `${what} "${text}" has no UTC offset, so it is ambiguous (local time or UTC?)`,
        `add Z for UTC or an offset: ${example}Z or ${example}+02:00`,
      );
    }
    const t = Date.parse(m[4] === undefined ? `${m[1]}-${m[2]}-${m[3]}T00:00:00${m[8]}` : s.replace(' ', 'T'));
    // Date.parse rolls 2026-02-31 over to March 3; a calendar check catches it
    if (
      !Number.isNaN(t) &&
      Number(m[2]) >= 1 &&
      Number(m[2]) <= 12 &&
      Number(m[3]) >= 1 &&
      Number(m[3]) <= daysIn(Number(m[1]), Number(m[2]))
    )
      return t;
    throw new UsageError(`invalid ${what} "${text}": no such date or time`, TIME_HINT);
  }
  throw new UsageError(`invalid ${what} "${text}"`, TIME_HINT);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function formatTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : String(ms);
}
