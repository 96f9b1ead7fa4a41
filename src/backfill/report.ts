/**
 * The backfill report: its document (what `--output json` prints and the rehearsal and migrate steps read), the
 * figures and advice filled in from the state's totals and the engine's result, and its text and Markdown
 * renderings. The run decides what happens; what is said about it to the user is here, in one place, so that a
 * new figure or piece of advice does not have to be threaded through the copy.
 */
import { readFileSync } from 'node:fs';
import { adviceForReject, type KeptOnRefusal, type ReceiverKind, type RemoteWriteVersion } from '../clients/index.js';
import { formatBytes, formatCount, formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import type { Label } from '../wire/index.js';
import type { EngineResult } from './engine.js';
import type { Shard } from './plan.js';
import type { RestartRisk } from './restart-risk.js';
import { PROBE_METRIC } from './preflight.js';
import type { Totals } from './state.js';

export interface RejectSummary {
  class: string;
  requests: number;
  samples: number;
  advice: string;
  example?: string;
}

export interface BackfillReport {
  kind: 'backfill' | 'dry-run';
  source: { url: string; readPath: string; version?: string; responseType?: string };
  target: {
    url: string;
    path: string;
    tenant?: string;
    remoteWrite: RemoteWriteVersion;
    readUrl?: string;
    receiver: ReceiverKind;
    keptOnRefusal: KeptOnRefusal;
    /** A Prometheus receiver's version (/api/v1/status/buildinfo at readUrl). */
    version?: string;
  };
  range: { start: string; end: string; startMs: number; endMs: number };
  selectors: string[];
  shard?: Shard;
  state?: string;
  externalLabels: { labels: Record<string, string>; action: 'kept' | 'dropped' };
  plan: { groups: number; names: number; units: number; unitsDone: number; resumed: boolean; runs: number };
  preflight?: {
    probeSeries: string;
    timestamp: string;
    writeStatus: number;
    readBack: boolean | 'skipped';
    probe: 'deleted' | 'kept';
  };
  /** Per-unit read-back of the copy from the target. */
  readBack?: { enabled: boolean; url?: string; redoneUnits: number };
  totals: {
    series: number;
    samples: number;
    bytes: number;
    requests: number;
    histogramSamples: number;
    unknownChunks: number;
  };
  run?: {
    samples: number;
    units: number;
    redoneUnits: number;
    retriedRejectedUnits: number;
    durationMs: number;
    samplesPerSecond: number;
    retries: number;
    peakRssBytes: number;
  };
  estimate?: {
    series: number;
    samples: number;
    readSamplesPerSecond: number;
    durationMs: number;
    windowsProbed: number;
  };
  rejects: RejectSummary[];
  advice: string[];
  /**
   * The receiver can lose acknowledged samples at its next restart (prometheus#19016): verify the copy again
   * after that restart with `verifyCommand`.
   */
  restartRisk?: RestartRisk;
  /** The run was stopped (Ctrl-C) before every unit was done: re-run the same command to resume. */
  interrupted?: boolean;
}

/** A report range from its bounds. */
export function reportRange(startMs: number, endMs: number): BackfillReport['range'] {
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), startMs, endMs };
}

/**
 * Peak resident memory of this process. Linux's VmHWM belongs to the process image; getrusage's maxRSS
 * also carries the parent's peak over fork+exec, which would blame a child for its parent's memory.
 */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** The plan, totals and rejects of the state file, with the advice the totals call for. */
