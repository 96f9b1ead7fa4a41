import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyWithStaleMarkers } from '../../src/lab/index.js';
import {
  metricsReportSchema,
  queriesReportSchema,
  type MetricsReport,
  type QueriesReport,
} from '../../src/verify/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { startFaultProxy } from '../faults/proxy.js';
import { assertSchema, cli, writeSeries } from './fixtures.js';

const HOUR = 3_600_000;
const SPEC = { series: 12, durationMs: 4 * HOUR, intervalMs: 30_000, seed: 17 };
// evaluated near the end of the generated history (which ends at the start of the current hour)
const historyTime = () => Math.floor(Date.now() / HOUR) * 3600 - 120;

/** A compliance-tester suite over the generated history, with its should_fail cases and variant arguments. */
const SUITE = `# in the format of prometheus/compliance promql-test-queries.yml
test_cases:
  - query: '42'
  - query: 'stackshift_gen_temperature_celsius'
  - query: '{__name__=~".*"}'
    should_fail: true
  - query: '{{.simpleAggrOp}} by(job) (stackshift_gen_temperature_celsius)'
    variant_args: ['simpleAggrOp']
  - query: '{{.extrapolatedRateFunc}}(stackshift_gen_requests_total[{{.range}}])'
    variant_args: ['extrapolatedRateFunc', 'range']
  - query: 'label_replace(stackshift_gen_requests_total, "job", "value-$1", "src", "(.*")'
    should_fail: true
  - query: 'label_join(stackshift_gen_requests_total, "\\xff", "-", "instance")'
    should_fail: true
  - query: 'nonexistent_metric_name'
  - query: 'time()'
    skip_comparison: true
`;

test('verify queries: a compliance suite runs to the end on two real Prometheus servers with an outcome per query; should_fail cases pass when both refuse them; a query both refuse is recorded, not fatal', async (t) => {
  const a = await startServer(t, { history: SPEC, name: 'a' });
  const b = await startServer(t, { history: SPEC, name: 'b' });
  const dir = tempDir(t);
  const suite = join(dir, 'promql-test-queries.yml');
  writeFileSync(suite, SUITE);
  // a plain query file whose second line both servers refuse (it used to end the run with exit 2)
  const plain = join(dir, 'plain.promql');
  writeFileSync(
    plain,
    'sum(stackshift_gen_requests_total)\n{__name__=~".*"}\ncount(stackshift_gen_temperature_celsius)\n',
  );
  const res = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime()),
    '--range',
    '1h',
    '--step',
    '1m',
    '--queries',
    suite,
    '--queries',
    plain,
    '--output',
    'json',
  ]);
  assert.equal(res.code, 0, res.stderr + res.stdout.slice(0, 1500));
  const r = JSON.parse(res.stdout) as QueriesReport;
  assertSchema(queriesReportSchema, r);
  // 1 + 1 + 1 + 7 + 3*6 + 1 + 1 + 1 + 1 suite cases, 3 plain
  assert.equal(r.totals.queries, 32 + 3);
  assert.equal(r.results.length, r.totals.executions, 'an outcome for every execution');
  assert.equal(r.totals.executions, 70);
  const outcome = (id: number) => r.results.filter((x) => x.id === id).map((x) => x.outcome);
  assert.deepEqual(outcome(3), ['failed-as-expected', 'failed-as-expected'], 'should_fail {__name__=~".*"}');
  assert.equal(r.totals.failedAsExpected, 6, 'three should_fail cases, instant and range');
  assert.deepEqual(
    outcome(34),
    ['error-on-both', 'error-on-both'],
    'the refused plain query is recorded and the file goes on',
  );
  assert.match(r.errorsOnBoth[0].error, /bad_data/);
  assert.deepEqual(outcome(35), ['equal', 'equal'], 'the line after it ran');
  assert.deepEqual(outcome(1), ['equal', 'equal']);
  assert.equal(r.totals.notCompared, 2, 'skip_comparison');
  assert.equal(r.totals.mismatched, 0);
  assert.ok(r.evidence.passed && r.evidence.resultsWithData > 40, JSON.stringify(r.evidence));
  const variants = r.results.length; // the variant queries ran, with their expanded text
  assert.ok(variants > 0);
  const text = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime()),
    '--queries',
    suite,
  ]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /6 failed on both as expected \(should_fail\)/);
  assert.match(text.stdout, /Evidence: \d+ of \d+ results held series/);
});

