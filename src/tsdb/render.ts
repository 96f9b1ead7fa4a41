import { formatBytes } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import type { TsdbInspection } from './inspect.js';

function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

function encs(e: Record<string, number> | undefined): string {
  return e
    ? Object.entries(e)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || '-'
    : 'not scanned';
}

function blockRows(r: TsdbInspection) {
  return r.blocks.map((b) => [
    b.ulid,
    iso(b.minTime),
    iso(b.maxTime),
    b.stats.numSamples,
    b.stats.numChunks,
    b.stats.numSeries,
    b.compactionLevel,
    b.sources.length,
    b.indexVersion,
    encs(b.chunkEncodings),
    b.sizeBytes,
  ]);
}

const BLOCK_HEAD = [
  'ULID',
  'MIN TIME',
  'MAX TIME',
  'SAMPLES',
  'CHUNKS',
  'SERIES',
  'LEVEL',
  'SOURCES',
  'INDEX V',
  'ENCODINGS',
  'BYTES',
];

function walLine(name: string, w: TsdbInspection['wal']): string {
  if (!w?.present) return `${name}: none`;
  const types =
    Object.entries(w.recordTypes)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ') || 'no records';
  const cp = w.checkpoint
    ? `; ${w.checkpoint.name}: ${w.checkpoint.records} records (${Object.entries(w.checkpoint.recordTypes)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')})`
    : '';
  return `${name}: ${w.segments.length} segments${w.first !== undefined ? ` (${w.first}..${w.last})` : ''}, ${formatBytes(w.bytes)}, ${w.records} records: ${types}; compression ${w.compression.join('+') || 'n/a'}${w.zstdRecords ? `, ${w.zstdRecords} zstd records not typed` : ''}${cp}`;
}

export function renderInspectionText(r: TsdbInspection): string {
  const out: string[] = [];
  out.push(
    `${r.path} (${r.layout}, ${r.level === 'full' ? 'every checksum verified' : r.level === 'scan' ? 'chunks scanned' : 'headers only'})`,
  );
  out.push(
    `${r.totals.blocks} blocks, ${formatBytes(r.totals.blockBytes)}, ${r.totals.samples} samples, ${iso(r.totals.minTime)} .. ${iso(r.totals.maxTime)}; TSDB total ${formatBytes(r.totals.tsdbBytes)}`,
  );
  out.push('');
  if (r.blocks.length) out.push(textTable(BLOCK_HEAD, blockRows(r)));
  if (r.layout === 'data-dir') {
    out.push('');
    out.push(walLine('WAL', r.wal));
    out.push(walLine('WBL', r.wbl));
    const h = r.chunksHead;
    out.push(
      h?.present
        ? `chunks_head: ${h.files.length} files, ${formatBytes(h.bytes)}, ${h.chunks} chunks (${encs(h.encodings)})${h.outOfOrderChunks ? `, ${h.outOfOrderChunks} out-of-order` : ''}`
        : 'chunks_head: none',
    );
    out.push(
      `lock file: ${r.lock?.present ? `present${r.lock.heldByPid ? `, held by pid ${r.lock.heldByPid} (Prometheus is running on it)` : ', not held'}` : 'absent'}`,
    );
    out.push(
      `snapshots: ${r.snapshots.length ? r.snapshots.map((s) => `${s.name} (${s.blocks} blocks, ${formatBytes(s.exclusiveBytes)} exclusive)`).join(', ') : 'none'}`,
    );
  }
  out.push('');
  out.push(
    `Formats: index versions [${r.formats.indexVersions.join(', ')}], chunk encodings [${r.formats.blockChunkEncodings.join(', ')}], head chunk encodings [${r.formats.headChunkEncodings.join(', ')}], WAL record types [${r.formats.walRecordTypes.join(', ')}]`,
  );
  out.push('Which releases can open it:');
  const policies = new Map<string, string>();
  for (const v of r.compatibility.verdicts) {
    let mark = '';
    if (v.policy) {
      const key = `${v.policy.text} [${v.policy.source}]`;
      if (!policies.has(key)) policies.set(key, '*'.repeat(policies.size + 1));
      mark = ` ${policies.get(key)}`;
    }
    out.push(`  ${v.version.padEnd(7)} ${v.verdict}${mark}`);
    for (const b of v.blockers) out.push(`          blocker: ${b.text} [${b.source}]`);
    for (const l of v.losses) out.push(`          loses: ${l.text} [${l.source}]`);
  }
  for (const [text, mark] of policies) out.push(`  ${mark} policy: ${text}`);
  out.push('');
  const errors = r.problems.filter((p) => p.severity === 'error');
  out.push(r.problems.length ? `Problems (${errors.length} errors):` : 'No problems found.');
  for (const p of r.problems)
    out.push(`  ${p.severity.toUpperCase()} ${p.file}${p.offset !== undefined ? ` @${p.offset}` : ''}: ${p.message}`);
  return out.join('\n') + '\n';
}

export function renderInspectionMarkdown(r: TsdbInspection): string {
  const out: string[] = [];
  out.push(`## TSDB at \`${r.path}\` (${r.layout})`, '');
  out.push(
    `${r.totals.blocks} blocks, ${formatBytes(r.totals.blockBytes)}, ${r.totals.samples} samples from ${iso(r.totals.minTime)} to ${iso(r.totals.maxTime)}; TSDB total ${formatBytes(r.totals.tsdbBytes)}.`,
    '',
  );
  if (r.blocks.length) out.push(mdTable(BLOCK_HEAD, blockRows(r)), '');
  if (r.layout === 'data-dir') {
    out.push(`- ${walLine('WAL', r.wal)}`, `- ${walLine('WBL', r.wbl)}`);
    out.push(
      `- chunks_head: ${r.chunksHead?.present ? `${r.chunksHead.files.length} files, ${r.chunksHead.chunks} chunks (${encs(r.chunksHead.encodings)})` : 'none'}`,
    );
    out.push(
      `- lock file: ${r.lock?.present ? (r.lock.heldByPid ? `held by pid ${r.lock.heldByPid}` : 'present, not held') : 'absent'}`,
    );
    out.push(`- snapshots: ${r.snapshots.map((s) => s.name).join(', ') || 'none'}`, '');
  }
  out.push('### Which releases can open it', '');
  out.push(
    mdTable(
      ['Release', 'Verdict', 'Why (source)'],
      r.compatibility.verdicts.map((v) => [
        v.version,
        v.verdict,
        [
          ...v.blockers.map((b) => `blocker: ${b.text} (${b.source})`),
          ...v.losses.map((l) => `loses: ${l.text} (${l.source})`),
          ...(v.policy ? [`policy: ${v.policy.text} (${v.policy.source})`] : []),
        ].join('; ') || 'reads every index version, chunk encoding and WAL record type found',
      ]),
    ),
    '',
  );
  if (r.problems.length) {
    out.push('### Problems', '');
    out.push(
      mdTable(
        ['Severity', 'File', 'Offset', 'Message'],
        r.problems.map((p) => [p.severity, p.file, p.offset, p.message]),
      ),
      '',
    );
  }
  return out.join('\n');
}
