import { formatDuration } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import type { ChangeKind, RewriteResult } from './rewrite.js';

export type OutcomeStatus =
  | 'changed'
  | 'would-change'
  | 'unchanged'
  | 'exported'
  | 'restored'
  | 'would-restore'
  | 'refused'
  | 'provisioned'
  | 'conflict'
  | 'failed'
  | 'skipped';

/** One dashboard (or library panel, or datasource) in a migrate, export or restore run. */
export interface Outcome {
  kind: 'dashboard' | 'library-element' | 'datasource';
  uid?: string;
  title?: string;
  /** files mode: path relative to the input; api mode: folder path. */
  where?: string;
  status: OutcomeStatus;
  reason?: string;
  rewritten: number;
  byKind: Partial<Record<ChangeKind, number>>;
  viaVariable: number;
  /** References to the source still there after the run (re-counted on what was written). */
  remaining: number;
  inputsRemoved: number;
  warnings: string[];
  version?: { from?: number; to?: number };
  diff?: string;
}

export interface DatasourceRef {
  name: string;
  uid: string;
  type: string;
}

export interface DatasourceLink {
  datasource: DatasourceRef;
  tempo: DatasourceRef;
  label: string;
  status: 'linked' | 'already-linked' | 'would-link' | 'not-applied';
  reason?: string;
  /** Provisioning YAML for the target datasource when the link could not be applied through the API. */
  provisioning?: string;
}

export interface MigrationReport {
  command: 'migrate';
  mode: 'files' | 'api';
  source: string;
  from: DatasourceRef;
  to: DatasourceRef;
  dryRun: boolean;
  backupDir?: string;
  output?: string;
  outcomes: Outcome[];
  datasourceLink?: DatasourceLink;
  totals: Totals;
  durationMs: number;
  /**
   * Stopped (Ctrl-C) before every dashboard was done: `done` were migrated (or found unchanged) and are in
   * `outcomes`, the others were not touched (`total`: files mode, where the list is known up front).
   */
  interrupted?: { done: number; total?: number };
}

export interface Totals {
  items: number;
  byStatus: Partial<Record<OutcomeStatus, number>>;
  rewritten: number;
  remaining: number;
  viaVariable: number;
  exemplars: number;
  exprs: number;
  warnings: number;
}

export function outcomeFrom(
  kind: Outcome['kind'],
  base: { uid?: string; title?: string; where?: string },
  r: RewriteResult | undefined,
  status: OutcomeStatus,
): Outcome {
  return {
    kind,
    ...base,
    status,
    rewritten: r?.rewritten ?? 0,
    byKind: r?.byKind ?? {},
    viaVariable: r?.viaVariable ?? 0,
    remaining: 0,
    inputsRemoved: r?.inputsRemoved ?? 0,
    warnings: r?.warnings ?? [],
  };
}

export function totals(outcomes: Outcome[]): Totals {
  const t: Totals = {
    items: outcomes.length,
    byStatus: {},
    rewritten: 0,
    remaining: 0,
    viaVariable: 0,
    exemplars: 0,
    exprs: 0,
    warnings: 0,
  };
  for (const o of outcomes) {
    t.byStatus[o.status] = (t.byStatus[o.status] ?? 0) + 1;
    t.rewritten += o.rewritten;
    t.remaining += o.remaining;
    t.viaVariable += o.viaVariable;
    t.exemplars += o.byKind.exemplar ?? 0;
    t.exprs += o.byKind.expr ?? 0;
    t.warnings += o.warnings.length;
  }
  return t;
}

/** Statuses that leave work undone: the run exits 1 so a pipeline notices. */
export const INCOMPLETE: ReadonlySet<OutcomeStatus> = new Set(['refused', 'provisioned', 'conflict', 'failed']);

export function incomplete(outcomes: Outcome[]): boolean {
  return outcomes.some((o) => INCOMPLETE.has(o.status) || o.remaining > 0);
}

const KIND_LABEL: Record<ChangeKind, string> = {
  panel: 'panel',
  target: 'target',
  variable: 'query var',
  'datasource-variable': 'ds var',
  annotation: 'annotation',
  input: 'input',
  exemplar: 'exemplar',
  expr: 'promql',
};

