/**
 * Native-histogram codec benchmark, every figure a ratio against a baseline measured in the same run:
 *  - chunk decode (encoding 2 and 3) against the XOR decoder on as many float values as the histograms hold
 *    (count, zero count, sum and every bucket), i.e. the cost per stored value
 *  - RW 1.0 Histogram encode (src/wire) against protobufjs encoding the same messages from objects
 *  - decode of the same messages: src/wire readHistogram against protobufjs
 */
import { mulberry32 } from '../src/lab/index.js';
import {
  PbReader,
  PbWriter,
  SampleBuffer,
  decodeHistogramChunk,
  decodeXorChunk,
  encodeWriteRequest,
  protoType,
  readHistogram,
  type HistogramSample,
  type WriteSeries,
} from '../src/wire/index.js';
import {
  bitsOf,
  encodeFloatHistogramChunk,
  encodeIntHistogramChunk,
  type HHist,
} from '../test/wire/histogram-encoder.js';
import { encodeXor, f64bits } from '../test/wire/xor-encoder.js';
import { fmtRate, timeIt } from './util.js';

const rnd = mulberry32(3);
const BUCKETS = 24; // a typical schema-3 latency histogram: 3 spans of 8
const CHUNKS = 10,
  PER = 120;
const spans = [-4, 8, 2, 8, 3, 8];
const intChunks: Uint8Array[] = [],
  floatChunks: Uint8Array[] = [],
  xorChunks: Uint8Array[] = [];
let t = 1_767_225_600_000;
const counts = new Array<number>(BUCKETS).fill(0);
let sum = 0,
  zero = 0;
for (let c = 0; c < CHUNKS; c++) {
  const ih: HHist[] = [],
    fh: HHist[] = [];
  const floats: Array<[number, bigint]> = [];
  for (let i = 0; i < PER; i++) {
    t += 15_000;
    for (let b = 0; b < BUCKETS; b++) counts[b] += Math.floor(rnd() * 5);
    zero += rnd() < 0.1 ? 1 : 0;
    sum += rnd() * 100;
    const total = counts.reduce((a, x) => a + x, zero);
    const deltas = counts.map((x, b) => x - (b ? counts[b - 1] : 0));
    ih.push({
      t,
      schema: 3,
      zeroThreshold: 2 ** -128,
      pSpans: spans,
      nSpans: [],
      count: total,
      zeroCount: zero,
      sum: bitsOf(sum),
      pBuckets: deltas,
      nBuckets: [],
    });
    fh.push({
      t,
      schema: 3,
      zeroThreshold: 2 ** -128,
      pSpans: spans,
      nSpans: [],
      count: total,
      zeroCount: zero,
      sum: bitsOf(sum),
      pBuckets: [...counts],
      nBuckets: [],
    });
    for (const v of [total, zero, sum, ...counts]) floats.push([t + floats.length, f64bits(v)]);
  }
  intChunks.push(encodeIntHistogramChunk(ih));
  floatChunks.push(encodeFloatHistogramChunk(fh));
  for (let k = 0; k < floats.length; k += PER) xorChunks.push(encodeXor(floats.slice(k, k + PER)));
}
const nHist = CHUNKS * PER;
const nValues = nHist * (3 + BUCKETS);

const rows: Array<[string, number, string, number]> = [];
const out: HistogramSample[] = [];
const buf = new SampleBuffer(nValues + 1024);
const xor = timeIt(() => {
  buf.clear();
  for (const c of xorChunks) decodeXorChunk(c, buf);
  return buf.length;
});
const di = timeIt(() => {
  out.length = 0;
  for (const c of intChunks) decodeHistogramChunk(c, 2, out);
  return out.length;
});
rows.push([
  'integer histogram chunks (values/s)',
  (nValues * 1000) / di.ms,
  'XOR chunks, same values',
  (nValues * 1000) / xor.ms,
]);
const df = timeIt(() => {
  out.length = 0;
  for (const c of floatChunks) decodeHistogramChunk(c, 3, out);
  return out.length;
});
rows.push([
  'float histogram chunks (values/s)',
  (nValues * 1000) / df.ms,
  'XOR chunks, same values',
  (nValues * 1000) / xor.ms,
]);

out.length = 0;
for (const c of intChunks) decodeHistogramChunk(c, 2, out);
const hs = out.slice();
const empty = new Float64Array(0);
const series: WriteSeries[] = [
  {
    labels: [
      { name: '__name__', value: 'rpc_duration_seconds' },
      { name: 'job', value: 'api' },
    ],
    timestamps: empty,
    values: empty,
    histograms: hs,
  },
];
const w = new PbWriter(1 << 20);
const WR = protoType('WriteRequest');
const obj = WR.fromObject({
  timeseries: [
    {
      labels: series[0].labels,
      histograms: hs.map((h) => ({
        count_int: h.head[0],
        sum: new Float64Array(h.head.slice(4, 6).buffer)[0],
        schema: h.schema,
        zero_threshold: 2 ** -128,
        zero_count_int: h.head[2],
        positive_spans: [0, 2, 4].map((k) => ({ offset: spans[k], length: spans[k + 1] })),
        positive_deltas: Array.from({ length: BUCKETS }, (_, b) => h.positive[2 * b] | 0),
        timestamp: h.t,
      })),
    },
  ],
});
const eh = timeIt(() => encodeWriteRequest(series, w));
const el = timeIt(() => WR.encode(obj).finish());
rows.push([
  'RW 1.0 histogram encode (histograms/s)',
  (nHist * 1000) / eh.ms,
  'protobufjs, same messages',
  (nHist * 1000) / el.ms,
]);

const body = encodeWriteRequest(series, w).slice();
const dh = timeIt(() => {
  const r = new PbReader(body);
  let n = 0;
  r.uvarint();
  const tsEnd = r.uvarint() + r.pos;
  while (r.pos < tsEnd) {
    const tag = r.uvarint();
    if (tag === 0x22) {
      const l = r.uvarint();
      readHistogram(r, r.pos + l);
      n++;
    } else r.skip(tag & 7);
  }
  return n;
});
const dl = timeIt(() => WR.decode(body));
rows.push([
  'Histogram message decode (histograms/s)',
  (nHist * 1000) / dh.ms,
  'protobufjs, same bytes',
  (nHist * 1000) / dl.ms,
]);

console.log(
  `native histograms: ${nHist} histograms x ${BUCKETS} buckets (schema 3), ratios against baselines of the same run`,
);
console.log(`${'path'.padEnd(42)}${'rate'.padEnd(12)}${'baseline'.padEnd(28)}${'rate'.padEnd(12)}ratio`);
for (const [a, x, b, y] of rows)
  console.log(`${a.padEnd(42)}${fmtRate(x).padEnd(12)}${b.padEnd(28)}${fmtRate(y).padEnd(12)}${(x / y).toFixed(2)}x`);
