import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CounterResetHeader,
  PbReader,
  ResetHint,
  decodeHistogramChunk,
  encodeFrame,
  encodeWriteRequest,
  encodeWriteRequestV2,
  isStaleHistogram,
  protoType,
  readHistogram,
  seriesFromFrames,
  seriesFromSamplesResponse,
  type HistogramSample,
} from '../../src/wire/index.js';
import { histogramDifference } from '../../src/verify/index.js';
import { STALE, bitsOf, encodeFloatHistogramChunk, encodeIntHistogramChunk, type HHist } from './histogram-encoder.js';

const w64 = (w: Uint32Array, k: number) => (BigInt(w[2 * k + 1]) << 32n) | BigInt(w[2 * k]);
const s64 = (w: Uint32Array, k: number) => BigInt.asIntN(64, w64(w, k));
const ints = (w: Uint32Array) => Array.from({ length: w.length / 2 }, (_, k) => s64(w, k));
const fbits = (w: Uint32Array) => Array.from({ length: w.length / 2 }, (_, k) => w64(w, k));

const INT: HHist[] = [
  {
    t: 1_700_000_000_000,
    schema: 3,
    zeroThreshold: 2 ** -128,
    pSpans: [-2, 2, 3, 1],
    nSpans: [0, 1],
    count: 10,
    zeroCount: 2,
    sum: bitsOf(12.5),
    pBuckets: [3, -1, 2],
    nBuckets: [1],
  },
  {
    t: 1_700_000_015_000,
    schema: 3,
    zeroThreshold: 2 ** -128,
    pSpans: [-2, 2, 3, 1],
    nSpans: [0, 1],
    count: 2n ** 60n,
    zeroCount: 3,
    sum: bitsOf(-0),
    pBuckets: [4, -1, 2n ** 58n],
    nBuckets: [-(2n ** 62n)],
  },
  {
    t: 1_700_000_030_001,
    schema: 3,
    zeroThreshold: 2 ** -128,
    pSpans: [-2, 2, 3, 1],
    nSpans: [0, 1],
    count: 2n ** 64n - 1n,
    zeroCount: 3,
    sum: bitsOf(1e300),
    pBuckets: [4, 0, 2n ** 63n - 1n],
    nBuckets: [-(2n ** 63n)],
  },
  {
    t: 1_700_000_045_000,
    schema: 0,
    zeroThreshold: 0,
    pSpans: [],
    nSpans: [],
    count: 0,
    zeroCount: 0,
    sum: STALE,
    pBuckets: [],
    nBuckets: [],
  },
];

test('integer histogram chunk: layout, 64-bit counts and deltas, -0 sum, stale marker, hints', () => {
  const out: HistogramSample[] = [];
  assert.equal(decodeHistogramChunk(encodeIntHistogramChunk(INT, CounterResetHeader.COUNTER_RESET), 2, out), 4);
  assert.equal(out.length, 4);
  for (let i = 0; i < 3; i++) {
    const h = out[i],
      w = INT[i];
    assert.equal(h.t, w.t);
    assert.equal(h.isFloat, false);
    assert.equal(h.schema, 3);
    assert.deepEqual([...h.positiveSpans], [-2, 2, 3, 1]);
    assert.deepEqual([...h.negativeSpans], [0, 1]);
    assert.equal(w64(h.head, 0), BigInt(w.count), `count #${i}`);
    assert.equal(w64(h.head, 1), BigInt(w.zeroCount));
    assert.equal(w64(h.head, 2), w.sum, 'sum bits (-0 included)');
    assert.equal(w64(h.head, 3), bitsOf(2 ** -128), 'default zero threshold from its one-byte form');
    assert.deepEqual(ints(h.positive), w.pBuckets.map(BigInt));
    assert.deepEqual(ints(h.negative), w.nBuckets.map(BigInt));
  }
  assert.deepEqual(
    out.slice(0, 3).map((h) => h.resetHint),
    [ResetHint.YES, ResetHint.NO, ResetHint.NO],
    'a counter-reset chunk starts with YES',
  );
  assert.ok(isStaleHistogram(out[3]));
  assert.equal(w64(out[3].head, 2), STALE, 'stale NaN bits preserved');
  assert.equal(out[3].positive.length + out[3].negative.length, 0);
});

