import { formatBytes, formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import type { SnapshotVerification } from './snapshot.js';

function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

function problemLine(p: { file: string; offset?: number; message: string; severity: string }): string {
  return `${p.severity.toUpperCase()} ${p.file}${p.offset !== undefined ? ` at byte ${p.offset}` : ''}: ${p.message}`;
}

function deepLine(v: SnapshotVerification): string | undefined {
  const d = v.deep;
  if (!d) return undefined;
  if (!d.opened) return `deep: a throwaway Prometheus could NOT open the snapshot: ${d.error ?? 'unknown error'}`;
  const cmp =
    d.liveSeries === undefined
      ? 'no live server to compare with'
      : d.mismatches.length
        ? `${d.mismatches.length} metric names differ from the live server (${d.liveSeries} series there): ${d.mismatches
            .slice(0, 5)
            .map((m) => `${m.name} ${m.snapshot}/${m.live}`)
            .join(', ')}`
        : `identical to the live server per metric name (${d.liveSeries} series)`;
  return `deep: Prometheus ${d.prometheusVersion ?? '?'} opened the copy in ${formatDuration(d.startMs)}; ${d.snapshotSeries} series in ${iso(d.windowStart)} .. ${iso(d.windowEnd)}, ${cmp}${d.error ? `; error: ${d.error}` : ''}`;
}

/** One row a block, the same columns in text and Markdown. */
function blockRows(v: SnapshotVerification) {
  return v.blocks.map((b) => [
    b.ulid,
    b.ok ? 'ok' : 'CORRUPT',
    iso(b.minTime),
    iso(b.maxTime),
    b.series,
    b.chunks,
    b.samples,
    b.bytes,
  ]);
}

export function renderVerificationText(v: SnapshotVerification): string {
  const out: string[] = [];
  out.push(
    `${v.ok ? 'OK' : 'FAILED'}  ${v.path}: ${v.blocks.length} blocks, ${formatBytes(v.bytesRead)} checked in ${formatDuration(v.durationMs)}`,
  );
  out.push(
    textTable(['BLOCK', 'STATUS', 'MIN TIME', 'MAX TIME', 'SERIES', 'CHUNKS', 'SAMPLES', 'BYTES'], blockRows(v)),
  );
  for (const p of v.problems) out.push(`  ${problemLine(p)}`);
  const d = deepLine(v);
  if (d) out.push(d);
  return out.join('\n') + '\n';
}

export function renderVerificationMarkdown(v: SnapshotVerification): string {
  const out: string[] = [];
  out.push(
    `**Snapshot \`${v.path}\`: ${v.ok ? 'verified' : 'FAILED verification'}** (${v.blocks.length} blocks, ${formatBytes(v.bytesRead)} in ${formatDuration(v.durationMs)}; meta.json, index header/TOC/section CRCs, every chunk CRC32C)`,
    '',
  );
  out.push(mdTable(['Block', 'Status', 'Min time', 'Max time', 'Series', 'Chunks', 'Samples', 'Bytes'], blockRows(v)));
  if (v.problems.length) out.push('', ...v.problems.map((p) => `- ${problemLine(p)}`));
  const d = deepLine(v);
  if (d) out.push('', `- ${d}`);
  return out.join('\n') + '\n';
}
