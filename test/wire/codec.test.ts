import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mulberry32 } from '../../src/lab/index.js';
import {
  ChunkEncoding,
  PbWriter,
  SampleBuffer,
  decodeChunkedReadResponse,
  decodeXorChunk,
  encodeFrame,
  encodeWriteRequest,
  encodeWriteRequestV2,
  isStaleMarker,
  newDecodeStats,
  protoType,
  readFrames,
  seriesFromFrames,
  setStaleMarker,
  valueBitsHex,
  type Label,
} from '../../src/wire/index.js';
import { encodeXor, f64bits } from './xor-encoder.js';
import { bitsOf, encodeIntHistogramChunk } from './histogram-encoder.js';

const STALE = 0x7ff0000000000002n;

function bitsHex(b: bigint): string {
  return b.toString(16).padStart(16, '0');
}

test('XOR chunks: every delta-of-delta range, negative timestamps, and NaN payloads decode bit-exact', () => {
  const rnd = mulberry32(7);
  const cases: Array<Array<[number, bigint]>> = [];
  // irregular timestamps reaching the 14/17/20/64-bit dod cases, including negative dods
  const deltas = [
    15_000,
    15_000,
    15_001,
    14_990,
    15_000 + 8191,
    15_000 - 8191,
    15_000 + 8192,
    15_000 + 65_536,
    15_000 - 65_535,
    15_000 + 524_288,
    15_000 + 600_000,
    1,
    9_000_000_000,
  ];
  let t = 1_767_225_600_000;
  const s1: Array<[number, bigint]> = [];
  let v = 1.5;
  for (const d of deltas) {
    t += d;
    v = rnd() < 0.3 ? v : rnd() < 0.5 ? v + 1 : rnd() * 1e9;
    s1.push([t, f64bits(v)]);
  }
  s1.push([t + 15_000, STALE]);
  s1.push([t + 30_000, STALE]);
  s1.push([t + 45_000, f64bits(-0)]);
  s1.push([t + 60_000, f64bits(Infinity)]);
  s1.push([t + 75_000, 0x7ff8000000000001n]);
  s1.push([t + 90_000, f64bits(Number.MIN_VALUE)]);
  cases.push(s1);
  cases.push([
    [-5_000, f64bits(1)],
    [-4_000, f64bits(2)],
    [1_000, f64bits(2)],
  ]);
  cases.push([[42, STALE]]);
  // a long realistic counter
  const s3: Array<[number, bigint]> = [];
  let c = 0;
  for (let i = 0; i < 120; i++) {
    c += Math.floor(rnd() * 100);
    s3.push([1_700_000_000_000 + i * 15_000 + (i % 7 === 0 ? 3 : 0), f64bits(c)]);
  }
  cases.push(s3);
  for (const samples of cases) {
    const out = new SampleBuffer(2);
    assert.equal(decodeXorChunk(encodeXor(samples), out), samples.length);
    const { timestamps, values } = out.snapshot();
    assert.deepEqual(
      [...timestamps],
      samples.map(([ts]) => ts),
    );
    assert.deepEqual(
      Array.from({ length: samples.length }, (_, i) => valueBitsHex(values, i)),
      samples.map(([, b]) => bitsHex(b)),
    );
  }
  // time filtering is inclusive on both ends
  const out = new SampleBuffer();
  decodeXorChunk(encodeXor(s3), out, s3[10][0], s3[20][0]);
  assert.equal(out.length, 11);
  assert.throws(() => decodeXorChunk(encodeXor(s3).subarray(0, 40), new SampleBuffer()), /truncated/);
});

const labels: Label[] = [
  { name: '__name__', value: 'up' },
  { name: 'job', value: 'api' },
];

function frameOf(
  series: Array<{ labels: Label[]; chunks: Array<{ type: number; data: Uint8Array; min?: number; max?: number }> }>,
): Buffer {
  const T = protoType('ChunkedReadResponse');
  const msg = T.encode(
    T.fromObject({
      chunked_series: series.map((s) => ({
        labels: s.labels,
        chunks: s.chunks.map((c) => ({ min_time_ms: c.min ?? 0, max_time_ms: c.max ?? 0, type: c.type, data: c.data })),
      })),
      query_index: 0,
    }),
  ).finish();
  return encodeFrame(msg);
}

