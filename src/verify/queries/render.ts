import { mdTable, textTable } from '../../report/index.js';
import type { QueryOrigin } from './extract.js';
import type { QueriesReport, QueryMismatch } from './run.js';

export function formatOrigin(o: QueryOrigin): string {
  const file = o.file.split('/').pop() ?? o.file;
  return `${file}${o.line ? `:${o.line}` : ''}${o.where ? ` ${o.where}` : ''}`;
}

function diffText(m: QueryMismatch): string {
  const d = m.differences.slice(0, 3).map((x) => {
    const at = x.atMs !== undefined ? ` @${new Date(x.atMs).toISOString()}` : '';
    if (x.kind === 'missing-in-target') return `${x.series} missing in target`;
    if (x.kind === 'extra-in-target') return `${x.series} only in target`;
    if (x.kind === 'points') return `${x.series}${at}: point only in ${x.source !== undefined ? 'source' : 'target'}`;
    return `${x.series}${at}: source ${x.source}, target ${x.target}`;
  });
  return [m.reason, ...d].join('; ');
}

function summary(r: QueriesReport): string[] {
  const t = r.totals;
  const l = r.latency;
  const gate = l.gate
    ? ` (gate: target within ${l.gate.maxIncreasePercent} % or ${l.gate.floorMs} ms: ${l.gate.passed ? 'passed' : 'FAILED'})`
    : '';
  const skipped = Object.entries(t.skippedNonPrometheus)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const e = r.evidence;
  const expected =
    t.failedAsExpected || t.notCompared
      ? `; ${t.failedAsExpected} failed on both as expected (should_fail)${t.notCompared ? `, ${t.notCompared} answered but not compared (skip_comparison)` : ''}`
      : '';
  return [
    `Query parity: ${r.passed ? 'PASSED' : 'FAILED'}: ${t.equal} of ${t.executions} results equal, ${t.mismatched} mismatched (${t.queries} queries, instant and range; ${t.emptyOnBoth} empty on both sides, ${t.errorOnBoth} the same error on both${expected})`,
    `Evidence: ${e.resultsWithData} of ${e.resultsCompared} results held series (${e.percentWithData} %${e.minNonEmptyPercent ? `, --min-nonempty ${e.minNonEmptyPercent} %` : ''})${e.passed ? '' : `: FAILED, ${e.reason}`}`,
    `Unsupported: ${t.unsupported} queries not run${skipped ? `; skipped non-Prometheus targets: ${skipped}` : ''}`,
    `Latency p50/p95: source ${l.source.p50Ms}/${l.source.p95Ms} ms, target ${l.target.p50Ms}/${l.target.p95Ms} ms (${l.p50IncreasePercent >= 0 ? '+' : ''}${l.p50IncreasePercent} % / ${l.p95IncreasePercent >= 0 ? '+' : ''}${l.p95IncreasePercent} %)${gate}`,
    `Source ${r.source.url} -> target ${r.target.url} at ${r.evaluation.time}, range ${r.evaluation.rangeMs / 1000}s step ${r.evaluation.stepMs / 1000}s, tolerance ${r.evaluation.tolerance}`,
  ];
}

export function renderQueriesText(r: QueriesReport): string {
  const out = summary(r);
  if (r.mismatches.length)
    out.push(
      '',
      'Mismatches:',
      textTable(
        ['#', 'type', 'origin', 'query', 'difference'],
        r.mismatches.map((m) => [m.id, m.type, formatOrigin(m.origin), m.query, diffText(m)]),
      ),
    );
  if (r.errorsOnBoth.length)
    out.push(
      '',
      'The same error on both sides (consistent):',
      textTable(
        ['#', 'type', 'origin', 'query', 'error'],
        r.errorsOnBoth.slice(0, 30).map((x) => [x.id, x.type, formatOrigin(x.origin), x.query, x.error.slice(0, 120)]),
      ),
    );
  if (r.unsupported.length)
    out.push(
      '',
      'Unsupported:',
      textTable(
        ['origin', 'reason', 'query'],
        r.unsupported.slice(0, 30).map((u) => [formatOrigin(u.origin), u.reason, u.expr.slice(0, 80)]),
      ),
    );
  return out.join('\n') + '\n';
}

export function renderQueriesMarkdown(r: QueriesReport): string {
  const [head, ...rest] = summary(r);
  const out = ['## Query parity', '', `**${head}**`, '', ...rest.map((x) => `- ${x}`), ''];
  if (r.mismatches.length)
    out.push(
      mdTable(
        ['#', 'type', 'origin', 'query', 'difference'],
        r.mismatches.map((m) => [m.id, m.type, formatOrigin(m.origin), `\`${m.query}\``, diffText(m)]),
      ),
      '',
    );
  if (r.unsupported.length)
    out.push(
      '<details><summary>Unsupported queries</summary>',
      '',
      mdTable(
        ['origin', 'reason'],
        r.unsupported.map((u) => [formatOrigin(u.origin), u.reason]),
      ),
      '',
      '</details>',
      '',
    );
  return out.join('\n');
}