test('float histogram chunk: XOR fields, NaN payloads, 9-byte zero threshold, empty spans, custom buckets', () => {
  const nan = 0x7ff8000000000123n;
  const hs: HHist[] = [
    {
      t: 1000,
      schema: -53,
      zeroThreshold: 0.001,
      pSpans: [0, 3],
      nSpans: [],
      count: 6.5,
      zeroCount: 0.5,
      sum: bitsOf(3.25),
      pBuckets: [1, 2.5, 2.5],
      nBuckets: [],
      customValues: [0.1, 1, 1e9],
    },
    {
      t: 2000,
      schema: -53,
      zeroThreshold: 0.001,
      pSpans: [0, 3],
      nSpans: [],
      count: 8,
      zeroCount: 0.5,
      sum: nan,
      pBuckets: [1, bitsOf(NaN) ^ 0x5n, 4],
      nBuckets: [],
    },
    {
      t: 2500,
      schema: 0,
      zeroThreshold: 0,
      pSpans: [],
      nSpans: [],
      count: 0,
      zeroCount: 0,
      sum: STALE,
      pBuckets: [],
      nBuckets: [],
    },
  ];
  const out: HistogramSample[] = [];
  decodeHistogramChunk(encodeFloatHistogramChunk(hs, CounterResetHeader.GAUGE), 3, out);
  assert.equal(out.length, 3);
  assert.ok(out.every((h) => h.isFloat));
  assert.deepEqual(
    out.slice(0, 2).map((h) => h.resetHint),
    [ResetHint.GAUGE, ResetHint.GAUGE],
  );
  assert.equal(out[0].schema, -53);
  assert.deepEqual(
    fbits(out[0].customValues!),
    [0.1, 1, 1e9].map(bitsOf),
    'custom bounds (0.1 and 1 in varbit form, 1e9 as raw bits)',
  );
  assert.equal(w64(out[0].head, 3), bitsOf(0.001), 'zero threshold 0.001 in its 9-byte form');
  assert.deepEqual(fbits(out[0].positive), [1, 2.5, 2.5].map(bitsOf));
  assert.equal(w64(out[1].head, 2), nan, 'NaN payload of the sum preserved');
  assert.deepEqual(
    fbits(out[1].positive),
    [bitsOf(1), bitsOf(NaN) ^ 0x5n, bitsOf(4)],
    'NaN payload of a bucket preserved',
  );
  assert.equal(w64(out[1].head, 0), bitsOf(8));
  assert.ok(isStaleHistogram(out[2]));
  assert.deepEqual(out[0].negativeSpans, []);
});

test('histogram chunks: time filter, truncation and schema changes across chunks of one series', async () => {
  const out: HistogramSample[] = [];
  assert.equal(decodeHistogramChunk(encodeIntHistogramChunk(INT.slice(0, 3)), 2, out, INT[1].t, INT[1].t), 3);
  assert.deepEqual(
    out.map((h) => h.t),
    [INT[1].t],
  );
  assert.deepEqual(
    out.map((h) => h.resetHint),
    [ResetHint.NO],
  );
  const chunk = encodeIntHistogramChunk(INT.slice(0, 3));
  assert.throws(() => decodeHistogramChunk(chunk.subarray(0, chunk.length - 6), 2, []), /truncated/);

  // Prometheus cuts a new chunk when the schema changes: a series is then two chunks, decoded in order
  const a = INT.slice(0, 2);
  const b: HHist[] = [{ ...INT[0], t: INT[1].t + 15_000, schema: 2, pSpans: [-1, 2, 1, 1], count: 2n ** 60n + 1n }];
  const CRR = protoType('ChunkedReadResponse');
  const msg = CRR.encode(
    CRR.fromObject({
      chunked_series: [
        {
          labels: [{ name: '__name__', value: 'h' }],
          chunks: [
            { min_time_ms: a[0].t, max_time_ms: a[1].t, type: 2, data: encodeIntHistogramChunk(a) },
            {
              min_time_ms: b[0].t,
              max_time_ms: b[0].t,
              type: 2,
              data: encodeIntHistogramChunk(b, CounterResetHeader.NOT_COUNTER_RESET),
            },
          ],
        },
      ],
    }),
  ).finish();
  const series = [];
  for await (const s of seriesFromFrames(
    (async function* () {
      yield encodeFrame(msg);
    })(),
    0,
    Number.MAX_SAFE_INTEGER,
  ))
    series.push(s);
  assert.equal(series.length, 1);
  assert.equal(series[0].timestamps.length, 0);
  assert.deepEqual(
    series[0].histograms!.map((h) => h.schema),
    [3, 3, 2],
  );
  assert.deepEqual([...series[0].histograms![2].positiveSpans], [-1, 2, 1, 1]);
  assert.equal(series[0].histogramSamples, 3);
});

