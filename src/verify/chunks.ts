import type { RemoteReadClient } from '../clients/index.js';
import { readBody, statusError } from '../http/index.js';
import { withHistogramDigests } from './histograms.js';
import {
  ChunkEncoding,
  SampleBuffer,
  chunkSampleCount,
  decodeChunkedReadResponse,
  decodeHistogramChunk,
  decodeXorChunk,
  type HistogramSample,
  encodeReadRequest,
  labelsKey,
  readFrames,
  seriesFromSamplesResponse,
  snappyDecode,
  WireError,
  type Label,
  type Matcher,
  type RawChunk,
  type SeriesSamples,
} from '../wire/index.js';
import { StackshiftError } from '../errors/index.js';

/**
 * A decoding failure of a remote-read body (a protobuf error on garbled bytes) as the wire error it is,
 * naming the server; errors that are already classified pass unchanged.
 */
export function corruptResponse(e: unknown, url: string): unknown {
  if (e instanceof StackshiftError) return e;
  return new WireError(
    `the remote-read response from ${url} is corrupt: ${(e as Error)?.message ?? String(e)}`,
    'the server (or a proxy between) sent bytes that are not a remote-read message; retrying usually helps if it was transient, otherwise check the server and any proxy in front of it',
  );
}

/** The same series stream, with decoding failures classified (see corruptResponse). */
export async function* classifiedStream<T>(stream: AsyncIterable<T>, url: string): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (e) {
    throw corruptResponse(e, url);
  }
}

/**
 * Series from remote read as the server's raw chunks, decoded only on demand. Two copies made from the
 * same blocks (a snapshot, a restored or upgraded server) send byte-identical chunks: comparing those bytes
 * proves every sample equal without decoding one, which is what lets verification outrun a plain read of
 * one side. Chunks that differ in any byte (a target that re-chunked on ingestion, such as Mimir or a
 * remote-write receiver) are decoded with the wire layer's XOR decoder and compared sample by sample.
 */
export interface ChunkItem {
  labels: Label[];
  /** Raw chunks in time order (streamed responses). */
  chunks?: RawChunk[];
  /** Already decoded (a server that answered with SAMPLES). */
  samples?: SeriesSamples;
}

export interface ChunkSource {
  streamChunks(q: { startMs: number; endMs: number; matchers: Matcher[] }): AsyncIterable<ChunkItem>;
}

const STREAMED_CT = 'application/x-streamed-protobuf';

/** Remote read through the wire layer's request encoder and frame reader, keeping chunks raw. */
export class RawChunkReader implements ChunkSource {
  constructor(private readonly rr: RemoteReadClient) {}

  streamChunks(q: { startMs: number; endMs: number; matchers: Matcher[] }): AsyncIterable<ChunkItem> {
    return classifiedStream(this.rawChunks(q), `${this.rr.http.endpoint.url}${this.rr.path}`);
  }

  private async *rawChunks(q: { startMs: number; endMs: number; matchers: Matcher[] }): AsyncIterable<ChunkItem> {
    const res = await this.rr.http.request({
      method: 'POST',
      path: this.rr.path,
      body: encodeReadRequest([q], ['streamed', 'samples']),
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'accept-encoding': 'snappy',
        'x-prometheus-remote-read-version': '0.1.0',
      },
    });
    if (res.status < 200 || res.status >= 300)
      throw statusError('POST', res, await readBody(res, 1 << 20).catch(() => ''));
    try {
      if ((res.headers['content-type'] ?? '').toLowerCase().startsWith(STREAMED_CT)) {
        let cur: ChunkItem | undefined;
        let curKey = '';
        for await (const frame of readFrames(res.body)) {
          for (const s of decodeChunkedReadResponse(frame).series) {
            const key = labelsKey(s.labels);
            // one series may span several consecutive frames
            if (cur && key === curKey) {
              cur.chunks!.push(...s.chunks);
              continue;
            }
            if (cur) yield cur;
            cur = { labels: s.labels, chunks: [...s.chunks] };
            curKey = key;
          }
        }
        if (cur) yield cur;
      } else {
        const chunks: Buffer[] = [];
        for await (const c of res.body) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks);
        const msg = (res.headers['content-encoding'] ?? 'snappy').includes('snappy') ? snappyDecode(raw) : raw;
        for (const s of seriesFromSamplesResponse(msg, q.startMs, q.endMs))
          yield { labels: s.labels, samples: withHistogramDigests(s) };
      }
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }
}

