import type { PreflightReport } from './preflight.js';
import { mdTable, textTable } from '../report/index.js';
import type { UpgradePlan } from './plan.js';
import { IMPACT, LIKELIHOOD, heatMapHtml, heatMapMarkdown } from './risks.js';

function dur(ms: number | undefined): string {
  if (ms === undefined) return 'unknown';
  return ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${Math.round(ms / 1000)} s`;
}

export function renderPlanText(p: UpgradePlan): string {
  const out: string[] = [];
  out.push(`Upgrade plan ${p.from} -> ${p.to}: ${p.path.join(' -> ')}`);
  for (const n of [...p.targetNotes, ...p.notes]) out.push(`  note: ${n}`);
  for (const s of p.stages) {
    out.push('');
    out.push(`Stage ${s.index}: ${s.from} -> ${s.to} (${s.kind})`);
    out.push(`  restart: ~${dur(s.downtime.restartMs)} (${s.downtime.basis})`);
    out.push(`  rollback: ${s.rollback.feasible.toUpperCase()} - ${s.rollback.statement}`);
    for (const c of s.rollback.conditions) out.push(`    if: ${c}`);
    if (s.rollback.beyond) out.push(`    beyond: ${s.rollback.beyond}`);
    const relevant = s.requiredChanges.filter((c) => c.detected !== 'no');
    out.push(
      `  required changes (${relevant.length} to act on, ${s.requiredChanges.length - relevant.length} checked absent):`,
    );
    if (relevant.length)
      out.push(
        textTable(
          ['PHASE', 'FOUND', 'SUBJECT', 'FIX'],
          relevant.map((c) => [c.phase, c.detected, c.subject, c.fix]),
        ).replace(/^/gm, '    '),
      );
    out.push('  checklist:');
    for (const c of s.checklist)
      out.push(`    [${c.done === true ? 'x' : ' '}] ${c.text}${c.command ? `  (${c.command})` : ''}`);
  }
  out.push('');
  out.push('Risks:');
  out.push(
    textTable(
      ['ID', 'L', 'I', 'SCORE', 'RISK', 'EVIDENCE'],
      p.risks.map((r) => [r.id, r.likelihood, r.impact, r.score, r.title, r.evidence]),
    ).replace(/^/gm, '  '),
  );
  out.push('');
  out.push("Where the runbook's compatibility matrix is wrong:");
  for (const c of p.runbookCorrections.filter((x) => x.verdict !== 'right'))
    out.push(`  - "${c.claim}": ${c.verdict.toUpperCase()}. ${c.truth} [${c.source}]`);
  return out.join('\n') + '\n';
}

export function renderPlanMarkdown(p: UpgradePlan): string {
  const out: string[] = [];
  out.push(`## Upgrade plan: ${p.from} -> ${p.to}`, '', `**Path:** ${p.path.join(' -> ')}`, '');
  for (const n of [...p.targetNotes, ...p.notes]) out.push(`> ${n}`, '');
  for (const s of p.stages) {
    out.push(`### Stage ${s.index}: ${s.from} -> ${s.to}`, '');
    out.push(
      `- **Expected restart:** ~${dur(s.downtime.restartMs)}${s.downtime.assumed ? ' (assumed speed)' : ''}: ${s.downtime.basis}`,
    );
    out.push(`- **Rollback (${s.rollback.feasible}):** ${s.rollback.statement}`);
    for (const c of s.rollback.conditions) out.push(`  - condition: ${c}`);
    if (s.rollback.beyond) out.push(`  - ${s.rollback.beyond}`);
    out.push(`  - sources: ${s.rollback.sources.join('; ')}`, '');
    const relevant = s.requiredChanges.filter((c) => c.detected !== 'no');
    out.push(
      `**Required changes** (${relevant.length} to act on; ${s.requiredChanges.length - relevant.length} checked and absent)`,
      '',
    );
    if (relevant.length)
      out.push(
        mdTable(
          ['Phase', 'Found', 'Subject', 'If left', 'Fix', 'Source'],
          relevant.map((c) => [
            c.phase,
            `${c.detected}${c.evidence ? `: ${c.evidence}` : ''}`,
            c.subject,
            c.outcome,
            c.fix,
            c.source,
          ]),
        ),
        '',
      );
    out.push('**Checklist**', '');
    for (const c of s.checklist)
      out.push(`- [${c.done === true ? 'x' : ' '}] ${c.text}${c.command ? ` — \`${c.command}\`` : ''}`);
    out.push('');
  }
  out.push('### Risk register', '');
  out.push(
    mdTable(
      ['ID', 'Risk', 'Likelihood', 'Impact', 'Score', 'Evidence', 'Mitigation'],
      p.risks.map((r) => [
        r.id,
        r.title,
        `${r.likelihood} ${LIKELIHOOD[r.likelihood]}`,
        `${r.impact} ${IMPACT[r.impact]}`,
        r.score,
        r.evidence,
        r.mitigation,
      ]),
    ),
    '',
  );
  out.push('#### Heat map', '', heatMapMarkdown(p.heatMap), '');
  out.push("### Where the runbook's compatibility matrix is wrong", '');
  out.push(
    mdTable(
      ['Runbook says', 'Verdict', 'What Prometheus really does', 'Source'],
      p.runbookCorrections.map((c) => [c.claim, c.verdict, c.truth, c.source]),
    ),
    '',
  );
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderPlanHtml(p: UpgradePlan): string {
  const rows = (h: string[], rs: Array<Array<string | number | undefined>>) =>
    `<table border="1" style="border-collapse:collapse"><tr>${h.map((x) => `<th>${esc(x)}</th>`).join('')}</tr>${rs.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c ?? ''))}</td>`).join('')}</tr>`).join('')}</table>`;
  const parts: string[] = [];
  parts.push(
    `<!doctype html><html><head><meta charset="utf-8"><title>Upgrade plan ${esc(p.from)} -&gt; ${esc(p.to)}</title></head><body style="font-family:sans-serif;max-width:1100px">`,
  );
  parts.push(`<h1>Upgrade plan ${esc(p.from)} → ${esc(p.to)}</h1><p><b>Path:</b> ${esc(p.path.join(' → '))}</p>`);
  for (const n of [...p.targetNotes, ...p.notes]) parts.push(`<p><i>${esc(n)}</i></p>`);
  for (const s of p.stages) {
    parts.push(`<h2>Stage ${s.index}: ${esc(s.from)} → ${esc(s.to)}</h2>`);
    parts.push(`<p><b>Expected restart:</b> ~${esc(dur(s.downtime.restartMs))} — ${esc(s.downtime.basis)}</p>`);
    parts.push(
      `<p><b>Rollback (${esc(s.rollback.feasible)}):</b> ${esc(s.rollback.statement)}</p><ul>${s.rollback.conditions.map((c) => `<li>${esc(c)}</li>`).join('')}${s.rollback.beyond ? `<li>${esc(s.rollback.beyond)}</li>` : ''}</ul>`,
    );
    parts.push(
      rows(
        ['Phase', 'Found', 'Subject', 'Fix', 'Source'],
        s.requiredChanges
          .filter((c) => c.detected !== 'no')
          .map((c) => [c.phase, c.detected, c.subject, c.fix, c.source]),
      ),
    );
    parts.push(
      `<h3>Checklist</h3><ul>${s.checklist.map((c) => `<li>${c.done ? '☑' : '☐'} ${esc(c.text)}</li>`).join('')}</ul>`,
    );
  }
  parts.push('<h2>Risk register</h2>', heatMapHtml(p.heatMap));
  parts.push(
    rows(
      ['ID', 'Risk', 'L', 'I', 'Evidence', 'Mitigation'],
      p.risks.map((r) => [r.id, r.title, r.likelihood, r.impact, r.evidence, r.mitigation]),
    ),
  );
  parts.push("<h2>Where the runbook's compatibility matrix is wrong</h2>");
  parts.push(
    rows(
      ['Runbook says', 'Verdict', 'Reality', 'Source'],
      p.runbookCorrections.map((c) => [c.claim, c.verdict, c.truth, c.source]),
    ),
  );
  parts.push('</body></html>');
  return parts.join('\n');
}

export function renderPreflightText(r: PreflightReport): string {
  const out: string[] = [];
  out.push(
    `Preflight for ${r.prometheus.url} (Prometheus ${r.prometheus.version}${r.target ? `, target ${r.target}` : ''}): ${r.passed ? 'PASSED' : 'FAILED'}`,
  );
  for (const c of r.checks) {
    out.push(`  ${c.status.toUpperCase().padEnd(5)} ${c.title}: ${c.detail}`);
    if (c.advice) out.push(`        -> ${c.advice}`);
  }
  if (r.baseline.queries.length) {
    out.push('  Query latency baseline:');
    out.push(
      textTable(
        ['MEDIAN MS', 'SERIES', 'ORIGIN', 'QUERY'],
        r.baseline.queries.map((q) => [
          Number.isFinite(q.medianMs) ? q.medianMs.toFixed(2) : `error: ${q.error}`,
          q.series,
          q.origin,
          q.query.length > 80 ? q.query.slice(0, 77) + '...' : q.query,
        ]),
      ).replace(/^/gm, '    '),
    );
  }
  if (r.stateId !== undefined) out.push(`  Baseline stored in the state database (preflight run ${r.stateId}).`);
  return out.join('\n') + '\n';
}

export function renderPreflightMarkdown(r: PreflightReport): string {
  const out: string[] = [];
  out.push(
    `**Preflight ${r.passed ? 'passed' : 'FAILED'}** for ${r.prometheus.url} (Prometheus ${r.prometheus.version}${r.target ? `, target ${r.target}` : ''})`,
    '',
  );
  out.push(
    mdTable(
      ['Check', 'Status', 'Detail', 'Advice'],
      r.checks.map((c) => [c.title, c.status, c.detail, c.advice]),
    ),
    '',
  );
  if (r.baseline.queries.length)
    out.push(
      mdTable(
        ['Median ms', 'Series', 'Origin', 'Query'],
        r.baseline.queries.map((q) => [
          Number.isFinite(q.medianMs) ? q.medianMs.toFixed(2) : `error: ${q.error}`,
          q.series,
          q.origin,
          q.query,
        ]),
      ),
      '',
    );
  return out.join('\n');
}
