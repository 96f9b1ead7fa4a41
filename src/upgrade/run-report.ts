import { barsSvg, esc, lineChartSvg, passFailSvg, SVG_CSS, timelineSvg } from '../report/index.js';
import type { RunReport } from './runner.js';

/**
 * The stage report of `upgrade run` as one self-contained HTML file (inline CSS and SVG, no script, no
 * external asset), written next to the JSON and Markdown: a timeline of the steps, the WAL replay curve
 * (segment reached per second since the start), the gap per target in scrape intervals, and the gates.
 */
export function renderRunHtml(r: RunReport, now = Date.now()): string {
  const timeline = timelineSvg(
    r.steps.map((s) => ({
      label: s.step,
      status: s.status === 'started' ? 'running' : s.status === 'skipped' ? 'pending' : s.status,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      title: `${s.step}: ${s.status}, ${s.startedAt} .. ${s.finishedAt ?? 'now'}${s.detail?.error ? ` (${String(s.detail.error)})` : ''}`,
    })),
    { now, aria: 'step timeline', empty: 'No step has started yet.' },
  );
  const points = r.replay?.points ?? [];
  const replay = lineChartSvg(
    points.map((p) => ({
      x: p.ms / 1000,
      y: p.current,
      title: `${(p.ms / 1000).toFixed(1)} s: segment ${p.current} of ${p.max}`,
    })),
    {
      aria: 'WAL replay curve',
      empty: r.replay
        ? `Ready after ${(r.replay.durationMs / 1000).toFixed(1)} s; no replay progress was reported while it started (a small WAL, or a driver that waits on readiness itself).`
        : 'The server has not been started yet.',
      point: 'replay',
      xLabel: 'seconds since start',
      yLabel: 'segment',
    },
  );
  const gap = barsSvg(
    (r.gap?.targets ?? []).map((t) => ({
      label: `${t.job}/${t.instance}`,
      value: t.missedIntervals,
      text: `${t.missedIntervals} interval(s) missed, ${(t.gapMs / 1000).toFixed(1)} s at ${t.intervalMs} ms`,
      bad: t.missedIntervals > 0,
    })),
    { aria: 'gap per target', empty: 'The gap has not been measured.', point: 'gap' },
  );
  const gates = passFailSvg(
    (r.gates ?? []).map((g) => ({ passed: g.passed, label: g.title || g.id, value: g.detail })),
    { aria: 'gates', empty: 'No gate evaluated yet.' },
  );
  const rows = r.steps
    .map(
      (s) =>
        `<tr><td>${esc(s.step)}</td><td><span class="st st-${esc(s.status)}">${esc(s.status)}</span></td><td>${esc(s.startedAt)}</td><td>${esc(s.finishedAt ?? '')}</td><td>${esc(s.detail?.error ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(`Upgrade ${r.from} -> ${r.to}: ${r.status}`)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:980px;color:#212529;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #dee2e6}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #dee2e6;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f1f3f5}
.st{padding:1px 6px;border-radius:3px;color:#fff;background:#adb5bd}
.st-done,.st-signed-off{background:#2f9e44}.st-failed{background:#e03131}.st-started,.st-running{background:#1c7ed6}.st-rolled-back{background:#f08c00}
${SVG_CSS}
</style></head><body>
<h1>Upgrade ${esc(r.from)} -&gt; ${esc(r.to)} <span class="st st-${esc(r.status)}">${esc(r.status)}</span></h1>
<p>Run ${r.runId} of <code>${esc(r.prometheus)}</code>.${r.rollback ? ` <strong>Rolled back:</strong> ${esc(r.rollback.reason)}; restored ${esc(r.rollback.restored.join(', '))}.` : ''}${r.fill ? ` Zero gap: ${r.fill.samples} samples of ${r.fill.series} series copied from the shadow scraper.` : ''}</p>
<h2>Steps</h2>
${timeline}
<h2>WAL replay</h2>
${replay}
<h2>Gap per target</h2>
${gap}
<h2>Gates</h2>
${gates}
<h2>Step details</h2>
<table><thead><tr><th>Step</th><th>Status</th><th>Started</th><th>Finished</th><th>Error</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
