import { RemoteWriteClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpClient } from '../http/index.js';
import { encodeWriteRequest, snappyEncode, type WriteSeries } from '../wire/index.js';

/**
 * Many live series in a server's head (and so in its WAL), written through remote write at recent
 * timestamps: what makes a restart's WAL replay long enough to watch, interrupt and time. The samples fall in
 * the last minutes before now, so they stay in the head (nothing is compacted before the 2 h block is full).
 */
export interface HeadSeriesSpec {
  series: number;
  /** Samples per series (default 4). */
  samples?: number;
  /** Between two samples of a series (default 15 s). */
  intervalMs?: number;
  /** The metric name (default stackshift_head_series). */
  name?: string;
}

export interface HeadSeriesResult {
  series: number;
  samples: number;
  requests: number;
  ms: number;
}

/** Series per request: about 2 MB of protobuf at 4 samples each, far below a receiver's body limit. */
const SERIES_PER_REQUEST = 20_000;

export async function writeHeadSeries(
  writeUrl: string,
  spec: HeadSeriesSpec,
  opts: { concurrency?: number; now?: number } = {},
): Promise<HeadSeriesResult> {
  const t0 = Date.now();
  const samplesPer = spec.samples ?? 4;
  const intervalMs = spec.intervalMs ?? 15_000;
  const name = spec.name ?? 'stackshift_head_series';
  const lastMs = Math.floor((opts.now ?? Date.now()) / 1000) * 1000 - 1000;
  const timestamps = Float64Array.from({ length: samplesPer }, (_, i) => lastMs - (samplesPer - 1 - i) * intervalMs);
  const concurrency = opts.concurrency ?? 2;
  const u = new URL(writeUrl);
  const http = new HttpClient(endpointFromUrl(u.origin), { connections: concurrency });
  const rw = new RemoteWriteClient(http, { path: u.pathname });
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  let requests = 0;
  try {
    for (let first = 0; first < spec.series; first += SERIES_PER_REQUEST) {
      const batch: WriteSeries[] = [];
      for (let i = first; i < Math.min(spec.series, first + SERIES_PER_REQUEST); i++) {
        const values = Float64Array.from({ length: samplesPer }, (_, k) => i + k);
        batch.push({
          // sorted by name, as the receiver expects
          labels: [
            { name: '__name__', value: name },
            { name: 'series', value: String(i) },
            { name: 'shard', value: String(i % 64) },
          ],
          timestamps,
          values,
          start: 0,
          end: samplesPer,
        });
      }
      const body = snappyEncode(encodeWriteRequest(batch));
      requests++;
      const p = rw
        .send(body)
        .then(
          (r) => {
            if (r.outcome !== 'ok')
              failure ??= new StackshiftError('lab', `head series: ${writeUrl} refused samples: ${r.message}`, {
                hint: 'start the server with --web.enable-remote-write-receiver',
              });
          },
          (e) => {
            failure ??= e;
          },
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
      while (inflight.size >= concurrency) await Promise.race(inflight);
      if (failure) throw failure;
    }
    await Promise.all(inflight);
    if (failure) throw failure;
  } finally {
    await http.close();
  }
  return { series: spec.series, samples: spec.series * samplesPer, requests, ms: Date.now() - t0 };
}
