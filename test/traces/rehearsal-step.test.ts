import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REHEARSAL_STEPS, type RehearsalContext } from '../../src/rehearsal/index.js';
import { tracesStep } from '../../src/rehearsal/traces-step.js';
import { tempDir } from '../harness/index.js';
import { NO_JAEGER } from './helpers.js';

test(
  'rehearsal: the traces step is registered and passes on the lab Jaeger (500 traces copied, verified 100 %)',
  { skip: NO_JAEGER, timeout: 300_000 },
  async (t) => {
    assert.ok(REHEARSAL_STEPS.includes(tracesStep));
    const dir = tempDir(t);
    const ctx = {
      opts: { outDir: dir, series: 1, durationMs: 1, intervalMs: 1, seed: 11 },
      workDir: dir,
      results: {},
    } as unknown as RehearsalContext;
    const o = await tracesStep.run(ctx);
    assert.equal(o.status, 'passed', o.summary);
    assert.deepEqual(ctx.results.traces, {
      copied: 500,
      spans: (o.data as { copied: { spans: number } }).copied.spans,
      consistencyPercent: 100,
    });
    assert.match(o.details ?? '', /## Trace parity|#### Trace parity/);
  },
);
