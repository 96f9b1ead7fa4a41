import { esc, mdTable, passFailSvg, STATUS_COLORS, SVG_CSS, textTable, timelineSvg } from '../report/index.js';
import type { MigrationPlan } from './file.js';
import type { EventRow, StepRow } from './state.js';
import type { GateResult, StepStatus } from './types.js';

/** Kinds whose `consistency` figure is a signal's parity (the report's consistency chart). */
const SIGNAL_OF: Record<string, string> = {
  'verify-metrics': 'metrics',
  'traces-verify': 'traces',
  'logs-verify': 'logs',
  'alerts-verify': 'alerts',
};

export type PhaseStatus = 'pending' | 'in-progress' | 'done' | 'failed' | 'rolled-back';

export interface MigrationReportDoc {
  schemaVersion: 1;
  kind: 'stackshift.migrate.report';
  generatedAt: string;
  migration: { name: string; file: string; state: string; description?: string };
  status: PhaseStatus;
  phases: Array<{
    index: number;
    name: string;
    status: PhaseStatus;
    startedAt?: string;
    finishedAt?: string;
    steps: Array<{
      id: string;
      kind: string;
      title: string;
      status: StepStatus;
      attempts: number;
      startedAt?: string;
      finishedAt?: string;
      durationMs?: number;
      figures?: Record<string, number>;
      gates?: GateResult[];
      error?: string;
      rollback?: string;
      waitingUntil?: string;
    }>;
  }>;
  consistency: Array<{ signal: string; step: string; percent: number; gate?: GateResult }>;
  gates: Array<GateResult & { stepId: string }>;
  events: Array<{ at: string; step?: string; phase?: number; event: string; detail?: string }>;
}

const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function phaseStatus(rows: StepRow[]): PhaseStatus {
  if (rows.length && rows.every((r) => r.status === 'done')) return 'done';
  if (rows.some((r) => r.status === 'failed')) return 'failed';
  if (rows.some((r) => r.status === 'running' || r.status === 'done')) return 'in-progress';
  if (rows.some((r) => r.status === 'rolled-back')) return 'rolled-back';
  return 'pending';
}

