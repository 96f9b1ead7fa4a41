import { createHash } from 'node:crypto';
import { LokiClient, msToNs, type LokiEntry } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { alignRange } from './copy.js';
import { countByStreamQuery, logQuery, renderStreamSelector, type LogMatcher } from './logql.js';
import { readLines, readStream } from './page.js';
import {
  DISCOVERED_METADATA,
  TARGET_DISCOVERED_LABELS,
  entryKey,
  formatStream,
  groupStreams,
  normaliseSource,
  normaliseTarget,
  streamKey,
  targetSelector,
  type StreamMapping,
} from './streams.js';

export const LOGS_VERIFY_DEFAULTS = {
  windowMs: 3_600_000,
  maxSeries: 500,
  pageSize: 5000,
  sampleFraction: 0.05,
  seed: 1,
  top: 20,
  concurrency: 4,
  ignoreMetadata: DISCOVERED_METADATA,
};

export interface LogsVerifyOptions {
  source: ResolvedEndpoint;
  target: ResolvedEndpoint;
  selector: LogMatcher[];
  startMs: number;
  endMs: number;
  windowMs: number;
  mapping: StreamMapping;
  /** Streams per count query: at most the sides' max_query_series. */
  maxSeries: number;
  pageSize: number;
  /** Fraction of windows whose lines are compared (every stream); a stream's window whose counts differ always is. */
  sample: { fraction: number; seed: number };
  ignoreMetadata: string[];
  minConsistency: number;
  top: number;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

export interface WindowDiff {
  stream: string;
  window: string;
  source: number;
  target: number;
  kind: 'missing' | 'extra' | 'count';
}
export interface LineDiff {
  stream: string;
  timestampNs: string;
  kind: 'missing' | 'extra' | 'altered';
  source?: string;
  target?: string;
  metadata?: Record<string, string>;
}

export interface LogsVerifyReport {
  source: string;
  target: string;
  selector: string;
  range: { start: string; end: string; windowMs: number; windows: number; note: string };
  streams: {
    source: number;
    target: number;
    matched: number;
    missing: Array<{ stream: string; lines: number }>;
    extra: Array<{ stream: string; lines: number }>;
  };
  windows: { compared: number; differing: number; top: WindowDiff[] };
  lines: { expected: number; matched: number; unexpected: number };
  samples: {
    windows: number;
    streamWindows: number;
    linesCompared: number;
    missing: number;
    extra: number;
    altered: number;
    top: LineDiff[];
  };
  consistency: { percent: number; definition: string; gate: { minPercent: number; passed: boolean } };
  queries: { source: number; target: number };
  seconds: number;
}

type Counts = Map<string, Map<number, number>>;

async function countLines(
  client: LokiClient,
  base: LogMatcher[],
  streams: Array<Record<string, string>>,
  range: { startMs: number; endMs: number },
  o: LogsVerifyOptions,
  dropNames: string[],
  normalise: (l: Record<string, string>) => Record<string, string>,
  tick: () => void,
): Promise<{ counts: Counts; queries: number }> {
  const counts: Counts = new Map();
  let queries = 0;
  // at most 5000 points per query (Loki refuses above 11,000) and at most 30 days (max_query_length 30d1h)
  const chunkMs = Math.max(
    o.windowMs,
    Math.min(5000 * o.windowMs, Math.floor((30 * 86_400_000) / o.windowMs) * o.windowMs),
  );
  for (const g of groupStreams(base, streams, o.maxSeries)) {
    const names = new Set<string>();
    for (const s of g.streams) for (const n of Object.keys(s)) if (!dropNames.includes(n)) names.add(n);
    const query = countByStreamQuery(g.matchers, [...names], o.windowMs);
    for (let from = range.startMs; from < range.endMs; from += chunkMs) {
      const to = Math.min(range.endMs, from + chunkMs);
      // evaluated at each window end t over (t - window, t]: the first at from + window
      const series = await client.queryMatrix({
        query,
        startNs: msToNs(from + o.windowMs),
        endNs: msToNs(to),
        stepSec: o.windowMs / 1000,
      });
      queries++;
      tick();
      for (const s of series) {
        const key = streamKey(normalise(s.metric));
        const m = counts.get(key) ?? counts.set(key, new Map()).get(key)!;
        for (const [t, v] of s.values)
          if (v > 0) {
            const w = Math.round(t * 1000);
            m.set(w, (m.get(w) ?? 0) + v);
          }
      }
    }
  }
  return { counts, queries };
}

function inSample(windowEnd: number, fraction: number, seed: number): boolean {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  const h = createHash('sha1').update(`${seed}\x00${windowEnd}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < fraction;
}

async function linesOf(
  client: LokiClient,
  labels: Record<string, string>,
  windowEnd: number,
  o: LogsVerifyOptions,
): Promise<LokiEntry[]> {
  const out: LokiEntry[] = [];
  for await (const page of readStream(client, labels, msToNs(windowEnd - o.windowMs), msToNs(windowEnd), o.pageSize))
    out.push(...page);
  return out;
}

export async function verifyLogs(o: LogsVerifyOptions): Promise<LogsVerifyReport> {
  const t0 = Date.now();
  const range = alignRange(o.startMs, o.endMs, o.windowMs);
  const source = new LokiClient(o.source, { connections: o.concurrency + 2 });
  const target = new LokiClient(o.target, { connections: o.concurrency + 2 });
  try {
    const tSel = targetSelector(o.selector, o.mapping);
    const [sStreams, tStreams] = await Promise.all([
      source.series([logQuery(o.selector)], msToNs(range.startMs), msToNs(range.endMs)),
      target.series([logQuery(tSel)], msToNs(range.startMs), msToNs(range.endMs)),
    ]);
    const sourceNames = new Set(sStreams.flatMap((s) => Object.keys(s)));
    const discovered = TARGET_DISCOVERED_LABELS.filter((n) => !sourceNames.has(n));
    const normS = (l: Record<string, string>) => normaliseSource(l, o.mapping);
    const normT = (l: Record<string, string>) => normaliseTarget(l, o.mapping, discovered);
    const sByKey = new Map(sStreams.map((s) => [streamKey(normS(s)), s]));
    const tByKey = new Map(tStreams.map((s) => [streamKey(normT(s)), s]));

    let done = 0;
    const total = 2;
    const tick = () => o.onProgress?.(done, total);
    const [sc, tc] = await Promise.all([
      countLines(source, o.selector, sStreams, range, o, o.mapping.drop, normS, tick),
      countLines(target, tSel, tStreams, range, o, [...o.mapping.drop, ...discovered], normT, tick),
    ]);
    done = total;
    tick();

    const keys = new Set([...sc.counts.keys(), ...tc.counts.keys(), ...sByKey.keys(), ...tByKey.keys()]);
    const show = (k: string) => formatStream(sByKey.has(k) ? normS(sByKey.get(k)!) : normT(tByKey.get(k) ?? {}));
    const missingStreams: Array<{ stream: string; lines: number }> = [];
    const extraStreams: Array<{ stream: string; lines: number }> = [];
    const windowDiffs: WindowDiff[] = [];
    const pairs: Array<{ key: string; w: number; s: number; t: number; diff: boolean; sampled: boolean }> = [];
    const sampledWindows = new Set<number>();
    let expected = 0,
      matched = 0,
      unexpected = 0,
      compared = 0,
      matchedStreams = 0;
    for (const k of [...keys].sort()) {
      const sm = sc.counts.get(k) ?? new Map<number, number>();
      const tm = tc.counts.get(k) ?? new Map<number, number>();
      const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      const inS = sByKey.has(k) || sm.size > 0;
      const inT = tByKey.has(k) || tm.size > 0;
      if (inS && !inT) missingStreams.push({ stream: show(k), lines: sum(sm) });
      else if (!inS && inT) extraStreams.push({ stream: show(k), lines: sum(tm) });
      else matchedStreams++;
      for (const w of [...new Set([...sm.keys(), ...tm.keys()])].sort((a, b) => a - b)) {
        const s = sm.get(w) ?? 0;
        const t = tm.get(w) ?? 0;
        compared++;
        expected += s;
        matched += Math.min(s, t);
        unexpected += Math.max(0, t - s);
        const diff = s !== t;
        if (diff && inS && inT)
          windowDiffs.push({
            stream: show(k),
            window: `${new Date(w - o.windowMs).toISOString()}..${new Date(w).toISOString()}`,
            source: s,
            target: t,
            kind: t === 0 ? 'missing' : s === 0 ? 'extra' : 'count',
          });
        const sampled = inSample(w, o.sample.fraction, o.sample.seed);
        if (sampled) sampledWindows.add(w);
        if (inS && inT && (diff || sampled)) pairs.push({ key: k, w, s, t, diff, sampled });
      }
    }

    // lines of the sampled windows (and of every differing one) as (ts, line, metadata) multisets
    const lineDiffs: LineDiff[] = [];
    let linesCompared = 0,
      missingLines = 0,
      extraLines = 0,
      altered = 0;
    const compare = (p: { key: string; s: number; t: number }, sl: LokiEntry[], tl: LokiEntry[]) => {
      const bag = new Map<string, { n: number; e: LokiEntry }>();
      for (const e of sl) {
        const k = entryKey(e, o.ignoreMetadata);
        const b = bag.get(k);
        if (b) b.n++;
        else bag.set(k, { n: 1, e });
      }
      let both = 0;
      const extra: LokiEntry[] = [];
      for (const e of tl) {
        const b = bag.get(entryKey(e, o.ignoreMetadata));
        if (b && b.n > 0) {
          b.n--;
          both++;
        } else extra.push(e);
      }
      const missing = [...bag.values()].flatMap((b) => Array.from({ length: b.n }, () => b.e));
      linesCompared += sl.length;
      // replace this window's count-based figures by the line-based ones
      expected += sl.length - p.s;
      matched += both - Math.min(p.s, p.t);
      unexpected += extra.length - Math.max(0, p.t - p.s);
      const stream = show(p.key);
      const extraByTs = new Map<bigint, LokiEntry[]>();
      for (const e of extra) (extraByTs.get(e.tsNs) ?? extraByTs.set(e.tsNs, []).get(e.tsNs)!).push(e);
      for (const m of missing) {
        const twin = extraByTs.get(m.tsNs)?.shift();
        if (twin) {
          altered++;
          lineDiffs.push({
            stream,
            timestampNs: m.tsNs.toString(),
            kind: 'altered',
            source: m.line,
            target: twin.line,
          });
        } else {
          missingLines++;
          lineDiffs.push({
            stream,
            timestampNs: m.tsNs.toString(),
            kind: 'missing',
            source: m.line,
            metadata: m.metadata,
          });
        }
      }
      for (const list of extraByTs.values())
        for (const e of list) {
          extraLines++;
          lineDiffs.push({
            stream,
            timestampNs: e.tsNs.toString(),
            kind: 'extra',
            target: e.line,
            metadata: e.metadata,
          });
        }
    };
    // sampled windows: every stream's lines in one paged read per side; other differing windows: per stream
    const readWindow = async (
      client: LokiClient,
      sel: LogMatcher[],
      w: number,
      norm: (l: Record<string, string>) => Record<string, string>,
    ) => {
      const byKey = new Map<string, LokiEntry[]>();
      for await (const pages of readLines(client, logQuery(sel), msToNs(w - o.windowMs), msToNs(w), o.pageSize)) {
        for (const p of pages) {
          const k = streamKey(norm(p.labels));
          const list = byKey.get(k) ?? byKey.set(k, []).get(k)!;
          for (const e of p.entries) list.push(e);
        }
      }
      return byKey;
    };
    const tasks: Array<() => Promise<void>> = [];
    for (const w of [...sampledWindows].sort((a, b) => a - b)) {
      tasks.push(async () => {
        const [sw, tw] = await Promise.all([
          readWindow(source, o.selector, w, normS),
          readWindow(target, tSel, w, normT),
        ]);
        for (const p of pairs) if (p.w === w) compare(p, sw.get(p.key) ?? [], tw.get(p.key) ?? []);
      });
    }
    for (const p of pairs) {
      if (p.sampled) continue;
      tasks.push(async () => {
        const [sl, tl] = await Promise.all([
          linesOf(source, sByKey.get(p.key)!, p.w, o),
          linesOf(target, tByKey.get(p.key)!, p.w, o),
        ]);
        compare(p, sl, tl);
      });
    }
    const work = async () => {
      for (let job = tasks.shift(); job; job = tasks.shift()) await job();
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, work));
    lineDiffs.sort((a, b) =>
      a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : BigInt(a.timestampNs) < BigInt(b.timestampNs) ? -1 : 1,
    );

    const denom = expected + unexpected;
    const percent = denom === 0 ? 100 : (matched / denom) * 100;
    return {
      source: o.source.url,
      target: o.target.url,
      selector: renderStreamSelector(o.selector),
      range: {
        start: new Date(range.startMs).toISOString(),
        end: new Date(range.endMs).toISOString(),
        windowMs: o.windowMs,
        windows: (range.endMs - range.startMs) / o.windowMs,
        note: 'windows are (start, end], aligned to multiples of the window since the epoch, as count_over_time counts them',
      },
      streams: {
        source: sStreams.length,
        target: tStreams.length,
        matched: matchedStreams,
        missing: missingStreams,
        extra: extraStreams,
      },
      windows: { compared, differing: windowDiffs.length, top: windowDiffs.slice(0, o.top) },
      lines: { expected, matched, unexpected },
      samples: {
        windows: sampledWindows.size,
        streamWindows: pairs.length,
        linesCompared,
        missing: missingLines,
        extra: extraLines,
        altered,
        top: lineDiffs.slice(0, o.top),
      },
      consistency: {
        percent,
        definition:
          'matched / (expected + unexpected) lines; per stream and window from count_over_time, replaced by (timestamp, line, metadata) multiset matches in the sampled windows',
        gate: { minPercent: o.minConsistency, passed: percent >= o.minConsistency },
      },
      queries: { source: sc.queries, target: tc.queries },
      seconds: Math.round((Date.now() - t0) / 10) / 100,
    };
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}
