import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SeriesComparator,
  compareMetric,
  compareResults,
  differingWindows,
  digestSeries,
  inSample,
  loadDashboard,
  percentile,
  planWindows,
  ratioInterval,
  resolveTemplate,
  staleMarkerArray,
  wilson,
  type SeriesReader,
} from '../../src/verify/index.js';
import type { Label, Matcher, SeriesSamples } from '../../src/wire/index.js';
import { tempDir } from '../harness/index.js';

const MIN = 60_000;
const ts = (...m: number[]) => Float64Array.from(m.map((x) => x * MIN));
const vs = (...v: number[]) => Float64Array.from(v);
const EXACT = { relativeTolerance: 0 };

test('comparator: gap, shift, value, stale markers and plain missing samples are told apart', () => {
  const c = new SeriesComparator(EXACT);
  const svw = vs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  new Uint32Array(svw.buffer).set([2, 0x7ff00000], 2 * 9); // sample 9 is a stale marker, written by its bits
  // source minutes 0..9; target: 2,3 missing (gap), 5 shifted to 5.5, 7 altered, stale marker at 9 lost
  c.feed(ts(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), svw, ts(0, 1, 4, 5.5, 6, 7, 8), vs(1, 2, 5, 6, 7, 99, 9));
  const r = c.finish();
  assert.equal(r.expected, 10);
  assert.equal(r.matched, 5);
  assert.equal(r.mismatched, 1);
  assert.equal(r.missing, 4);
  assert.equal(r.unexpected, 1);
  assert.deepEqual(r.gaps, [{ fromMs: 2 * MIN, toMs: 3 * MIN, samples: 2 }]);
  assert.deepEqual(r.shifted, [{ fromMs: 5 * MIN, toMs: 5.5 * MIN, value: '6' }]);
  assert.deepEqual(r.valueDifferences, [{ timestampMs: 7 * MIN, kind: 'value', source: '8', target: '99' }]);
  assert.deepEqual(r.staleMarkersMissing, [9 * MIN]);
  assert.deepEqual(r.missingSamples, []);
  assert.deepEqual(r.firstDifference, { timestampMs: 2 * MIN, kind: 'missing', source: '3' });
});

test('comparator: bit-exact by default (NaN payloads, -0); relative tolerance with NaN equal to NaN but stale never equal to NaN', () => {
  const stale = staleMarkerArray(2);
  const nan = vs(NaN, NaN);
  const exact = new SeriesComparator(EXACT);
  exact.feed(ts(0, 1), stale, ts(0, 1), nan);
  assert.equal(exact.finish().mismatched, 2, 'a stale marker is not a plain NaN');
  const zero = new SeriesComparator(EXACT);
  zero.feed(ts(0), vs(0), ts(0), vs(-0));
  assert.equal(zero.finish().mismatched, 1, '-0 and +0 differ in bits');
  const tol = new SeriesComparator({ relativeTolerance: 1e-5 });
  tol.feed(ts(0, 1, 2, 3), vs(1, NaN, 100, 5), ts(0, 1, 2, 3), vs(1 + 1e-7, NaN, 100.01, 5));
  const r = tol.finish();
  assert.equal(r.matched, 3);
  assert.deepEqual(
    r.valueDifferences.map((d) => d.timestampMs),
    [2 * MIN],
  );
  const st = new SeriesComparator({ relativeTolerance: 1e-5 });
  st.feed(ts(0), staleMarkerArray(1), ts(0), vs(NaN));
  assert.equal(st.finish().mismatched, 1);
});

test('comparator: a gap crossing read windows stays one gap; one-sided windows join it', () => {
  const c = new SeriesComparator(EXACT);
  c.feed(ts(0, 1, 2), vs(1, 2, 3), ts(0), vs(1));
  c.addOneSided('missing', 3 * MIN, 5 * MIN, 3, 0);
  c.feed(ts(6, 7), vs(7, 8), ts(7), vs(8));
  c.addMatched(10);
  const r = c.finish();
  assert.deepEqual(r.gaps, [{ fromMs: MIN, toMs: 6 * MIN, samples: 6 }]);
  assert.equal(r.expected, 18);
  assert.equal(r.matched, 12);
});

