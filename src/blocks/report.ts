import type { Shard } from '../backfill/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { formatBytes, formatCount } from '../progress/index.js';

export type BlocksTarget =
  | { kind: 'dir'; dir: string }
  | { kind: 'prometheus-data-dir'; dir: string }
  | { kind: 'mimir'; endpoint: ResolvedEndpoint; stagingDir: string };

export interface BlocksReport {
  kind: 'backfill-blocks';
  source: { url: string; readPath: string; version?: string };
  target: { kind: BlocksTarget['kind']; location: string };
  range: { start: string; end: string; startMs: number; endMs: number };
  selectors: string[];
  shard?: Shard;
  state: string;
  blockDurationMs: number;
  plan: { names: number; units: number; unitsDone: number; resumed: boolean; runs: number };
  /** Over every run of the plan. */
  totals: { blocks: number; series: number; samples: number; histogramSamples: number; bytes: number; queries: number };
  run: {
    blocks: number;
    samples: number;
    units: number;
    redoneUnits: number;
    chunksCopied: number;
    chunksRecut: number;
    uploadsSkipped: number;
    durationMs: number;
    samplesPerSecond: number;
    peakRssBytes: number;
  };
  /** Blocks written (or found in place) by this run. */
  blocks: Array<{ ulid: string; minTime: number; maxTime: number; series: number; samples: number; chunks: number }>;
  advice: string[];
  /** Stopped (Ctrl-C) before every block range was done: re-run the same command to resume. */
  interrupted?: boolean;
}

export function renderBlocksText(r: BlocksReport): string {
  const lines = [
    `backfill blocks${r.interrupted ? ' (interrupted: partial; re-run the same command to resume)' : ''} ${r.source.url} (Prometheus ${r.source.version ?? '?'}) -> ${r.target.kind} ${r.target.location}`,
    `range ${r.range.start} .. ${r.range.end}, ${r.blockDurationMs / 3_600_000}h blocks, ${r.plan.names} metric names${r.shard ? `, shard ${r.shard.index}/${r.shard.count}` : ''}${r.plan.resumed ? ', resumed' : ''}`,
    `blocks: ${r.totals.blocks} written over ${r.plan.unitsDone}/${r.plan.units} block ranges (${r.run.blocks} this run${r.run.uploadsSkipped ? `, ${r.run.uploadsSkipped} already in Mimir` : ''})`,
    `copied: ${formatCount(r.totals.series)} series, ${formatCount(r.totals.samples)} float samples, ${formatCount(r.totals.histogramSamples)} histogram samples, ${formatBytes(r.totals.bytes)}`,
    `this run: ${formatCount(r.run.samples)} samples in ${(r.run.durationMs / 1000).toFixed(1)}s (${formatCount(r.run.samplesPerSecond)} samples/s), chunks ${formatCount(r.run.chunksCopied)} copied byte for byte, ${formatCount(r.run.chunksRecut)} re-cut at block boundaries; peak RSS ${formatBytes(r.run.peakRssBytes)}`,
  ];
  for (const a of r.advice) lines.push(`note: ${a}`);
  return lines.join('\n') + '\n';
}

export function renderBlocksMarkdown(r: BlocksReport): string {
  const rows = r.blocks
    .slice(0, 50)
    .map(
      (b) =>
        `| ${b.ulid} | ${new Date(b.minTime).toISOString()} | ${new Date(b.maxTime).toISOString()} | ${b.series} | ${b.samples} | ${b.chunks} |`,
    );
  return [
    `## backfill blocks`,
    '',
    `- source: ${r.source.url} (Prometheus ${r.source.version ?? '?'})`,
    `- target: ${r.target.kind} ${r.target.location}`,
    `- range: ${r.range.start} .. ${r.range.end}, ${r.blockDurationMs / 3_600_000}h blocks`,
    `- blocks: ${r.totals.blocks}; series ${r.totals.series}; float samples ${r.totals.samples}; histogram samples ${r.totals.histogramSamples}`,
    `- this run: ${r.run.samples} samples at ${r.run.samplesPerSecond} samples/s; chunks copied ${r.run.chunksCopied}, re-cut ${r.run.chunksRecut}`,
    '',
    '| ULID | min time | max time | series | samples | chunks |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...r.advice.map((a) => `> ${a}`),
    '',
  ].join('\n');
}
