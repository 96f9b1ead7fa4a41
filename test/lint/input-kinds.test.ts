import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lintFiles } from '../../src/lint/index.js';
import { FIXTURES, writeTree } from './helpers.js';

const MAIN = join(process.cwd(), 'dist/src/cli/main.js');
const RULES = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: holt_winters(x[1h], 0.3, 0.3) > 1\n';

test('issue 12 item 7: a *.rules file named on the command line is a rule file by content, its PromQL checked', async (t) => {
  const dir = writeTree(t, {
    'alerts.rules': RULES,
    'prometheus.conf': 'global:\n  scrape_interval: 15s\nrule_files: [alerts.rules]\n',
  });
  const r = await lintFiles([join(dir, 'alerts.rules')], { from: '2.55.1', to: '3.5.0' });
  assert.deepEqual(
    r.files.map((f) => f.kinds),
    [['rules']],
  );
  const hw = r.findings.filter((f) => f.ruleId === 'holt-winters-removed');
  assert.deepEqual(
    hw.map((f) => `${f.line}:${f.column}`),
    ['5:15'],
  );
  assert.deepEqual(
    r.findings.filter((f) => /args/.test(f.context ?? '')),
    [],
    'nothing is read as flags',
  );
  const conf = await lintFiles([join(dir, 'prometheus.conf')], { from: '2.55.1', to: '3.5.0' });
  assert.deepEqual(
    conf.files.map((f) => [f.file.endsWith('conf') ? 'conf' : 'rules', f.kinds.join()]),
    [
      ['conf', 'config'],
      ['rules', 'rules'],
    ],
  );
});

test('issue 12 item 7: a file of no known kind is reported (error when named, warning when walked), never passed silently', async (t) => {
  const dir = writeTree(t, {
    'notes.txt': 'remember to upgrade prometheus next week\n',
    'sub/package.json': '{"name": "x"}',
    'sub/values.yaml': 'replicas: 2\n',
  });
  const named = await lintFiles([join(dir, 'notes.txt')], { from: '2.55.1', to: '3.5.0' });
  assert.deepEqual(
    named.findings.map((f) => `${f.ruleId} ${f.severity}`),
    ['input-unknown-kind error'],
  );
  assert.match(named.findings[0].message, /not checked: neither YAML nor JSON nor Prometheus flags/);
  const walked = await lintFiles([join(dir, 'sub')], { from: '2.55.1', to: '3.5.0' });
  assert.deepEqual(
    walked.findings.map((f) => `${f.file.replace(dir, '')} ${f.ruleId} ${f.severity}`),
    ['/sub/package.json input-unknown-kind warning', '/sub/values.yaml input-unknown-kind warning'],
  );
  const cli = spawnSync(process.execPath, [MAIN, 'lint', 'prom3', '--to', '3.5.0', join(dir, 'notes.txt')], {
    encoding: 'utf8',
  });
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(cli.stdout, /notes\.txt.*input-unknown-kind/);
});

test('flag files keep their kind: systemd unit and args file', async () => {
  const r = await lintFiles([join(FIXTURES, 'flags/prometheus.args'), join(FIXTURES, 'flags/prometheus.service')], {
    from: '2.55.1',
    to: '3.5.0',
  });
  assert.deepEqual(
    r.files.map((f) => f.kinds.join()),
    ['flags', 'flags'],
  );
  assert.ok(r.findings.some((f) => f.ruleId === 'removed-cli-flag' && f.file.endsWith('prometheus.args')));
});
