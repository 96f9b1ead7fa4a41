import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEdits,
  functionCalls,
  labelMatchers,
  maskTemplateVariables,
  parsePromQL,
  subqueries,
} from '../../src/promql/index.js';
import { applyPromQLFixes, lintPromQL, rulesFor } from '../../src/lint/index.js';

test('template variables are masked with placeholders of the same length', () => {
  const src = 'sum(rate(x{job=~"$job"}[$__rate_interval])) by ($group) > ${thr:raw} offset [[off]]';
  const { text, masked } = maskTemplateVariables(src);
  assert.equal(text.length, src.length);
  assert.deepEqual(
    masked.map((m) => m.original),
    ['$__rate_interval', '$group', '${thr:raw}', '[[off]]'],
  );
  const p = parsePromQL(src, { templates: true });
  assert.deepEqual(p.errors, []);
  assert.equal(labelMatchers(p)[0].value, '$job', 'variables inside strings are left alone');
});

test('holt_winters parses through a same-length placeholder and keeps its name and range', () => {
  const src = 'sum(holt_winters(x[1h], 0.3, 0.3)) by (a)';
  const p = parsePromQL(src);
  assert.deepEqual(p.errors, []);
  const hw = functionCalls(p).find((f) => f.name === 'holt_winters');
  assert.ok(hw?.masked);
  assert.equal(src.slice(hw!.nameRange.from, hw!.nameRange.to), 'holt_winters');
  assert.equal(hw!.args.length, 3);
});

test('a syntax error is reported, not thrown', () => {
  const p = parsePromQL('sum(rate(x[5m])');
  assert.ok(p.errors.length > 0);
  const f = lintPromQL('sum(rate(x[5m])', { from: '2.55.1', to: '3.5.0' });
  assert.equal(f[0].ruleId, 'promql-syntax');
});

test('subqueries and their outer function are found on the tree', () => {
  const s = subqueries(parsePromQL('rate(foo[5m:1m]) + deriv((x)[10m:])'));
  assert.deepEqual(
    s.map((x) => [x.rangeText, x.stepText, x.outerFunction]),
    [
      ['5m', '1m', 'rate'],
      ['10m', undefined, 'deriv'],
    ],
  );
});

test('lintPromQL reports holt_winters and le normalisation with exact ranges and fixes', () => {
  const expr = 'holt_winters(x{le="1"}[1h], 0.5, 0.5)';
  const findings = lintPromQL(expr, { from: '2.55.1', to: '3.5.0' });
  const hw = findings.find((f) => f.ruleId === 'holt-winters-removed')!;
  assert.equal(expr.slice(hw.from, hw.to), 'holt_winters');
  assert.equal(hw.phase, 'cutover');
  const le = findings.find((f) => f.ruleId === 'le-quantile-normalisation')!;
  assert.equal(expr.slice(le.from, le.to), 'le="1"');
  assert.equal(applyEdits(expr, le.fix!.edits).text, 'holt_winters(x{le=~"1|1\\\\.0"}[1h], 0.5, 0.5)');
});

test('applyPromQLFixes: dual stage, cutover stage, and idempotence', () => {
  const expr = 'holt_winters(x{le="1", quantile=~"0.5|1"}[1h], 0.5, 0.5) + y{le!="1e6"}';
  const dual = applyPromQLFixes(expr, { from: '2.55.1', to: '3.5.0', stage: 'dual' });
  assert.equal(
    dual,
    'holt_winters(x{le=~"1|1\\\\.0", quantile=~"0.5|1|1\\\\.0"}[1h], 0.5, 0.5) + y{le!~"1e6|1e\\\\+06"}',
  );
  const cut = applyPromQLFixes(expr, { from: '2.55.1', to: '3.5.0', stage: 'cutover' });
  assert.ok(cut.startsWith('double_exponential_smoothing('));
  assert.equal(applyPromQLFixes(cut, { from: '2.55.1', to: '3.5.0', stage: 'cutover' }), cut);
  assert.equal(applyPromQLFixes(dual, { from: '2.55.1', to: '3.5.0', stage: 'dual' }), dual);
  // the fixed expression parses, and a 3.x lint of it has no fixable findings left
  assert.deepEqual(parsePromQL(cut).errors, []);
  assert.equal(lintPromQL(cut, { from: '2.55.1', to: '3.5.0' }).filter((f) => f.fix).length, 0);
});

test('Grafana query variables: the PromQL inside label_values/query_result is linted', () => {
  const f = lintPromQL('label_values(x_bucket{le="10"}, job)', { from: '2.55.1', to: '3.5.0', templates: true });
  assert.ok(f.some((x) => x.ruleId === 'le-quantile-normalisation'));
});

test('rulesFor lists the changes per phase for an upgrade', () => {
  const dual = rulesFor('2.55.1', '3.5.0', 'dual').map((r) => r.id);
  const cutover = rulesFor('2.55.1', '3.5.0', 'cutover').map((r) => r.id);
  assert.ok(
    dual.includes('removed-cli-flag') &&
      dual.includes('alertmanager-api-v1') &&
      dual.includes('le-quantile-normalisation'),
  );
  assert.ok(cutover.includes('holt-winters-removed') && cutover.includes('scrape-classic-histograms-renamed'));
  assert.ok(!cutover.includes('native-histograms-flag'), 'native-histograms matters only from 3.8');
  assert.ok(rulesFor('2.55.1', '3.9.0', 'cutover').some((r) => r.id === 'native-histograms-flag'));
  assert.equal(
    rulesFor('2.42.0', '2.55.1').filter((r) => r.phase !== 'advisory').length,
    0,
    'no 3.x rule applies to a 2.x target',
  );
  for (const r of rulesFor('2.55.1', '3.14.0')) assert.ok(r.source && r.description && r.inputs.length, r.id);
});
