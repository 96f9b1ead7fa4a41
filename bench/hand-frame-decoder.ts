/**
 * The hand-written ChunkedReadResponse decoder, kept as the candidate that bench/wire.bench.ts measures against
 * protobufjs. It measured at parity, so src/wire uses protobufjs for frames (see the README's Performance).
 */
import {
  PbReader,
  WireError,
  type ChunkedReadResponse,
  type ChunkedSeries,
  type Label,
  type RawChunk,
} from '../src/wire/index.js';

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

function decodeChunk(r: PbReader, end: number): RawChunk {
  const c: RawChunk = { minTimeMs: 0, maxTimeMs: 0, type: 0, data: new Uint8Array(0) };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 0x08:
        c.minTimeMs = r.int64();
        break;
      case 0x10:
        c.maxTimeMs = r.int64();
        break;
      case 0x18:
        c.type = r.uvarint();
        break;
      case 0x22:
        c.data = r.bytesView();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return c;
}

export function handDecodeChunkedReadResponse(msg: Uint8Array): ChunkedReadResponse {
  const r = new PbReader(msg);
  const out: ChunkedReadResponse = { series: [], queryIndex: 0 };
  while (r.pos < r.end) {
    const tag = r.uvarint();
    if (tag === 0x0a) {
      const len = r.uvarint();
      const end = r.pos + len;
      if (end > r.end) throw new WireError('ChunkedSeries runs past the end of its frame');
      const s: ChunkedSeries = { labels: [], chunks: [] };
      while (r.pos < end) {
        const t2 = r.uvarint();
        if (t2 === 0x0a || t2 === 0x12) {
          const l2 = r.uvarint();
          const e2 = r.pos + l2;
          if (e2 > end) throw new WireError('field runs past the end of its ChunkedSeries');
          if (t2 === 0x0a) s.labels.push(decodeLabel(r, e2));
          else s.chunks.push(decodeChunk(r, e2));
          r.pos = e2;
        } else r.skip(t2 & 7);
      }
      r.pos = end;
      out.series.push(s);
    } else if (tag === 0x10) out.queryIndex = r.int64();
    else r.skip(tag & 7);
  }
  return out;
}
