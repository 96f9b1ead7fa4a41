import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../harness/index.js';
import { FIXTURES } from './helpers.js';

const MAIN = join(process.cwd(), 'dist/src/cli/main.js');
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('lint prom3: text output, exit 1 on errors, 0 with --fail-on never', () => {
  const r = cli('lint', 'prom3', '--to', '3.5.0', join(FIXTURES, 'prometheus.yml'));
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /prometheus\.yml:14:20 {2}error {3}alertmanager-api-v1 \[dual\]/);
  assert.match(r.out, /fix \(dual\): api_version: v2/);
  assert.match(r.out, /finding\(s\) for 2\.55\.1 -> 3\.5\.0/);
  assert.equal(cli('lint', 'prom3', '--to', '3.5.0', '--fail-on', 'never', join(FIXTURES, 'prometheus.yml')).code, 0);
  const onlyInfo = cli(
    'lint',
    'prom3',
    '--to',
    '3.5.0',
    '--rule',
    'fallback-scrape-protocol',
    join(FIXTURES, 'prometheus.yml'),
  );
  assert.equal(onlyInfo.code, 0, 'info findings do not fail at --fail-on error');
  assert.equal(
    cli(
      'lint',
      'prom3',
      '--to',
      '3.5.0',
      '--rule',
      'fallback-scrape-protocol',
      '--fail-on',
      'info',
      join(FIXTURES, 'prometheus.yml'),
    ).code,
    1,
  );
});

test('lint prom3: JSON and SARIF 2.1.0 documents', () => {
  const j = cli(
    'lint',
    'prom3',
    '--to',
    '3.9.0',
    '-o',
    'json',
    FIXTURES,
    '--flags-from',
    join(FIXTURES, 'flags/prometheus.service'),
  );
  const doc = JSON.parse(j.out);
  assert.equal(doc.to, '3.9.0');
  assert.ok(doc.findings.length > 20);
  const f = doc.findings.find((x: { ruleId: string }) => x.ruleId === 'holt-winters-removed');
  assert.ok(f.line > 0 && f.column > 0 && f.fix.edits.length === 1);

  const s = cli('lint', 'prom3', '--to', '3.9.0', '-o', 'sarif', FIXTURES);
  const sarif = JSON.parse(s.out);
  assert.equal(sarif.version, '2.1.0');
  const run = sarif.runs[0];
  assert.equal(run.tool.driver.name, 'stackshift');
  for (const res of run.results) {
    assert.ok(['error', 'warning', 'note'].includes(res.level));
    assert.equal(run.tool.driver.rules[res.ruleIndex].id, res.ruleId);
    const loc = res.locations[0].physicalLocation;
    assert.equal(loc.artifactLocation.uriBaseId, 'SRCROOT');
    assert.ok(!loc.artifactLocation.uri.startsWith('/'), 'relative URIs');
    assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1);
  }
  assert.ok(run.results.some((r: { fixes?: unknown[] }) => r.fixes?.length));
});

test('lint prom3 --fix: writes with backups, a second run is a no-op; usage errors exit 2', () => {
  const dir = tempDir(undefined);
  cpSync(join(FIXTURES, 'rules'), dir, { recursive: true });
  const first = cli('lint', 'prom3', '--to', '3.5.0', '--fix', dir);
  assert.match(first.err, /fixed file=/);
  const after = readFileSync(join(dir, 'app.yml'), 'utf8');
  assert.match(after, /le=~"1\|1\\\\\.0"/);
  const bak = readdirSync(dir).filter((f) => f.endsWith('.bak'));
  assert.ok(bak.length >= 2);
  const second = cli('lint', 'prom3', '--to', '3.5.0', '--fix', dir);
  assert.match(second.err, /nothing to fix/);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.bak')).length, bak.length);
  assert.equal(readFileSync(join(dir, 'app.yml'), 'utf8'), after);

  const bad = cli('lint', 'prom3', '--to', 'banana', dir);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--to "banana" is not a version/);
  assert.doesNotMatch(bad.err, /at .*\.js:\d+/, 'no stack trace');
  assert.equal(cli('lint', 'prom3').code, 2);
  assert.equal(cli('lint', 'prom3', '--out-dir', dir, dir).code, 2);
  const missing = cli('lint', 'prom3', join(dir, 'nope.yml'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.yml does not exist/);
  const rule = cli('lint', 'prom3', '--rule', 'holt-winter', dir);
  assert.equal(rule.code, 2);
  assert.match(rule.err, /--rule holt-winter: no such rule/);
});
