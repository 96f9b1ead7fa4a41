// Table tests for the pure helpers of the backfill (vmctl stepper/split_test.go style: one `f(...)` per case,
// success and failure cases side by side). Nothing here opens a socket or a file.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, adaptWindow, shardOf, splitBatch, splitRefused } from '../../src/backfill/index.js';
import { parseShard } from '../../src/cli/commands/backfill.js';
import { UsageError } from '../../src/errors/index.js';
import { histogramWeight, type HistogramSample, type WriteSeries } from '../../src/wire/index.js';

/** Series `name` holding samples [start, end) of an array of `len` (a slice of a pooled batch when start > 0). */
function s(name: string, start?: number, end?: number, len = end ?? 10): WriteSeries {
  return {
    labels: [{ name: '__name__', value: name }],
    timestamps: new Float64Array(len),
    values: new Float64Array(len),
    start,
    end,
  };
}
function h(name: string, count: number): WriteSeries {
  const hist: HistogramSample = {
    t: 0,
    isFloat: false,
    resetHint: 0,
    schema: 0,
    head: new Uint32Array(8),
    positiveSpans: [],
    negativeSpans: [],
    positive: new Uint32Array(0),
    negative: new Uint32Array(0),
  };
  const hs = Array.from({ length: count }, (_, i) => ({ ...hist, t: i }));
  return {
    labels: [{ name: '__name__', value: name }],
    timestamps: new Float64Array(0),
    values: new Float64Array(0),
    histograms: hs,
  };
}
/** A half as "name[start,end)" per entry (histogram entries: "name#[histStart,histEnd)"), and its count. */
function show(part: { batch: WriteSeries[]; n: number }): [string[], number] {
  return [
    part.batch.map((x) =>
      x.histograms
        ? `${x.labels[0].value}#[${x.histStart ?? 0},${x.histEnd ?? x.histograms.length})`
        : `${x.labels[0].value}[${x.start ?? 0},${x.end ?? x.timestamps.length})`,
    ),
    part.n,
  ];
}

test('splitBatch halves a request by samples, cutting the series across the middle', () => {
  const f = (batch: WriteSeries[], n: number, a: [string[], number], b: [string[], number]) => {
    const got = splitBatch(batch, n);
    assert.ok(got, `split of ${n}`);
    assert.deepEqual(got.map(show), [a, b]);
  };
  f([s('a', 0, 10)], 10, [['a[0,5)'], 5], [['a[5,10)'], 5]);
  f([s('a', 0, 7)], 7, [['a[0,3)'], 3], [['a[3,7)'], 4]); // odd: the first half is the smaller
  f([s('a', 0, 4), s('b', 0, 4)], 8, [['a[0,4)'], 4], [['b[0,4)'], 4]); // the middle between two series: none is cut
  f([s('a', 0, 3), s('b', 0, 7)], 10, [['a[0,3)', 'b[0,2)'], 5], [['b[2,7)'], 5]);
  f([s('a', 100, 110, 200)], 10, [['a[100,105)'], 5], [['a[105,110)'], 5]); // a slice of a pooled batch keeps its offsets
  f([s('a', undefined, undefined, 6)], 6, [['a[0,3)'], 3], [['a[3,6)'], 3]); // no start/end: the whole arrays
  f([s('a', 0, 1), s('b', 0, 1), s('c', 0, 1)], 3, [['a[0,1)'], 1], [['b[0,1)', 'c[0,1)'], 2]);
  // native histograms are halved by weight, whole histograms per part
  const hx = h('x', 4);
  const w = splitBatch(
    [hx],
    hx.histograms!.reduce((a, x) => a + histogramWeight(x), 0),
  );
  assert.ok(w);
  assert.deepEqual(
    w.map((p) => show(p)[0]),
    [['x#[0,2)'], ['x#[2,4)']],
  );
});

