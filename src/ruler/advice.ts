import { escapeRegex } from '../backfill/index.js';

/**
 * Recording rules moved to the Mimir ruler write their series into Mimir from the moment they load, while
 * the source Prometheus holds the same series for the past (it evaluated the same rules). A metrics
 * backfill that copies every series would copy those too: for the overlap, two writers of one series (the
 * ruler's samples and the copied ones, at different timestamps), which doubles them in sums and breaks
 * rate(). The backfill should leave them out, or copy them only for the time before the ruler took over.
 */
export function backfillExclusion(recordNames: string[]): string {
  const names = [...new Set(recordNames)].sort().map(escapeRegex).join('|');
  return `--match '{__name__=~".+",__name__!~"${names}"}'`;
}