export function buildReport(
  plan: MigrationPlan,
  statePath: string,
  rows: StepRow[],
  events: EventRow[],
  now = Date.now(),
): MigrationReportDoc {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const phases = plan.phases.map((ph) => {
    const prow = ph.steps.map((s) => byId.get(s.id)).filter((r): r is StepRow => Boolean(r));
    const starts = prow.map((r) => r.startedAt).filter((x): x is number => x !== undefined);
    const ends = prow.map((r) => r.finishedAt).filter((x): x is number => x !== undefined);
    return {
      index: ph.index,
      name: ph.name,
      status: phaseStatus(
        prow.length === ph.steps.length
          ? prow
          : [...prow, ...ph.steps.filter((s) => !byId.has(s.id)).map((s) => ({ status: 'pending' }) as StepRow)],
      ),
      startedAt: iso(starts.length ? Math.min(...starts) : undefined),
      finishedAt: iso(ends.length ? Math.max(...ends) : undefined),
      steps: ph.steps.map((s) => {
        const r = byId.get(s.id);
        const deadline =
          typeof r?.data.deadline === 'number' && r.status === 'running' ? (r.data.deadline as number) : undefined;
        return {
          id: s.id,
          kind: s.kind,
          title: s.title,
          status: r?.status ?? 'pending',
          attempts: r?.attempts ?? 0,
          startedAt: iso(r?.startedAt),
          finishedAt: r?.status === 'running' ? undefined : iso(r?.finishedAt),
          durationMs:
            r?.startedAt !== undefined &&
            r.finishedAt !== undefined &&
            r.finishedAt >= r.startedAt &&
            r.status !== 'running'
              ? r.finishedAt - r.startedAt
              : undefined,
          figures: r?.figures,
          gates: r?.gates,
          error: r?.error,
          rollback: r?.rollback ? `${r.rollback.action}: ${r.rollback.detail}` : undefined,
          waitingUntil: iso(deadline),
        };
      }),
    };
  });
  const consistency: MigrationReportDoc['consistency'] = [];
  const gates: MigrationReportDoc['gates'] = [];
  for (const s of plan.steps) {
    const r = byId.get(s.id);
    if (!r) continue;
    const signal = SIGNAL_OF[s.kind];
    if (signal && r.figures?.consistency !== undefined)
      consistency.push({
        signal,
        step: s.id,
        percent: r.figures.consistency,
        gate: r.gates?.find((g) => g.figure === 'consistency'),
      });
    for (const g of r.gates ?? []) gates.push({ ...g, stepId: s.id });
  }
  const all = phases.flatMap((p) => p.steps);
  const status: PhaseStatus = phaseStatus(all.map((s) => ({ status: s.status }) as StepRow));
  return {
    schemaVersion: 1,
    kind: 'stackshift.migrate.report',
    generatedAt: new Date(now).toISOString(),
    migration: { name: plan.name, file: plan.file, state: statePath, description: plan.description },
    status,
    phases,
    consistency,
    gates,
    events: events.map((e) => ({
      at: new Date(e.at).toISOString(),
      step: e.step,
      phase: e.phase,
      event: e.event,
      detail: e.detail,
    })),
  };
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '-';
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

function dur(ms?: number): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function renderStatusText(r: MigrationReportDoc): string {
  const lines = [
    `stackshift migrate: ${r.migration.name} (${r.status})`,
    `  file  ${r.migration.file}`,
    `  state ${r.migration.state}`,
    '',
  ];
  for (const p of r.phases) {
    lines.push(`Phase ${p.index}: ${p.name} [${p.status}]`);
    lines.push(
      textTable(
        ['STEP', 'KIND', 'STATUS', 'TRIES', 'TOOK', 'GATES'],
        p.steps.map((s) => [
          s.id,
          s.kind,
          s.waitingUntil ? `waiting until ${s.waitingUntil}` : s.status,
          s.attempts,
          dur(s.durationMs),
          (s.gates ?? []).map((g) => `${g.passed ? 'ok' : 'FAIL'} ${g.gate} (${fmt(g.actual)})`).join('; '),
        ]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    for (const s of p.steps) if (s.error) lines.push(`  ${s.id}: ${s.error}`);
    lines.push('');
  }
  if (r.consistency.length)
    lines.push('Consistency: ' + r.consistency.map((c) => `${c.signal} ${fmt(c.percent)}% (${c.step})`).join(', '));
  return lines.join('\n').trimEnd() + '\n';
}

export function renderReportMarkdown(r: MigrationReportDoc): string {
  const out = [
    `# Migration report: ${r.migration.name}`,
    '',
    `Status: **${r.status}**. Generated ${r.generatedAt} from \`${r.migration.state}\` (plan \`${r.migration.file}\`).`,
    '',
  ];
  if (r.migration.description) out.push(r.migration.description, '');
  out.push('## Phases', '');
  out.push(
    mdTable(
      ['Phase', 'Status', 'Started', 'Finished'],
      r.phases.map((p) => [`${p.index}. ${p.name}`, p.status, p.startedAt, p.finishedAt]),
    ),
    '',
  );
  for (const p of r.phases) {
    out.push(`### Phase ${p.index}: ${p.name} (${p.status})`, '');
    out.push(
      mdTable(
        ['Step', 'Kind', 'Status', 'Attempts', 'Took', 'Figures', 'Notes'],
        p.steps.map((s) => [
          s.id,
          s.kind,
          s.waitingUntil ? `waiting until ${s.waitingUntil}` : s.status,
          s.attempts,
          dur(s.durationMs),
          Object.entries(s.figures ?? {})
            .map(([k, v]) => `${k}=${fmt(v)}`)
            .join(', '),
          [s.error, s.rollback && `rollback ${s.rollback}`].filter(Boolean).join('; '),
        ]),
      ),
      '',
    );
  }
  out.push('## Consistency per signal', '');
  out.push(
    r.consistency.length
      ? mdTable(
          ['Signal', 'Step', 'Consistency %', 'Gate', 'Passed'],
          r.consistency.map((c) => [
            c.signal,
            c.step,
            fmt(c.percent),
            c.gate?.gate,
            c.gate ? (c.gate.passed ? 'yes' : 'NO') : '',
          ]),
        )
      : 'No signal verified yet.',
    '',
  );
  out.push('## Gates', '');
  out.push(
    r.gates.length
      ? mdTable(
          ['Step', 'Gate', 'Measured', 'Passed'],
          r.gates.map((g) => [g.stepId, g.gate, fmt(g.actual), g.passed ? 'yes' : 'NO']),
        )
      : 'No gate evaluated yet.',
    '',
  );
  return out.join('\n');
}

/** Phase timeline: one bar per step that started, on a shared time axis, one row per step. */
export function phaseTimelineSvg(r: MigrationReportDoc, now: number): string {
  const rows = r.phases.flatMap((p) =>
    p.steps.map((s) => ({
      label: `${p.index}. ${s.id}`,
      status: s.status,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      title: `${s.id}: ${s.status}, ${s.startedAt} .. ${s.finishedAt ?? 'now'}`,
    })),
  );
  return timelineSvg(rows, { now, aria: 'phase timeline', empty: 'No step has started yet.' });
}

/** Consistency per signal: one bar per verification, on a scale zoomed to where the figures and gates lie. */
export function consistencySvg(r: MigrationReportDoc): string {
  if (!r.consistency.length) return '<p class="empty">No signal verified yet.</p>';
  const values = r.consistency
    .flatMap((c) => [c.percent, ...(c.gate ? [Number(c.gate.expected.replace(/^[^\d-]+/, ''))] : [])])
    .filter(Number.isFinite);
  const lo = Math.max(0, Math.floor(Math.min(...values) - 1));
  const W = 760,
    left = 210,
    rowH = 30,
    H = r.consistency.length * rowH + 40;
  const x = (v: number) => left + ((Math.max(lo, v) - lo) / (100 - lo)) * (W - left - 60);
  const bars = r.consistency.map((c, i) => {
    const y = 10 + i * rowH;
    const threshold = c.gate ? Number(c.gate.expected.replace(/^[^\d-]+/, '')) : undefined;
    const color = c.gate ? (c.gate.passed ? STATUS_COLORS.done : STATUS_COLORS.failed) : '#1c7ed6';
    return (
      `<text x="4" y="${y + 17}" class="lbl">${esc(`${c.signal} (${c.step})`)}</text>` +
      `<rect data-point="consistency" x="${left}" y="${y + 4}" width="${Math.max(1, x(c.percent) - left).toFixed(1)}" height="${rowH - 10}" fill="${color}"><title>${esc(`${c.signal}: ${c.percent}%`)}</title></rect>` +
      `<text x="${(x(c.percent) + 4).toFixed(1)}" y="${y + 17}" class="val">${esc(fmt(c.percent))}%</text>` +
      (threshold !== undefined && Number.isFinite(threshold)
        ? `<line x1="${x(threshold).toFixed(1)}" x2="${x(threshold).toFixed(1)}" y1="${y}" y2="${y + rowH - 2}" stroke="#212529" stroke-dasharray="3 2"><title>${esc(`gate ${c.gate!.gate}`)}</title></line>`
        : '')
    );
  });
  const axis = `<line x1="${left}" y1="${H - 25}" x2="${W - 60}" y2="${H - 25}" stroke="#495057"/><text x="${left}" y="${H - 8}" class="ax">${lo}%</text><text x="${W - 60}" y="${H - 8}" text-anchor="end" class="ax">100%</text>`;
  return `<svg role="img" aria-label="consistency per signal" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${bars.join('')}${axis}</svg>`;
}

/** Gate figures: each gate a dot, green when it held, red when it did not, with the measured and the required figure. */
export function gatesSvg(r: MigrationReportDoc): string {
  return passFailSvg(
    r.gates.map((g) => ({
      passed: g.passed,
      label: `${g.stepId}: ${g.gate}`,
      value: `measured ${fmt(g.actual)} (needs ${g.expected})`,
    })),
    { aria: 'gate figures', empty: 'No gate evaluated yet.' },
  );
}

/** The report's style sheet (the live status page of `migrate serve` uses it too). */
export const REPORT_CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:980px;color:#212529;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #dee2e6}h3{font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #dee2e6;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f1f3f5}
.sub{color:#868e96;font-size:12px}.st{padding:1px 6px;border-radius:3px;color:#fff;background:#adb5bd}
.st-done{background:#2f9e44}.st-failed{background:#e03131}.st-running,.st-in-progress{background:#1c7ed6}.st-rolled-back{background:#f08c00}
${SVG_CSS}
`;

/** One self-contained HTML file: inline CSS and SVG, no script, no external asset. */
export function renderReportHtml(r: MigrationReportDoc, now = Date.now()): string {
  const phaseTables = r.phases
    .map(
      (p) => `<h3>Phase ${p.index}: ${esc(p.name)} <span class="st st-${esc(p.status)}">${esc(p.status)}</span></h3>
<table><thead><tr><th>Step</th><th>Kind</th><th>Status</th><th>Attempts</th><th>Took</th><th>Figures</th><th>Notes</th></tr></thead><tbody>
${p.steps
  .map(
    (s) =>
      `<tr><td>${esc(s.id)}<div class="sub">${esc(s.title)}</div></td><td>${esc(s.kind)}</td><td><span class="st st-${esc(s.status)}">${esc(s.waitingUntil ? `waiting until ${s.waitingUntil}` : s.status)}</span></td><td>${s.attempts}</td><td>${esc(dur(s.durationMs))}</td><td>${esc(
        Object.entries(s.figures ?? {})
          .map(([k, v]) => `${k}=${fmt(v)}`)
          .join(', '),
      )}</td><td>${esc([s.error, s.rollback && `rollback ${s.rollback}`].filter(Boolean).join('; '))}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(`Migration report: ${r.migration.name}`)}</title>
<style>
${REPORT_CSS}</style></head><body>
<h1>Migration report: ${esc(r.migration.name)} <span class="st st-${esc(r.status)}">${esc(r.status)}</span></h1>
<p>Generated ${esc(r.generatedAt)} from <code>${esc(r.migration.state)}</code>, plan <code>${esc(r.migration.file)}</code>.</p>
${r.migration.description ? `<p>${esc(r.migration.description)}</p>` : ''}
<h2>Phase timeline</h2>
${phaseTimelineSvg(r, now)}
<h2>Consistency per signal</h2>
${consistencySvg(r)}
<h2>Gate figures</h2>
${gatesSvg(r)}
<h2>Phases and steps</h2>
${phaseTables}
<h2>Events</h2>
<table><thead><tr><th>Time</th><th>Phase</th><th>Step</th><th>Event</th><th>Detail</th></tr></thead><tbody>
${r.events.map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.phase ?? '')}</td><td>${esc(e.step ?? '')}</td><td>${esc(e.event)}</td><td>${esc(e.detail ?? '')}</td></tr>`).join('\n')}
</tbody></table>
</body></html>
`;
}