test('splitBatch cannot halve a single native histogram', () => {
  const f = (batch: WriteSeries[], n: number) => assert.equal(splitBatch(batch, n), undefined);
  const one = h('x', 1);
  f([one], histogramWeight(one.histograms![0]));
  const last = { ...h('x', 3), histStart: 2, histEnd: 3 };
  f([last], histogramWeight(last.histograms![2]));
});

test('splitRefused halves series by series first, then within the one series left', () => {
  const f = (batch: WriteSeries[], n: number, a: [string[], number], b: [string[], number]) =>
    assert.deepEqual(splitRefused(batch, n)?.map(show), [a, b]);
  f([s('a', 0, 4), s('b', 0, 4), s('c', 0, 4)], 12, [['a[0,4)'], 4], [['b[0,4)', 'c[0,4)'], 8]);
  f([s('a', 0, 9), s('b', 0, 1)], 10, [['a[0,9)'], 9], [['b[0,1)'], 1]); // by series, not by samples
  f([s('a', 0, 4), s('b', 0, 4), s('c', 0, 4), s('d', 0, 4)], 16, [['a[0,4)', 'b[0,4)'], 8], [['c[0,4)', 'd[0,4)'], 8]);
  f([s('a', 2, 8)], 6, [['a[2,5)'], 3], [['a[5,8)'], 3]); // one series: as splitBatch
});

test('splitRefused of one series it cannot cut: undefined, as splitBatch', () => {
  const one = h('x', 1);
  assert.equal(splitRefused([one], histogramWeight(one.histograms![0])), undefined);
});

test('adaptWindow changes the window after a full-width unit outside [unitSamples/2, 2 unitSamples]', () => {
  const o = { unitSamples: 1000, minWindowMs: 60_000, maxWindowMs: 3_600_000 };
  const f = (windowMs: number, samples: number, want: number) =>
    assert.equal(adaptWindow(windowMs, windowMs, samples, o), want, `${windowMs} ms, ${samples} samples`);
  f(600_000, 0, 1_200_000); // sparse: doubled
  f(600_000, 499, 1_200_000);
  f(2_400_000, 10, 3_600_000); // doubled, capped at maxWindowMs
  f(600_000, 2001, 300_000); // dense: halved
  f(200_001, 5000, 100_000); // halved, rounded down
  f(100_000, 1e9, 60_000); // halved, floored at minWindowMs
});

test('adaptWindow keeps the window in band, at its bounds, and after a short tail unit', () => {
  const o = { unitSamples: 1000, minWindowMs: 60_000, maxWindowMs: 3_600_000 };
  const f = (windowMs: number, unitMs: number, samples: number) =>
    assert.equal(
      adaptWindow(windowMs, unitMs, samples, o),
      windowMs,
      `${windowMs} ms, unit ${unitMs} ms, ${samples} samples`,
    );
  f(600_000, 600_000, 500); // exactly half: in band
  f(600_000, 600_000, 1000);
  f(600_000, 600_000, 2000); // exactly twice: in band
  f(3_600_000, 3_600_000, 0); // at maxWindowMs already
  f(60_000, 60_000, 1e9); // at minWindowMs already
  f(600_000, 300_000, 0); // tail unit: says nothing about density
  f(600_000, 599_999, 1e9);
});

test('shardOf: the first 32 bits of SHA-1 modulo N, the same in every process and version', () => {
  const f = (name: string, count: number, want: number) =>
    assert.equal(shardOf(name, count), want, `${name} of ${count}`);
  // pinned: a change here reshards every running --shard fleet
  f('up', 1, 0); // one shard: everything
  f('up', 4, 0);
  f('node_cpu_seconds_total', 4, 1);
  f('process_resident_memory_bytes', 4, 2);
  f('go_goroutines', 4, 3);
  f('node_cpu_seconds_total', 16, 9);
  f('go_goroutines', 16, 11);
  f('prometheus_tsdb_head_series', 3, 0);
  f('', 16, 14);
});

