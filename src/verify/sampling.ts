import { createHash } from 'node:crypto';

/**
 * Random sampling of series for data sets too large to compare whole. A series is in the sample when a
 * seeded hash of its normalised label set falls below the fraction: both sides pick the same series without
 * coordination, and a rerun with the same seed checks the same series.
 */
export function inSample(key: string, fraction: number, seed: number): boolean {
  if (fraction >= 1) return true;
  const h = createHash('sha1').update(`${seed}\x00${key}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < fraction;
}

const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
  level: number;
  method: string;
}

/**
 * Wilson score interval for a proportion (k of n): well-behaved at 0 and n, where the normal approximation
 * claims a certainty a sample cannot give (0 bad series in 300 still allows ~1.3 % bad ones).
 */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (n === 0) return { low: 0, high: 1, level: 0.95, method: 'wilson' };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return {
    low: k === 0 ? 0 : Math.max(0, centre - half),
    high: k === n ? 1 : Math.min(1, centre + half),
    level: 0.95,
    method: 'wilson',
  };
}

/**
 * Ratio estimator R = sum(y) / sum(x) over sampled units with its linearised standard error and finite
 * population correction (Cochran, Sampling Techniques, 3rd ed., §6.3): here y = matched samples and
 * x = expected + unexpected samples of each sampled series, N = series in the population.
 */
export function ratioInterval(
  y: ArrayLike<number>,
  x: ArrayLike<number>,
  population: number,
  z = Z95,
): { estimate: number } & Interval {
  const n = y.length;
  let sy = 0,
    sx = 0;
  for (let i = 0; i < n; i++) {
    sy += y[i];
    sx += x[i];
  }
  if (n === 0 || sx === 0) return { estimate: 1, low: 0, high: 1, level: 0.95, method: 'ratio-estimator' };
  const r = sy / sx;
  if (n < 2) return { estimate: r, low: 0, high: 1, level: 0.95, method: 'ratio-estimator' };
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = y[i] - r * x[i];
    ss += d * d;
  }
  const xbar = sx / n;
  const f = population > 0 ? Math.min(1, n / population) : 0;
  const se = Math.sqrt(((1 - f) / (n * xbar * xbar)) * (ss / (n - 1)));
  return {
    estimate: r,
    low: Math.max(0, r - z * se),
    high: Math.min(1, r + z * se),
    level: 0.95,
    method: 'ratio-estimator',
  };
}