test('digests: equal windows have equal digests, one changed bit changes only its window', () => {
  const n = 600;
  const t = Float64Array.from({ length: n }, (_, i) => i * 30_000);
  const v = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const plan = planWindows(0, n * 30_000, 3_600_000);
  assert.equal(plan.n, 5);
  const a = digestSeries(t, v, plan);
  assert.equal(a.count, n);
  assert.equal(differingWindows(a, digestSeries(t.slice(), v.slice(), plan)).length, 0);
  const v2 = v.slice();
  new Uint32Array(v2.buffer)[2 * 300] ^= 1; // lowest mantissa bit of sample 300 (minute 150: window 2)
  assert.deepEqual(differingWindows(a, digestSeries(t, v2, plan)), [2]);
  const t2 = t.slice();
  t2[10] += 1;
  assert.deepEqual(differingWindows(a, digestSeries(t2, v, plan)), [0]);
  // a long window is cut into at most 64 digest windows
  assert.ok(planWindows(0, 365 * 86_400_000).n <= 64);
});

class MemoryReader implements SeriesReader {
  reads = 0;
  constructor(private readonly series: SeriesSamples[]) {}
  async *streamSeries(q: { startMs: number; endMs: number; matchers: Matcher[] }): AsyncIterable<SeriesSamples> {
    this.reads++;
    for (const s of this.series) {
      const ok = q.matchers.every((m) => {
        const v = s.labels.find((l) => l.name === m.name)?.value ?? '';
        return m.type === 'EQ' ? v === m.value : m.type === 'RE' ? new RegExp(`^(?:${m.value})$`).test(v) : true;
      });
      if (!ok) continue;
      const keep = [...s.timestamps.keys()].filter((i) => s.timestamps[i] >= q.startMs && s.timestamps[i] <= q.endMs);
      yield {
        labels: s.labels,
        timestamps: Float64Array.from(keep.map((i) => s.timestamps[i])),
        values: Float64Array.from(keep.map((i) => s.values[i])),
      };
    }
  }
}

test('sample parity join: out-of-order partners wait as digests; only series whose digests differ are read again', async () => {
  const mk = (i: number, extra: Label[] = []): SeriesSamples => ({
    labels: [{ name: '__name__', value: 'm' }, ...extra, { name: 'i', value: String(i) }].sort((a, b) =>
      a.name < b.name ? -1 : 1,
    ),
    timestamps: Float64Array.from({ length: 240 }, (_, k) => k * MIN),
    values: Float64Array.from({ length: 240 }, (_, k) => i * 1000 + k),
  });
  const source = Array.from({ length: 20 }, (_, i) => mk(i));
  // the target carries a label that reverses its order; series 7 has one altered value
  const target = source.map((_, i) => mk(i, [{ name: 'a', value: String(100 - i) }])).reverse();
  target.find((s) => s.labels.some((l) => l.name === 'i' && l.value === '7'))!.values[100] = -1;
  const sr = new MemoryReader(source);
  const tr = new MemoryReader(target);
  const p = await compareMetric('m', {
    source: sr,
    target: tr,
    startMs: 0,
    endMs: 240 * MIN,
    readWindowMs: 240 * MIN,
    matchers: [],
    mapping: { add: {}, drop: ['a'] },
    equality: EXACT,
  });
  assert.equal(p.refetches, 1);
  assert.equal(sr.reads + tr.reads, 3, 'one stream per side and one re-read');
  let matched = 0,
    mismatched = 0;
  for (const t of p.series.values()) {
    matched += t.matched + (t.cmp?.result.matched ?? 0);
    mismatched += t.cmp?.result.mismatched ?? 0;
  }
  assert.equal(matched, 20 * 240 - 1);
  assert.equal(mismatched, 1);
});