test('shardOf spreads names evenly, also those that differ only in the middle', () => {
  const f = (names: string[], count: number) => {
    const per = new Array<number>(count).fill(0);
    for (const n of names) {
      const i = shardOf(n, count);
      assert.ok(Number.isInteger(i) && i >= 0 && i < count, `${n} -> ${i}`);
      per[i]++;
    }
    const mean = names.length / count;
    assert.ok(
      per.every((c) => Math.abs(c - mean) < mean * 0.2),
      `per shard: ${per.join(' ')}`,
    );
  };
  f(
    Array.from({ length: 4000 }, (_, i) => `metric_${i}`),
    4,
  );
  f(
    Array.from({ length: 4000 }, (_, i) => `app_${i}_requests_total`),
    8,
  );
});

test('parseShard takes i/N with 0 <= i < N', () => {
  const f = (v: string, index: number, count: number) => assert.deepEqual(parseShard(v), { index, count });
  f('0/1', 0, 1);
  f('3/4', 3, 4);
  f(' 1/2 ', 1, 2);
  f('07/10', 7, 10);
});

test('parseShard refuses anything else, saying what it expects', () => {
  const f = (v: string) =>
    assert.throws(
      () => parseShard(v),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `--shard must be i/N with 0 <= i < N, such as 0/4 \\(got "${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"\\)`,
          ),
        );
        assert.match(e.hint ?? '', /JOB_COMPLETION_INDEX/);
        return true;
      },
    );
  f('4/4'); // i must be below N
  f('5/4');
  f('0/0');
  f('1/0');
  f('-1/4');
  f('1.5/4');
  f('a/b');
  f('1/2/3');
  f('1');
  f('');
});

/** Ms of mocked time one take waited (0: at once); the limiter reads the mocked Date, sleep the mocked setTimeout. */
async function waited(l: RateLimiter, n: number, signal?: AbortSignal): Promise<number> {
  let done = false;
  let error: unknown;
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  void l.take(n, signal).then(
    () => {
      done = true;
    },
    (e) => {
      done = true;
      error = e;
    },
  );
  let ms = 0;
  for (await settle(); !done && ms < 100_000; ms++) {
    mock.timers.tick(1);
    await settle();
  }
  if (error !== undefined) throw error;
  return ms;
}

test('RateLimiter: a second of budget at once, then waits in proportion to the debt', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const f = async (rate: number, takes: Array<[idleMs: number, n: number]>, want: number[]) => {
    const l = new RateLimiter(rate);
    const got: number[] = [];
    for (const [idle, n] of takes) {
      mock.timers.tick(idle);
      got.push(await waited(l, n));
    }
    assert.deepEqual(got, want, `rate ${rate}: ${takes.map(([i, n]) => `${i} ms idle, take ${n}`).join('; ')}`);
  };
  await f(
    1000,
    [
      [0, 600],
      [0, 400],
    ],
    [0, 0],
  ); // within the first second's budget
  await f(
    1000,
    [
      [0, 1000],
      [0, 250],
    ],
    [0, 250],
  ); // debt of 250 at 1000/s
  await f(100, [[0, 300]], [2000]); // larger than a second's budget: waits for the excess
  await f(
    1000,
    [
      [0, 1000],
      [5000, 1500],
    ],
    [0, 500],
  ); // idle time refills at most one second's worth
  await f(
    1000,
    [
      [0, 1500],
      [0, 500],
    ],
    [500, 500],
  ); // the time spent waiting paid the debt, not more
});

test('RateLimiter: an aborted signal ends a wait with its reason; a take that needs no wait still passes', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const f = async (n: number, abort: 'before' | 'during', want: 'passes' | RegExp) => {
    const l = new RateLimiter(1000);
    const ac = new AbortController();
    if (abort === 'before') ac.abort(new Error('stopped before'));
    if (abort === 'during') setTimeout(() => ac.abort(new Error('stopped during')), 100);
    const p = waited(l, n, ac.signal);
    if (want === 'passes') assert.equal(await p, 0);
    else await assert.rejects(p, want);
  };
  await f(2000, 'during', /stopped during/);
  await f(2000, 'before', /stopped before/);
  await f(500, 'before', 'passes'); // within budget: no wait to end
});
