/**
 * Wire codec benchmark: the hand-written protobuf paths against protobufjs on the same messages, in one run.
 *  - ChunkedReadResponse frame decode (remote read, one series per frame, like Prometheus sends)
 *  - WriteRequest encode (remote write 1.0) from columnar samples vs protobufjs from message objects
 *  - XOR chunk decode vs decoding the same samples from a SAMPLES ReadResponse with protobufjs
 */
import { mulberry32 } from '../src/lab/index.js';
import {
  PbWriter,
  SampleBuffer,
  decodeChunkedReadResponse,
  decodeXorChunk,
  encodeWriteRequest,
  protoType,
  type Label,
  type WriteSeries,
} from '../src/wire/index.js';
import { encodeXor, f64bits } from '../test/wire/xor-encoder.js';
import { handDecodeChunkedReadResponse } from './hand-frame-decoder.js';
import { fmtRate, timeIt } from './util.js';

const rnd = mulberry32(1);
const labels: Label[] = [
  { name: '__name__', value: 'http_requests_total' },
  { name: 'instance', value: 'host-0042:9100' },
  { name: 'job', value: 'api' },
  { name: 'method', value: 'GET' },
  { name: 'status', value: '200' },
];

// one series, 120 samples per chunk (Prometheus's target), 40 chunks = 4,800 samples (~20h at 15s)
const chunks: Uint8Array[] = [];
const samples: Array<[number, number]> = [];
let t = 1_767_225_600_000;
let v = 1000;
for (let c = 0; c < 40; c++) {
  const s: Array<[number, bigint]> = [];
  for (let i = 0; i < 120; i++) {
    t += 15_000 + (rnd() < 0.05 ? Math.floor(rnd() * 20) : 0);
    v += Math.floor(rnd() * 50);
    s.push([t, f64bits(v)]);
    samples.push([t, v]);
  }
  chunks.push(encodeXor(s));
}
const CRR = protoType('ChunkedReadResponse');
const frame = CRR.encode(
  CRR.fromObject({
    chunked_series: [
      {
        labels,
        chunks: chunks.map((d, i) => ({
          min_time_ms: samples[i * 120][0],
          max_time_ms: samples[i * 120 + 119][0],
          type: 1,
          data: d,
        })),
      },
    ],
    query_index: 0,
  }),
).finish();
const nSamples = samples.length;

const results: Array<[string, number, number]> = [];
function compare(name: string, hand: () => unknown, lib: () => unknown, unitPerRun: number): void {
  const h = timeIt(hand);
  const l = timeIt(lib);
  results.push([name, (unitPerRun * 1000) / h.ms, (unitPerRun * 1000) / l.ms]);
}

// 1. frame envelope decode: the hand-written candidate vs protobufjs (which src/wire uses, see below)
compare(
  'ChunkedReadResponse decode (frames/s)',
  () => handDecodeChunkedReadResponse(frame),
  () => CRR.decode(frame),
  1,
);

// 2. frame -> samples, end to end: hand decode + XOR vs the production path (protobufjs decode + XOR)
const buf = new SampleBuffer(8192);
compare(
  'frame -> samples (samples/s)',
  () => {
    buf.clear();
    for (const c of handDecodeChunkedReadResponse(frame).series[0].chunks) decodeXorChunk(c.data, buf);
    return buf.length;
  },
  () => {
    buf.clear();
    for (const c of decodeChunkedReadResponse(frame).series[0].chunks) decodeXorChunk(c.data, buf);
    return buf.length;
  },
  nSamples,
);

// 3. the same samples as a SAMPLES response, decoded by protobufjs (what a SAMPLES-only client pays)
const RR = protoType('ReadResponse');
const samplesMsg = RR.encode(
  RR.fromObject({
    results: [{ timeseries: [{ labels, samples: samples.map(([ts, val]) => ({ timestamp: ts, value: val })) }] }],
  }),
).finish();
compare(
  'XOR chunks vs SAMPLES+protobufjs (samples/s)',
  () => {
    buf.clear();
    for (const c of decodeChunkedReadResponse(frame).series[0].chunks) decodeXorChunk(c.data, buf);
    return buf.length;
  },
  () => RR.decode(samplesMsg),
  nSamples,
);

// 4. WriteRequest encode: 20 series x 1,000 samples
const series: WriteSeries[] = [];
const objs: unknown[] = [];
for (let i = 0; i < 20; i++) {
  const ts = new Float64Array(1000);
  const vs = new Float64Array(1000);
  for (let j = 0; j < 1000; j++) {
    ts[j] = samples[j][0];
    vs[j] = samples[j][1] + i;
  }
  const l = labels.map((x) => (x.name === 'instance' ? { name: x.name, value: `host-${i}:9100` } : x));
  series.push({ labels: l, timestamps: ts, values: vs });
  objs.push({ labels: l, samples: Array.from(ts, (tt, j) => ({ timestamp: tt, value: vs[j] })) });
}
const WR = protoType('WriteRequest');
const wrObj = WR.fromObject({ timeseries: objs });
const w = new PbWriter(1 << 20);
compare(
  'WriteRequest encode (samples/s)',
  () => encodeWriteRequest(series, w),
  () => WR.encode(wrObj).finish(),
  20_000,
);

console.log('wire codec: hand-written vs protobufjs (same messages, same run)');
console.log(
  'src/wire uses the hand-written path only where it wins (WriteRequest encode; SAMPLES decode copies double bytes for bit-exactness)',
);
console.log(`${'path'.padEnd(46)}${'hand-written'.padEnd(16)}${'protobufjs'.padEnd(16)}ratio`);
for (const [name, hand, lib] of results)
  console.log(`${name.padEnd(46)}${fmtRate(hand).padEnd(16)}${fmtRate(lib).padEnd(16)}${(hand / lib).toFixed(1)}x`);