export function describeKinds(o: Outcome): string {
  const parts = (Object.entries(o.byKind) as Array<[ChangeKind, number]>)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${KIND_LABEL[k]}${n === 1 ? '' : 's'}`);
  if (o.inputsRemoved) parts.push(`${o.inputsRemoved} __inputs removed`);
  if (o.viaVariable) parts.push(`${o.viaVariable} via variable`);
  return parts.join(', ');
}

function statusLine(t: Totals): string {
  return Object.entries(t.byStatus)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
}

function label(o: Outcome): string {
  const title = o.title && o.title.length > 60 ? `${o.title.slice(0, 57)}...` : o.title;
  const name = title ? `${title}` : (o.uid ?? '');
  const kind = o.kind === 'dashboard' ? '' : `[${o.kind === 'library-element' ? 'library panel' : 'datasource'}] `;
  return `${kind}${name}${o.uid && o.title ? ` (${o.uid})` : ''}`;
}

function noteOf(o: Outcome): string {
  const notes = [
    o.reason,
    o.remaining ? `${o.remaining} source references left` : undefined,
    o.warnings.length ? `${o.warnings.length} warning${o.warnings.length === 1 ? '' : 's'}` : undefined,
  ];
  return notes.filter(Boolean).join('; ');
}

export function renderMigrationText(r: MigrationReport): string {
  const lines: string[] = [];
  lines.push(
    `stackshift dashboards migrate (${r.mode} mode${r.dryRun ? ', dry run' : ''}): ${r.from.name} (${r.from.uid}) -> ${r.to.name} (${r.to.uid})`,
  );
  lines.push(`source: ${r.source}${r.output ? `; output: ${r.output}` : ''}`);
  lines.push('');
  lines.push(
    textTable(
      ['STATUS', 'DASHBOARD', 'WHERE', 'REFS', 'CHANGES', 'NOTES'],
      r.outcomes.map((o) => [o.status, label(o), o.where, o.rewritten, describeKinds(o), noteOf(o)]),
    ),
  );
  const warned = r.outcomes.filter((o) => o.warnings.length > 0);
  if (warned.length) {
    lines.push('', 'Warnings:');
    for (const o of warned) for (const w of o.warnings) lines.push(`  ${label(o)}: ${w}`);
  }
  if (r.datasourceLink) lines.push('', renderLinkText(r.datasourceLink));
  const diffs = r.outcomes.filter((o) => o.diff);
  if (diffs.length) {
    lines.push('');
    for (const o of diffs) lines.push(o.diff!.trimEnd());
  }
  const t = r.totals;
  lines.push('');
  lines.push(
    `${t.items} item${t.items === 1 ? '' : 's'}: ${statusLine(t)}. ${t.rewritten} datasource reference${t.rewritten === 1 ? '' : 's'} ${r.dryRun ? 'to rewrite' : 'rewritten'}, ${t.remaining} left${t.viaVariable ? `, ${t.viaVariable} fields follow a datasource variable` : ''}${t.exemplars ? `, ${t.exemplars} exemplar toggles` : ''}${t.exprs ? `, ${t.exprs} PromQL fixes` : ''}; ${formatDuration(r.durationMs)}.`,
  );
  if (r.interrupted) lines.push(`Interrupted: ${interruptedLine(r)}.`);
  if (r.backupDir)
    lines.push(
      `Backup: ${r.backupDir} (undo with: stackshift dashboards restore --from ${r.backupDir}${r.mode === 'api' ? ' --grafana-url ...' : ''})`,
    );
  else if (!r.dryRun && r.mode === 'files' && r.output)
    lines.push('No backup needed: the input files were not modified.');
  return lines.join('\n') + '\n';
}

/** "12 of 285 files done; the other 273 were not touched", for the summary and the interrupt message. */
export function interruptedLine(r: MigrationReport): string {
  const i = r.interrupted!;
  const unit = r.mode === 'files' ? 'files' : 'dashboards';
  return i.total === undefined
    ? `${i.done} ${unit} done; the others were not touched${r.mode === 'api' ? ' (library panels and the exemplar link neither)' : ''}`
    : `${i.done} of ${i.total} ${unit} done; the other ${i.total - i.done} were not touched`;
}

function renderLinkText(l: DatasourceLink): string {
  const head = `Exemplar link ${l.datasource.name} -> ${l.tempo.name} (label ${l.label}): ${l.status}${l.reason ? ` (${l.reason})` : ''}`;
  return l.provisioning ? `${head}\n${l.provisioning.replace(/^/gm, '  ')}` : head;
}

export function renderMigrationMarkdown(r: MigrationReport): string {
  const out: string[] = [];
  out.push(`## Dashboards: ${r.from.name} → ${r.to.name}${r.dryRun ? ' (dry run)' : ''}`, '');
  out.push(
    `Mode: ${r.mode}. Source: \`${r.source}\`.${r.output ? ` Output: \`${r.output}\`.` : ''}${r.backupDir ? ` Backup: \`${r.backupDir}\`.` : ''}`,
    '',
  );
  out.push(
    mdTable(
      ['Status', 'Dashboard', 'Where', 'References', 'Changes', 'Notes'],
      r.outcomes.map((o) => [o.status, label(o), o.where, o.rewritten, describeKinds(o), noteOf(o)]),
    ),
    '',
  );
  const t = r.totals;
  out.push(
    `**${t.items} items: ${statusLine(t)}; ${t.rewritten} references ${r.dryRun ? 'to rewrite' : 'rewritten'}, ${t.remaining} left.**`,
    '',
  );
  if (r.interrupted) out.push(`**Interrupted:** ${interruptedLine(r)}.`, '');
  const warned = r.outcomes.filter((o) => o.warnings.length > 0);
  if (warned.length) {
    out.push('### Warnings', '');
    for (const o of warned) for (const w of o.warnings) out.push(`- ${label(o)}: ${w}`);
    out.push('');
  }
  if (r.datasourceLink)
    out.push('### Exemplar link', '', renderLinkText(r.datasourceLink).replace(/\n {2}/g, '\n    '), '');
  const diffs = r.outcomes.filter((o) => o.diff);
  if (diffs.length) {
    out.push('### Diff', '');
    for (const o of diffs) out.push('```diff', o.diff!.trimEnd(), '```', '');
  }
  return out.join('\n') + '\n';
}

export interface ExportReport {
  command: 'export';
  source: string;
  output: string;
  grafanaVersion?: string;
  folders: number;
  datasources: number;
  outcomes: Outcome[];
  totals: Totals;
  durationMs: number;
}

export function renderExportText(r: ExportReport): string {
  const lines = [
    `stackshift dashboards export: ${r.source}${r.grafanaVersion ? ` (Grafana ${r.grafanaVersion})` : ''} -> ${r.output}`,
    '',
  ];
  lines.push(
    textTable(
      ['STATUS', 'DASHBOARD', 'WHERE', 'NOTES'],
      r.outcomes.map((o) => [o.status, label(o), o.where, noteOf(o)]),
    ),
  );
  lines.push(
    '',
    `${r.totals.items} items: ${statusLine(r.totals)}; ${r.folders} folders, ${r.datasources} datasources; ${formatDuration(r.durationMs)}.`,
  );
  return lines.join('\n') + '\n';
}

export function renderExportMarkdown(r: ExportReport): string {
  return [
    `## Dashboards export`,
    '',
    `From \`${r.source}\` to \`${r.output}\`: ${statusLine(r.totals)}; ${r.folders} folders, ${r.datasources} datasources.`,
    '',
    mdTable(
      ['Status', 'Dashboard', 'Where', 'Notes'],
      r.outcomes.map((o) => [o.status, label(o), o.where, noteOf(o)]),
    ),
    '',
  ].join('\n');
}

