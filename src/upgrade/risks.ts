import type { PlanEvidence, PlanStage } from './plan.js';

/**
 * The risk register: each risk's likelihood (1 rare .. 5 almost certain) and impact (1 negligible .. 5
 * severe) follow from what was found on the server and on disk, not from a template; the evidence says why.
 */
export interface Risk {
  id: string;
  title: string;
  likelihood: 1 | 2 | 3 | 4 | 5;
  impact: 1 | 2 | 3 | 4 | 5;
  score: number;
  evidence: string;
  mitigation: string;
  stage?: number;
}

export const LIKELIHOOD = ['', 'rare', 'unlikely', 'possible', 'likely', 'almost certain'];
export const IMPACT = ['', 'negligible', 'minor', 'moderate', 'major', 'severe'];

type L = Risk['likelihood'];

export function buildRisks(ctx: {
  stages: PlanStage[];
  evidence: PlanEvidence;
  target: string;
  targetNotes: string[];
}): Risk[] {
  const risks: Omit<Risk, 'id' | 'score'>[] = [];
  const ev = ctx.evidence;
  const add = (r: Omit<Risk, 'id' | 'score'>) => risks.push(r);
  for (const st of ctx.stages) {
    const fatal = st.requiredChanges.filter((c) => c.severity === 'fatal');
    const fatalYes = fatal.filter((c) => c.detected === 'yes');
    const fatalUnknown = fatal.filter((c) => c.detected === 'unknown');
    if (fatal.length) {
      add({
        stage: st.index,
        title: `${st.to} refuses to start or to load the config/rules`,
        likelihood: fatalYes.length ? 5 : fatalUnknown.length ? 3 : 1,
        impact: 4,
        evidence: fatalYes.length
          ? `found: ${fatalYes.map((c) => `${c.subject}${c.evidence ? ` (${c.evidence})` : ''}`).join('; ')}`
          : fatalUnknown.length
            ? `cannot be told from what the server reports (check the unit file and config): ${fatalUnknown.map((c) => `${c.subject}${c.evidence ? ` (${c.evidence})` : ''}`).join('; ')}`
            : `checked, none present: ${fatal.map((c) => c.subject).join(', ')}`,
        mitigation: `apply the fixes (${
          fatal
            .filter((c) => c.detected !== 'no')
            .map((c) => c.fix)
            .join('; ') || 'none needed'
        }) and run ${st.to}'s promtool check config before the swap`,
      });
    }
    const silent = st.requiredChanges.filter((c) => c.severity === 'silent');
    const silentYes = silent.filter((c) => c.detected === 'yes');
    if (silent.length) {
      add({
        stage: st.index,
        title: `${st.to} starts but behaves differently (silently disabled receivers, changed labels, query semantics)`,
        likelihood: silentYes.length ? 4 : silent.some((c) => c.detected === 'unknown') ? 3 : 2,
        impact: 3,
        evidence: silentYes.length
          ? `found: ${silentYes.map((c) => `${c.subject}${c.evidence ? ` (${c.evidence})` : ''}`).join('; ')}`
          : `possible, not detected: ${silent.map((c) => c.subject).join(', ')}`,
        mitigation:
          'apply dual fixes on the old release first, preview 3.x behaviour with 2.55 feature flags, compare with the preflight baseline after the swap',
      });
    }
    if (st.rollback.feasible !== 'yes' || st.rollback.conditions.length) {
      add({
        stage: st.index,
        title: `rollback from ${st.to} to ${st.from} loses data or fails`,
        likelihood: st.rollback.feasible === 'no' ? 5 : st.rollback.feasible === 'with-loss' ? 4 : 2,
        impact: st.rollback.feasible === 'no' ? 5 : 4,
        evidence:
          st.rollback.feasible === 'yes'
            ? `rollback works only if: ${st.rollback.conditions.join('; ')}`
            : st.rollback.statement,
        mitigation: 'keep the conditions until the stage is signed off; keep the verified snapshot until then',
      });
    }
  }
  const restart = ctx.stages[0]?.downtime;
  if (restart) {
    const min = (restart.restartMs ?? 0) / 60_000;
    add({
      title: 'restart (WAL replay) takes longer than the maintenance window',
      likelihood: restart.restartMs === undefined ? 3 : restart.assumed ? 3 : min > 15 ? 4 : min > 5 ? 3 : 1,
      impact: min > 15 ? 3 : 2,
      evidence: restart.basis,
      mitigation:
        'schedule the window from the measured estimate; a clean shutdown right after a head compaction shortens the WAL',
    });
  }
  if (ev.disk) {
    const short = ev.disk.freeBytes < ev.disk.neededBytes;
    add({
      title: 'disk fills up during snapshot, restart compaction or rollback copy',
      likelihood: short ? 4 : 1,
      impact: 5,
      evidence: `free ${mib(ev.disk.freeBytes)}, ${ev.disk.factor}x TSDB = ${mib(ev.disk.neededBytes)}`,
      mitigation: short
        ? 'grow the volume or move old snapshots off it (stackshift snapshot prune) before starting'
        : 'none needed',
    });
  } else {
    add({
      title: 'disk fills up during snapshot, restart compaction or rollback copy',
      likelihood: 3,
      impact: 5,
      evidence: 'free disk not measured (pass --data-dir on the Prometheus host)',
      mitigation: 'run stackshift preflight --data-dir',
    });
  }
  add({
    title: 'no restorable backup when something goes wrong',
    likelihood: ev.snapshot?.verified ? 1 : ev.snapshot ? 3 : ev.server?.adminApi === false ? 4 : 3,
    impact: 5,
    evidence: ev.snapshot
      ? `snapshot ${ev.snapshot.name} ${ev.snapshot.verified ? 'verified' : 'NOT verified'}`
      : ev.server?.adminApi === false
        ? 'no snapshot, and the admin API is disabled'
        : 'no verified snapshot given',
    mitigation: 'stackshift snapshot create (needs --web.enable-admin-api) and snapshot verify --deep',
  });
  const corrupt = (ev.server?.corruptionCount ?? 0) > 0 || (ev.dataDir?.problems ?? 0) > 0;
  if (ev.server?.corruptionCount !== undefined || ev.dataDir) {
    add({
      title: 'existing TSDB corruption surfaces at restart (block fails to open)',
      likelihood: corrupt ? 4 : 1,
      impact: 5,
      evidence: `runtimeinfo corruptionCount=${ev.server?.corruptionCount ?? 'n/a'}, data dir errors=${ev.dataDir?.problems ?? 'not inspected'}`,
      mitigation: corrupt
        ? 'fix or remove the corrupt blocks (from a copy) before the upgrade: stackshift tsdb inspect --verify'
        : 'none needed',
    });
  }
  if ((ev.server?.targetsDown ?? 0) > 0 || (ev.server?.rulesUnhealthy ?? 0) > 0) {
    add({
      title: 'pre-existing failures are blamed on the upgrade',
      likelihood: 4,
      impact: 2,
      evidence: `${ev.server?.targetsDown ?? 0} targets down, ${ev.server?.rulesUnhealthy ?? 0} rules unhealthy before the upgrade`,
      mitigation: 'record them in the preflight baseline; compare after each stage',
    });
  }
  if (ctx.targetNotes.some((n) => /support ended|not on an LTS/.test(n))) {
    add({
      title: 'target release out of (LTS) support',
      likelihood: 5,
      impact: 2,
      evidence: ctx.targetNotes.join('; '),
      mitigation: 'target the current LTS (3.13.x) or plan the next upgrade now',
    });
  }
  if (ctx.stages.some((s) => s.to.startsWith('3.'))) {
    add({
      title: 'scrapes fail on 3.x for targets without a valid Content-Type',
      likelihood: 2,
      impact: 3,
      evidence: 'not decidable from the config (R§1c); depends on exporters',
      mitigation: 'probe targets before the swap; add fallback_scrape_protocol at cutover where needed',
    });
  }
  return risks
    .map((r) => ({ ...r, score: r.likelihood * r.impact }))
    .sort((a, b) => b.score - a.score || b.impact - a.impact)
    .map((r, i) => ({ ...r, id: `R${i + 1}` }));
}

