import { StackshiftError } from '../errors/index.js';
import { HttpClient, HttpError, readBody, statusError } from '../http/index.js';
import {
  ChunkEncoding,
  SampleBuffer,
  decodeChunkedReadResponse,
  decodeXorChunk,
  encodeReadRequest,
  labelsKey,
  readFrames,
  sortDedupe,
  type Label,
  type Matcher,
  type RawChunk,
} from '../wire/index.js';
import { encodeXorChunks } from './xor-encode.js';

const STREAMED_CT = 'application/x-streamed-protobuf';

export interface RawSeries {
  key: string;
  labels: Label[];
  chunks: RawChunk[];
}

/**
 * Remote read with STREAMED_XOR_CHUNKS only, yielding each series with its raw chunks (frames of one series
 * merged). Blocks are made of chunks, so a server that can only answer SAMPLES is refused with advice.
 * `endMs` is inclusive, as remote read defines it.
 */
export async function* streamRawSeries(
  http: HttpClient,
  path: string,
  q: { startMs: number; endMs: number; matchers: Matcher[] },
): AsyncGenerator<RawSeries> {
  const body = encodeReadRequest([q], ['streamed']);
  const res = await http.request({
    method: 'POST',
    path,
    body,
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'accept-encoding': 'snappy',
      'x-prometheus-remote-read-version': '0.1.0',
    },
  });
  const url = `${http.endpoint.url}${path}`;
  if (res.status < 200 || res.status >= 300) {
    const text = await readBody(res, 1 << 20).catch(() => '');
    const err = statusError('POST', res, text);
    if (res.status === 404 || res.status === 405)
      throw new HttpError('status', url, `${err.message}: no remote-read endpoint here`, {
        status: res.status,
        hint: 'point the source at Prometheus (path /api/v1/read) or Mimir (/prometheus/api/v1/read)',
      });
    throw err;
  }
  const ct = (res.headers['content-type'] ?? '').toLowerCase();
  if (!ct.startsWith(STREAMED_CT)) {
    res.body.destroy();
    throw new HttpError(
      'protocol',
      url,
      `${url} answered remote read with "${ct || 'no content type'}", not streamed chunks`,
      {
        status: res.status,
        hint: 'backfill blocks copies raw chunks and needs STREAMED_XOR_CHUNKS (Prometheus 2.13+, Mimir); use backfill metrics for this source',
      },
    );
  }
  let cur: RawSeries | undefined;
  try {
    for await (const frame of readFrames(res.body)) {
      const resp = decodeChunkedReadResponse(frame);
      for (const s of resp.series) {
        const key = labelsKey(s.labels);
        if (cur && cur.key === key) {
          cur.chunks.push(...s.chunks);
          continue;
        }
        if (cur) yield cur;
        cur = { key, labels: s.labels, chunks: [...s.chunks] };
      }
    }
    if (cur) yield cur;
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}

export interface BlockChunk {
  encoding: number;
  minT: number;
  maxT: number;
  data: Uint8Array;
  samples: number;
  histogram: boolean;
  recut: boolean;
}

const isHistogram = (t: number) => t === ChunkEncoding.HISTOGRAM || t === ChunkEncoding.FLOAT_HISTOGRAM;
const headerCount = (d: Uint8Array) => (d.length >= 2 ? (d[0] << 8) | d[1] : 0);

/**
 * The chunks of one series as they go into a block covering [minT, maxT] (inclusive): a chunk inside the
 * range is kept byte for byte; a float chunk reaching over a boundary (or overlapping another) is decoded,
 * cut to the range and re-encoded. Prometheus trims chunks to the query range itself, so with it as the
 * source every chunk is copied as is.
 */
export function chunksForBlock(series: RawSeries, minT: number, maxT: number, buf: SampleBuffer): BlockChunk[] {
  const cs = series.chunks;
  let clean = true;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c.minTimeMs < minT || c.maxTimeMs > maxT || (i > 0 && c.minTimeMs <= cs[i - 1].maxTimeMs)) {
      clean = false;
      break;
    }
  }
  if (clean) {
    return cs.map((c) => ({
      encoding: c.type,
      minT: c.minTimeMs,
      maxT: c.maxTimeMs,
      data: c.data,
      samples: headerCount(c.data),
      histogram: isHistogram(c.type),
      recut: false,
    }));
  }
  const kept: BlockChunk[] = [];
  buf.clear();
  let floats = 0;
  for (const c of cs) {
    if (c.maxTimeMs < minT || c.minTimeMs > maxT) continue;
    if (c.type !== ChunkEncoding.XOR) {
      throw new StackshiftError(
        'source',
        `series ${series.key}: the source returned a ${isHistogram(c.type) ? 'native-histogram' : `encoding-${c.type}`} chunk (${c.minTimeMs}..${c.maxTimeMs}) that reaches over the block ${minT}..${maxT} or overlaps another chunk; stackshift re-cuts only float chunks`,
        {
          hint: 'read from Prometheus (it trims chunks to the query range), or copy these series with backfill metrics',
        },
      );
    }
    floats++;
    decodeXorChunk(c.data, buf, minT, maxT);
  }
  if (floats === 0) return kept;
  sortDedupe(buf);
  for (const e of encodeXorChunks(buf.timestamps, buf.bits, 0, buf.length)) {
    kept.push({
      encoding: ChunkEncoding.XOR,
      minT: e.minTimeMs,
      maxT: e.maxTimeMs,
      data: e.data,
      samples: headerCount(e.data),
      histogram: false,
      recut: true,
    });
  }
  return kept;
}
