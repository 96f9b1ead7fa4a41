// Why one file of about 470 lines: the size pass and the write pass must agree field for field, and the reader must
// mirror both; side by side they stay in step (the round-trip tests in test/wire check it).
/**
 * The prompb `Histogram` message (prompb/types.proto; remote write 2.0, io/prometheus/write/v2/types.proto,
 * uses the same field numbers) as written to and read from the wire, field for field from the 64-bit words
 * of a HistogramSample (histogram.ts), so integer counts above 2^53 and NaN payloads pass unchanged.
 *
 * Writing takes two passes, size then bytes. The sizes the second pass needs again (the message size and
 * the payloads of the two packed bucket fields, which are varints for integer histograms) are returned by
 * the first and passed to the second explicitly; the module keeps no state between calls.
 */
import type { HistogramSample } from './histogram.js';
import { PbReader, PbWriter, WireError, uvarintSize } from './pb.js';

function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** uvarint of a 64-bit word pair. */
function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return uvarintSize(lo);
  let n = 5; // the low 35 bits
  let rest = hi >>> 3;
  while (rest !== 0) {
    n++;
    rest >>>= 7;
  }
  return n;
}

function writeVarint64(w: PbWriter, lo: number, hi: number): void {
  if (hi === 0) {
    w.uvarint(lo);
    return;
  }
  const b = w.buf;
  let p = w.pos;
  for (let i = 0; i < 4; i++) {
    b[p++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  // bits 28..34: 4 from lo, 3 from hi
  let x = (lo & 0x0f) | ((hi & 0x07) << 4);
  hi >>>= 3;
  b[p++] = hi !== 0 ? x | 0x80 : x;
  while (hi !== 0) {
    x = hi & 0x7f;
    hi >>>= 7;
    b[p++] = hi !== 0 ? x | 0x80 : x;
  }
  w.pos = p;
}

/** sint64 zigzag of a two's complement pair: the low word of the result. */
function zigzag64Lo(lo: number, hi: number): number {
  return ((lo << 1) ^ (hi >> 31)) >>> 0;
}

/** sint64 zigzag of a two's complement pair: the high word of the result. */
function zigzag64Hi(lo: number, hi: number): number {
  return (((hi << 1) | (lo >>> 31)) ^ (hi >> 31)) >>> 0;
}

function spansSize(spans: readonly number[], tag: number): number {
  let size = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const m =
      (spans[i] !== 0 ? 1 + uvarintSize(zigzag32(spans[i])) : 0) +
      (spans[i + 1] !== 0 ? 1 + uvarintSize(spans[i + 1]) : 0);
    size += uvarintSize(tag) + uvarintSize(m) + m;
  }
  return size;
}

function writeSpans(w: PbWriter, spans: readonly number[], tag: number): void {
  for (let i = 0; i < spans.length; i += 2) {
    const off = zigzag32(spans[i]);
    const len = spans[i + 1];
    w.uvarint(tag);
    w.uvarint((off !== 0 ? 1 + uvarintSize(off) : 0) + (len !== 0 ? 1 + uvarintSize(len) : 0));
    if (off !== 0) {
      w.byte(0x08);
      w.uvarint(off);
    }
    if (len !== 0) {
      w.byte(0x10);
      w.uvarint(len);
    }
  }
}

/** Payload of one packed bucket field: doubles for float histograms, sint64 deltas for integer ones. */
function bucketsPayload(h: HistogramSample, words: Uint32Array): number {
  if (h.isFloat) return words.length * 4;
  let n = 0;
  for (let i = 0; i < words.length; i += 2) {
    const lo = words[i],
      hi = words[i + 1];
    n += varint64Size(zigzag64Lo(lo, hi), zigzag64Hi(lo, hi));
  }
  return n;
}

function writeWord(w: PbWriter, lo: number, hi: number): void {
  const b = w.buf;
  let p = w.pos;
  b[p++] = lo & 0xff;
  b[p++] = (lo >>> 8) & 0xff;
  b[p++] = (lo >>> 16) & 0xff;
  b[p++] = lo >>> 24;
  b[p++] = hi & 0xff;
  b[p++] = (hi >>> 8) & 0xff;
  b[p++] = (hi >>> 16) & 0xff;
  b[p++] = hi >>> 24;
  w.pos = p;
}

function packedSize(tag: number, payload: number): number {
  return payload === 0 ? 0 : uvarintSize(tag) + uvarintSize(payload) + payload;
}

/** The message body size given the payloads of its packed negative and positive bucket fields. */
function messageSize(h: HistogramSample, negPayload: number, posPayload: number): number {
  const w = h.head;
  let size = 0;
  size += h.isFloat ? 9 : 1 + varint64Size(w[0], w[1]);
  size += 9; // sum
  if (h.schema !== 0) size += 1 + uvarintSize(zigzag32(h.schema));
  if (w[6] !== 0 || w[7] !== 0) size += 9;
  size += h.isFloat ? 9 : 1 + varint64Size(w[2], w[3]);
  size += spansSize(h.negativeSpans, 0x42) + packedSize(h.isFloat ? 0x52 : 0x4a, negPayload);
  size += spansSize(h.positiveSpans, 0x5a) + packedSize(h.isFloat ? 0x6a : 0x62, posPayload);
  if (h.resetHint !== 0) size += 2;
  size += 1 + (h.t < 0 ? 10 : uvarintSize(h.t));
  if (h.customValues?.length) size += 2 + uvarintSize(h.customValues.length * 4) + h.customValues.length * 4;
  return size;
}

/**
 * Encoded size of the Histogram message body (without its own tag and length). The count and zero-count
 * oneofs are always written, zero or not, because their field number is what tells an integer histogram
 * from a float one.
 */
export function histogramMessageSize(h: HistogramSample): number {
  return messageSize(h, bucketsPayload(h, h.negative), bucketsPayload(h, h.positive));
}

/**
 * Writes `tag`, the length and the Histogram message (remote write 1.0 TimeSeries field 4, 2.0 field 3).
 * `size` and `payloads` (the packed negative and positive bucket payloads) are computed when not both given.
 */
export function writeHistogram(
  w: PbWriter,
  tag: number,
  h: HistogramSample,
  size?: number,
  payloads?: readonly [neg: number, pos: number],
): void {
  if (size === undefined || payloads === undefined) {
    const neg = bucketsPayload(h, h.negative),
      pos = bucketsPayload(h, h.positive);
    writeMessage(w, tag, h, messageSize(h, neg, pos), neg, pos);
  } else writeMessage(w, tag, h, size, payloads[0], payloads[1]);
}

function writeMessage(
  w: PbWriter,
  tag: number,
  h: HistogramSample,
  size: number,
  negPayload: number,
  posPayload: number,
): void {
  w.ensure(size + 12);
  const x = h.head;
  w.byte(tag);
  w.uvarint(size);
  if (h.isFloat) {
    w.byte(0x11);
    writeWord(w, x[0], x[1]);
  } else {
    w.byte(0x08);
    writeVarint64(w, x[0], x[1]);
  }
  w.byte(0x19);
  writeWord(w, x[4], x[5]);
  if (h.schema !== 0) {
    w.byte(0x20);
    w.uvarint(zigzag32(h.schema));
  }
  if (x[6] !== 0 || x[7] !== 0) {
    w.byte(0x29);
    writeWord(w, x[6], x[7]);
  }
  if (h.isFloat) {
    w.byte(0x39);
    writeWord(w, x[2], x[3]);
  } else {
    w.byte(0x30);
    writeVarint64(w, x[2], x[3]);
  }
  writeBuckets(w, h, h.negativeSpans, h.negative, 0x42, 0x4a, 0x52, negPayload);
  writeBuckets(w, h, h.positiveSpans, h.positive, 0x5a, 0x62, 0x6a, posPayload);
  if (h.resetHint !== 0) {
    w.byte(0x70);
    w.byte(h.resetHint);
  }
  w.byte(0x78);
  w.int64(h.t);
  if (h.customValues?.length) {
    const cv = h.customValues;
    w.byte(0x82);
    w.byte(0x01);
    w.uvarint(cv.length * 4);
    for (let i = 0; i < cv.length; i += 2) writeWord(w, cv[i], cv[i + 1]);
  }
}

function writeBuckets(
  w: PbWriter,
  h: HistogramSample,
  spans: readonly number[],
  words: Uint32Array,
  spanTag: number,
  deltaTag: number,
  countTag: number,
  payload: number,
): void {
  writeSpans(w, spans, spanTag);
  if (words.length === 0) return;
  if (h.isFloat) {
    w.byte(countTag);
    w.uvarint(payload);
    for (let i = 0; i < words.length; i += 2) writeWord(w, words[i], words[i + 1]);
  } else {
    w.byte(deltaTag);
    w.uvarint(payload);
    for (let i = 0; i < words.length; i += 2) {
      const lo = words[i],
        hi = words[i + 1];
      writeVarint64(w, zigzag64Lo(lo, hi), zigzag64Hi(lo, hi));
    }
  }
}

/**
 * Sizes of the histogram messages [start, end) into `sizes` (three numbers per message: its size and its
 * negative and positive bucket payloads); returns their total as TimeSeries fields.
 */
export function histogramFieldsSize(
  hs: readonly HistogramSample[],
  start: number,
  end: number,
  sizes: number[],
): number {
  let total = 0;
  sizes.length = 0;
  for (let i = start; i < end; i++) {
    const h = hs[i];
    const neg = bucketsPayload(h, h.negative),
      pos = bucketsPayload(h, h.positive);
    const m = messageSize(h, neg, pos);
    sizes.push(m, neg, pos);
    total += 1 + uvarintSize(m) + m;
  }
  return total;
}

/** Writes histogram messages [start, end) as TimeSeries fields with `tag`, sizes from histogramFieldsSize. */
export function writeHistogramFields(
  w: PbWriter,
  tag: number,
  hs: readonly HistogramSample[],
  start: number,
  end: number,
  sizes: readonly number[],
): void {
  for (let i = start; i < end; i++) {
    const k = 3 * (i - start);
    writeMessage(w, tag, hs[i], sizes[k], sizes[k + 1], sizes[k + 2]);
  }
}

function readVarint64(r: PbReader, out: Uint32Array, k: number): void {
  let lo = 0;
  let hi = 0;
  const b = r.buf;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.end) throw new WireError('truncated varint in Histogram message');
    const c = b[r.pos++];
    const v = c & 0x7f;
    if (i < 4) lo |= v << (7 * i);
    else if (i === 4) {
      lo |= (v & 0x0f) << 28;
      hi |= v >>> 4;
    } else hi |= v << (7 * i - 32);
    if (c < 0x80) break;
  }
  out[2 * k] = lo >>> 0;
  out[2 * k + 1] = hi >>> 0;
}

