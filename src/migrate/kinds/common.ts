import { z } from 'zod';
import { parseTime, tryParseDuration } from '../../timeutil/index.js';
import { isStackshiftError } from '../../errors/index.js';
import type { StepContext } from '../types.js';

/** A time as the CLI takes it: RFC 3339 with an offset, Unix seconds, or a duration back from now (30d). */
export const timeText = z.string().refine(
  (s) => {
    try {
      parseTime(s, 'time', Date.now());
      return true;
    } catch (e) {
      if (isStackshiftError(e)) return false;
      throw e;
    }
  },
  {
    message:
      'expected a time: RFC 3339 with an offset (2026-01-31T00:00:00Z), Unix seconds, "now" or a duration back from now (30d)',
  },
);

export const durationText = z
  .string()
  .refine((s) => tryParseDuration(s) !== undefined, { message: 'expected a duration such as 30s, 5m, 1h or 7d' });

export const endpointName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]*$/,
    'an endpoint name (lower-case letters, digits, _ and -) of the migration file or stackshift.yaml',
  );

export const percent = z.number().min(0).max(100);

/** Times of a step's params read against the step's anchor, so a resumed step covers the same range. */
export function range(ctx: StepContext, start: string, end: string): { startMs: number; endMs: number } {
  const startMs = parseTime(start, 'start', ctx.anchorMs);
  const endMs = parseTime(end, 'end', ctx.anchorMs);
  return { startMs, endMs };
}

export function pct(n: number): string {
  return `${Math.round(n * 1000) / 1000}`;
}

/** Quotes a command-line argument for the plan (shell-safe, for display). */
export function arg(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function endpointArgs(ctx: StepContext, flag: string, name: string): string {
  const url = ctx.endpointUrl(name);
  return url ? `--${flag}-url ${arg(url)}` : `--${flag === 'source' || flag === 'jaeger' ? 'from' : 'to'} ${name}`;
}

/** verify and rollback of a step that only reads: its figures are its run's, and there is nothing to undo. */
export const READ_ONLY_STEP = {
  verify: async (_ctx: StepContext, run: { figures?: Record<string, number> }) => run.figures ?? {},
  rollback: async () => ({ action: 'none' as const, detail: 'a verification changes nothing' }),
};
