import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RUN_STEPS, renderRunHtml, type RunReport } from '../../src/upgrade/index.js';
import { tempDir } from '../harness/index.js';
import { CHROMIUM, loadPage } from '../migrate/browser.js';

/**
 * The stage report's HTML in headless Chromium: a stage that was rolled back after a failed gate, with a
 * replay curve of 9 progress points, 3 targets (one missed 2 intervals) and 3 gates (one failed).
 */
function stage(): RunReport {
  const t0 = Date.parse('2026-12-07T12:00:00Z');
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  return {
    schemaVersion: 1,
    kind: 'stackshift.upgrade.run',
    runId: 4,
    prometheus: 'http://127.0.0.1:9090',
    from: '2.55.1',
    to: '3.8.1',
    status: 'rolled-back',
    steps: RUN_STEPS.filter((s) => s !== 'fill' && s !== 'gap' && s !== 'signoff').map((step, i) => ({
      step,
      status: step === 'gates' ? 'failed' : step === 'shadow' ? 'skipped' : 'done',
      startedAt: at(i * 4),
      finishedAt: at(i * 4 + 3),
      detail: step === 'gates' ? { error: 'post-upgrade gate failed: targets: 1 of 3 down <app>' } : undefined,
    })),
    replay: {
      points: Array.from({ length: 9 }, (_v, i) => ({ ms: 250 * (i + 1), current: i, max: 8 })),
      durationMs: 2600,
    },
    gap: {
      stoppedAtMs: t0 + 16_000,
      readyAtMs: t0 + 30_000,
      windowStartMs: t0,
      windowEndMs: t0 + 40_000,
      maxMissedIntervals: 2,
      targets: ['a', 'b', 'c'].map((x, i) => ({
        job: 'app',
        instance: `127.0.0.1:90${i}`,
        intervalMs: 1000,
        gapMs: i === 1 ? 3000 : 1000,
        missedIntervals: i === 1 ? 2 : 0,
      })),
    },
    gates: [
      { id: 'version', title: 'server reports 3.8.1', passed: true, detail: '3.8.1' },
      { id: 'targets', title: 'targets up as before', passed: false, detail: '1 of 3 down: "app" & <b>' },
      { id: 'rules', title: 'no rule newly failing', passed: true, detail: '0 failing' },
    ],
    rollback: { reason: 'post-upgrade gate failed: targets', restored: ['binary /opt/prometheus-2.55.1/prometheus'] },
  };
}

test(
  'upgrade stage report HTML: self-contained; in headless Chromium no errors, 9 replay points, a bar per step, per target and a dot per gate',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t, 'stackshift-upgrade-report-');
    const html = renderRunHtml(stage(), Date.parse('2026-12-07T12:01:00Z'));
    assert.doesNotMatch(html, /<script|\ssrc=|href="(?!data:)/i, 'self-contained: no script, no external asset');
    assert.doesNotMatch(html, /<b>/, 'figures are escaped');
    const file = join(dir, 'upgrade-run-4.html');
    writeFileSync(file, html);
    if (!CHROMIUM)
      assert.fail('chromium is needed for the HTML report check (apt-get install -y chromium-headless-shell)');
    const page = await loadPage(pathToFileURL(file).href, dir, {
      replay: 'document.querySelectorAll("[data-point=replay]").length',
      replayPath:
        'document.querySelector("svg[aria-label=\'WAL replay curve\'] path").getAttribute("d").split(" ").length',
      timeline: 'document.querySelectorAll("[data-point=timeline]").length',
      gap: 'document.querySelectorAll("[data-point=gap]").length',
      gapMissed: 'document.querySelectorAll("[data-point=gap][fill=\'#e03131\']").length',
      gates: 'document.querySelectorAll("[data-point=gate]").length',
      failedGates: 'document.querySelectorAll("[data-point=gate][fill=\'#e03131\']").length',
      title: 'document.title',
    });
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.values, {
      replay: 9,
      replayPath: 9,
      timeline: 9,
      gap: 3,
      gapMissed: 1,
      gates: 3,
      failedGates: 1,
      title: 'Upgrade 2.55.1 -> 3.8.1: rolled-back',
    });
    const shot = join(dir, 'upgrade-run-4.png');
    writeFileSync(shot, page.screenshot);
    assert.ok(page.screenshot.subarray(1, 4).toString() === 'PNG' && statSync(shot).size > 10_000, 'a real screenshot');
    t.diagnostic(`screenshot ${shot} (${statSync(shot).size} bytes; kept with STACKSHIFT_KEEP_TMP=1)`);
  },
);
