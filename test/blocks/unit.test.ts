import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockEnd,
  chunksForBlock,
  compareUtf8,
  encodeXorChunks,
  ulidFrom,
  DAY_MS,
  HOUR_MS,
  type RawSeries,
} from '../../src/blocks/index.js';
import { ChunkEncoding, SampleBuffer, decodeXorChunk, setStaleMarker, valueBitsHex } from '../../src/wire/index.js';

/** Samples with every kind of value and timestamp step the encoder has a branch for. */
function samples(n: number): { t: Float64Array; v: Float64Array } {
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  let ts = 1_769_904_000_123;
  for (let i = 0; i < n; i++) {
    // steady 15 s, jitter of a few ms, a 9 s step back from a longer step (negative dod), and hour-long gaps (64-bit dod)
    ts += i % 50 === 49 ? 3_600_000 : i % 7 === 3 ? 15_003 : i % 11 === 5 ? 6_000 : 15_000;
    t[i] = ts;
    v[i] =
      i % 13 === 0 ? 0 : i % 17 === 0 ? -1e300 : i % 19 === 0 ? Number.MAX_VALUE : 1000 + i * 0.25 + (i % 5) * 1e-9;
  }
  for (let i = 9; i < n; i += 23) setStaleMarker(v, i);
  v[30] = Number.NaN;
  v[31] = Number.POSITIVE_INFINITY;
  return { t, v };
}

test('XOR encoder: what it writes decodes to the same timestamps and value bits (stale markers, NaN, gaps, negative steps)', () => {
  const { t, v } = samples(400);
  const bits = new Uint32Array(v.buffer);
  const chunks = encodeXorChunks(t, bits, 0, t.length);
  assert.equal(chunks.length, 4, '120 samples per chunk');
  const out = new SampleBuffer(16);
  for (const c of chunks) decodeXorChunk(c.data, out, -Infinity, Infinity);
  assert.equal(out.length, t.length);
  const got = out.view();
  for (let i = 0; i < t.length; i++) {
    assert.equal(got.timestamps[i], t[i], `timestamp #${i}`);
    assert.equal(valueBitsHex(got.values, i), valueBitsHex(v, i), `value bits #${i}`);
  }
  assert.equal(chunks[0].minTimeMs, t[0]);
  assert.equal(chunks[3].maxTimeMs, t[399]);
});

test('chunks inside a block are kept byte for byte; chunks over its boundary or overlapping are re-cut exactly', () => {
  const { t, v } = samples(240);
  const bits = new Uint32Array(v.buffer);
  const [a, b] = encodeXorChunks(t, bits, 0, 240);
  const raw = (cs: (typeof a)[]) =>
    ({
      key: '{x="1"}',
      labels: [{ name: 'x', value: '1' }],
      chunks: cs.map((c) => ({
        minTimeMs: c.minTimeMs,
        maxTimeMs: c.maxTimeMs,
        type: ChunkEncoding.XOR,
        data: c.data,
      })),
    }) satisfies RawSeries;
  const buf = new SampleBuffer(16);

  const inside = chunksForBlock(raw([a, b]), a.minTimeMs, b.maxTimeMs, buf);
  assert.deepEqual(
    inside.map((c) => c.recut),
    [false, false],
  );
  assert.equal(inside[0].data, a.data, 'the very bytes of the source');

  // a boundary in the middle of chunk a: only samples up to it stay
  const cut = t[60];
  const left = chunksForBlock(raw([a, b]), 0, cut, buf);
  assert.ok(left.every((c) => c.recut));
  const dec = new SampleBuffer(16);
  for (const c of left) decodeXorChunk(c.data, dec);
  assert.equal(dec.length, 61);
  assert.equal(dec.view().timestamps[60], cut);
  for (let i = 0; i <= 60; i++) assert.equal(valueBitsHex(dec.view().values, i), valueBitsHex(v, i));

  // the same chunk twice (a source merging overlapping blocks badly): each sample once
  const twice = chunksForBlock(raw([a, a, b]), 0, Number.MAX_SAFE_INTEGER, buf);
  const d2 = new SampleBuffer(16);
  for (const c of twice) decodeXorChunk(c.data, d2);
  assert.equal(d2.length, 240);
});

test('histogram chunks over a block boundary are refused with advice, never dropped', () => {
  const series: RawSeries = {
    key: '{h="1"}',
    labels: [{ name: 'h', value: '1' }],
    chunks: [{ minTimeMs: 0, maxTimeMs: 10_000, type: ChunkEncoding.HISTOGRAM, data: new Uint8Array([0, 1, 0]) }],
  };
  assert.throws(
    () => chunksForBlock(series, 5_000, 20_000, new SampleBuffer(4)),
    /native-histogram chunk .* reaches over the block/,
  );
});

test('block ranges align to multiples of the duration since the epoch: 24h blocks are UTC days', () => {
  const t = Date.UTC(2026, 1, 3, 17, 5);
  assert.equal(blockEnd(t, DAY_MS, Number.MAX_SAFE_INTEGER), Date.UTC(2026, 1, 4));
  assert.equal(blockEnd(t, 2 * HOUR_MS, Number.MAX_SAFE_INTEGER), Date.UTC(2026, 1, 3, 18));
  assert.equal(blockEnd(t, 2 * HOUR_MS, t + 60_000), t + 60_000, 'the range end cuts the last block');
});

test("label order is Go's byte order; ULIDs are 26 Crockford characters, stable per seed", () => {
  assert.ok(compareUtf8('a', 'b') < 0 && compareUtf8('ab', 'a') > 0);
  // U+FF5E (3 UTF-8 bytes EF BD 9E) sorts before U+1F600 (F0 ...), though its UTF-16 unit is larger than a surrogate's
  assert.ok(compareUtf8('\uff5e', '\u{1f600}') < 0);
  const u = ulidFrom(Date.UTC(2026, 0, 1), 'plan:1');
  assert.match(u, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(u, ulidFrom(Date.UTC(2026, 0, 1), 'plan:1'));
  assert.notEqual(u, ulidFrom(Date.UTC(2026, 0, 1), 'plan:2'));
  assert.ok(ulidFrom(Date.UTC(2026, 0, 2), 'x') > ulidFrom(Date.UTC(2026, 0, 1), 'x'), 'time part sorts first');
});