export function fillTotals(report: BackfillReport, t: Totals, runs: number): void {
  report.plan.units = t.units;
  report.plan.unitsDone = t.unitsDone;
  report.plan.runs = runs;
  report.totals = {
    series: t.series,
    samples: t.samples,
    bytes: t.bytes,
    requests: t.requests,
    histogramSamples: t.histogramSamples,
    unknownChunks: t.unknownChunks,
  };
  report.rejects = t.rejects.map((r) => ({
    class: r.class,
    requests: r.requests,
    samples: r.samples,
    example: r.example,
    advice: adviceForReject(r.class),
  }));
  for (const r of report.rejects) report.advice.push(`${r.class}: ${r.advice}`);
  if (t.histogramSamples > 0) {
    report.advice.push(
      `${t.histogramSamples} native-histogram samples were copied as remote-write histograms: the target needs native histograms enabled (Prometheus: --enable-feature=native-histograms before 3.0) and, unless it accepts out-of-order histograms (Mimir; Prometheus 3.x with out_of_order_time_window), --read-concurrency 1 --write-concurrency 1 so that each series arrives in time order`,
    );
  }
  if (t.unknownChunks > 0) {
    report.advice.push(
      `${t.unknownChunks} chunks used an encoding stackshift does not decode (for example XOR2 from Prometheus 3.11+ with that feature on) and were not copied; disable the feature on the source or copy those series with block upload`,
    );
  }
}

/** This run's figures from the engine's result. */
export function runFigures(res: EngineResult): NonNullable<BackfillReport['run']> {
  return {
    samples: res.samples,
    units: res.units,
    redoneUnits: res.redoneUnits,
    retriedRejectedUnits: res.retriedRejectedUnits,
    durationMs: res.ms,
    samplesPerSecond: res.ms ? Math.round((res.samples * 1000) / res.ms) : 0,
    retries: res.retries,
    peakRssBytes: peakRss(),
  };
}

/** What the external labels of the source mean for the copy, kept or dropped. */
export function externalAdvice(ext: Label[], keep: boolean): string[] {
  if (ext.length === 0) return [];
  const l = ext.map((x) => `${x.name}="${x.value}"`).join(', ');
  return keep
    ? [
        `the source's external labels (${l}) were copied onto every series, as Prometheus's own remote_write does, so backfilled history joins the live series; use --drop-external-labels if the live path does not add them`,
      ]
    : [
        `the source's external labels (${l}) were dropped; if the live remote_write adds them, history and live data are different series`,
      ];
}

/** Where a preflight probe that could not be deleted stays, and why it does not count as a difference. */
export function probeAdvice(report: BackfillReport): string[] {
  return report.preflight?.probe === 'kept'
    ? [
        `the preflight probe ${report.preflight.probeSeries} stays in the target; verify metrics leaves ${PROBE_METRIC} out by name`,
      ]
    : [];
}

