import { lowerBound, words } from './compare.js';

/**
 * Per-window digests of one series: a sample count and a 64-bit hash (two independent 32-bit murmur3
 * lanes) over every timestamp's and value's IEEE-754 bits. Two windows with the same digest hold the same
 * samples bit for bit (up to a 2^-64-ish collision chance), so a series waiting for its partner needs only
 * these few bytes per window, and only windows whose digests differ are read again and compared sample by
 * sample.
 */
export interface SeriesDigest {
  /** Samples inside [startMs, endMs). */
  count: number;
  stale: number;
  minMs: number;
  maxMs: number;
  /** Per window: lane1, lane2, count. */
  windows: Uint32Array;
}

export interface WindowPlan {
  startMs: number;
  endMs: number;
  windowMs: number;
  n: number;
}

/** At most `maxWindows` windows, each a whole number of `minWindowMs`. */
export function planWindows(startMs: number, endMs: number, minWindowMs = 3_600_000, maxWindows = 64): WindowPlan {
  const span = Math.max(1, endMs - startMs);
  const windowMs = Math.max(minWindowMs, Math.ceil(span / maxWindows / minWindowMs) * minWindowMs);
  return { startMs, endMs, windowMs, n: Math.ceil(span / windowMs) };
}

export function windowBounds(plan: WindowPlan, w: number): [number, number] {
  const a = plan.startMs + w * plan.windowMs;
  return [a, Math.min(plan.endMs, a + plan.windowMs)];
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function digestSeries(ts: Float64Array, vals: Float64Array, plan: WindowPlan): SeriesDigest {
  const windows = new Uint32Array(plan.n * 3);
  const tw = words(ts);
  const vw = words(vals);
  let i = lowerBound(ts, plan.startMs);
  const end = lowerBound(ts, plan.endMs, i);
  const d: SeriesDigest = {
    count: end - i,
    stale: 0,
    minMs: end > i ? ts[i] : NaN,
    maxMs: end > i ? ts[end - 1] : NaN,
    windows,
  };
  for (let w = 0; w < plan.n && i < end; w++) {
    const wEnd = Math.min(end, lowerBound(ts, windowBounds(plan, w)[1], i, end));
    let h1 = 0x9747b28c;
    let h2 = 0x5bd1e995;
    for (let k = i; k < wEnd; k++) {
      const a = tw[2 * k],
        b = tw[2 * k + 1],
        c = vw[2 * k],
        e = vw[2 * k + 1];
      h1 = mix(mix(mix(mix(h1, a), b), c), e);
      h2 = mix(mix(mix(mix(h2, e), c), b ^ 0x2545f491), a);
      if (e === 0x7ff00000 && c === 2) d.stale++;
    }
    windows[3 * w] = fmix(h1 ^ (wEnd - i));
    windows[3 * w + 1] = fmix(h2 ^ (wEnd - i));
    windows[3 * w + 2] = wEnd - i;
    i = wEnd;
  }
  return d;
}

/** Windows whose digests differ (by index). */
export function differingWindows(a: SeriesDigest, b: SeriesDigest): number[] {
  const out: number[] = [];
  const n = a.windows.length / 3;
  for (let w = 0; w < n; w++) {
    if (
      a.windows[3 * w] !== b.windows[3 * w] ||
      a.windows[3 * w + 1] !== b.windows[3 * w + 1] ||
      a.windows[3 * w + 2] !== b.windows[3 * w + 2]
    )
      out.push(w);
  }
  return out;
}

export function windowCount(d: SeriesDigest, w: number): number {
  return d.windows[3 * w + 2];
}
