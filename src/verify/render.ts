import { formatCount, formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import { formatTime } from '../timeutil/index.js';
import type { Discrepancy, MetricsReport } from './metrics.js';

export function formatPercent(p: number): string {
  if (p === 100) return '100 %';
  // never round a failing figure up to 100
  const s = p >= 99.99 ? (Math.floor(p * 1e4) / 1e4).toFixed(4) : p.toFixed(2);
  return `${s} %`;
}

/** One line per discrepancy: what is wrong and where to look first. */
export function describeDiscrepancy(d: Discrepancy): string {
  if (d.kind === 'missing-series') return d.samples ? `missing in target (${d.samples} samples)` : 'missing in target';
  if (d.kind === 'extra-series') return d.samples ? `only in target (${d.samples} samples)` : 'only in target';
  const parts: string[] = [];
  for (const g of d.gaps ?? [])
    parts.push(`gap ${formatTime(g.fromMs)} .. ${formatTime(g.toMs)} (${g.samples} samples)`);
  for (const v of d.valueDifferences ?? [])
    parts.push(`value at ${formatTime(v.timestampMs)}: source ${v.source}, target ${v.target}`);
  for (const s of d.shifted ?? [])
    parts.push(`timestamp shifted ${formatTime(s.fromMs)} -> ${formatTime(s.toMs)} (value ${s.value})`);
  for (const t of d.staleMarkersMissing ?? []) parts.push(`stale marker lost at ${formatTime(t)}`);
  for (const t of d.staleMarkersUnexpected ?? []) parts.push(`extra stale marker at ${formatTime(t)}`);
  for (const t of d.missingSamples ?? []) parts.push(`sample missing at ${formatTime(t)}`);
  for (const t of d.unexpectedSamples ?? []) parts.push(`unexpected sample at ${formatTime(t)}`);
  if (parts.length === 0 && d.firstDifference)
    parts.push(`first difference at ${formatTime(d.firstDifference.timestampMs)} (${d.firstDifference.kind})`);
  return parts.slice(0, 3).join('; ') + (parts.length > 3 ? `; +${parts.length - 3} more` : '');
}

function headline(r: MetricsReport): string[] {
  const c = r.consistency;
  const ci = c.confidenceInterval
    ? ` (95 % CI ${formatPercent(c.confidenceInterval.lowPercent)} .. ${formatPercent(c.confidenceInterval.highPercent)})`
    : '';
  const gate = c.gate ? `, gate >= ${c.gate.minPercent} %: ${c.gate.passed ? 'passed' : 'FAILED'}` : '';
  const nothing = r.evidence.passed ? '' : ` (FAILED: ${r.evidence.reason})`;
  return [
    `Consistency: ${formatPercent(c.percent)} of ${c.basis}${ci}${gate}${nothing}`,
    `Source ${r.source.url} -> target ${r.target.url}, ${r.window.start} .. ${r.window.end}, ${r.selectors.join(' or ')}, ${r.mode}, values ${r.valueEquality.mode === 'bit-exact' ? 'bit-exact' : `within ${r.valueEquality.relativeTolerance} relative`}`,
  ];
}

function counts(r: MetricsReport): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const s = r.series;
  rows.push([
    'series (series API)',
    `${s.source} in source, ${s.target} in target, ${s.matched} on both, ${s.missing} missing, ${s.extra} extra (${formatPercent(s.percent)})`,
  ]);
  if (r.samples) {
    const x = r.samples;
    rows.push([
      'samples',
      `${x.expected} expected, ${x.matched} matched, ${x.mismatched} with another value, ${x.missing} missing, ${x.unexpected} unexpected`,
    ]);
    rows.push([
      'series compared',
      `${x.seriesCompared}: ${x.seriesMatched} identical, ${x.seriesDifferent} different, ${x.seriesMissing} missing, ${x.seriesExtra} extra (${x.chunkMatches} series-windows proven equal by identical chunk bytes, ${x.refetches} re-read)`,
    ]);
    rows.push([
      'findings',
      `${x.gaps} gaps, ${x.shiftedTimestamps} shifted timestamps, ${x.staleMarkersMissing} stale markers lost, ${x.staleMarkersUnexpected} extra stale markers`,
    ]);
  }
  if (r.sampling) {
    const m = r.sampling;
    const w = m.seriesFullyConsistent;
    rows.push([
      'sampling',
      `${m.sampled} of ${m.population} series (fraction ${m.fraction.toPrecision(3)}, seed ${m.seed}); series fully consistent ${formatPercent(w.percent)} (95 % CI ${formatPercent(w.confidenceInterval.lowPercent)} .. ${formatPercent(w.confidenceInterval.highPercent)}, Wilson)`,
    ]);
  }
  const ex = r.excluded;
  if (ex.patterns.length)
    rows.push([
      'excluded',
      `metric names matching ${ex.patterns.map((p) => `"${p}"`).join(', ')} (--exclude-series): ${ex.metrics.length ? ex.metrics.join(', ') : 'none in the window'}`,
    ]);
  if (r.throughput)
    rows.push([
      'throughput',
      `${formatCount(r.throughput.sourceSamplesPerSecond)} source samples/s (${formatCount(r.throughput.samplesReadPerSecond)} samples/s read from both sides) in ${formatDuration(r.durationMs)}`,
    ]);
  return rows;
}

export function renderMetricsText(r: MetricsReport): string {
  const out = [...headline(r), ''];
  for (const [k, v] of counts(r)) out.push(`${k.padEnd(20)} ${v}`);
  if (r.discrepancies.length) {
    out.push('', `Top discrepancies (${r.discrepancies.length}):`);
    out.push(
      textTable(
        ['kind', 'series', 'samples', 'detail'],
        r.discrepancies.map((d) => [d.kind, d.series, d.samples, describeDiscrepancy(d)]),
      ),
    );
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

export function renderMetricsMarkdown(r: MetricsReport): string {
  const [h, sub] = headline(r);
  const out = [`## Metrics parity`, '', `**${h}**`, '', sub, '', mdTable(['', 'counts'], counts(r)), ''];
  if (r.metrics.length)
    out.push(
      mdTable(
        ['metric', 'source series', 'target series', 'missing', 'extra', 'consistency'],
        r.metrics
          .slice(0, 20)
          .map((m) => [
            m.name,
            m.sourceSeries,
            m.targetSeries,
            m.missingSeries,
            m.extraSeries,
            m.percent === undefined ? '' : formatPercent(m.percent),
          ]),
      ),
      '',
    );
  if (r.discrepancies.length)
    out.push(
      mdTable(
        ['kind', 'series', 'samples', 'detail'],
        r.discrepancies.map((d) => [d.kind, `\`${d.series}\``, d.samples, describeDiscrepancy(d)]),
      ),
      '',
    );
  for (const w of r.warnings) out.push(`> warning: ${w}`);
  out.push('', `_${r.consistency.definition}_`, '');
  return out.join('\n');
}
