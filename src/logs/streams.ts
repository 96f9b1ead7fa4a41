import type { LokiEntry } from '../clients/index.js';
import { regexEscape, type LogMatcher } from './logql.js';

/** Labels the target has on every stream in addition to the source (add), and labels ignored on both sides (drop). */
export interface StreamMapping {
  add: Record<string, string>;
  drop: string[];
}

/**
 * Labels a Loki 3 target adds on its own: discover_service_name (on by default) gives every stream a
 * service_name. Dropped from target streams whenever the source streams never carry the label.
 */
export const TARGET_DISCOVERED_LABELS = ['service_name'];

/** Structured metadata a Loki 3 target adds on its own (discover_log_levels): ignored on both sides by default. */
export const DISCOVERED_METADATA = ['detected_level'];

export function streamKey(labels: Record<string, string>): string {
  let k = '';
  for (const n of Object.keys(labels).sort()) k += n + '\xff' + labels[n] + '\xfe';
  return k;
}

export function formatStream(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}

/** Source side: drop, then add (overriding). */
export function normaliseSource(labels: Record<string, string>, m: StreamMapping): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!m.drop.includes(k)) out[k] = v;
  Object.assign(out, m.add);
  return out;
}

/** Target side: drop only (added labels must really be there). */
export function normaliseTarget(
  labels: Record<string, string>,
  m: StreamMapping,
  alsoDrop: string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!m.drop.includes(k) && !alsoDrop.includes(k)) out[k] = v;
  return out;
}

/** The target-side selector: the source selector with the mapping's added labels as equality matchers. */
export function targetSelector(source: LogMatcher[], m: StreamMapping): LogMatcher[] {
  const out = source.filter((x) => !(x.name in m.add) && !m.drop.includes(x.name));
  for (const [name, value] of Object.entries(m.add)) out.push({ name, op: '=', value });
  if (out.length === 0) return source;
  return out;
}

/** A line as compared between the sides: (timestamp ns, line, structured metadata), ignored metadata removed. */
export function entryKey(e: LokiEntry, ignoreMetadata: string[]): string {
  let k = `${e.tsNs}\xff${e.line}`;
  if (e.metadata)
    for (const n of Object.keys(e.metadata).sort())
      if (!ignoreMetadata.includes(n)) k += `\xfe${n}\xff${e.metadata[n]}`;
  return k;
}

export interface StreamGroup {
  /** The base selector plus matchers narrowing it to this group. */
  matchers: LogMatcher[];
  streams: Array<Record<string, string>>;
}

/**
 * Splits streams into groups of at most `max` whose selectors pick exactly those streams (plus any created
 * since the listing), so that a metric query per group stays under Loki's max_query_series: by the values of
 * the label that splits best, values joined into one `=~` alternation per group; a value holding more
 * than `max` streams is split again on another label.
 */
export function groupStreams(
  base: LogMatcher[],
  streams: Array<Record<string, string>>,
  max: number,
  used: string[] = [],
): StreamGroup[] {
  if (streams.length <= max) return [{ matchers: base, streams }];
  // a label's values include "" for the streams without it: absence tells streams apart too
  const names = new Map<string, Set<string>>();
  for (const s of streams) for (const k of Object.keys(s)) if (!used.includes(k)) names.set(k, new Set());
  for (const [k, vals] of names) for (const s of streams) vals.add(s[k] ?? '');
  let best: string | undefined;
  let bestCount = 1;
  for (const [k, vals] of names)
    if (vals.size > bestCount) {
      best = k;
      bestCount = vals.size;
    }
  if (!best) {
    // no label tells these streams apart any further: one group per stream would be the only split
    return streams.map((s) => ({
      matchers: [...base, ...Object.entries(s).map(([name, value]) => ({ name, op: '=' as const, value }))],
      streams: [s],
    }));
  }
  const label = best;
  const byValue = new Map<string, Array<Record<string, string>>>();
  for (const s of streams)
    (byValue.get(s[label] ?? '') ?? byValue.set(s[label] ?? '', []).get(s[label] ?? '')!).push(s);
  const groups: StreamGroup[] = [];
  let pending: { values: string[]; streams: Array<Record<string, string>> } = { values: [], streams: [] };
  const flush = () => {
    if (!pending.values.length) return;
    groups.push({
      matchers: [...base, { name: label, op: '=~', value: pending.values.map(regexEscape).join('|') }],
      streams: pending.streams,
    });
    pending = { values: [], streams: [] };
  };
  for (const [value, list] of [...byValue.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (list.length > max) {
      groups.push(...groupStreams([...base, { name: label, op: '=', value }], list, max, [...used, label]));
      continue;
    }
    if (pending.streams.length + list.length > max) flush();
    pending.values.push(value);
    pending.streams.push(...list);
  }
  flush();
  return groups;
}
