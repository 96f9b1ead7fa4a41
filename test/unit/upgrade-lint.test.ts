import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintChangesProvider, planUpgrade } from '../../src/upgrade/index.js';
import { tempDir } from '../harness/index.js';

test("upgrade plan with --lint: findings in the user's files become required changes with file:line, without duplicating the facts", async (t) => {
  const dir = tempDir(t);
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(
    cfg,
    'global:\n  scrape_interval: 15s\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: a\n    scrape_classic_histograms: true\n    static_configs: [{ targets: ["x:1"] }]\n',
  );
  writeFileSync(
    join(dir, 'rules.yml'),
    'groups:\n  - name: g\n    rules:\n      - record: smooth\n        expr: holt_winters(up[5m], 0.5, 0.5)\n',
  );
  const provider = await lintChangesProvider([cfg], '2.48.1', '3.5.0');
  const plan = planUpgrade({ from: '2.48.1', to: '3.5.0', changesProvider: provider });
  assert.deepEqual(
    plan.stages.map((s) => `${s.from}->${s.to}`),
    ['2.48.1->2.55.1', '2.55.1->3.5.0'],
  );
  const major = plan.stages[1].requiredChanges;
  const hw = major.filter((c) => /holt_winters/.test(`${c.subject} ${c.outcome}`));
  assert.equal(hw.length, 1, 'one row for holt_winters: the lint finding replaces the fact');
  assert.equal(hw[0].detected, 'yes');
  assert.equal(hw[0].phase, 'cutover');
  assert.match(hw[0].evidence ?? '', /rules\.yml:5:\d+$/);
  const sch = major.find((c) => c.id.startsWith('lint:') && /scrape_classic_histograms/.test(c.subject));
  assert.ok(sch, 'scrape_classic_histograms found in prometheus.yml');
  assert.match(sch.evidence ?? '', /prometheus\.yml:6:\d+$/);
  // the 3.x defaults that change behaviour for this config are found in it, located
  for (const [id, at] of [
    ['lint:fallback-scrape-protocol', /prometheus\.yml:4:1$/],
    ['lint:metric-name-validation-default', /prometheus\.yml:1:1$/],
  ] as const) {
    const row = major.find((c) => c.id === id);
    assert.ok(row, `${id} is a required change`);
    assert.equal(row.detected, 'yes');
    assert.match(row.evidence ?? '', at);
  }
  // config facts are settled by the linted files (found, or "not found in the linted files"), never left unknown
  const cfg3 = major.filter((c) => c.id.startsWith('cfg-'));
  assert.deepEqual(
    cfg3.map((c) => [c.id, c.detected, c.evidence]),
    [
      ['cfg-alertmanager-api-v1', 'no', 'not found in the linted files'],
      ['cfg-enable_http2', 'no', 'not found in the linted files'],
      ['cfg-external-labels-dollar', 'no', 'not found in the linted files'],
    ],
  );
});
