import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lintFiles } from '../../src/lint/index.js';
import { writeTree } from './helpers.js';
import { labPromtool } from './promtool.js';

const MAIN = join(process.cwd(), 'dist/src/cli/main.js');

// things outside stackshift's own rules that promtool refuses: a regex that does not compile, a duplicate
// job name, a rule file that does not exist, a rule with a bad label name
const CONFIG = [
  'global:',
  '  scrape_interval: 15s',
  'rule_files: [alerts.yml, gone.yml]',
  'scrape_configs:',
  '  - job_name: a',
  '    relabel_configs:',
  '      - source_labels: [x]',
  '        regex: "a(b"',
  '        action: keep',
  '  - job_name: a',
  '',
].join('\n');
const RULES =
  'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels:\n          "bad-label": x\n';

test('issue 12 item 8: --promtool reports what the real promtool 2.55.1 says, as located findings', async (t) => {
  const bin = labPromtool('2.55.1');
  const dir = writeTree(t, { 'prometheus.yml': CONFIG, 'alerts.yml': RULES });
  const r = await lintFiles([join(dir, 'prometheus.yml')], { from: '2.55.1', to: '2.55.1', promtool: bin });
  assert.equal(r.promtool?.version, '2.55.1');
  const found = r.findings
    .filter((f) => f.ruleId === 'promtool')
    .map((f) => `${f.file.slice(dir.length + 1)}:${f.line}:${f.column} ${f.message}`);
  assert.deepEqual(found, [
    'alerts.yml:4:9 promtool 2.55.1: group "g", rule 1, "A": invalid label name: bad-label',
    'prometheus.yml:8:17 promtool 2.55.1: parsing YAML file ' +
      join(dir, 'prometheus.yml') +
      ': error parsing regexp: missing closing ): `^(?:a(b)$`',
  ]);
  // without --promtool none of it is reported by stackshift's own rules
  const own = await lintFiles([join(dir, 'prometheus.yml')], { from: '2.55.1', to: '2.55.1' });
  assert.equal(own.findings.filter((f) => f.ruleId === 'promtool').length, 0);
  assert.equal(own.promtool, undefined);
});

test('issue 12 item 8: each promtool complaint lands on its line (unknown key, rule expression, missing rule file)', async (t) => {
  const bin = labPromtool('2.55.1');
  const dir = writeTree(t, {
    'prometheus.yml': 'global:\n  scrape_intervall: 15s\nrule_files: [r.yml, gone.yml]\n',
    'r.yml': 'groups:\n  - name: g\n    rules:\n      - record: r\n        expr: rate(x)\n',
  });
  const cfg = await lintFiles([join(dir, 'prometheus.yml')], { from: '2.55.1', to: '2.55.1', promtool: bin });
  const at = (r: typeof cfg) =>
    r.findings
      .filter((f) => f.ruleId === 'promtool')
      .map((f) => `${f.file.slice(dir.length + 1)}:${f.line}:${f.column}`);
  assert.deepEqual(
    at(cfg),
    ['prometheus.yml:2:3', 'r.yml:5:15'],
    'the config does not load, so its rule file is checked on its own',
  );
  assert.match(cfg.findings.find((f) => f.ruleId === 'promtool')!.message, /field scrape_intervall not found/);
  const fixed = writeTree(t, {
    'prometheus.yml': 'global:\n  scrape_interval: 15s\nrule_files: [r.yml, gone.yml]\n',
    'r.yml': 'groups:\n  - name: g\n    rules:\n      - record: r\n        expr: rate(x)\n',
  });
  const withRules = await lintFiles([join(fixed, 'prometheus.yml')], { from: '2.55.1', to: '2.55.1', promtool: bin });
  const located = withRules.findings
    .filter((f) => f.ruleId === 'promtool')
    .map((f) => `${f.file.slice(fixed.length + 1)}:${f.line}:${f.column} ${f.message.slice(0, 60)}`);
  assert.deepEqual(
    located.map((l) => l.replace(fixed, 'DIR')),
    [
      'prometheus.yml:3:21 promtool 2.55.1: "DIR/gone.yml" does',
      'r.yml:5:15 promtool 2.55.1: group "g", rule 1, "r": could not parse exp',
    ],
  );
  const rules = await lintFiles([join(fixed, 'r.yml')], { from: '2.55.1', to: '2.55.1', promtool: bin });
  assert.deepEqual(
    rules.findings.filter((f) => f.ruleId === 'promtool').map((f) => `${f.line}:${f.column}`),
    ['5:15'],
  );
  const cli = spawnSync(
    process.execPath,
    [
      MAIN,
      'lint',
      'prom3',
      '--from',
      '2.55.1',
      '--to',
      '2.55.1',
      '--rule',
      'promtool',
      '--promtool',
      bin,
      join(fixed, 'r.yml'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(
    cli.stdout,
    /r\.yml:5:15 +error +promtool .*\n.*promtool 2\.55\.1: group "g", rule 1, "r": could not parse expression/,
  );
  const bad = spawnSync(
    process.execPath,
    [MAIN, 'lint', 'prom3', '--promtool', join(fixed, 'nope'), join(fixed, 'r.yml')],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--promtool .*nope: cannot run it/);
});
