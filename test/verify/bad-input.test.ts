import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { cli } from './fixtures.js';

/** A user mistake: exit 2, one clear line (plus a hint), never a stack trace. */
function assertUserError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
  assert.equal(r.stdout, '');
}

test('verify bad input: unreachable endpoint, invalid matcher, start after end, invalid PromQL with file and line', async (t) => {
  const prom = await startServer(t);
  const closed = `http://127.0.0.1:${await freePort()}`;

  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url, '--target-url', closed]),
    /connection refused[\s\S]*hint: check that the server is running/,
  );
  assertUserError(
    await cli(['verify', 'queries', '--source-url', closed, '--target-url', prom.url, '--queries', '/dev/null']),
    /connection refused/,
  );
  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url, '--target-url', prom.url, '--match', '{job=~"("}']),
    /invalid selector .*not a valid regular expression/,
  );
  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url, '--target-url', prom.url, '--match', 'up{job=}']),
    /invalid selector .*syntax error/,
  );
  assertUserError(
    await cli([
      'verify',
      'metrics',
      '--source-url',
      prom.url,
      '--target-url',
      prom.url,
      '--start',
      '2026-01-02T00:00:00Z',
      '--end',
      '2026-01-01T00:00:00Z',
    ]),
    /--start \(2026-01-02T00:00:00\.000Z\) must be before --end/,
  );
  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url, '--target-url', prom.url, '--start', 'yesterday']),
    /invalid --start "yesterday"/,
  );
  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url]),
    /no target: endpoint "mimir" is not in the config/,
  );
  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url, '--target-url', prom.url, '--min-consistency', '120']),
    /--min-consistency must be a percentage/,
  );
  assertUserError(
    await cli(['verify', 'metrics', '--source-url', prom.url, '--target-url', prom.url, '--sample', 'half']),
    /--sample must be/,
  );

  const dir = tempDir(t);
  const qf = join(dir, 'slo.promql');
  writeFileSync(qf, '# SLO queries\nsum(rate(http_requests_total[5m]))\nsum(rate(http_requests_total[5m]) by (job)\n');
  assertUserError(
    await cli(['verify', 'queries', '--source-url', prom.url, '--target-url', prom.url, '--queries', qf]),
    new RegExp(`${qf.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+: PromQL syntax error`),
  );
  // valid syntax that Prometheus itself refuses is a result of that query, not the end of the run (issue 12):
  // the same refusal on both sides is consistent; here nothing held series, so the gate fails on evidence
  writeFileSync(qf, 'up\nrate(up)\n');
  const refused = await cli([
    'verify',
    'queries',
    '--source-url',
    prom.url,
    '--target-url',
    prom.url,
    '--queries',
    qf,
    '--output',
    'json',
  ]);
  assert.equal(refused.code, 1, refused.stderr);
  const rr = JSON.parse(refused.stdout) as {
    results: Array<{ id: number; outcome: string; error?: string }>;
    evidence: { passed: boolean };
  };
  assert.deepEqual(
    rr.results.filter((x) => x.id === 2).map((x) => x.outcome),
    ['error-on-both', 'error-on-both'],
  );
  assert.match(rr.results.find((x) => x.id === 2)!.error!, /bad_data/);
  assert.equal(rr.evidence.passed, false);
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(up\n');
  assertUserError(
    await cli(['verify', 'queries', '--source-url', prom.url, '--target-url', prom.url, '--rules', rules]),
    /rules\.yml:5 \(groups\[0\]\.rules\[0\]\.expr\): rule "x": PromQL syntax error/,
  );
  writeFileSync(rules, 'groups:\n  - name: g\n    rules: [\n');
  assertUserError(
    await cli(['verify', 'queries', '--source-url', prom.url, '--target-url', prom.url, '--rules', rules]),
    /rules\.yml:\d+:\d+: invalid YAML/,
  );
  const dash = join(dir, 'dash.json');
  writeFileSync(dash, '{"panels": [');
  assertUserError(
    await cli(['verify', 'queries', '--source-url', prom.url, '--target-url', prom.url, '--dashboards', dash]),
    /dash\.json: not valid JSON/,
  );
  assertUserError(
    await cli(['verify', 'queries', '--source-url', prom.url, '--target-url', prom.url]),
    /no queries: give --queries, --rules or --dashboards/,
  );
  assertUserError(
    await cli([
      'verify',
      'queries',
      '--source-url',
      prom.url,
      '--target-url',
      prom.url,
      '--queries',
      join(dir, 'nope.promql'),
    ]),
    /nope\.promql: cannot read: ENOENT/,
  );
});
