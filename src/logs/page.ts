import type { LokiClient, LokiEntry } from '../clients/index.js';
import { StackshiftError } from '../errors/index.js';
import { exactSelector } from './logql.js';
import { sameLabels, streamKey } from './streams.js';

export interface StreamPage {
  labels: Record<string, string>;
  entries: LokiEntry[];
}

/**
 * Every line a log query selects in (fromNs, toNs], oldest first, in pages of `limit` (query_range with
 * direction=forward; Loki's start is inclusive and its end exclusive, hence start+1 and end+1). The next
 * page starts at the last timestamp seen, inclusive, as logcli does (pkg/logcli/query/query.go); the lines
 * of that nanosecond already delivered are remembered as a multiset and skipped once each, so lines sharing
 * a nanosecond across a page boundary are neither lost nor doubled. A full page of one nanosecond cannot be
 * paged past (bursts must stay below the page size): that is an error naming the limit to raise. Each page is yielded grouped by stream.
 */
export async function* readLines(
  client: LokiClient,
  query: string,
  fromNs: bigint,
  toNs: bigint,
  limit: number,
  keep?: (labels: Record<string, string>) => boolean,
): AsyncGenerator<StreamPage[]> {
  let start = fromNs + 1n;
  const end = toNs + 1n;
  let seenAtStart = new Map<string, number>();
  for (;;) {
    const streams = await client.queryStreams({ query, startNs: start, endNs: end, limit, direction: 'forward' });
    let returned = 0;
    let last = -1n;
    const pages: StreamPage[] = [];
    for (const s of streams) {
      returned += s.entries.length;
      const sk = streamKey(s.labels);
      const kept: LokiEntry[] = [];
      for (const e of s.entries) {
        if (e.tsNs > last) last = e.tsNs;
        if (e.tsNs === start) {
          const k = sk + lineKey(e);
          const n = seenAtStart.get(k);
          if (n) {
            seenAtStart.set(k, n - 1);
            continue;
          }
        }
        kept.push(e);
      }
      if (kept.length && (!keep || keep(s.labels))) pages.push({ labels: s.labels, entries: kept });
    }
    if (pages.length) yield pages;
    if (returned < limit) return;
    if (last === start) {
      throw new StackshiftError(
        'logs-page',
        `${limit} or more lines selected by ${query} carry the same timestamp ${last} ns: they cannot be paged with --page-size ${limit}`,
        { hint: "raise --page-size (and the source's max_entries_limit_per_query) above the size of that burst" },
      );
    }
    // every line at the new start came in this page: all lines of one nanosecond sort together
    seenAtStart = new Map<string, number>();
    for (const s of streams) {
      const sk = streamKey(s.labels);
      for (const e of s.entries)
        if (e.tsNs === last) {
          const k = sk + lineKey(e);
          seenAtStart.set(k, (seenAtStart.get(k) ?? 0) + 1);
        }
    }
    start = last;
  }
}

/** Every line of exactly one stream in (fromNs, toNs] (streams with more labels are left out). */
export async function* readStream(
  client: LokiClient,
  labels: Record<string, string>,
  fromNs: bigint,
  toNs: bigint,
  limit: number,
): AsyncGenerator<LokiEntry[]> {
  for await (const pages of readLines(client, exactSelector(labels), fromNs, toNs, limit, (l) =>
    sameLabels(l, labels),
  )) {
    const out: LokiEntry[] = [];
    for (const p of pages) out.push(...p.entries);
    if (out.length) yield out;
  }
}

function lineKey(e: LokiEntry): string {
  let k = `\x00${e.line}`;
  if (e.metadata) for (const n of Object.keys(e.metadata).sort()) k += `\xfe${n}\xff${e.metadata[n]}`;
  return k;
}