test('remote write 1.0 and 2.0 carry histograms field for field (protobufjs as the independent decoder)', () => {
  const hs: HistogramSample[] = [];
  decodeHistogramChunk(encodeIntHistogramChunk(INT), 2, hs);
  decodeHistogramChunk(
    encodeFloatHistogramChunk([
      {
        t: INT[3].t + 1,
        schema: -1,
        zeroThreshold: 0.001,
        pSpans: [1, 1],
        nSpans: [-3, 2],
        count: 3,
        zeroCount: 0,
        sum: bitsOf(2),
        pBuckets: [1],
        nBuckets: [1, 1],
      },
    ]),
    3,
    hs,
  );
  const empty = new Float64Array(0);
  const req = encodeWriteRequest([
    { labels: [{ name: '__name__', value: 'h' }], timestamps: empty, values: empty, histograms: hs },
  ]).slice();
  const m = protoType('WriteRequest').decode(req) as unknown as {
    timeseries: Array<{ histograms: Array<Record<string, unknown>> }>;
  };
  const got = m.timeseries[0].histograms;
  assert.equal(got.length, 5);
  assert.equal(String(got[0].count_int), '10');
  assert.equal(String(got[2].count_int), String(2n ** 64n - 1n));
  assert.equal(got[0].schema, 3);
  assert.deepEqual(
    (got[0].positive_spans as Array<{ offset: number; length: number }>).map((s) => [s.offset, s.length]),
    [
      [-2, 2],
      [3, 1],
    ],
  );
  assert.deepEqual((got[1].negative_deltas as unknown[]).map(String), [String(-(2n ** 62n))]);
  assert.equal(got[4].count_float, 3);
  assert.deepEqual(got[4].negative_counts, [1, 1]);
  assert.equal(got[0].reset_hint, 0);
  // and our own decoder reads back every bit, through 1.0 (field 4) and 2.0 (field 3)
  for (const [body, tsTag, hTag] of [
    [req, 0x0a, 0x22],
    [
      encodeWriteRequestV2([
        { labels: [{ name: '__name__', value: 'h' }], timestamps: empty, values: empty, histograms: hs },
      ]).slice(),
      0x2a,
      0x1a,
    ],
  ] as const) {
    const r = new PbReader(body);
    const back: HistogramSample[] = [];
    while (r.pos < r.end) {
      const tag = r.uvarint();
      if (tag !== tsTag) {
        r.skip(tag & 7);
        continue;
      }
      const len = r.uvarint();
      const end = r.pos + len;
      while (r.pos < end) {
        const t2 = r.uvarint();
        if (t2 === hTag) {
          const l = r.uvarint();
          back.push(readHistogram(r, r.pos + l));
        } else r.skip(t2 & 7);
      }
    }
    assert.equal(back.length, hs.length);
    back.forEach((h, i) => assert.equal(histogramDifference(hs[i], h), undefined, `#${i}`));
    assert.ok(isStaleHistogram(back[3]), 'the stale marker went out bit for bit');
  }
});

test('histogramDifference names the field, ignores chunk-cut hints, not gauge-ness', () => {
  const hs: HistogramSample[] = [];
  decodeHistogramChunk(encodeIntHistogramChunk(INT.slice(0, 2)), 2, hs);
  const a = hs[1];
  const positive = a.positive.slice();
  positive[0] ^= 1;
  assert.equal(histogramDifference(a, { ...a, positive }), 'positive_deltas');
  assert.equal(histogramDifference(a, { ...a, resetHint: ResetHint.UNKNOWN }), undefined);
  assert.equal(histogramDifference(a, { ...a, resetHint: ResetHint.GAUGE }), 'type (counter/gauge)');
  assert.equal(histogramDifference(a, { ...a, positiveSpans: [-2, 2, 4, 1] }), 'positive_spans');
});

test('SAMPLES read responses: histograms in a TimeSeries decoded bit for bit and filtered by time', () => {
  const hs: HistogramSample[] = [];
  decodeHistogramChunk(encodeIntHistogramChunk(INT), 2, hs);
  const empty = new Float64Array(0);
  // a ReadResponse is QueryResult{timeseries} inside field 1: the WriteRequest bytes wrapped once
  const wr = encodeWriteRequest([
    {
      labels: [{ name: '__name__', value: 'h' }],
      timestamps: new Float64Array([INT[0].t - 1]),
      values: new Float64Array([7]),
    },
    { labels: [{ name: '__name__', value: 'h2' }], timestamps: empty, values: empty, histograms: hs },
  ]).slice();
  const len: number[] = [];
  for (let v = wr.length; ; v >>>= 7) {
    if (v < 0x80) {
      len.push(v);
      break;
    }
    len.push((v & 0x7f) | 0x80);
  }
  const msg = new Uint8Array([0x0a, ...len, ...wr]);
  const series = [...seriesFromSamplesResponse(msg, INT[0].t - 1, INT[2].t)];
  assert.equal(series.length, 2);
  assert.equal(series[0].timestamps.length, 1);
  assert.equal(series[0].histograms, undefined);
  const got = series[1].histograms!;
  assert.equal(got.length, 3, 'the stale marker after maxT filtered out');
  got.forEach((h, i) => assert.equal(histogramDifference(hs[i], h), undefined));
  assert.equal(w64(got[2].head, 0), 2n ** 64n - 1n);
});