/** heat[impact-1][likelihood-1] = risk ids in that cell. */
export function heatMap(risks: Risk[]): Array<Array<string[]>> {
  const grid: Array<Array<string[]>> = Array.from({ length: 5 }, () => Array.from({ length: 5 }, () => [] as string[]));
  for (const r of risks) grid[r.impact - 1][r.likelihood - 1].push(r.id);
  return grid;
}

export function cellBand(likelihood: number, impact: number): 'red' | 'orange' | 'yellow' | 'green' {
  const s = likelihood * impact;
  return s >= 15 ? 'red' : s >= 8 ? 'orange' : s >= 4 ? 'yellow' : 'green';
}

const BAND_MD = { red: '🟥', orange: '🟧', yellow: '🟨', green: '🟩' } as const;
const BAND_HTML = { red: '#e45756', orange: '#f58518', yellow: '#eeca3b', green: '#54a24b' } as const;

export function heatMapMarkdown(grid: Array<Array<string[]>>): string {
  const head = `| Impact \\ Likelihood | ${[1, 2, 3, 4, 5].map((l) => `${l} ${LIKELIHOOD[l]}`).join(' | ')} |`;
  const sep = `| --- | ${[1, 2, 3, 4, 5].map(() => ':---:').join(' | ')} |`;
  const rows = [5, 4, 3, 2, 1].map(
    (i) =>
      `| **${i} ${IMPACT[i]}** | ${[1, 2, 3, 4, 5].map((l) => `${BAND_MD[cellBand(l, i)]} ${grid[i - 1][l - 1].join(', ')}`.trim()).join(' | ')} |`,
  );
  return [head, sep, ...rows].join('\n');
}

export function heatMapHtml(grid: Array<Array<string[]>>): string {
  const cells = (i: number) =>
    [1, 2, 3, 4, 5]
      .map(
        (l) =>
          `<td style="background:${BAND_HTML[cellBand(l, i)]};text-align:center;min-width:6em;height:2.5em">${grid[i - 1][l - 1].join(', ')}</td>`,
      )
      .join('');
  return [
    '<table style="border-collapse:collapse;font-family:sans-serif" border="1">',
    `<tr><th>Impact \\ Likelihood</th>${[1, 2, 3, 4, 5].map((l) => `<th>${l} ${LIKELIHOOD[l]}</th>`).join('')}</tr>`,
    ...[5, 4, 3, 2, 1].map((i) => `<tr><th>${i} ${IMPACT[i]}</th>${cells(i)}</tr>`),
    '</table>',
  ].join('\n');
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
