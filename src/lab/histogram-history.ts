import { RemoteWriteClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpClient } from '../http/index.js';
import {
  ResetHint,
  encodeWriteRequest,
  snappyEncode,
  sortLabels,
  staleHistogram,
  type HistogramSample,
  type Label,
  type WriteSeries,
} from '../wire/index.js';
import { mulberry32 } from './history.js';

/**
 * Deterministic native-histogram history for lab servers started with --enable-feature=native-histograms:
 * series of each kind the chunk formats distinguish, so that a copy exercises every decoder path.
 *
 *   kind 0  integer counter, schema 3 -> 2 part-way (a schema change cuts a chunk), positive buckets only
 *   kind 1  integer counter, schema 0, negative and positive buckets, zero bucket, a gap that starts with a
 *           stale marker, a counter reset half-way
 *   kind 2  float counter, schema -2, zero threshold 0.001 (stored as 9 bytes)
 *   kind 3  integer gauge histogram (reset hint GAUGE), schema 1, buckets that come and go; only with
 *           `gauges`, because Prometheus 2.42 cannot serve them over streamed remote read once a query range
 *           cuts a chunk or the chunk is still open in the head (it re-encodes the chunk as a counter and fails
 *           with "unexpected counter reset"): end such a history on a 2 h boundary and read it in one unit
 *
 * Prometheus 2.42 cannot append histograms out of order, so series are written in time order, one request
 * after another. Float histograms always carry a positive count: 2.42's receiver takes a float histogram
 * whose count_float is 0 for an integer one, which is why the stale marker sits in an integer series (a float
 * one sent as an integer histogram made 2.42 drop the open float chunk's samples).
 */
export interface HistogramHistorySpec {
  series: number;
  hours: number;
  intervalMs: number;
  seed?: number;
  /** Default: now rounded down to the interval. */
  endMs?: number;
  metric?: string;
  /** Include kind 3 (gauge histograms); otherwise kind 3 series are integer counters like kind 0 without the schema change. */
  gauges?: boolean;
}

export interface HistogramSeries {
  labels: Label[];
  histograms: HistogramSample[];
  staleMarkers: number;
}

function words(values: number[]): Uint32Array {
  return new Uint32Array(Float64Array.from(values).buffer);
}

/** Spans (offset, length pairs) over the sorted bucket indices of `m`. */
function spansOf(idx: number[]): number[] {
  const spans: number[] = [];
  let prevEnd = 0;
  for (let i = 0; i < idx.length;) {
    let j = i + 1;
    while (j < idx.length && idx[j] === idx[j - 1] + 1) j++;
    spans.push(spans.length === 0 ? idx[i] : idx[i] - prevEnd, j - i);
    prevEnd = idx[j - 1] + 1;
    i = j;
  }
  return spans;
}

function bucketWords(m: Map<number, number>, isFloat: boolean): { spans: number[]; w: Uint32Array } {
  const idx = [...m.keys()].sort((a, b) => a - b);
  const counts = idx.map((i) => m.get(i)!);
  if (isFloat) return { spans: spansOf(idx), w: words(counts) };
  // integer histograms carry each bucket as the delta to the previous one (int64 two's complement words)
  const w = new Uint32Array(2 * counts.length);
  let prev = 0;
  counts.forEach((c, i) => {
    const d = c - prev;
    prev = c;
    w[2 * i] = d >>> 0;
    w[2 * i + 1] = d < 0 ? 0xffffffff : 0;
  });
  return { spans: spansOf(idx), w };
}

interface State {
  pos: Map<number, number>;
  neg: Map<number, number>;
  zero: number;
  sum: number;
  schema: number;
}

function observe(s: State, rnd: () => number, kind: number, n: number): void {
  for (let k = 0; k < n; k++) {
    const r = rnd();
    const v = kind === 1 && r < 0.3 ? -Math.exp(rnd() * 4) : r < 0.05 ? 0 : Math.exp(rnd() * 6 - 2);
    s.sum += v;
    if (Math.abs(v) <= (kind === 2 ? 0.001 : 2 ** -128)) {
      s.zero++;
      continue;
    }
    // bucket index: ceil(log2(|v|) * 2^schema)
    const idx = Math.ceil(Math.log2(Math.abs(v)) * 2 ** s.schema);
    const m = v < 0 ? s.neg : s.pos;
    m.set(idx, (m.get(idx) ?? 0) + 1);
  }
}

function reduceSchema(s: State): void {
  for (const key of ['pos', 'neg'] as const) {
    const next = new Map<number, number>();
    for (const [i, c] of s[key]) {
      const j = Math.ceil(i / 2);
      next.set(j, (next.get(j) ?? 0) + c);
    }
    s[key] = next;
  }
  s.schema--;
}

function sample(t: number, s: State, kind: number): HistogramSample {
  const isFloat = kind === 2;
  const p = bucketWords(s.pos, isFloat);
  const n = bucketWords(s.neg, isFloat);
  let count = s.zero;
  for (const c of s.pos.values()) count += c;
  for (const c of s.neg.values()) count += c;
  const head = new Uint32Array(8);
  if (isFloat) {
    head.set(words([count, s.zero]), 0);
  } else {
    head[0] = count;
    head[2] = s.zero;
  }
  head.set(words([s.sum]), 4);
  head.set(words([kind === 2 ? 0.001 : 2 ** -128]), 6);
  return {
    t,
    isFloat,
    resetHint: kind === 3 ? ResetHint.GAUGE : ResetHint.UNKNOWN,
    schema: s.schema,
    head,
    positiveSpans: p.spans,
    negativeSpans: n.spans,
    positive: p.w,
    negative: n.w,
  };
}

