import { RemoteWriteClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpClient } from '../http/index.js';
import {
  encodeWriteRequest,
  setStaleMarker,
  snappyEncode,
  sortLabels,
  type Label,
  type WriteSeries,
} from '../wire/index.js';
import { generateHistory, resolveSpec, type HistorySpec } from './history.js';

/**
 * The generated history written through remote write (instead of promtool blocks), which is the only way to
 * give a lab server staleness markers: OpenMetrics cannot carry them. Where a series has a gap, a stale
 * marker (NaN 0x7ff0000000000002) is written one interval after its last sample, as Prometheus does when a
 * target disappears. The target must be a receiver with an out-of-order window (startServer(t, {receiver: true})).
 */
export interface HistorySeries {
  labels: Label[];
  timestamps: Float64Array;
  values: Float64Array;
  staleMarkers: number;
}

/** One series of the history with its stale markers, materialised (for tests that compute what a server must hold). */
export function* historyWithStaleMarkers(spec: HistorySpec, now = Date.now()): Generator<HistorySeries> {
  const interval = spec.intervalMs;
  for (const g of generateHistory(spec, now)) {
    const ts: number[] = [];
    const vs: number[] = [];
    const stale: number[] = [];
    let prev: number | undefined;
    for (const [t, v] of g.samples()) {
      if (prev !== undefined && t - prev > interval) {
        stale.push(ts.length);
        ts.push(prev + interval);
        vs.push(0);
      }
      ts.push(t);
      vs.push(v);
      prev = t;
    }
    const values = Float64Array.from(vs);
    for (const i of stale) setStaleMarker(values, i);
    yield {
      labels: sortLabels(Object.entries(g.labels).map(([name, value]) => ({ name, value }))),
      timestamps: Float64Array.from(ts),
      values,
      staleMarkers: stale.length,
    };
  }
}

export interface RemoteWriteHistoryResult {
  series: number;
  samples: number;
  staleMarkers: number;
  requests: number;
  ms: number;
}

/**
 * Writes the history (with stale markers) to `writeUrl` (e.g. http://127.0.0.1:9090/api/v1/write) in time
 * windows, so the receiver sees roughly time-ordered data, with a few requests in flight.
 */
export async function writeHistoryRemote(
  writeUrl: string,
  spec: HistorySpec,
  opts: { batchSamples?: number; concurrency?: number; windowMs?: number; now?: number } = {},
): Promise<RemoteWriteHistoryResult> {
  const t0 = Date.now();
  const batchSamples = opts.batchSamples ?? 50_000;
  const concurrency = opts.concurrency ?? 4;
  const s = resolveSpec(spec, opts.now);
  // 30-minute slices keep every append within the head's in-order range (max time - 1h): Prometheus 2.42 can
  // return incomplete series while it compacts an out-of-order head into blocks, so the lab avoids that path
  const windowMs = opts.windowMs ?? 30 * 60_000;
  const all = [...historyWithStaleMarkers(spec, opts.now)];
  const u = new URL(writeUrl);
  const http = new HttpClient(endpointFromUrl(u.origin), { connections: concurrency });
  const rw = new RemoteWriteClient(http, { path: u.pathname });
  const cursors = all.map(() => 0);
  const inflight = new Set<Promise<void>>();
  let requests = 0;
  let samples = 0;
  let failure: unknown;
  const send = (batch: WriteSeries[]) => {
    const body = snappyEncode(encodeWriteRequest(batch));
    requests++;
    const p = rw
      .send(body)
      .then(
        (r) => {
          if (r.outcome !== 'ok')
            failure ??= new StackshiftError('lab', `remote-write history: ${writeUrl} refused samples: ${r.message}`, {
              hint: 'start the receiver with an out-of-order window (startServer(t, {receiver: true}))',
            });
        },
        (e) => {
          failure ??= e;
        },
      )
      .finally(() => inflight.delete(p));
    inflight.add(p);
    return p;
  };
  try {
    for (let w = s.startMs; w < s.endMs + spec.intervalMs; w += windowMs) {
      const wEnd = w + windowMs;
      let batch: WriteSeries[] = [];
      let n = 0;
      for (let i = 0; i < all.length; i++) {
        const ser = all[i];
        const start = cursors[i];
        let end = start;
        while (end < ser.timestamps.length && ser.timestamps[end] < wEnd) end++;
        cursors[i] = end;
        if (end === start) continue;
        batch.push({ labels: ser.labels, timestamps: ser.timestamps, values: ser.values, start, end });
        n += end - start;
        samples += end - start;
        if (n >= batchSamples) {
          send(batch);
          batch = [];
          n = 0;
          while (inflight.size >= concurrency) await Promise.race(inflight);
        }
      }
      if (batch.length) send(batch);
      while (inflight.size >= concurrency) await Promise.race(inflight);
      if (failure) throw failure;
    }
    await Promise.all(inflight);
    if (failure) throw failure;
  } finally {
    await http.close();
  }
  return {
    series: all.length,
    samples,
    staleMarkers: all.reduce((a, x) => a + x.staleMarkers, 0),
    requests,
    ms: Date.now() - t0,
  };
}