export interface ChunkCounts {
  floats: number;
  histograms: number;
  unknown: number;
}

export function countChunks(chunks: RawChunk[]): ChunkCounts {
  const c: ChunkCounts = { floats: 0, histograms: 0, unknown: 0 };
  for (const ch of chunks) {
    if (ch.type === ChunkEncoding.XOR) c.floats += chunkSampleCount(ch.data);
    else if (ch.type === ChunkEncoding.HISTOGRAM || ch.type === ChunkEncoding.FLOAT_HISTOGRAM)
      c.histograms += chunkSampleCount(ch.data);
    else c.unknown++;
  }
  return c;
}

/**
 * Samples (floats and native histograms) of two chunk lists that are byte for byte the same and lie wholly inside [minT, maxT], or
 * -1 when that cannot be told without decoding.
 */
export function equalChunkSamples(a: RawChunk[], b: RawChunk[], minT: number, maxT: number): number {
  if (a.length !== b.length) return -1;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (
      x.type !== y.type ||
      x.minTimeMs !== y.minTimeMs ||
      x.maxTimeMs !== y.maxTimeMs ||
      x.minTimeMs < minT ||
      x.maxTimeMs > maxT
    )
      return -1;
    // byte-identical histogram chunks hold identical histograms just as XOR chunks hold identical floats
    if (x.type !== ChunkEncoding.XOR && x.type !== ChunkEncoding.HISTOGRAM && x.type !== ChunkEncoding.FLOAT_HISTOGRAM)
      return -1;
    if (
      x.data.length !== y.data.length ||
      !Buffer.from(x.data.buffer, x.data.byteOffset, x.data.length).equals(
        Buffer.from(y.data.buffer, y.data.byteOffset, y.data.length),
      )
    )
      return -1;
    n += chunkSampleCount(x.data);
  }
  return n;
}

/** The samples in [minT, maxT] (native histograms as digests, see histograms.ts), in time order, repeated timestamps of overlapping chunks dropped. */
export function decodeItem(item: ChunkItem, minT: number, maxT: number): SeriesSamples {
  if (item.samples) return item.samples;
  const buf = new SampleBuffer(1024);
  const histograms: HistogramSample[] = [];
  let unknownChunks = 0;
  for (const c of item.chunks ?? []) {
    if (c.type === ChunkEncoding.XOR) decodeXorChunk(c.data, buf, minT, maxT);
    else if (c.type === ChunkEncoding.HISTOGRAM || c.type === ChunkEncoding.FLOAT_HISTOGRAM)
      decodeHistogramChunk(c.data, c.type, histograms, minT, maxT);
    else unknownChunks++;
  }
  let { timestamps, values } = buf.snapshot();
  let sorted = true;
  for (let i = 1; i < timestamps.length; i++)
    if (!(timestamps[i] > timestamps[i - 1])) {
      sorted = false;
      break;
    }
  if (!sorted) ({ timestamps, values } = sortDedupe(timestamps, values));
  let s: SeriesSamples = { labels: item.labels, timestamps, values, histograms };
  if (unknownChunks) s.unknownChunks = unknownChunks;
  s = withHistogramDigests(s);
  item.samples = s;
  return s;
}

function sortDedupe(ts: Float64Array, vs: Float64Array): { timestamps: Float64Array; values: Float64Array } {
  const idx = Array.from({ length: ts.length }, (_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);
  const t = new Float64Array(ts.length);
  const v = new Float64Array(ts.length);
  const vw = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  const ow = new Uint32Array(v.buffer);
  let m = 0;
  for (const i of idx) {
    if (m > 0 && t[m - 1] === ts[i]) continue;
    t[m] = ts[i];
    ow[2 * m] = vw[2 * i];
    ow[2 * m + 1] = vw[2 * i + 1];
    m++;
  }
  return { timestamps: t.slice(0, m), values: v.slice(0, m) };
}
