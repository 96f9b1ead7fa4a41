/**
 * The --dry-run estimate of a backfill: how many series and samples the range holds and how long reading them
 * takes, from a grid of short windows read in full, with nothing planned or written. It is a file of its own
 * because it is the one part of a backfill that reads differently from the copy (sampled windows, not units),
 * and all it needs is a series source.
 */
import { labelsKey, newDecodeStats, type Matcher } from '../wire/index.js';
import type { SeriesSource } from './engine.js';
import type { BackfillReport } from './report.js';
import type { BackfillParams } from './run.js';

/**
 * --dry-run: short windows spread evenly over the range, read fully, extrapolated. Six windows first; while fewer
 * than six hold data (history shorter than the range: --start 5d on 8 h of data put all six before it and
 * estimated 0), the grid is tripled (the old centres are among the new ones), up to 162 windows. An empty window
 * costs one small read, so a sparse range stays cheap.
 */
export async function estimate(
  reader: SeriesSource,
  selectors: Matcher[][],
  p: Pick<BackfillParams, 'startMs' | 'endMs' | 'responseType'>,
): Promise<NonNullable<BackfillReport['estimate']>> {
  const range = p.endMs - p.startMs;
  const k0 = Math.min(6, Math.max(1, Math.floor(range / 60_000)));
  const w = Math.min(5 * 60_000, Math.floor(range / k0));
  const seen = new Set<string>();
  let samples = 0;
  let withData = 0;
  const t0 = Date.now();
  const probe = async (centre: number) => {
    const s = Math.max(p.startMs, Math.min(p.endMs - w, p.startMs + Math.floor(centre - w / 2)));
    let n = 0;
    for (const m of selectors) {
      for await (const x of reader.streamSeries(
        { startMs: s, endMs: s + w - 1, matchers: m },
        { responseType: p.responseType, stats: newDecodeStats() },
      )) {
        seen.add(labelsKey(x.labels));
        n += x.timestamps.length;
      }
    }
    samples += n;
    if (n > 0) withData++;
  };
  // grid of k windows centred at (i + 0.5) * range / k; tripling k keeps every old centre (odd multiples)
  let k = k0;
  for (let i = 0; i < k; i++) await probe(((i + 0.5) * range) / k);
  while (withData < 6 && k * 3 <= 162 && range / (k * 3) >= w) {
    k *= 3;
    for (let i = 0; i < k; i++) if (i % 3 !== 1) await probe(((i + 0.5) * range) / k);
  }
  const ms = Math.max(1, Date.now() - t0);
  const est = Math.round((samples * range) / (k * w));
  const rate = (samples * 1000) / ms;
  return {
    series: seen.size,
    samples: est,
    readSamplesPerSecond: Math.round(rate),
    durationMs: rate > 0 ? Math.round((est / rate) * 1000) : 0,
    windowsProbed: k,
  };
}