const SCHEMA = [3, 0, -2, 1, 1];

export function generateHistogramHistory(spec: HistogramHistorySpec, now = Date.now()): HistogramSeries[] {
  const interval = spec.intervalMs;
  const endMs = spec.endMs ?? Math.floor(now / interval) * interval;
  const startMs = endMs - spec.hours * 3_600_000;
  const steps = Math.floor((endMs - startMs) / interval);
  const out: HistogramSeries[] = [];
  for (let i = 0; i < spec.series; i++) {
    const kind = i % 4 === 3 && !spec.gauges ? 4 : i % 4;
    const rnd = mulberry32((spec.seed ?? 7) * 1_000_003 + i);
    const s: State = { pos: new Map(), neg: new Map(), zero: 0, sum: 0, schema: SCHEMA[kind] };
    const hs: HistogramSample[] = [];
    let stale = 0;
    const gapFrom = Math.floor(steps * 0.3),
      gapTo = Math.floor(steps * 0.4);
    for (let k = 0; k <= steps; k++) {
      const t = startMs + k * interval;
      if (kind === 1 && k >= gapFrom && k < gapTo) {
        if (k === gapFrom) {
          hs.push(staleHistogram(t, false));
          stale++;
        }
        continue;
      }
      if (kind === 0 && k === Math.floor(steps * 0.6)) reduceSchema(s);
      if (kind === 1 && k === Math.floor(steps * 0.5)) {
        s.pos.clear();
        s.neg.clear();
        s.zero = 0;
        s.sum = 0;
      }
      if (kind === 3) {
        s.pos.clear();
        s.neg.clear();
        s.zero = 0;
        s.sum = 0;
      }
      observe(s, rnd, kind, kind === 3 ? 5 + Math.floor(rnd() * 10) : Math.floor(rnd() * 8) + (k === 0 ? 3 : 0));
      hs.push(sample(t, s, kind));
    }
    const labels = sortLabels([
      { name: '__name__', value: spec.metric ?? 'stackshift_lab_native_histogram' },
      { name: 'kind', value: ['int_schema_change', 'int_reset_stale', 'float', 'int_gauge', 'int'][kind] },
      { name: 'series', value: String(i) },
    ]);
    out.push({ labels, histograms: hs, staleMarkers: stale });
  }
  return out;
}

export interface HistogramWriteResult {
  series: number;
  histograms: number;
  staleMarkers: number;
  requests: number;
  ms: number;
}

/** Writes the history to a receiver (e.g. http://127.0.0.1:9090/api/v1/write) in time order, 30-minute slices. */
export async function writeHistogramHistoryRemote(
  writeUrl: string,
  spec: HistogramHistorySpec,
  opts: {
    now?: number;
    windowMs?: number;
    alter?: (series: number, index: number, h: HistogramSample) => HistogramSample;
  } = {},
): Promise<HistogramWriteResult> {
  const t0 = Date.now();
  const all = generateHistogramHistory(spec, opts.now);
  // tests inject differences here (a target that holds one altered bucket)
  if (opts.alter)
    all.forEach((s, i) => {
      s.histograms = s.histograms.map((h, k) => opts.alter!(i, k, h));
    });
  const windowMs = opts.windowMs ?? 30 * 60_000;
  const u = new URL(writeUrl);
  const http = new HttpClient(endpointFromUrl(u.origin), { connections: 1 });
  const rw = new RemoteWriteClient(http, { path: u.pathname });
  let requests = 0;
  let n = 0;
  try {
    const lo = Math.min(...all.map((s) => s.histograms[0]?.t ?? Infinity));
    const hi = Math.max(...all.map((s) => s.histograms.at(-1)?.t ?? -Infinity));
    const cursors = all.map(() => 0);
    const empty = new Float64Array(0);
    for (let w = lo; w <= hi; w += windowMs) {
      const batch: WriteSeries[] = [];
      all.forEach((s, i) => {
        const start = cursors[i];
        let end = start;
        while (end < s.histograms.length && s.histograms[end].t < w + windowMs) end++;
        cursors[i] = end;
        if (end > start)
          batch.push({
            labels: s.labels,
            timestamps: empty,
            values: empty,
            histograms: s.histograms,
            histStart: start,
            histEnd: end,
          });
        n += end - start;
      });
      if (!batch.length) continue;
      const r = await rw.send(snappyEncode(encodeWriteRequest(batch)));
      requests++;
      if (r.outcome !== 'ok') {
        throw new StackshiftError('lab', `native-histogram history: ${writeUrl} refused histograms: ${r.message}`, {
          hint: 'start the receiver with --enable-feature=native-histograms',
        });
      }
    }
  } finally {
    await http.close();
  }
  return {
    series: all.length,
    histograms: n,
    staleMarkers: all.reduce((a, s) => a + s.staleMarkers, 0),
    requests,
    ms: Date.now() - t0,
  };
}
