import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../harness/index.js';

test("dashboards migrate --fix-promql applies the lint engine's cutover fixes to target queries only", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'in'));
  const dash = {
    uid: 'fx',
    title: 'fix promql',
    schemaVersion: 39,
    panels: [
      {
        id: 1,
        type: 'timeseries',
        datasource: { type: 'prometheus', uid: 'prom' },
        targets: [
          { refId: 'A', expr: 'holt_winters(rate(http_requests_total{job="$job"}[$__rate_interval])[10m:], 0.5, 0.5)' },
        ],
      },
      {
        id: 2,
        type: 'timeseries',
        datasource: { type: 'prometheus', uid: 'other' },
        targets: [{ refId: 'A', expr: 'holt_winters(up[5m], 0.1, 0.1)' }],
      },
    ],
  };
  writeFileSync(join(dir, 'in', 'fx.json'), JSON.stringify(dash, null, 2));
  writeFileSync(
    join(dir, 'datasources.json'),
    JSON.stringify([
      { uid: 'prom', name: 'Prometheus', type: 'prometheus', isDefault: true },
      { uid: 'other', name: 'Other', type: 'prometheus', isDefault: false },
      { uid: 'mimir', name: 'Mimir', type: 'prometheus', isDefault: false },
    ]),
  );
  const r = await runCli([
    'dashboards',
    'migrate',
    '--in',
    join(dir, 'in'),
    '--out',
    join(dir, 'out'),
    '--datasources',
    join(dir, 'datasources.json'),
    '--from-datasource',
    'Prometheus',
    '--to-datasource',
    'Mimir',
    '--fix-promql',
    '2.55.1:3.5.0',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(readFileSync(join(dir, 'out', 'fx.json'), 'utf8'));
  assert.deepEqual(out.panels[0].datasource, { type: 'prometheus', uid: 'mimir' });
  assert.equal(
    out.panels[0].targets[0].expr,
    'double_exponential_smoothing(rate(http_requests_total{job="$job"}[$__rate_interval])[10m:], 0.5, 0.5)',
  );
  assert.equal(
    out.panels[1].targets[0].expr,
    'holt_winters(up[5m], 0.1, 0.1)',
    'queries on other datasources are left alone',
  );
  const bad = await runCli([
    'dashboards',
    'migrate',
    '--in',
    join(dir, 'in'),
    '--datasources',
    join(dir, 'datasources.json'),
    '--from-datasource',
    'Prometheus',
    '--to-datasource',
    'Mimir',
    '--fix-promql',
    '3.5',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--fix-promql "3\.5" is not <from>:<to>/);
});
