import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { fixFiles, lintFiles } from '../../src/lint/index.js';
import { tempDir } from '../harness/index.js';
import { CORPUS, FIXTURES } from './helpers.js';

function promtool(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** A copy of the fixtures a 2.42 promtool accepts as they are (bad/ and the 2.45+ key demo left out). */
function fixtureCopy(t: TestContext): string {
  const dir = tempDir(t, 'stackshift-fix-');
  cpSync(FIXTURES, dir, { recursive: true });
  rmSync(join(dir, 'bad'), { recursive: true });
  rmSync(join(dir, 'native'), { recursive: true });
  return dir;
}

/** promtool checks plain rule files; a PrometheusRule's spec is one. */
function crdToRules(file: string, out: string): string {
  writeFileSync(out, JSON.stringify(parse(readFileSync(file, 'utf8')).spec));
  return out;
}

const backups = (dir: string) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.includes('.stackshift-') && f.endsWith('.bak'));

test('dual fixes: promtool (2.42, real) accepts the config and rules before and after; comments stay', async (t) => {
  const dir = fixtureCopy(t);
  const crdBefore = crdToRules(join(dir, 'rules/crd.yaml'), join(tempDir(t), 'crd-before.yml'));
  assert.ok(promtool('check', 'config', join(dir, 'prometheus.yml')).ok, 'fixture is valid 2.42 config to begin with');
  assert.ok(promtool('check', 'rules', crdBefore).ok);
  const original = readFileSync(join(dir, 'prometheus.yml'), 'utf8');

  const res = await fixFiles([dir], { from: '2.42.0', to: '3.9.0', stage: 'dual' });
  assert.deepEqual(res.rejected, []);
  const cfg = readFileSync(join(dir, 'prometheus.yml'), 'utf8');
  assert.notEqual(cfg, original);
  const check = promtool('check', 'config', join(dir, 'prometheus.yml'));
  assert.ok(check.ok, check.out);
  assert.ok(promtool('check', 'rules', join(dir, 'rules/app.yml')).ok);
  const crd = promtool('check', 'rules', crdToRules(join(dir, 'rules/crd.yaml'), join(tempDir(t), 'crd.yml')));
  assert.ok(crd.ok, crd.out);

  // what the dual stage changed, and only that
  assert.match(cfg, /- api_version: v2 # old Alertmanager API/);
  assert.match(cfg, /\n {4}enable_http2: true\n {4}# tenant header comes from the proxy\n/);
  assert.match(cfg, /- node-a:80 # no port/);
  assert.match(cfg, /- targets: \[example\.com\]/, 'blackbox targets are left alone');
  assert.match(cfg, /replica: \$\{HOSTNAME\}/, 'the external label is advisory only');
  for (const line of original.split('\n').filter((l) => l.includes('#')))
    assert.ok(cfg.includes(line.slice(line.indexOf('#'))), `comment kept: ${line}`);
  const rules = readFileSync(join(dir, 'rules/app.yml'), 'utf8');
  assert.match(rules, /holt_winters\(/, 'holt_winters is a cutover change');
  assert.match(rules, /\{le=~"1\|1\\\\\.0"\}\[5m\]\)\)\n {12}\/ sum/, 'block scalar edited in place, indentation kept');
  const unit = readFileSync(join(dir, 'flags/prometheus.service'), 'utf8');
  assert.match(unit, /--storage\.tsdb\.retention\.time=30d \\\n/);
  assert.match(unit, /--enable-feature=expand-external-labels \\\n/);
  assert.match(unit, /--web\.enable-lifecycle \\\n {2}--web\.enable-remote-write-receiver\nRestart=always/);
  assert.doesNotMatch(unit, /allow-overlapping-blocks/);

  const cfgFix = res.files.find((f) => f.file.endsWith('prometheus.yml'))!;
  assert.deepEqual(cfgFix.changes.map((c) => `${c.line} ${c.ruleId}`).sort(), [
    '14 alertmanager-api-v1',
    '19 remote-write-http2-default',
    '32 static-target-default-port',
  ]);
  // every written file has a backup holding the original
  for (const f of res.files) {
    assert.ok(f.backup && existsSync(f.backup), `backup of ${f.file}`);
    assert.equal(readFileSync(f.backup!, 'utf8'), f.before);
  }

  // idempotent: a second run finds nothing to apply and writes nothing, not even a backup
  const n = backups(dir).length;
  const again = await fixFiles([dir], { from: '2.42.0', to: '3.9.0', stage: 'dual' });
  assert.equal(again.files.length, 0);
  assert.equal(backups(dir).length, n);
});

test('JSON dashboards: only the edited strings change; key order and formatting stay', async (t) => {
  const dir = fixtureCopy(t);
  const file = join(dir, 'dashboards/modern.json');
  const before = readFileSync(file, 'utf8');
  await fixFiles([join(dir, 'dashboards')], { from: '2.55.1', to: '3.9.0', stage: 'cutover' });
  const after = readFileSync(file, 'utf8');
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(a.length, b.length);
  const changed = a.map((l, i) => [l, b[i]]).filter(([x, y]) => x !== y);
  assert.equal(changed.length, 3, 'three queries edited');
  for (const [, line] of changed) assert.match(line, /"(expr|query)": /);
  assert.match(
    after,
    /"expr": "sum\(rate\(http_request_duration_seconds_bucket\{job=~\\"\$job\\", le=~\\"1\|1\\\\\\\\.0\\"\}\[\$__rate_interval\]\)\)"/,
  );
  assert.match(after, /double_exponential_smoothing\(sum\(rate\(x\[5m\]\)\)\[1h:\], 0\.5, 0\.5\)/);
  assert.match(after, /"title": "Forecast \\u00e9"/, 'escapes outside the edits are kept as written');
  const keys = (t: string) =>
    JSON.stringify(JSON.parse(t), (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : v));
  assert.equal(keys(after), keys(before));
  assert.ok(after.includes('"expr": "{job=\\"x\\"} |= \\"le=\\\\\\"1\\\\\\"\\""'), 'the Loki query is untouched');
});

test('cutover stage: the out-dir holds a complete 3.x set that passes the 3.x rules; inputs untouched', async (t) => {
  const out = tempDir(t, 'stackshift-cutover-');
  const src = fixtureCopy(t);
  cpSync(join(FIXTURES, 'native'), join(src, 'native'), { recursive: true });
  const before = readFileSync(join(src, 'prometheus.yml'), 'utf8');
  const res = await fixFiles([src], { from: '2.55.1', to: '3.9.0', stage: 'cutover', outDir: out });
  assert.deepEqual(res.rejected, []);
  assert.equal(readFileSync(join(src, 'prometheus.yml'), 'utf8'), before, 'in-place files untouched with --out-dir');
  assert.equal(backups(src).length, 0);

  // structurally valid for 3.x: nothing left for the dual or cutover phase when linted as a 3.9 config
  const relint = await lintFiles([out], { from: '3.9.0', to: '3.9.0', stage: 'cutover' });
  assert.deepEqual(
    relint.findings.map((f) => `${f.ruleId} ${f.file}`),
    [],
  );
  const all = await lintFiles([out], { from: '2.55.1', to: '3.9.0', stage: 'cutover' });
  assert.equal(all.findings.filter((f) => f.fix).length, 0, 'no fix left to apply');

  const read = (p: string) => readFileSync(join(out, p), 'utf8');
  assert.match(read('native/prometheus.yml'), /always_scrape_classic_histograms: true {2}# 2\.x name/);
  assert.doesNotMatch(read('native/prometheus.yml'), /\n\s+scrape_classic_histograms/);
  assert.equal(parseDocument(read('prometheus.yml')).toJS().global.scrape_native_histograms, true);
  assert.match(read('rules/app.yml'), /double_exponential_smoothing\(sum/);
  assert.doesNotMatch(read('rules/app.yml'), /holt_winters/);
  assert.ok(existsSync(join(out, 'rules/experimental.yaml')), 'unchanged inputs are part of the set');
  const unit = read('flags/prometheus.service');
  assert.match(unit, /--enable-feature=promql-experimental-functions/);
  assert.doesNotMatch(unit, /expand-external-labels|remote-write-receiver,|storage\.tsdb\.retention=/);
  assert.match(read('flags/deployment.yaml'), /- --agent\n/);
  assert.match(read('flags/compose.yaml'), /--web\.enable-otlp-receiver/);
  assert.doesNotMatch(read('flags/operator.yaml'), /native-histograms|promql-negative-offset/);
  for (const f of [
    'prometheus.yml',
    'native/prometheus.yml',
    'flags/deployment.yaml',
    'flags/compose.yaml',
    'flags/operator.yaml',
  ])
    parse(read(f));
});

test('files that do not parse: a located finding, no crash, nothing written', async (t) => {
  const dir = tempDir(t);
  cpSync(join(FIXTURES, 'bad'), dir, { recursive: true });
  const r = await lintFiles([dir], { from: '2.55.1', to: '3.5.0' });
  const yml = r.findings.find((f) => f.file.endsWith('broken.yml'))!;
  assert.equal(yml.ruleId, 'input-parse-error');
  assert.ok(yml.line >= 5 && yml.column > 0, `${yml.line}:${yml.column}`);
  const json = r.findings.find((f) => f.file.endsWith('broken.json'))!;
  assert.deepEqual([json.ruleId, json.line], ['input-parse-error', 3]);
  const syn = r.findings.find((f) => f.file.endsWith('syntax.yml'))!;
  assert.deepEqual([syn.ruleId, syn.line], ['promql-syntax', 5]);
  const res = await fixFiles([dir], { from: '2.55.1', to: '3.5.0', stage: 'cutover' });
  assert.equal(res.files.length, 0);
});

test(
  'the corpus under dual fixes: what promtool 2.42 accepted before it still accepts, and a second run changes nothing',
  { skip: existsSync(CORPUS) ? false : 'no corpus' },
  async (t) => {
    const dir = tempDir(t, 'stackshift-corpus-');
    cpSync(CORPUS, dir, { recursive: true });
    const configs = readdirSync(join(dir, 'configs')).map((f) => join(dir, 'configs', f));
    const rules = readdirSync(join(dir, 'rules'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join(dir, 'rules', f));
    const okConfigs = configs.filter((f) => promtool('check', 'config', '--syntax-only', f).ok);
    const okRules = rules.filter((f) => promtool('check', 'rules', f).ok);
    assert.ok(okConfigs.length >= 2 && okRules.length >= 10);
    const res = await fixFiles([dir], { from: '2.42.0', to: '3.5.0', stage: 'dual' });
    assert.deepEqual(res.rejected, []);
    assert.ok(res.files.some((f) => f.file.endsWith('prometheus-v2-alertmanager-api-v1.yml')));
    assert.ok(res.files.some((f) => f.file.endsWith('dotdc-k8s-system-coredns.json')));
    for (const f of okConfigs)
      assert.ok(
        promtool('check', 'config', '--syntax-only', f).ok,
        promtool('check', 'config', '--syntax-only', f).out,
      );
    for (const f of okRules) assert.ok(promtool('check', 'rules', f).ok, f);
    for (const f of res.files.filter((x) => x.file.endsWith('.json')))
      assert.doesNotThrow(() => JSON.parse(f.after), f.file);
    const again = await fixFiles([dir], { from: '2.42.0', to: '3.5.0', stage: 'dual' });
    assert.equal(again.files.length, 0);
  },
);