export interface RestoreReport {
  command: 'restore';
  mode: 'files' | 'api';
  backup: string;
  target: string;
  dryRun: boolean;
  preRestoreBackup?: string;
  outcomes: Outcome[];
  totals: Totals;
  durationMs: number;
}

export function renderRestoreText(r: RestoreReport): string {
  const lines = [
    `stackshift dashboards restore (${r.mode} mode${r.dryRun ? ', dry run' : ''}): ${r.backup} -> ${r.target}`,
    '',
  ];
  lines.push(
    textTable(
      ['STATUS', 'ITEM', 'WHERE', 'NOTES'],
      r.outcomes.map((o) => [o.status, label(o), o.where, noteOf(o)]),
    ),
  );
  const diffs = r.outcomes.filter((o) => o.diff);
  if (diffs.length) {
    lines.push('');
    for (const o of diffs) lines.push(o.diff!.trimEnd());
  }
  lines.push('', `${r.totals.items} items: ${statusLine(r.totals)}; ${formatDuration(r.durationMs)}.`);
  if (r.preRestoreBackup) lines.push(`What was there before the restore is in ${r.preRestoreBackup}.`);
  return lines.join('\n') + '\n';
}

export function renderRestoreMarkdown(r: RestoreReport): string {
  const out = [
    `## Dashboards restore${r.dryRun ? ' (dry run)' : ''}`,
    '',
    `From \`${r.backup}\` to \`${r.target}\`: ${statusLine(r.totals)}.`,
    '',
    mdTable(
      ['Status', 'Item', 'Where', 'Notes'],
      r.outcomes.map((o) => [o.status, label(o), o.where, noteOf(o)]),
    ),
    '',
  ];
  for (const o of r.outcomes.filter((x) => x.diff)) out.push('```diff', o.diff!.trimEnd(), '```', '');
  return out.join('\n');
}