function readWord(r: PbReader, out: Uint32Array, k: number): void {
  const b = r.buf;
  const p = r.pos;
  if (p + 8 > r.end) throw new WireError('double field runs past the end of its Histogram message');
  out[2 * k] = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  out[2 * k + 1] = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
  r.pos = p + 8;
}

function readSpan(r: PbReader, end: number, spans: number[]): void {
  let off = 0;
  let len = 0;
  while (r.pos < end) {
    const tag = r.uvarint();
    if (tag === 0x08) {
      const z = r.uvarint();
      off = (z >>> 1) ^ -(z & 1);
    } else if (tag === 0x10) len = r.uvarint();
    else r.skip(tag & 7);
  }
  spans.push(off, len);
}

/**
 * One sint64 varint (zigzag, 64-bit) appended to `words` as its two's complement (lo, hi) words: readVarint64's
 * loop, repeated so that bucket fields need no scratch words.
 */
function pushSint64(r: PbReader, words: number[]): void {
  let lo = 0;
  let hi = 0;
  const b = r.buf;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.end) throw new WireError('truncated varint in Histogram message');
    const c = b[r.pos++];
    const v = c & 0x7f;
    if (i < 4) lo |= v << (7 * i);
    else if (i === 4) {
      lo |= (v & 0x0f) << 28;
      hi |= v >>> 4;
    } else hi |= v << (7 * i - 32);
    if (c < 0x80) break;
  }
  const neg = lo & 1 ? 0xffffffff : 0;
  words.push((((lo >>> 1) | (hi << 31)) ^ neg) >>> 0, ((hi >>> 1) ^ neg) >>> 0);
}

