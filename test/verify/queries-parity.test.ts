import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queriesReportSchema, type QueriesReport } from '../../src/verify/index.js';
import { CORPUS, startServer, tempDir } from '../harness/index.js';
import { assertSchema, cli, diffServers, injectDifferences } from './fixtures.js';

const DASHBOARDS = join(CORPUS, 'dashboards');
const RULES = join(CORPUS, 'rules');

test('verify queries: every corpus dashboard and rule file runs cleanly on two identical real Prometheus servers; unsupported constructs are listed', async (t) => {
  const spec = { series: 40, durationMs: 6 * 3_600_000, intervalMs: 30_000, seed: 31 };
  const a = await startServer(t, { history: spec, name: 'a' });
  const b = await startServer(t, { history: spec, name: 'b' });
  const dir = tempDir(t);
  const qf = join(dir, 'generated.promql');
  writeFileSync(
    qf,
    [
      '# queries over the generated history',
      'sum by (job) (rate(stackshift_gen_requests_total[5m]))',
      'stackshift_gen_temperature_celsius',
      'histogram_quantile(0.9, sum by (le) (rate(nonexistent_bucket[5m])))',
      'count(stackshift_gen_requests_total) / 3',
      'vector(1)',
      '',
    ].join('\n'),
  );
  const dashboards = readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(DASHBOARDS, f));
  const rules = [
    'awesome-node-exporter.yml',
    'awesome-kubernetes.yml',
    'promtool-rules.yml',
    'prometheus-rulefmt-test-aliases.yml',
  ].map((f) => join(RULES, f));
  const report = join(dir, 'queries.json');
  // evaluated at the end of the generated history, where it has data
  const time = String(Math.floor(Date.now() / 3_600_000) * 3600 - 60);
  const res = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    time,
    '--range',
    '2h',
    '--step',
    '1m',
    '--queries',
    qf,
    ...rules.flatMap((r) => ['--rules', r]),
    ...dashboards.flatMap((d) => ['--dashboards', d]),
    '--report',
    report,
    '--output',
    'json',
    '--concurrency',
    '2',
  ]);
  assert.equal(res.code, 0, res.stderr + res.stdout.slice(0, 2000));
  const r = JSON.parse(res.stdout) as QueriesReport;
  assertSchema(queriesReportSchema, r);
  assert.equal(r.passed, true);
  assert.equal(r.totals.mismatched, 0, JSON.stringify(r.mismatches.slice(0, 3)));
  assert.ok(dashboards.length >= 3);
  const fromDashboards = r.sources.filter((s) => s.kind === 'dashboard');
  assert.equal(fromDashboards.length, dashboards.length);
  assert.ok(fromDashboards.filter((s) => s.queries > 0).length >= 10, 'queries taken from most dashboards');
  assert.ok(r.totals.queries > 500, `${r.totals.queries} queries`);
  assert.equal(r.totals.executions, r.totals.queries * 2, 'instant and range for each');
  assert.ok(r.totals.emptyOnBoth < r.totals.executions, 'some results have data');
  // non-Prometheus panels are skipped by datasource type, not parsed as PromQL
  assert.ok((r.totals.skippedNonPrometheus.influxdb ?? 0) > 0, JSON.stringify(r.totals.skippedNonPrometheus));
  assert.ok((r.totals.skippedNonPrometheus.loki ?? 0) > 0, JSON.stringify(r.totals.skippedNonPrometheus));
  for (const u of r.unsupported) assert.ok(u.reason && u.origin.file, JSON.stringify(u));
  assert.ok(r.latency.source.count === r.totals.executions && r.latency.source.p95Ms >= r.latency.source.p50Ms);
  assert.ok(r.latency.target.p50Ms > 0);
  const gen = r.sources.find((s) => s.kind === 'query-file')!;
  assert.equal(gen.queries, 5);
});

test('verify queries: results that differ are reported with the query and the differing series; the latency gate is applied', async (t) => {
  const inj = injectDifferences();
  const [a, b] = await diffServers(t, inj);
  const dir = tempDir(t);
  const qf = join(dir, 'q.promql');
  const altered = inj.altered.series.labels.find((l) => l.name === 'series')!.value;
  writeFileSync(
    qf,
    [
      `stackshift_gen_requests_total{series="${altered}"}`,
      'count by (series) ({__name__=~"stackshift_gen_.+"})',
      'sum(stackshift_gen_temperature_celsius{series="4"})',
      '',
    ].join('\n'),
  );
  const res = await cli([
    'verify',
    'queries',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--time',
    String(inj.altered.atMs / 1000),
    '--range',
    '30m',
    '--step',
    '1m',
    '--queries',
    qf,
    '--max-latency-increase',
    '20',
    '--latency-floor',
    '1s',
    '--output',
    'json',
  ]);
  assert.equal(res.code, 1, res.stderr);
  const r = JSON.parse(res.stdout) as QueriesReport;
  assertSchema(queriesReportSchema, r);
  const byQuery = (i: number, type: string) => r.mismatches.find((m) => m.id === i && m.type === type);
  const alt = byQuery(1, 'instant')!;
  assert.equal(alt.query, `stackshift_gen_requests_total{series="${altered}"}`);
  assert.equal(alt.origin.line, 1);
  assert.deepEqual(
    alt.differences.map((d) => [d.kind, d.source, d.target]),
    [['value', String(inj.altered.source), String(inj.altered.target)]],
  );
  assert.match(alt.differences[0].series, new RegExp(`series="${altered}"`));
  assert.ok(byQuery(1, 'range'), 'the range query shows it too');
  const count = byQuery(2, 'instant')!;
  const kinds = count.differences.map((d) => d.kind).sort();
  assert.deepEqual(kinds, ['extra-in-target', 'missing-in-target'], JSON.stringify(count.differences));
  assert.ok(!byQuery(3, 'instant') && !byQuery(3, 'range'), 'an untouched series compares equal');
  assert.equal(r.latency.gate?.passed, true, 'equal servers on loopback are within 20 % or 1 s');
});
