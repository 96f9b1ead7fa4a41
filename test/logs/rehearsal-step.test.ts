import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logsStep } from '../../src/rehearsal/logs-step.js';
import type { RehearsalContext } from '../../src/rehearsal/index.js';
import { tempDir } from '../harness/index.js';

test(
  'rehearsal logs step: copy and verify pass, and the summary says when it ran against the contract double',
  { timeout: 180_000 },
  async (t) => {
    const ctx = { workDir: tempDir(t), results: {}, opts: { seed: 1 } } as unknown as RehearsalContext;
    const o = await logsStep.run(ctx);
    assert.equal(o.status, 'passed', o.summary);
    const data = o.data as { double: boolean; lines: number; copied: number; consistencyPercent: number };
    assert.equal(data.copied, data.lines);
    assert.equal(data.lines, 20_000);
    assert.equal(data.consistencyPercent, 100);
    if (data.double) assert.match(o.summary, /contract double/);
    else assert.match(o.summary, /the real Loki at /);
    assert.match(o.details!, /#### Logs copy/);
    assert.match(o.details!, /#### Logs parity/);
  },
);
