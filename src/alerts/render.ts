import type { AlertsVerifyReport } from './verify.js';

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

function labelsText(l: Record<string, string>): string {
  const { alertname, ...rest } = l;
  const inner = Object.keys(rest)
    .sort()
    .map((k) => `${k}="${rest[k]}"`)
    .join(', ');
  return `${alertname ?? ''}{${inner}}`;
}

const KIND = {
  'only-source': 'only on the source',
  'only-target': 'only on the target',
  state: 'different state',
} as const;

export function renderAlertsVerifyText(r: AlertsVerifyReport): string {
  const out: string[] = [];
  out.push(
    `alerts verify: ${r.source} vs ${r.target}, ${r.polls} poll(s) every ${seconds(r.intervalMs)} over ${seconds(r.windowMs)}`,
  );
  out.push(
    `consistency: ${r.consistency}% (${r.matching} of ${r.observations} alert observations agree; ${r.alertsSeen} distinct alert(s) seen); gate ${r.minConsistency}%`,
  );
  if (r.observations === 0)
    out.push('no alert was pending or firing on either side during the window: nothing was compared');
  if (r.differences.length) {
    out.push('', 'differing alerts (source state / target state):');
    for (const d of r.differences) {
      out.push(
        `  ${d.persistent ? '!' : '~'} ${labelsText(d.labels)}  ${KIND[d.kind]} (${d.states.join(', ')})  in ${d.polls} poll(s), longest ${seconds(d.longestMs)}, ${d.firstAt} .. ${d.lastAt}${d.persistent ? '' : `  (within the ${seconds(r.graceMs)} grace: evaluation timing)`}`,
      );
    }
  }
  if (r.pollErrors.length) {
    out.push('', `${r.pollErrors.length} poll(s) failed and were left out:`);
    for (const e of r.pollErrors) out.push(`  ${e}`);
  }
  out.push(
    '',
    r.passed
      ? 'PASS: the alerts agree'
      : `FAIL: ${r.differences.filter((d) => d.persistent).length} alert(s) differ for longer than the grace${r.consistency < r.minConsistency ? `, consistency ${r.consistency}% is below ${r.minConsistency}%` : ''}`,
  );
  return out.join('\n') + '\n';
}

export function renderAlertsVerifyMarkdown(r: AlertsVerifyReport): string {
  return '```\n' + renderAlertsVerifyText(r) + '```\n';
}