/** One double appended to `words` as its (lo, hi) words. */
function pushDouble(r: PbReader, words: number[]): void {
  const b = r.buf;
  const p = r.pos;
  if (p + 8 > r.end) throw new WireError('double field runs past the end of its Histogram message');
  words.push(
    (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0,
    (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0,
  );
  r.pos = p + 8;
}

function appendWords(words: number[], r: PbReader, packed: boolean, kind: 'double' | 'sint64'): void {
  let end = -1;
  if (packed) {
    const len = r.uvarint();
    end = r.pos + len;
  }
  do {
    if (kind === 'double') pushDouble(r, words);
    else pushSint64(r, words);
  } while (packed && r.pos < end);
}

/** Decodes one prompb Histogram message body [r.pos, end) (SAMPLES read responses, tests). */
export function readHistogram(r: PbReader, end: number): HistogramSample {
  const head = new Uint32Array(8);
  let isFloat = false;
  let schema = 0;
  let resetHint = 0;
  let t = 0;
  const pSpans: number[] = [],
    nSpans: number[] = [];
  const pos: number[] = [],
    neg: number[] = [],
    cv: number[] = [];
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 0x08:
        readVarint64(r, head, 0);
        isFloat = false;
        break;
      case 0x11:
        readWord(r, head, 0);
        isFloat = true;
        break;
      case 0x19:
        readWord(r, head, 2);
        break;
      case 0x20: {
        const z = r.uvarint();
        schema = (z >>> 1) ^ -(z & 1);
        break;
      }
      case 0x29:
        readWord(r, head, 3);
        break;
      case 0x30:
        readVarint64(r, head, 1);
        break;
      case 0x39:
        readWord(r, head, 1);
        break;
      case 0x42:
      case 0x5a: {
        const len = r.uvarint();
        const e = r.pos + len;
        readSpan(r, e, tag === 0x42 ? nSpans : pSpans);
        r.pos = e;
        break;
      }
      case 0x4a:
      case 0x48:
        appendWords(neg, r, tag === 0x4a, 'sint64');
        break;
      case 0x52:
      case 0x51:
        appendWords(neg, r, tag === 0x52, 'double');
        break;
      case 0x62:
      case 0x60:
        appendWords(pos, r, tag === 0x62, 'sint64');
        break;
      case 0x6a:
      case 0x69:
        appendWords(pos, r, tag === 0x6a, 'double');
        break;
      case 0x70:
        resetHint = r.uvarint();
        break;
      case 0x78:
        t = r.int64();
        break;
      case 130:
        appendWords(cv, r, true, 'double');
        break; // field 16 (custom_values), packed
      case 129:
        appendWords(cv, r, false, 'double');
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new WireError('Histogram message runs past its end');
  // head was filled as count(0), zero count(1), sum(2), zero threshold(3): the documented order
  const h: HistogramSample = {
    t,
    isFloat,
    resetHint,
    schema,
    head,
    positiveSpans: pSpans,
    negativeSpans: nSpans,
    positive: Uint32Array.from(pos),
    negative: Uint32Array.from(neg),
  };
  if (cv.length) h.customValues = Uint32Array.from(cv);
  return h;
}