test('verify queries: a should_fail case that a side answers is a mismatch', async (t) => {
  const a = await startServer(t, { history: SPEC, name: 'a' });
  const b = await startServer(t, { history: SPEC, name: 'b' });
  const dir = tempDir(t);
  const suite = join(dir, 'suite.yml');
  writeFileSync(
    suite,
    "test_cases:\n  - query: 'stackshift_gen_temperature_celsius'\n  - query: 'vector(1)'\n    should_fail: true\n",
  );
  const res = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime()),
    '--queries',
    suite,
    '--output',
    'json',
  ]);
  assert.equal(res.code, 1, res.stderr);
  const r = JSON.parse(res.stdout) as QueriesReport;
  assert.equal(r.totals.mismatched, 2);
  assert.match(r.mismatches[0].reason, /expected to fail \(should_fail\) but both sides answered/);
});

test('verify queries: results that are all empty fail the gate (no evidence); --min-nonempty sets the share required', async (t) => {
  const a = await startServer(t, { history: SPEC, name: 'a' });
  const b = await startServer(t, { history: SPEC, name: 'b' });
  const dir = tempDir(t);
  const qf = join(dir, 'q.promql');
  writeFileSync(
    qf,
    'stackshift_gen_temperature_celsius\nsum(rate(stackshift_gen_requests_total[5m]))\nnonexistent_metric\n',
  );
  // a day before the history: every result is empty on both sides
  const empty = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime() - 86_400),
    '--queries',
    qf,
    '--output',
    'json',
  ]);
  assert.equal(empty.code, 1, empty.stderr);
  const r = JSON.parse(empty.stdout) as QueriesReport;
  assertSchema(queriesReportSchema, r);
  assert.equal(r.totals.mismatched, 0);
  assert.equal(r.evidence.resultsWithData, 0);
  assert.equal(r.passed, false);
  assert.match(r.evidence.reason!, /none of the 6 results held any series/);
  const text = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime() - 86_400),
    '--queries',
    qf,
  ]);
  assert.match(text.stdout, /Query parity: FAILED/);
  assert.match(text.stdout, /Evidence: 0 of 6 results held series \(0 %\): FAILED/);
  // in the history: 4 of 6 results hold series
  const some = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime()),
    '--queries',
    qf,
    '--output',
    'json',
  ]);
  assert.equal(some.code, 0, some.stderr);
  assert.equal((JSON.parse(some.stdout) as QueriesReport).evidence.resultsWithData, 4);
  const strict = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(historyTime()),
    '--queries',
    qf,
    '--min-nonempty',
    '80',
  ]);
  assert.equal(strict.code, 1, strict.stderr);
  assert.match(strict.stdout, /below --min-nonempty 80 %/);
});

test("verify queries --concurrency 64 through a 300 ms proxy: target latency is the proxy's, not time spent queued for a connection", async (t) => {
  const a = await startServer(t, { history: SPEC, name: 'a' });
  const b = await startServer(t, { history: SPEC, name: 'b' });
  const proxy = await startFaultProxy(b.url, (_n, _m, path) => (path.includes('/api/v1/query') ? 'slow' : 'none'));
  t.after(() => proxy.close());
  const dir = tempDir(t);
  const qf = join(dir, 'q.promql');
  writeFileSync(
    qf,
    Array.from({ length: 64 }, (_, i) => `stackshift_gen_temperature_celsius{series="${i % 12}"} + ${i}`).join('\n') +
      '\n',
  );
  const res = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    proxy.url,
    '--time',
    String(historyTime()),
    '--queries',
    qf,
    '--concurrency',
    '64',
    '--output',
    'json',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(res.stdout) as QueriesReport;
  assert.equal(r.latency.measuredFrom, 'send');
  assert.equal(r.latency.target.count, 128);
  // each request waits 300 ms in the proxy; queued behind 8 connections the median was over 1 s
  assert.ok(r.latency.target.p50Ms >= 300, `p50 ${r.latency.target.p50Ms} ms`);
  assert.ok(
    r.latency.target.p50Ms < 800,
    `target p50 ${r.latency.target.p50Ms} ms through a 300 ms proxy: requests queued for a connection`,
  );
});