test('sampling: the seeded hash picks about the fraction and the same series every time; intervals cover the estimate', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `series-${i}`);
  const picked = keys.filter((k) => inSample(k, 0.1, 42));
  assert.ok(picked.length > 900 && picked.length < 1100, String(picked.length));
  assert.deepEqual(
    keys.filter((k) => inSample(k, 0.1, 42)),
    picked,
  );
  assert.notDeepEqual(
    keys.filter((k) => inSample(k, 0.1, 43)),
    picked,
  );
  const w = wilson(300, 300);
  assert.equal(w.high, 1);
  assert.ok(w.low > 0.985 && w.low < 0.99, String(w.low));
  const r = ratioInterval([90, 100, 80], [100, 100, 100], 30);
  assert.ok(Math.abs(r.estimate - 0.9) < 1e-12 && r.low < 0.9 && r.high > 0.9);
  const all = ratioInterval([90, 100, 80], [100, 100, 100], 3);
  assert.equal(all.low, all.high, 'the whole population sampled: no uncertainty');
});

test('query results: order-insensitive, relative tolerance 1e-5, NaN equal to NaN; differing series named', () => {
  const v = (rows: Array<[Record<string, string>, string]>) => ({
    resultType: 'vector' as const,
    result: rows.map(([metric, x]) => ({ metric, value: [10, x] as [number, string] })),
  });
  assert.equal(
    compareResults(
      v([
        [{ a: '1' }, '1'],
        [{ a: '2' }, 'NaN'],
      ]),
      v([
        [{ a: '2' }, 'NaN'],
        [{ a: '1' }, '1.000001'],
      ]),
      1e-5,
    ),
    undefined,
  );
  const d = compareResults(
    v([
      [{ a: '1' }, '1'],
      [{ a: '2' }, '2'],
    ]),
    v([
      [{ a: '1' }, '1.1'],
      [{ a: '3' }, '2'],
    ]),
    1e-5,
  )!;
  assert.deepEqual(
    d.differences.map((x) => [x.series, x.kind]),
    [
      ['{a="1"}', 'value'],
      ['{a="2"}', 'missing-in-target'],
      ['{a="3"}', 'extra-in-target'],
    ],
  );
  const m = (vals: Array<[number, string]>) => ({
    resultType: 'matrix' as const,
    result: [{ metric: { a: '1' }, values: vals }],
  });
  assert.equal(
    compareResults(
      m([
        [1, '1'],
        [2, '2'],
      ]),
      m([
        [1, '1'],
        [2, '2'],
      ]),
      1e-5,
    ),
    undefined,
  );
  assert.equal(
    compareResults(
      m([
        [1, '1'],
        [2, '2'],
      ]),
      m([[1, '1']]),
      1e-5,
    )!.differences[0].kind,
    'points',
  );
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
});

const RESOLVE = { stepMs: 60_000, rangeMs: 3_600_000, rateInterval: '1m', timeMs: 1_700_000_000_000, vars: {} };

test('template variables: Grafana macros and formats resolved; label_replace $1 left alone; unknown names reported', () => {
  const vars = new Map([
    ['job', 'api'],
    ['multi', '(a|b)'],
  ]);
  assert.deepEqual(resolveTemplate('rate(x{job="$job"}[$__rate_interval])', vars, RESOLVE), {
    text: 'rate(x{job="api"}[1m])',
    unresolved: [],
  });
  assert.equal(
    resolveTemplate('sum_over_time(x[${__interval}]) / $__range_s + [[job]]', vars, RESOLVE).text,
    'sum_over_time(x[1m]) / 3600 + api',
  );
  assert.equal(resolveTemplate('x{a=~"${multi:pipe}"}', vars, RESOLVE).text, 'x{a=~"a|b"}');
  assert.equal(
    resolveTemplate('label_replace(x, "d", "$1", "s", "(.*)")', vars, RESOLVE).text,
    'label_replace(x, "d", "$1", "s", "(.*)")',
  );
  assert.deepEqual(resolveTemplate('x{a="$nope"}', vars, RESOLVE).unresolved, ['nope']);
});

