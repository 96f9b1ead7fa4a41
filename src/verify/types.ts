/**
 * Shapes shared by series, sample and query parity. The wire types (labels, matchers, raw samples) are the
 * wire layer's; verify only adds what it needs to read two sides the same way.
 */
import type { Label, Matcher, SeriesSamples } from '../wire/index.js';

export type { Label, Matcher, SeriesSamples };

/** One side's raw samples, series by series, as the remote-read client streams them. */
export interface SeriesReader {
  streamSeries(q: { startMs: number; endMs: number; matchers: Matcher[] }): AsyncIterable<SeriesSamples>;
}

/**
 * How the target's label sets are expected to differ from the source's. The source side is normalised
 * (drop, then add) before keys are compared; the target side only drops. Typical: `add: {cluster: "eu1"}`
 * when the backfill added a cluster label, `drop: ["replica"]` for an HA label the target does not keep.
 */
export interface LabelMapping {
  add: Record<string, string>;
  drop: string[];
}

export const NO_MAPPING: LabelMapping = { add: {}, drop: [] };

/** How two float samples at the same timestamp are judged. */
export interface ValueEquality {
  /** 0 = bit-exact (the default). Otherwise |a-b| <= tolerance * min(|a|,|b|), NaN equal to NaN. */
  relativeTolerance: number;
}
