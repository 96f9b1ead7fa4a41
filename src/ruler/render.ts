import { relative } from 'node:path';
import type { PlanItem, RulesSyncReport } from './sync.js';

const MARK: Record<PlanItem['action'], string> = {
  create: '+',
  update: '~',
  unchanged: '=',
  remove: '-',
  conflict: '!',
};

const REASON: Record<NonNullable<PlanItem['reason']>, string> = {
  'edited-in-mimir': 'edited in Mimir after stackshift last wrote it',
  'deleted-in-mimir': 'deleted in Mimir after stackshift wrote it',
  'not-written-by-stackshift': 'exists in Mimir, not written by stackshift, and differs from the files',
};

function outcome(it: PlanItem, r: RulesSyncReport): string {
  switch (it.outcome) {
    case 'applied':
      return it.action === 'remove' || it.forcedAction === 'remove'
        ? 'deleted'
        : it.action === 'conflict'
          ? 'overwritten (--force)'
          : 'applied';
    case 'planned':
      return 'would apply (dry run)';
    case 'kept':
      return it.action === 'remove' ? 'kept: pass --prune to delete' : 'kept';
    case 'blocked':
      return it.forcedAction === 'remove' && r.force
        ? 'kept: pass --prune'
        : `not ${it.forcedAction === 'remove' ? 'deleted' : 'overwritten'}: pass --force after checking the change`;
    case 'failed':
      return `FAILED: ${it.error ?? ''}`;
    default:
      return '';
  }
}

function where(it: PlanItem): string {
  return it.source ? ` (${relative(process.cwd(), it.source.file) || it.source.file}:${it.source.line})` : '';
}

export function renderRulesSyncText(r: RulesSyncReport, opts: { showUnchanged?: boolean } = {}): string {
  const out: string[] = [];
  out.push(
    `rules sync -> ${r.target}${r.tenant ? ` (tenant ${r.tenant})` : ''}${r.dryRun ? '  [dry run: nothing is changed]' : ''}`,
  );
  if (r.fixes.length) {
    out.push('', `Prometheus ${r.toVersion} fixes applied to the expressions (lint prom3, cutover stage):`);
    for (const f of r.fixes)
      out.push(`  ${f.namespace}/${f.group} ${f.rule}: ${f.before.trim()}  ->  ${f.after.trim()}`);
  }
  if (r.experimentalFunctions.length) {
    out.push(
      '',
      `experimental on ${r.toVersion}: ${r.experimentalFunctions.join(', ')}: Mimir must have experimental PromQL functions enabled for the tenant, or these rules fail to evaluate`,
    );
  }
  if (r.promtool) {
    const feat = r.promtool.features.length ? ` --enable-feature=${r.promtool.features.join(',')}` : '';
    if (r.promtool.problems.length) {
      out.push(
        '',
        `promtool ${r.promtool.version} check rules${feat}: ${r.promtool.problems.length} problem(s); nothing was sent to Mimir`,
      );
      for (const p of r.promtool.problems) out.push(`  ${p}`);
    } else
      out.push(
        '',
        `promtool ${r.promtool.version} check rules${feat}: SUCCESS on ${r.promtool.checked} namespace file(s)`,
      );
  }
  const shown = r.items.filter((it) => opts.showUnchanged || it.action !== 'unchanged');
  if (shown.length) out.push('');
  for (const it of shown) {
    const head = `${MARK[it.action]} ${it.namespace}/${it.group}  ${it.action}${it.reason ? ` (${REASON[it.reason]})` : ''}${where(it)}`;
    const oc = outcome(it, r);
    out.push(oc ? `${head}  -> ${oc}` : head);
    for (const c of it.changes) out.push(`    ${c}`);
  }
  const c = r.counts;
  if (!r.promtool?.problems.length)
    out.push(
      '',
      `summary: ${c.create} to create, ${c.update} to update, ${c.unchanged} unchanged, ${c.remove} to remove, ${c.conflict} conflict(s); ${r.dryRun ? 'dry run, nothing sent' : `sent ${r.applied.set} set(s), ${r.applied.deleted} delete(s)`}`,
    );
  if (r.backupDir) out.push(`the ruler's groups were saved before the change: ${r.backupDir}`);
  if (r.unmanagedNamespaces.length)
    out.push(`namespaces in Mimir not in the files (left alone): ${r.unmanagedNamespaces.join(', ')}`);
  if (r.recordingRules.length) {
    out.push(
      '',
      `backfill advice: ${r.recordingRules.length} recording rule(s) will be evaluated by the Mimir ruler: ${r.recordingRules.join(', ')}.`,
      `  A metrics backfill would copy their series from Prometheus as well (two writers of one series). Exclude them from the backfill:`,
      `  stackshift backfill metrics ... ${r.backfillAdvice}`,
    );
  }
  if (r.exitCode === 1)
    out.push(
      '',
      'exit 1: conflicts blocked the sync (groups changed in Mimir); review the diff, then pass --force to overwrite them',
    );
  return out.join('\n') + '\n';
}

export function renderRulesSyncMarkdown(r: RulesSyncReport): string {
  return '```\n' + renderRulesSyncText(r) + '```\n';
}
