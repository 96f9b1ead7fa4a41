import type { LokiClient, LokiEntry } from '../clients/index.js';
import { StackshiftError } from '../errors/index.js';
import { exactSelector } from './logql.js';
import { formatStream, sameLabels } from './streams.js';

/**
 * Every line of one stream in (fromNs, toNs], oldest first, in pages of `limit` (query_range with
 * direction=forward, Loki's start inclusive and end exclusive, hence start+1 and end+1). The next page
 * starts at the last timestamp seen, inclusive, as logcli does (pkg/logcli/query/query.go); the lines of
 * that nanosecond already delivered are remembered as a multiset and skipped once each, so lines sharing a
 * nanosecond across a page boundary are neither lost nor doubled. A page made of one nanosecond only
 * cannot be paged past: that is an error naming the stream and the limit to raise.
 */
export async function* readStream(client: LokiClient, labels: Record<string, string>, fromNs: bigint, toNs: bigint, limit: number): AsyncGenerator<LokiEntry[]> {
  const query = exactSelector(labels);
  let start = fromNs + 1n;
  const end = toNs + 1n;
  let seenAtStart = new Map<string, number>();
  for (;;) {
    const streams = await client.queryStreams({ query, startNs: start, endNs: end, limit, direction: 'forward' });
    // an exact selector also matches streams with more labels: they are their own streams
    const all: Array<{ e: LokiEntry; mine: boolean }> = [];
    for (const s of streams) {
      const mine = sameLabels(s.labels, labels);
      for (const e of s.entries) all.push({ e, mine });
    }
    const returned = all.length;
    if (returned === 0) return;
    all.sort((a, b) => (a.e.tsNs < b.e.tsNs ? -1 : a.e.tsNs > b.e.tsNs ? 1 : 0));
    const out: LokiEntry[] = [];
    for (const { e, mine } of all) {
      if (e.tsNs === start) {
        const k = pageKey(e, mine);
        const n = seenAtStart.get(k);
        if (n) { seenAtStart.set(k, n - 1); continue; }
      }
      if (mine) out.push(e);
    }
    if (out.length) yield out;
    if (returned < limit) return;
    const last = all[all.length - 1]!.e.tsNs;
    if (last === start) {
      // a full page of one nanosecond: the same query would answer the same page again
      throw new StackshiftError('logs-page', `more than ${limit} lines of stream ${formatStream(labels)} (or streams sharing its labels) carry the same timestamp ${last} ns: they cannot be paged with --page-size ${limit}`, { hint: "raise --page-size (and the source's max_entries_limit_per_query) above the size of that burst" });
    }
    // every line at the new start was delivered by this page (all lines of a nanosecond sort together)
    seenAtStart = new Map<string, number>();
    for (const { e, mine } of all) if (e.tsNs === last) { const k = pageKey(e, mine); seenAtStart.set(k, (seenAtStart.get(k) ?? 0) + 1); }
    start = last;
  }
}

function pageKey(e: LokiEntry, mine: boolean): string {
  let k = `${mine ? 'm' : 'o'}\xff${e.line}`;
  if (e.metadata) for (const n of Object.keys(e.metadata).sort()) k += `\xfe${n}\xff${e.metadata[n]}`;
  return k;
}
