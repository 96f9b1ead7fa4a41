/**
 * Remote read (prompb/remote.proto): the request encoder, the STREAMED_XOR_CHUNKS frame reader (uvarint
 * length, big-endian CRC-32C, ChunkedReadResponse) and the SAMPLES response decoder.
 */
import { crc32c } from '@node-rs/crc32';
import type { HistogramSample } from './histogram.js';
import { readHistogram } from './histogram-pb.js';
import { PbReader, WireError } from './pb.js';
import { protoType } from './schema.js';
import { snappyEncode } from './snappy.js';
import { MATCH_TYPE_CODE, type Label, type Matcher } from './types.js';
import type { SampleBuffer } from './xor.js';

export type ResponseType = 'samples' | 'streamed';

export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: Matcher[];
}

/** Snappy-compressed ReadRequest body. `accepted` order is preference order (the server takes the first it supports). */
export function encodeReadRequest(queries: ReadQuery[], accepted: ResponseType[]): Buffer {
  const T = protoType('ReadRequest');
  const msg = T.fromObject({
    queries: queries.map((q) => ({
      start_timestamp_ms: q.startMs,
      end_timestamp_ms: q.endMs,
      matchers: q.matchers.map((m) => ({ type: MATCH_TYPE_CODE[m.type], name: m.name, value: m.value })),
    })),
    accepted_response_types: accepted.map((a) => (a === 'streamed' ? 1 : 0)),
  });
  return snappyEncode(T.encode(msg).finish());
}

export interface RawChunk {
  minTimeMs: number;
  maxTimeMs: number;
  type: number;
  data: Uint8Array;
}
export interface ChunkedSeries {
  labels: Label[];
  chunks: RawChunk[];
}
export interface ChunkedReadResponse {
  series: ChunkedSeries[];
  queryIndex: number;
}

function decodeLabel(r: PbReader, end: number): Label {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uvarint();
    if (tag === 0x0a) name = r.string();
    else if (tag === 0x12) value = r.string();
    else r.skip(tag & 7);
  }
  return { name, value };
}

type LongLike = number | { toNumber(): number };
const toNum = (x: LongLike | null | undefined): number => (x == null ? 0 : typeof x === 'number' ? x : x.toNumber());
let crrType: ReturnType<typeof protoType> | undefined;

/**
 * One frame's ChunkedReadResponse; chunk data are views into `msg`. protobufjs decodes it: bench/wire.bench.ts
 * measured a hand-written decoder at parity, so the library stays (no doubles here, so no bit-exactness concern).
 */
export function decodeChunkedReadResponse(msg: Uint8Array): ChunkedReadResponse {
  crrType ??= protoType('ChunkedReadResponse');
  const m = crrType.decode(msg) as unknown as {
    chunked_series: Array<{
      labels: Label[];
      chunks: Array<{ min_time_ms: LongLike; max_time_ms: LongLike; type: number; data: Uint8Array }>;
    }>;
    query_index: LongLike;
  };
  return {
    queryIndex: toNum(m.query_index),
    series: m.chunked_series.map((s) => ({
      labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
      chunks: s.chunks.map((c) => ({
        minTimeMs: toNum(c.min_time_ms),
        maxTimeMs: toNum(c.max_time_ms),
        type: c.type,
        data: c.data,
      })),
    })),
  };
}

/**
 * Splits a STREAMED_XOR_CHUNKS body into verified frame payloads. Memory holds at most one frame (plus the
 * network chunk it arrived in); frames larger than `maxFrameBytes` are refused before they are buffered.
 */