test('dashboards: defaults for each variable type, non-Prometheus targets skipped, unparseable and unresolvable queries listed, not crashed on', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'd.json');
  writeFileSync(
    f,
    JSON.stringify({
      templating: {
        list: [
          { name: 'datasource', type: 'datasource', query: 'prometheus' },
          { name: 'job', type: 'query', current: { value: ['$__all'] }, includeAll: true, allValue: '.+' },
          { name: 'pod', type: 'query', current: {} },
          { name: 'res', type: 'custom', query: '1s, 15s, 30s', current: {} },
          { name: 'iv', type: 'interval', query: '1m,5m', current: { value: '$__auto_interval_iv' } },
          { name: 'ns', type: 'textbox', query: 'default' },
        ],
      },
      panels: [
        {
          type: 'row',
          collapsed: true,
          title: 'r',
          panels: [{ title: 'inner', targets: [{ refId: 'A', expr: 'up{job=~"$job", pod=~"$pod"}' }] }],
        },
        {
          title: 'custom',
          datasource: '$datasource',
          targets: [{ expr: 'rate(x[$res]) * $iv_unused' }, { expr: 'avg_over_time(y{ns="$ns"}[$iv])' }],
        },
        { title: 'logs', datasource: { type: 'loki', uid: 'L' }, targets: [{ expr: '{app="x"} |= "err"' }] },
        { title: 'broken', targets: [{ expr: 'sum(rate(x[5m])' }] },
        { title: 'influx', datasource: { type: 'influxdb', uid: 'I' }, targets: [{ query: 'SELECT 1' }] },
        { title: 'text', type: 'text' },
      ],
    }),
  );
  const d = loadDashboard(f, RESOLVE);
  assert.deepEqual(
    d.queries.map((q) => q.expr),
    ['up{job=~".+", pod=~".*"}', 'avg_over_time(y{ns="default"}[1m])'],
  );
  assert.equal(d.queries[0].origin.where, 'panel "inner" (A)');
  assert.deepEqual(d.skipped, { loki: 1, influxdb: 1 });
  assert.deepEqual(
    d.unsupported.map((u) => u.reason.replace(/ near .*/, '')),
    ['template variable $iv_unused without a value (pass --var iv_unused=...)', 'PromQL syntax error at column 16'],
  );
});

test("compliance suites: variant_args expand with the tester's values, first argument slowest; should_fail cases may be unparseable; bad cases name file, line and key", async (t) => {
  const { loadQueryFile } = await import('../../src/verify/index.js');
  const dir = tempDir(t);
  const f = join(dir, 'suite.yml');
  writeFileSync(
    f,
    "test_cases:\n  - query: '{{.extrapolatedRateFunc}}(x[{{.range}}])'\n    variant_args: ['extrapolatedRateFunc', 'range']\n  - query: 'sum(('\n    should_fail: true\n",
  );
  const qs = loadQueryFile(f);
  assert.equal(qs.length, 3 * 6 + 1);
  assert.deepEqual(
    qs.slice(0, 2).map((q) => q.expr),
    ['delta(x[1s])', 'delta(x[15s])'],
  );
  assert.equal(qs[6].expr, 'rate(x[1s])');
  assert.equal(qs[0].template, '{{.extrapolatedRateFunc}}(x[{{.range}}])');
  assert.deepEqual([qs[18].expr, qs[18].shouldFail, qs[18].origin.line], ['sum((', true, 4]);
  writeFileSync(f, "test_cases:\n  - query: 'up'\n  - query: 'x[{{.window}}]'\n    variant_args: ['window']\n");
  assert.throws(
    () => loadQueryFile(f),
    (e: Error & { location?: { line?: number; key?: string } }) =>
      /test_cases\[1\]\.variant_args must list known variant arguments/.test(e.message) && e.location?.line === 3,
  );
  writeFileSync(f, "test_cases:\n  - query: 'sum(('\n");
  assert.throws(() => loadQueryFile(f), /PromQL syntax error/);
});