test('verify metrics: a window without samples on either side fails the gate instead of reporting 100 %', async (t) => {
  const a = await startServer(t, { history: SPEC, name: 'a' });
  const b = await startServer(t, { history: SPEC, name: 'b' });
  const end = historyTime() - 30 * 86_400;
  const res = await cli([
    'verify',
    'metrics',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--start',
    String(end - 3600),
    '--end',
    String(end),
    '--output',
    'json',
  ]);
  assert.equal(res.code, 1, res.stderr);
  const r = JSON.parse(res.stdout) as MetricsReport;
  assertSchema(metricsReportSchema, r);
  assert.equal(r.evidence.passed, false);
  assert.equal(r.consistency.percent, 0);
  assert.equal(r.consistency.gate?.passed, false);
  const text = await cli([
    'verify',
    'metrics',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--start',
    String(end - 3600),
    '--end',
    String(end),
  ]);
  assert.equal(text.code, 1);
  assert.match(
    text.stdout,
    /FAILED: no series matched the selectors in the window on either side: nothing was compared/,
  );
});

test("verify metrics: the backfill probe series is excluded by default and said so in text and JSON; --exclude-series '' counts it", async (t) => {
  const series = [
    ...historyWithStaleMarkers({
      series: 4,
      durationMs: 2 * HOUR,
      intervalMs: 60_000,
      seed: 9,
      endMs: Date.UTC(2026, 0, 10),
      irregular: false,
    }),
  ];
  const probe = {
    labels: [
      { name: '__name__', value: 'stackshift_backfill_probe' },
      { name: 'run', value: 'x' },
    ],
    timestamps: new Float64Array([Date.UTC(2026, 0, 10) - HOUR]),
    values: new Float64Array([1]),
    staleMarkers: 0,
  };
  const a = await startServer(t, { receiver: true, name: 'source' });
  const b = await startServer(t, { receiver: true, name: 'target' });
  await Promise.all([writeSeries(a, series), writeSeries(b, [...series, probe])]);
  const win = ['--start', String(Date.UTC(2026, 0, 10) / 1000 - 7200), '--end', String(Date.UTC(2026, 0, 10) / 1000)];
  const res = await cli([
    'verify',
    'metrics',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    ...win,
    '--output',
    'json',
  ]);
  assert.equal(res.code, 0, res.stderr + res.stdout.slice(0, 800));
  const r = JSON.parse(res.stdout) as MetricsReport;
  assertSchema(metricsReportSchema, r);
  assert.deepEqual(r.excluded, { patterns: ['stackshift_backfill_probe'], metrics: ['stackshift_backfill_probe'] });
  assert.equal(r.consistency.percent, 100);
  const text = await cli(['verify', 'metrics', '--source-url', a.url, '--target-url', b.url, ...win]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /excluded\s+metric names matching "stackshift_backfill_probe" \(--exclude-series\): stackshift_backfill_probe/,
  );
  const all = await cli([
    'verify',
    'metrics',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    ...win,
    '--exclude-series',
    '',
    '--output',
    'json',
  ]);
  assert.equal(all.code, 1, 'the probe is an extra series when not excluded');
  assert.equal((JSON.parse(all.stdout) as MetricsReport).series.extra, 1);
});

test('verify metrics: a range that would need more than 10,000 read windows is refused before planning', async (t) => {
  const a = await startServer(t, { name: 'a' });
  const res = await cli([
    'verify',
    'metrics',
    '--source-url',
    a.url,
    '--target-url',
    a.url,
    '--start',
    '0',
    '--end',
    '1700000000',
    '--read-window',
    '1h',
  ]);
  assert.equal(res.code, 2, res.stdout + res.stderr);
  assert.match(res.stderr, /needs [\d,]+ read windows of 3600s per metric, more than the 10,000 a run plans/);
  assert.doesNotMatch(res.stderr, /internal error/);
});
