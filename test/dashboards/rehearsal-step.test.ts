import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardsStep } from '../../src/rehearsal/dashboards.js';
import type { RehearsalContext } from '../../src/rehearsal/index.js';
import { tempDir } from '../harness/index.js';

/** The rehearsal step needs no Grafana and no corpus: the shipped fixtures alone must pass. */
test('rehearsal step: the shipped fixtures migrate with nothing left and restore byte-exact', async (t) => {
  const saved = process.env.STACKSHIFT_REHEARSAL_DASHBOARDS;
  process.env.STACKSHIFT_REHEARSAL_DASHBOARDS = '';
  t.after(() => {
    if (saved === undefined) delete process.env.STACKSHIFT_REHEARSAL_DASHBOARDS;
    else process.env.STACKSHIFT_REHEARSAL_DASHBOARDS = saved;
  });
  const ctx = { workDir: tempDir(t), results: {} } as unknown as RehearsalContext;
  const o = await dashboardsStep.run(ctx);
  assert.equal(o.status, 'passed', o.summary);
  const data = o.data as {
    dashboards: number;
    expected: number;
    rewritten: number;
    remaining: number;
    restoredExact: number;
    corpus: boolean;
  };
  assert.equal(data.corpus, false);
  assert.equal(data.dashboards, 3);
  assert.equal(data.rewritten, data.expected);
  assert.equal(data.expected, 22);
  assert.equal(data.remaining, 0);
  assert.equal(data.restoredExact, 3);
  assert.match(o.details!, /#### Dashboards: Prometheus → Mimir/);
});
