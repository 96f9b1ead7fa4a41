import { formatBytes, formatCount, formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import { formatPercent } from '../verify/index.js';
import type { CopyTracesReport } from './copy.js';
import type { TraceDiscrepancy, VerifyTracesReport } from './verify.js';

/** One line per differing trace: what is wrong, with the fields named. */
export function describeTrace(d: TraceDiscrepancy): string[] {
  const head = `trace ${d.traceId}: ${d.status}`;
  if (d.status === 'missing') return [`${head} (${d.sourceSpans} spans in the source, not found in the target by ID)`];
  const lines = [`${head} (${d.sourceSpans} source spans, ${d.targetSpans} target spans)`];
  for (const m of d.missingSpans) lines.push(`  span ${m.spanId} "${m.name}" (${m.service}) missing in the target`);
  for (const x of d.extraSpans) lines.push(`  span ${x.spanId} "${x.name}" (${x.service}) only in the target`);
  for (const s of d.differentSpans) {
    for (const f of s.fields)
      lines.push(`  span ${s.spanId} "${s.name}" ${f.field}: source ${f.source}, target ${f.target}`);
  }
  return lines;
}

function gateLine(r: VerifyTracesReport): string {
  const c = r.consistency;
  const gate = c.gate ? `, gate >= ${c.gate.minPercent} %: ${c.gate.passed ? 'passed' : 'FAILED'}` : '';
  const ci = r.sampling ? ` (sample of ${r.sampling.sampled} of ${r.sampling.population} traces)` : '';
  return `consistency ${formatPercent(c.percent)} of spans${ci}${gate}`;
}

export function renderVerifyTracesText(r: VerifyTracesReport): string {
  const t = r.traces;
  const s = r.spans;
  const out = [
    `traces verify: ${r.source.describe} -> ${r.target.describe}`,
    `window ${r.window.start} .. ${r.window.end}, ${r.services.length} services`,
    gateLine(r),
    `traces: ${t.compared} compared, ${t.complete} complete, ${t.partial} partial, ${t.missing} missing, ${t.different} different (${formatPercent(t.completePercent)} complete)`,
    `spans: ${s.source} in the source, ${s.target} in the target, ${s.matched} equal, ${s.missing} missing, ${s.different} different, ${s.extra} only in the target`,
  ];
  const tol = r.tolerances.filter((x) => x.count > 0);
  if (tol.length) out.push('tolerated:', ...tol.map((x) => `  ${x.id} x${x.count}: ${x.description}`));
  if (r.discrepancies.length) out.push('', 'differences:', ...r.discrepancies.flatMap(describeTrace));
  if (r.reverse)
    out.push(
      '',
      `reverse: ${r.reverse.targetTraces} target traces listed, ${r.reverse.missingInSource} not in the source${r.reverse.examples.length ? ` (${r.reverse.examples.join(', ')})` : ''}`,
    );
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(
    `took ${formatDuration(r.durationMs)}, ${formatCount(r.throughput.spansPerSecond)} spans/s, peak RSS ${formatBytes(r.peakRssBytes)}`,
  );
  return out.join('\n') + '\n';
}

export function renderVerifyTracesMarkdown(r: VerifyTracesReport): string {
  const t = r.traces;
  const s = r.spans;
  const out = [
    '## Trace parity',
    '',
    `${r.source.describe} -> ${r.target.describe}, window ${r.window.start} .. ${r.window.end}, services: ${r.services.join(', ') || '(none)'}.`,
    '',
    `**${gateLine(r)}**`,
    '',
    mdTable(
      ['Traces compared', 'Complete', 'Partial', 'Missing', 'Different'],
      [[t.compared, t.complete, t.partial, t.missing, t.different]],
    ),
    '',
    mdTable(
      ['Spans (source)', 'Spans (target)', 'Equal', 'Missing', 'Different', 'Only in target'],
      [[s.source, s.target, s.matched, s.missing, s.different, s.extra]],
    ),
    '',
    `Definition: ${r.consistency.definition}.`,
    '',
    '### Tolerances',
    '',
    mdTable(
      ['Tolerance', 'Count', 'What'],
      r.tolerances.map((x) => [x.id, x.count, x.description]),
    ),
  ];
  if (r.discrepancies.length)
    out.push('', '### Differences', '', '```', ...r.discrepancies.flatMap(describeTrace), '```');
  if (r.reverse)
    out.push(
      '',
      `Reverse: ${r.reverse.targetTraces} target traces listed, ${r.reverse.missingInSource} not in the source.`,
    );
  for (const w of r.warnings) out.push('', `> warning: ${w}`);
  return out.join('\n') + '\n';
}

export function renderCopyTracesText(r: CopyTracesReport): string {
  const out = [
    `traces copy${r.interrupted ? ' (interrupted: partial)' : ''}: ${r.source} -> ${r.target}`,
    `window ${r.window.start} .. ${r.window.end}; state ${r.state}${r.plan.resumed ? ` (resumed, run ${r.plan.runs})` : ''}`,
    textTable(
      ['units', 'done', 'traces', 'spans', 'bytes sent', 'rejected traces', 'rejected spans'],
      [
        [
          r.plan.units,
          r.plan.unitsDone,
          r.totals.traces,
          r.totals.spans,
          formatBytes(r.totals.bytes),
          r.totals.rejectedTraces,
          r.totals.rejectedSpans,
        ],
      ],
    ),
    `this run: ${r.run.traces} traces, ${r.run.spans} spans in ${formatDuration(r.run.durationMs)} (${formatCount(r.run.spansPerSecond)} spans/s, ${r.run.requests} requests), ${r.run.skippedDuplicates} already copied by another unit, ${r.run.settledInFlight} in-flight traces found in the target, ${r.run.resentInFlight} re-sent; peak RSS ${formatBytes(r.run.peakRssBytes)}`,
  ];
  if (r.rejects.length) out.push('rejections:', ...r.rejects.map((x) => `  ${x.count}x ${x.message}`));
  if (r.advice.length) out.push('', ...r.advice.map((a) => `note: ${a}`));
  if (r.interrupted)
    out.push(
      '',
      'interrupted (Ctrl-C): re-run the same command to resume; the traces on the wire are read back or re-sent',
    );
  else
    out.push(
      '',
      'next: stackshift traces verify --jaeger-url <source> --tempo-url <tempo> --start ... --end ...  (proves the copy by ID)',
    );
  return out.join('\n') + '\n';
}

export function renderCopyTracesMarkdown(r: CopyTracesReport): string {
  return [
    `## Trace copy${r.interrupted ? ' (interrupted: partial)' : ''}`,
    '',
    `${r.source} -> ${r.target}, window ${r.window.start} .. ${r.window.end}.`,
    '',
    mdTable(
      ['Units', 'Done', 'Traces', 'Spans', 'Bytes sent', 'Rejected traces', 'Rejected spans'],
      [
        [
          r.plan.units,
          r.plan.unitsDone,
          r.totals.traces,
          r.totals.spans,
          formatBytes(r.totals.bytes),
          r.totals.rejectedTraces,
          r.totals.rejectedSpans,
        ],
      ],
    ),
    '',
    ...r.advice.map((a) => `- ${a}`),
    '',
  ].join('\n');
}
