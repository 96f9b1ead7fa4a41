import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROMETHEUS } from '../../src/lab/index.js';
import { REHEARSAL_STEPS, type RehearsalContext } from '../../src/rehearsal/index.js';
import { upgradeRunStep } from '../../src/rehearsal/upgrade-run-step.js';
import { tempDir } from '../harness/index.js';

/**
 * The rehearsal's upgrade step on real binaries: 2.48.1 -> 2.55.1 -> 3.8.1 with --zero-gap, then `upgrade
 * rollback` to 2.55.1 with its gates (the server on 2.55.1 again, every series 3.8.1 held readable, targets up).
 */

interface StageData {
  from: string;
  to: string;
  status: string;
  gap?: number;
  ms?: number;
  lost?: string[];
  seriesBefore?: number;
  seriesAfter?: number;
  gates?: Array<{ id: string; passed: boolean }>;
}

test(
  'rehearsal upgrade-run step: both stages signed off with no missed scrape interval, then rolled back to 2.55.1 with every gate green',
  { timeout: 1_200_000 },
  async (t) => {
    assert.ok(REHEARSAL_STEPS.includes(upgradeRunStep));
    const dir = tempDir(t);
    const ctx = { opts: { outDir: dir, seed: 7 }, workDir: dir, results: {} } as unknown as RehearsalContext;
    const o = await upgradeRunStep.run(ctx);
    assert.equal(o.status, 'passed', o.summary);
    const data = o.data as StageData[];
    assert.deepEqual(
      data.map((d) => [d.from, d.to, d.status]),
      [
        [PROMETHEUS.start, PROMETHEUS.bridge, 'signed-off'],
        [PROMETHEUS.bridge, PROMETHEUS.target, 'signed-off'],
        [PROMETHEUS.target, PROMETHEUS.bridge, 'rolled-back'],
      ],
    );
    assert.deepEqual(
      data.slice(0, 2).map((d) => d.gap),
      [0, 0],
    );
    const rb = data[2]!;
    assert.deepEqual(rb.lost, []);
    assert.ok(rb.seriesBefore! > 0 && rb.seriesAfter === rb.seriesBefore, `${rb.seriesAfter}/${rb.seriesBefore}`);
    assert.deepEqual(
      rb.gates!.map((g) => [g.id, g.passed]).sort(),
      ['feature-flags', 'rules', 'series', 'targets', 'version'].map((id) => [id, true]),
    );
    assert.ok(rb.ms! < 60_000, `the rollback stage took ${rb.ms} ms (budget 60 s)`);
    assert.match(o.summary, /rollback 3\.8\.1 -> 2\.55\.1 in [\d.]+ s: \d+\/\d+ series readable, 5\/5 gates/);
    assert.match(o.details ?? '', /#### rollback 3\.8\.1 -> 2\.55\.1: gates passed/);
    t.diagnostic(o.summary);
  },
);
