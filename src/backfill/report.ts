import { formatBytes, formatCount, formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import type { BackfillReport } from './run.js';

function keyFigures(r: BackfillReport): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['source', `${r.source.url}${r.source.readPath} (Prometheus API ${r.source.version ?? '?'})`],
    ['target', `${r.target.url}${r.target.tenant ? ` tenant ${r.target.tenant}` : ''} (remote write ${r.target.remoteWrite})`],
    ['range', `${r.range.start} .. ${r.range.end} (end exclusive)`],
    ['selectors', r.selectors.join(' ')],
  ];
  if (r.shard) rows.push(['shard', `${r.shard.index}/${r.shard.count}`]);
  const ext = Object.entries(r.externalLabels.labels);
  rows.push(['external labels', ext.length ? `${ext.map(([k, v]) => `${k}="${v}"`).join(', ')} ${r.externalLabels.action}` : 'none']);
  if (r.estimate) {
    const e = r.estimate;
    rows.push(['series (seen)', formatCount(e.series)], ['samples (estimated)', formatCount(e.samples)], ['read rate', `${formatCount(e.readSamplesPerSecond)} samples/s`], ['duration (estimated, read side)', formatDuration(e.durationMs)]);
    return rows;
  }
  if (r.preflight) rows.push(['preflight', `probe ${r.preflight.probeSeries} @ ${r.preflight.timestamp}: HTTP ${r.preflight.writeStatus}, read back ${r.preflight.readBack}, ${r.preflight.probe === 'deleted' ? 'deleted again (admin API)' : 'kept in the target (verify metrics leaves it out by name)'}`]);
  if (r.readBack) rows.push(['read-back', r.readBack.enabled ? `every unit read back from ${r.readBack.url}; ${r.readBack.redoneUnits} units written again after a short read-back` : 'off (--no-readback or no readable target)']);
  const t = r.totals;
  rows.push(
    ['series', formatCount(t.series)],
    ['samples', `${t.samples} (${formatCount(t.samples)})`],
    ['bytes sent', formatBytes(t.bytes)],
    ['requests', String(t.requests)],
    ['units', `${r.plan.unitsDone}/${r.plan.units} done, ${r.plan.groups} name groups (${r.plan.names} metric names)${r.plan.resumed ? `, resumed (run ${r.plan.runs})` : ''}`],
  );
  if (r.interrupted) rows.push(['status', `interrupted (Ctrl-C): ${r.plan.units - r.plan.unitsDone} started units and the rest of the range left; re-run the same command to resume`]);
  if (r.run) rows.push(['this run', `${formatCount(r.run.samples)} samples in ${formatDuration(r.run.durationMs)} = ${formatCount(r.run.samplesPerSecond)} samples/s, ${r.run.units} units (${r.run.redoneUnits} redone${r.run.retriedRejectedUnits ? `, ${r.run.retriedRejectedUnits} refused in part before and sent again` : ''}), ${r.run.retries} retries, peak RSS ${formatBytes(r.run.peakRssBytes)}`]);
  if (t.histogramSamples) rows.push(['native histograms', `${t.histogramSamples} (${formatCount(t.histogramSamples)}) samples copied`]);
  if (t.unknownChunks) rows.push(['unknown chunks', `${t.unknownChunks} not copied`]);
  rows.push(['rejects', r.rejects.length ? r.rejects.map((x) => `${x.class}: ${x.requests} requests`).join(', ') : 'none']);
  return rows;
}

/** What the receiver kept of the refused requests, in one sentence (see the README's backfill section). */
export function keptSentence(r: BackfillReport): string {
  switch (r.target.keptOnRefusal) {
    case 'none':
      return 'a Prometheus receiver keeps nothing of a refused request; the acceptable part of each was re-sent in halves, and the samples counted are the ones it still refused';
    case 'rest':
      return 'the receiver stored the rest of each refused request; the samples counted are those of the refused requests, an upper bound of what it refused';
    default:
      return 'this receiver kind does not document what it keeps of a refused request; the acceptable part of each was re-sent in halves';
  }
}

export function renderBackfillText(r: BackfillReport): string {
  const lines = [r.kind === 'dry-run' ? 'Backfill estimate (dry run, nothing written)' : r.interrupted ? 'Backfill summary (interrupted: partial)' : 'Backfill summary', ''];
  const rows = keyFigures(r);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`${k.padEnd(w)}  ${v}`);
  if (r.rejects.length) {
    lines.push('', `Refused by the target (${keptSentence(r)}); the units are sent again by the next run:`, textTable(['class', 'requests', 'samples in them', 'example'], r.rejects.map((x) => [x.class, x.requests, x.samples, (x.example ?? '').slice(0, 80)])));
  }
  if (r.advice.length) lines.push('', 'Advice:', ...r.advice.map((a) => `- ${a}`));
  return lines.join('\n') + '\n';
}

export function renderBackfillMarkdown(r: BackfillReport): string {
  const out = [`## ${r.kind === 'dry-run' ? 'Backfill estimate (dry run)' : r.interrupted ? 'Backfill summary (interrupted: partial)' : 'Backfill summary'}`, '', mdTable(['', ''], keyFigures(r))];
  if (r.rejects.length) out.push('', '### Refused by the target', '', `${keptSentence(r)}; the units are sent again by the next run.`, '', mdTable(['class', 'requests', 'samples in them', 'fix'], r.rejects.map((x) => [x.class, x.requests, x.samples, x.advice])));
  if (r.advice.length) out.push('', '### Advice', '', ...r.advice.map((a) => `- ${a}`));
  return out.join('\n') + '\n';
}