test('streamed frames: CRC-32C verified, series spanning frames merged, histograms decoded, unknown chunks counted', async () => {
  const a = encodeXor([
    [1000, f64bits(1)],
    [2000, STALE],
  ]);
  const b = encodeXor([
    [3000, f64bits(3)],
    [4000, f64bits(4)],
  ]);
  const hist = encodeIntHistogramChunk(
    [5000, 6000, 7000, 8000, 9000].map((t, i) => ({
      t,
      schema: 0,
      zeroThreshold: 0,
      pSpans: [0, 1],
      nSpans: [],
      count: i,
      zeroCount: 0,
      sum: bitsOf(i),
      pBuckets: [i],
      nBuckets: [],
    })),
  );
  const frames = Buffer.concat([
    frameOf([{ labels, chunks: [{ type: ChunkEncoding.XOR, data: a }] }]),
    frameOf([
      {
        labels,
        chunks: [
          { type: ChunkEncoding.XOR, data: b },
          { type: ChunkEncoding.HISTOGRAM, data: hist },
        ],
      },
    ]),
    frameOf([
      {
        labels: [
          { name: '__name__', value: 'up' },
          { name: 'job', value: 'db' },
        ],
        chunks: [{ type: 4, data: a }],
      },
    ]),
  ]);
  // deliver in 7-byte pieces so headers and messages straddle network chunks
  const pieces = [];
  for (let i = 0; i < frames.length; i += 7) pieces.push(frames.subarray(i, i + 7));
  const stats = newDecodeStats();
  const got = [];
  for await (const s of seriesFromFrames(Readable.from(pieces), 0, 10_000, stats)) got.push(s);
  assert.equal(got.length, 2);
  assert.deepEqual([...got[0].timestamps], [1000, 2000, 3000, 4000]);
  assert.ok(isStaleMarker(got[0].values, 1));
  assert.equal(got[0].histogramSamples, 5);
  assert.deepEqual(
    got[0].histograms!.map((h) => h.t),
    [5000, 6000, 7000, 8000, 9000],
    'histograms decoded alongside the floats',
  );
  assert.equal(got[1].unknownChunks, 1);
  assert.equal(got[1].timestamps.length, 0);
  assert.equal(stats.frames, 3);
  assert.deepEqual(stats.unknownEncodings, { 4: 1 });

  const corrupt = Buffer.from(frames);
  corrupt[frames.length - 3] ^= 0xff;
  await assert.rejects(async () => {
    for await (const _ of readFrames(Readable.from([corrupt]))) void _;
  }, /checksum mismatch/);
  await assert.rejects(async () => {
    for await (const _ of readFrames(Readable.from([frames.subarray(0, frames.length - 2)]))) void _;
  }, /truncated/);
  await assert.rejects(async () => {
    for await (const _ of readFrames(Readable.from([frames]), 8)) void _;
  }, /over the 8-byte limit/);
});

test('overlapping chunks of one series are merged in time order without duplicates', async () => {
  const a = encodeXor([
    [1000, f64bits(1)],
    [3000, f64bits(3)],
  ]);
  const b = encodeXor([
    [2000, f64bits(2)],
    [3000, f64bits(3)],
    [4000, f64bits(4)],
  ]);
  const got = [];
  for await (const s of seriesFromFrames(
    Readable.from([
      frameOf([
        {
          labels,
          chunks: [
            { type: 1, data: a },
            { type: 1, data: b },
          ],
        },
      ]),
    ]),
    0,
    10_000,
  ))
    got.push(s);
  assert.deepEqual([...got[0].timestamps], [1000, 2000, 3000, 4000]);
  assert.deepEqual([...got[0].values], [1, 2, 3, 4]);
});

test('hand-written codecs agree with protobufjs: ChunkedReadResponse decode, WriteRequest 1.0 and 2.0 encode', () => {
  const data = encodeXor([[5, f64bits(1)]]);
  const T = protoType('ChunkedReadResponse');
  const msg = T.encode(
    T.fromObject({
      chunked_series: [
        {
          labels: [...labels, { name: 'ü', value: 'ß'.repeat(40) }],
          chunks: [{ min_time_ms: -3, max_time_ms: 1_767_225_600_123, type: 1, data }],
        },
      ],
      query_index: 2,
    }),
  ).finish();
  const d = decodeChunkedReadResponse(msg);
  assert.equal(d.queryIndex, 2);
  assert.deepEqual(d.series[0].labels, [...labels, { name: 'ü', value: 'ß'.repeat(40) }]);
  assert.equal(d.series[0].chunks[0].minTimeMs, -3);
  assert.equal(d.series[0].chunks[0].maxTimeMs, 1_767_225_600_123);
  assert.deepEqual([...d.series[0].chunks[0].data], [...data]);

  const values = Float64Array.of(1.25, 0, -7e300);
  setStaleMarker(values, 1);
  const series = [{ labels, timestamps: Float64Array.of(-1000, 1_767_225_600_000, 1_767_225_615_000), values }];
  const w1 = protoType('WriteRequest').decode(encodeWriteRequest(series, new PbWriter(16))) as unknown as {
    timeseries: Array<{
      labels: Label[];
      samples: Array<{ value: number; timestamp: { toNumber(): number } | number }>;
    }>;
  };
  assert.deepEqual(
    w1.timeseries[0].labels.map((l) => ({ ...l })),
    labels,
  );
  assert.deepEqual(
    w1.timeseries[0].samples.map((s) => Number(s.timestamp)),
    [-1000, 1_767_225_600_000, 1_767_225_615_000],
  );
  assert.equal(w1.timeseries[0].samples[0].value, 1.25);
  assert.ok(Number.isNaN(w1.timeseries[0].samples[1].value));
  // the stale marker's bits, straight from the encoded bytes
  const bytes = Buffer.from(encodeWriteRequest(series, new PbWriter(16)));
  assert.ok(bytes.includes(Buffer.from('020000000000f07f', 'hex')));

  const v2 = protoType('V2Request').decode(encodeWriteRequestV2([{ ...series[0], start: 1, end: 3 }])) as unknown as {
    symbols: string[];
    timeseries: Array<{ labels_refs: number[]; samples: Array<{ timestamp: number }> }>;
  };
  assert.equal(v2.symbols[0], '');
  const refs = v2.timeseries[0].labels_refs;
  assert.deepEqual(
    Array.from({ length: refs.length / 2 }, (_, i) => ({
      name: v2.symbols[refs[2 * i]],
      value: v2.symbols[refs[2 * i + 1]],
    })),
    labels,
  );
  assert.deepEqual(
    v2.timeseries[0].samples.map((s) => Number(s.timestamp)),
    [1_767_225_600_000, 1_767_225_615_000],
  );
});