export async function* readFrames(
  body: AsyncIterable<Uint8Array>,
  maxFrameBytes = 64 * 1024 * 1024,
): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let off = 0;
  let ended = false;
  let frames = 0;

  const need = async (n: number): Promise<boolean> => {
    let avail = buf.length - off;
    if (avail >= n) return true;
    if (ended) return false;
    const parts: Buffer[] = [buf.subarray(off)];
    while (avail < n) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      const chunk = Buffer.isBuffer(r.value)
        ? r.value
        : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      parts.push(chunk);
      avail += chunk.length;
    }
    buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, avail);
    off = 0;
    return avail >= n;
  };

  for (;;) {
    await need(14); // longest header: 10-byte uvarint + 4-byte CRC
    if (buf.length - off === 0) return;
    // frame length
    let len = 0;
    let mul = 1;
    let p = off;
    for (;;) {
      if (p >= buf.length) throw new WireError(`remote-read stream truncated inside the header of frame ${frames + 1}`);
      const c = buf[p++];
      len += (c & 0x7f) * mul;
      if (c < 0x80) break;
      mul *= 128;
      if (p - off > 10) throw new WireError(`remote-read frame ${frames + 1} has an invalid length`);
    }
    if (len > maxFrameBytes) {
      throw new WireError(
        `remote-read frame ${frames + 1} is ${len} bytes, over the ${maxFrameBytes}-byte limit`,
        'lower --storage.remote.read-max-bytes-in-frame on the server or raise --max-frame-bytes',
      );
    }
    const headerLen = p - off + 4;
    if (!(await need(headerLen + len))) {
      // Prometheus reports an error after the first frame by appending plain text (http.Error) to the stream
      const rest = buf.subarray(off).toString('latin1');
      const text = /^[\x20-\x7e\s]{8,}$/.test(rest.slice(0, 200)) ? rest.slice(0, 200).trim() : '';
      throw new WireError(
        `remote-read stream ${text ? `ended with a server error after frame ${frames}: ${text}` : `truncated in frame ${frames + 1} (connection closed early?)`}`,
        'the source failed in the middle of the response; retrying the same window usually succeeds',
      );
    }
    const crc = buf.readUInt32BE(off + headerLen - 4);
    const msg = buf.subarray(off + headerLen, off + headerLen + len);
    off += headerLen + len;
    const got = crc32c(msg) >>> 0;
    if (got !== crc)
      throw new WireError(
        `remote-read frame ${frames + 1}: checksum mismatch (CRC-32C ${got.toString(16)}, frame says ${crc.toString(16)})`,
      );
    frames++;
    yield msg;
  }
}

/** Encodes one frame (used by tests to build hostile streams). */
export function encodeFrame(msg: Uint8Array): Buffer {
  const head: number[] = [];
  let v = msg.length;
  while (v >= 0x80) {
    head.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  head.push(v);
  const out = Buffer.alloc(head.length + 4 + msg.length);
  Buffer.from(head).copy(out, 0);
  out.writeUInt32BE(crc32c(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength)) >>> 0, head.length);
  out.set(msg, head.length + 4);
  return out;
}

export interface SamplesSeries {
  labels: Label[];
  histograms: HistogramSample[];
}

/**
 * Walks a (decompressed) SAMPLES ReadResponse, calling `onSeries` once per TimeSeries after its samples are in
 * `buf` (cleared before each series). Values are copied as their 8 raw bytes.
 */
export function decodeReadResponse(
  msg: Uint8Array,
  buf: SampleBuffer,
  onSeries: (s: SamplesSeries, queryIndex: number) => void,
): void {
  const r = new PbReader(msg);
  let q = 0;
  while (r.pos < r.end) {
    const tag = r.uvarint();
    if (tag !== 0x0a) {
      r.skip(tag & 7);
      continue;
    }
    const qLen = r.uvarint();
    const qEnd = r.pos + qLen;
    while (r.pos < qEnd) {
      const t2 = r.uvarint();
      if (t2 !== 0x0a) {
        r.skip(t2 & 7);
        continue;
      }
      const sLen = r.uvarint();
      const sEnd = r.pos + sLen;
      if (sEnd > qEnd) throw new WireError('TimeSeries runs past the end of its QueryResult');
      const series: SamplesSeries = { labels: [], histograms: [] };
      buf.clear();
      while (r.pos < sEnd) {
        const t3 = r.uvarint();
        if (t3 === 0x0a) {
          const eLen = r.uvarint();
          const e = r.pos + eLen;
          series.labels.push(decodeLabel(r, e));
          r.pos = e;
        } else if (t3 === 0x12) {
          const eLen = r.uvarint();
          const e = r.pos + eLen;
          let ts = 0;
          let vOff = -1;
          while (r.pos < e) {
            const t4 = r.uvarint();
            if (t4 === 0x09) {
              vOff = r.pos;
              r.pos += 8;
            } else if (t4 === 0x10) ts = r.int64();
            else r.skip(t4 & 7);
          }
          if (vOff < 0) {
            buf.reserve(1);
            buf.timestamps[buf.length] = ts;
            buf.bits[2 * buf.length] = 0;
            buf.bits[2 * buf.length + 1] = 0;
            buf.length++;
          } else buf.pushBytes(ts, msg, vOff);
          r.pos = e;
        } else if (t3 === 0x22) {
          const eLen = r.uvarint();
          const e = r.pos + eLen;
          if (e > sEnd) throw new WireError('Histogram runs past the end of its TimeSeries');
          series.histograms.push(readHistogram(r, e));
        } else r.skip(t3 & 7);
      }
      r.pos = sEnd;
      onSeries(series, q);
    }
    r.pos = qEnd;
    q++;
  }
}
