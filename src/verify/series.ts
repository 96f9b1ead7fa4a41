import type { PrometheusClient } from '../clients/index.js';
import { labelKey, labelsFromRecord, normaliseSource, normaliseTarget, renderSelector } from './labels.js';
import type { Label, LabelMapping, Matcher } from './types.js';

/**
 * Series parity through the HTTP series API, one metric name at a time so a response never holds more
 * than one metric's label sets: which label sets (after the label mapping) exist on both sides, which only
 * in the source (missing) and which only in the target (extra).
 */
export interface MetricSeriesParity {
  name: string;
  source: number;
  target: number;
  matched: number;
  missing: Array<{ labels: Label[]; key: string }>;
  extra: Array<{ labels: Label[]; key: string }>;
  /** Every normalised key on either side with its raw labels, for sampling. */
  population?: Array<{ key: string; norm: Label[]; source?: Label[]; target?: Label[] }>;
}

export function metricMatchers(user: Matcher[], name: string): Matcher[] {
  return [
    ...user.filter((m) => !(m.name === '__name__' && m.type === 'EQ')),
    { type: 'EQ', name: '__name__', value: name },
  ];
}

/** Metric names with series in the window on either side, sorted. */
export async function metricNames(
  source: PrometheusClient,
  target: PrometheusClient,
  selectors: Matcher[][],
  startMs: number,
  endMs: number,
): Promise<string[]> {
  const match = selectors.map(renderSelector);
  const [a, b] = await Promise.all([
    source.labelValues('__name__', match, startMs, endMs),
    target.labelValues('__name__', match, startMs, endMs),
  ]);
  return [...new Set([...a, ...b])].sort();
}

/**
 * A series' labels as remote read returns them: the stored labels plus the server's external labels, the
 * stored ones winning (Prometheus' read handler does the same). The series API returns stored labels only.
 */
export function withExternalLabels(rec: Record<string, string>, external: Label[]): Label[] {
  if (external.length === 0) return labelsFromRecord(rec);
  const merged: Record<string, string> = {};
  for (const l of external) merged[l.name] = l.value;
  return labelsFromRecord(Object.assign(merged, rec));
}

export interface SeriesSides {
  source: PrometheusClient;
  target: PrometheusClient;
  sourceExternal: Label[];
  targetExternal: Label[];
}

export async function compareSeriesOfMetric(
  sides: SeriesSides,
  name: string,
  selectors: Matcher[][],
  startMs: number,
  endMs: number,
  mapping: LabelMapping,
  keepPopulation = false,
): Promise<MetricSeriesParity> {
  const match = selectors.map((s) => renderSelector(metricMatchers(s, name)));
  const [a, b] = await Promise.all([
    sides.source.series(match, startMs, endMs),
    sides.target.series(match, startMs, endMs),
  ]);
  const src = new Map<string, { raw: Label[]; norm: Label[] }>();
  for (const rec of a) {
    const raw = withExternalLabels(rec, sides.sourceExternal);
    const norm = normaliseSource(raw, mapping);
    src.set(labelKey(norm), { raw, norm });
  }
  const out: MetricSeriesParity = { name, source: src.size, target: 0, matched: 0, missing: [], extra: [] };
  const seen = new Set<string>();
  if (keepPopulation) out.population = [];
  for (const rec of b) {
    const raw = withExternalLabels(rec, sides.targetExternal);
    const norm = normaliseTarget(raw, mapping);
    const key = labelKey(norm);
    if (seen.has(key)) continue;
    seen.add(key);
    out.target++;
    const s = src.get(key);
    if (s) out.matched++;
    else out.extra.push({ labels: norm, key });
    out.population?.push({ key, norm, source: s?.raw, target: raw });
  }
  for (const [key, s] of src) {
    if (seen.has(key)) continue;
    out.missing.push({ labels: s.norm, key });
    out.population?.push({ key, norm: s.norm, source: s.raw });
  }
  return out;
}
