import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationReportDoc } from '../../src/migrate/index.js';
import { runRehearsal } from '../../src/rehearsal/index.js';
import { migrateStep } from '../../src/rehearsal/migrate-step.js';
import { tempDir } from '../harness/index.js';

/*
 * The rehearsal's migrate step on a small history: the default plan of `migrate init` runs green through the
 * engine on the lab's real Prometheus servers and Jaeger (Grafana, Loki, Tempo and the Mimir ruler as their
 * contract doubles), and the scripted failure (a fresh target whose copy leaves a series out) stops phase 2 and rolls it
 * back, with the gate and its measured figure in the report.
 */

type Data = {
  green: { outcome: string; gates: number; passed: number; liveUpSeries: number };
  failed: { outcome: string; failedStep?: string; rolledBack: string[]; gate?: { gate: string; actual?: number } };
  reports: string[];
};

test(
  'rehearsal migrate step: the default plan green end to end, then a failed gate rolled back and reported',
  { timeout: 300_000 },
  async (t) => {
    const out = tempDir(t, 'stackshift-rehearsal-migrate-');
    const r = await runRehearsal({ outDir: out, series: 40, durationMs: 6 * 3_600_000, intervalMs: 30_000, seed: 7 }, [
      migrateStep,
    ]);
    const o = r.outcomes[0]!;
    assert.equal(o.status, 'passed', o.summary);
    const d = o.data as Data;
    assert.equal(d.green.outcome, 'complete');
    assert.ok(d.green.gates >= 20, `${d.green.gates} gates`);
    assert.equal(d.green.passed, d.green.gates);
    assert.ok(d.green.liveUpSeries >= 1, 'the reloaded source remote-writes its own series to the target');
    assert.equal(d.failed.outcome, 'gate-failed');
    assert.equal(d.failed.failedStep, 'verify-metrics');
    assert.deepEqual(d.failed.rolledBack, ['verify-metrics', 'backfill-metrics']);
    assert.equal(d.failed.gate?.gate, 'consistency >= 99.9');
    assert.ok(d.failed.gate!.actual! < 99.9, `measured ${d.failed.gate!.actual}`);

    const green = JSON.parse(readFileSync(join(out, 'migration-report.json'), 'utf8')) as MigrationReportDoc;
    assert.equal(green.status, 'done');
    assert.deepEqual(
      green.phases.flatMap((p) => p.steps.map((s) => s.kind)),
      [
        'lgtm-config',
        'logs-copy',
        'logs-verify',
        'traces-copy',
        'traces-verify',
        'backfill-metrics',
        'verify-metrics',
        'dashboards-migrate',
        'rules-sync',
        'gate',
        'wait',
        'verify-metrics',
        'gate',
      ],
    );
    const failed = JSON.parse(
      readFileSync(join(out, 'migration-report-failed-gate.json'), 'utf8'),
    ) as MigrationReportDoc;
    assert.deepEqual(
      failed.phases.map((p) => p.status),
      ['done', 'rolled-back', 'pending', 'pending', 'pending'],
    );
    const html = readFileSync(join(out, 'migration-report-failed-gate.html'), 'utf8');
    assert.match(html, /gate failed: consistency &gt;= 99\.9 \(measured \d/);
    for (const f of d.reports) assert.ok(existsSync(f), f);
  },
);
