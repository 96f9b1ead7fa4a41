import { formatBytes, formatCount, formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import { formatPercent } from '../verify/index.js';
import type { LogsCopyReport } from './copy.js';
import type { LogsVerifyReport } from './verify.js';

const cut = (s: string | undefined, n = 80) => (s === undefined ? '' : s.length > n ? s.slice(0, n) + '...' : s);

function verifyLines(r: LogsVerifyReport): string[] {
  const g = r.consistency.gate;
  return [
    `logs parity ${r.source} -> ${r.target}, ${r.selector}, ${r.range.start} .. ${r.range.end} in ${r.range.windows} windows of ${formatDuration(r.range.windowMs)}`,
    `consistency ${formatPercent(r.consistency.percent)} (gate ${g.minPercent} %: ${g.passed ? 'passed' : 'FAILED'}): ${formatCount(r.lines.matched)} of ${formatCount(r.lines.expected)} lines matched, ${formatCount(r.lines.unexpected)} unexpected`,
    `streams: ${r.streams.source} source, ${r.streams.target} target, ${r.streams.matched} matched, ${r.streams.missing.length} missing, ${r.streams.extra.length} extra`,
    `windows: ${r.windows.compared} compared, ${r.windows.differing} differing; lines compared in ${r.samples.windows} windows: ${formatCount(r.samples.linesCompared)} (${r.samples.missing} missing, ${r.samples.extra} extra, ${r.samples.altered} altered)`,
    ...(r.lines.expected === 0 && r.lines.unexpected === 0
      ? ['warning: no lines on either side in this range: check --selector, --start and --end']
      : []),
  ];
}

export function renderLogsVerifyText(r: LogsVerifyReport): string {
  const out = verifyLines(r);
  for (const s of r.streams.missing) out.push(`missing stream ${s.stream} (${s.lines} lines)`);
  for (const s of r.streams.extra) out.push(`extra stream ${s.stream} (${s.lines} lines)`);
  if (r.windows.top.length)
    out.push(
      '',
      textTable(
        ['window', 'stream', 'source', 'target', 'kind'],
        r.windows.top.map((w) => [w.window, w.stream, w.source, w.target, w.kind]),
      ),
    );
  if (r.samples.top.length)
    out.push(
      '',
      textTable(
        ['stream', 'timestamp ns', 'kind', 'source line', 'target line'],
        r.samples.top.map((d) => [d.stream, d.timestampNs, d.kind, cut(d.source), cut(d.target)]),
      ),
    );
  return out.join('\n') + '\n';
}

export function renderLogsVerifyMarkdown(r: LogsVerifyReport): string {
  const out = ['## Logs parity', '', ...verifyLines(r).map((l) => `- ${l}`), ''];
  if (r.streams.missing.length || r.streams.extra.length) {
    out.push(
      mdTable(
        ['stream', 'side', 'lines'],
        [
          ...r.streams.missing.map((s) => [s.stream, 'missing on target', s.lines]),
          ...r.streams.extra.map((s) => [s.stream, 'extra on target', s.lines]),
        ],
      ),
      '',
    );
  }
  if (r.windows.top.length)
    out.push(
      mdTable(
        ['window', 'stream', 'source', 'target', 'kind'],
        r.windows.top.map((w) => [w.window, w.stream, w.source, w.target, w.kind]),
      ),
      '',
    );
  if (r.samples.top.length)
    out.push(
      mdTable(
        ['stream', 'timestamp ns', 'kind', 'source line', 'target line'],
        r.samples.top.map((d) => [d.stream, d.timestampNs, d.kind, cut(d.source), cut(d.target)]),
      ),
      '',
    );
  return out.join('\n');
}

export function renderLogsCopyText(r: LogsCopyReport): string {
  return (
    [
      `logs copy ${r.source} -> ${r.target}, ${r.selector}, ${r.range.start} .. ${r.range.end} (windows of ${formatDuration(r.range.windowMs)})`,
      `${r.complete ? 'complete' : r.interrupted ? 'INTERRUPTED (Ctrl-C; re-run the same command to resume)' : 'INCOMPLETE'}: ${r.streams} streams, ${r.units.done}/${r.units.total} units, ${formatCount(r.lines)} lines (${formatBytes(r.bytes)}) in ${r.pushes} pushes over ${r.runs} run(s); ${r.units.redoneAfterCrash} unit(s) redone after an interruption`,
      `this run: ${formatCount(r.thisRun.lines)} lines in ${r.thisRun.seconds} s (${formatCount(r.thisRun.linesPerSecond)} lines/s); state ${r.state}`,
    ].join('\n') + '\n'
  );
}

export function renderLogsCopyMarkdown(r: LogsCopyReport): string {
  return [
    '## Logs copy',
    '',
    ...renderLogsCopyText(r)
      .trim()
      .split('\n')
      .map((l) => `- ${l}`),
    '',
  ].join('\n');
}