function keyFigures(r: BackfillReport): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['source', `${r.source.url}${r.source.readPath} (Prometheus API ${r.source.version ?? '?'})`],
    [
      'target',
      `${r.target.url}${r.target.tenant ? ` tenant ${r.target.tenant}` : ''} (remote write ${r.target.remoteWrite})`,
    ],
    ['range', `${r.range.start} .. ${r.range.end} (end exclusive)`],
    ['selectors', r.selectors.join(' ')],
  ];
  if (r.shard) rows.push(['shard', `${r.shard.index}/${r.shard.count}`]);
  const ext = Object.entries(r.externalLabels.labels);
  rows.push([
    'external labels',
    ext.length ? `${ext.map(([k, v]) => `${k}="${v}"`).join(', ')} ${r.externalLabels.action}` : 'none',
  ]);
  if (r.estimate) {
    const e = r.estimate;
    rows.push(
      ['series (seen)', formatCount(e.series)],
      ['samples (estimated)', formatCount(e.samples)],
      ['read rate', `${formatCount(e.readSamplesPerSecond)} samples/s`],
      ['duration (estimated, read side)', formatDuration(e.durationMs)],
    );
    return rows;
  }
  if (r.preflight)
    rows.push([
      'preflight',
      `probe ${r.preflight.probeSeries} @ ${r.preflight.timestamp}: HTTP ${r.preflight.writeStatus}, read back ${r.preflight.readBack}, ${r.preflight.probe === 'deleted' ? 'deleted again (admin API)' : 'kept in the target (verify metrics leaves it out by name)'}`,
    ]);
  if (r.readBack)
    rows.push([
      'read-back',
      r.readBack.enabled
        ? `every unit read back from ${r.readBack.url}; ${r.readBack.redoneUnits} units written again after a short read-back`
        : 'off (--no-readback or no readable target)',
    ]);
  const t = r.totals;
  rows.push(
    ['series', formatCount(t.series)],
    ['samples', `${t.samples} (${formatCount(t.samples)})`],
    ['bytes sent', formatBytes(t.bytes)],
    ['requests', String(t.requests)],
    [
      'units',
      `${r.plan.unitsDone}/${r.plan.units} done, ${r.plan.groups} name groups (${r.plan.names} metric names)${r.plan.resumed ? `, resumed (run ${r.plan.runs})` : ''}`,
    ],
  );
  if (r.interrupted)
    rows.push([
      'status',
      `interrupted (Ctrl-C): ${r.plan.units - r.plan.unitsDone} started units and the rest of the range left; re-run the same command to resume`,
    ]);
  if (r.run)
    rows.push([
      'this run',
      `${formatCount(r.run.samples)} samples in ${formatDuration(r.run.durationMs)} = ${formatCount(r.run.samplesPerSecond)} samples/s, ${r.run.units} units (${r.run.redoneUnits} redone${r.run.retriedRejectedUnits ? `, ${r.run.retriedRejectedUnits} refused in part before and sent again` : ''}), ${r.run.retries} retries, peak RSS ${formatBytes(r.run.peakRssBytes)}`,
    ]);
  if (t.histogramSamples)
    rows.push(['native histograms', `${t.histogramSamples} (${formatCount(t.histogramSamples)}) samples copied`]);
  if (t.unknownChunks) rows.push(['unknown chunks', `${t.unknownChunks} not copied`]);
  if (r.restartRisk)
    rows.push([
      'after its restart',
      `verify again (${r.restartRisk.issue}, Prometheus ${r.restartRisk.version}): ${r.restartRisk.verifyCommand}`,
    ]);
  rows.push([
    'rejects',
    r.rejects.length ? r.rejects.map((x) => `${x.class}: ${x.requests} requests`).join(', ') : 'none',
  ]);
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
  const lines = [
    r.kind === 'dry-run'
      ? 'Backfill estimate (dry run, nothing written)'
      : r.interrupted
        ? 'Backfill summary (interrupted: partial)'
        : 'Backfill summary',
    '',
  ];
  const rows = keyFigures(r);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`${k.padEnd(w)}  ${v}`);
  if (r.rejects.length) {
    lines.push(
      '',
      `Refused by the target (${keptSentence(r)}); the units are sent again by the next run:`,
      textTable(
        ['class', 'requests', 'samples in them', 'example'],
        r.rejects.map((x) => [x.class, x.requests, x.samples, (x.example ?? '').slice(0, 80)]),
      ),
    );
  }
  if (r.advice.length) lines.push('', 'Advice:', ...r.advice.map((a) => `- ${a}`));
  return lines.join('\n') + '\n';
}

export function renderBackfillMarkdown(r: BackfillReport): string {
  const out = [
    `## ${r.kind === 'dry-run' ? 'Backfill estimate (dry run)' : r.interrupted ? 'Backfill summary (interrupted: partial)' : 'Backfill summary'}`,
    '',
    mdTable(['', ''], keyFigures(r)),
  ];
  if (r.rejects.length)
    out.push(
      '',
      '### Refused by the target',
      '',
      `${keptSentence(r)}; the units are sent again by the next run.`,
      '',
      mdTable(
        ['class', 'requests', 'samples in them', 'fix'],
        r.rejects.map((x) => [x.class, x.requests, x.samples, x.advice]),
      ),
    );
  if (r.advice.length) out.push('', '### Advice', '', ...r.advice.map((a) => `- ${a}`));
  return out.join('\n') + '\n';
}
