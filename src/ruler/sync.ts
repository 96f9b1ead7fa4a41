import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { backfillExclusion } from './advice.js';
import { EXPERIMENTAL_FUNCTIONS_FLAG, FUNCTIONS, inSemverRange, parseVersion } from '../compat/index.js';
import { UsageError } from '../errors/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { applyPromQLFixes, loadAll, runPromtool } from '../lint/index.js';
import { log } from '../log/index.js';
import { functionCalls, parsePromQL } from '../promql/index.js';
import { MimirRulerClient, type RemoteRules } from './client.js';
import { describeChanges, groupDocument, groupHash, sameGroup, type RuleGroup } from './model.js';
import { readRuleSources, type NamespaceFrom, type SourceGroup } from './read.js';
import type { RulesRecords } from './state.js';

/**
 * `rules sync`: the groups of the rule files -> the Mimir ruler, as a diff first. Per group:
 *
 *   create    in the files, not in Mimir, never written by stackshift
 *   update    differs, and Mimir still holds what stackshift last wrote (only the files changed)
 *   unchanged the same canonical form (formatting, key order, duration spelling are no difference)
 *   remove    in Mimir, in a namespace the files own (or written by stackshift before), not in the files:
 *             deleted only with --prune
 *   conflict  Mimir's copy was edited or deleted after stackshift wrote it, or a group with this name that
 *             stackshift never wrote differs from the files: shown, and not touched without --force
 *
 * Every write is one POST of a whole group (idempotent: set replaces) or one DELETE; the state records each
 * write as it succeeds, so an interrupted sync is resumed by running it again. Before any group that exists
 * in Mimir is replaced or deleted, the namespaces involved are saved as mimirtool-format YAML (backupDir).
 */
export type Action = 'create' | 'update' | 'unchanged' | 'remove' | 'conflict';
export type ConflictReason = 'edited-in-mimir' | 'deleted-in-mimir' | 'not-written-by-stackshift';

export interface PlanItem {
  namespace: string;
  group: string;
  action: Action;
  reason?: ConflictReason;
  /** What a conflict would do when forced. */
  forcedAction?: 'create' | 'update' | 'remove';
  desired?: RuleGroup;
  remote?: RuleGroup;
  source?: { file: string; line: number };
  /** Rule-level differences, remote -> desired (for remove: every rule goes). */
  changes: string[];
  /** What happened: done, skipped (dry run / no --prune / conflict without --force), failed. */
  outcome?: 'applied' | 'planned' | 'kept' | 'blocked' | 'failed';
  error?: string;
}

export interface FixedExpr {
  namespace: string;
  group: string;
  rule: string;
  before: string;
  after: string;
}

export interface RulesSyncReport {
  target: string;
  tenant?: string;
  dryRun: boolean;
  prune: boolean;
  force: boolean;
  toVersion?: string;
  items: PlanItem[];
  counts: Record<'create' | 'update' | 'unchanged' | 'remove' | 'conflict', number>;
  applied: { set: number; deleted: number };
  fixes: FixedExpr[];
  promtool?: { binary: string; version: string; checked: number; problems: string[]; features: string[] };
  /** Recording rules whose series the backfill would copy next to what the ruler writes. */
  recordingRules: string[];
  backfillAdvice?: string;
  experimentalFunctions: string[];
  unmanagedNamespaces: string[];
  backupDir?: string;
  exitCode: 0 | 1 | 2;
}

export interface RulesSyncParams {
  rules: string[];
  namespaceFrom?: NamespaceFrom;
  client: MimirRulerClient;
  records: RulesRecords;
  dryRun?: boolean;
  prune?: boolean;
  force?: boolean;
  /** Apply the Prometheus 3 PromQL fixes (lint, cutover stage) for this target version. */
  toVersion?: string;
  fromVersion?: string;
  /** promtool of the target version: every namespace is checked with `promtool check rules`. */
  promtool?: string;
  backupDir?: string;
  /** Only these namespaces of the inputs (default: all). */
  namespaces?: string[];
}

function key(ns: string, g: string): string {
  return `${ns}\u0000${g}`;
}

/** The plan, from the inputs, the ruler's groups and the records of earlier syncs. */
export function planSync(desired: SourceGroup[], remote: RemoteRules, records: RulesRecords): PlanItem[] {
  const items: PlanItem[] = [];
  const wanted = new Set(desired.map((d) => key(d.namespace, d.group.name)));
  const owned = new Set(desired.map((d) => d.namespace));
  for (const r of records.all()) owned.add(r.namespace);
  for (const d of desired) {
    const remoteGroup = remote.get(d.namespace)?.find((g) => g.name === d.group.name);
    const rec = records.get(d.namespace, d.group.name);
    const base = {
      namespace: d.namespace,
      group: d.group.name,
      desired: d.group,
      remote: remoteGroup,
      source: { file: d.file, line: d.line },
    };
    if (!remoteGroup) {
      if (rec)
        items.push({
          ...base,
          action: 'conflict',
          reason: 'deleted-in-mimir',
          forcedAction: 'create',
          changes: ['the group was deleted in Mimir after stackshift wrote it'],
        });
      else
        items.push({
          ...base,
          action: 'create',
          changes: d.group.rules.map(
            (r, i) => `+ rule ${i + 1} ${r.alert !== undefined ? 'alert' : 'record'} ${r.alert ?? r.record}`,
          ),
        });
      continue;
    }
    if (sameGroup(remoteGroup, d.group)) {
      items.push({ ...base, action: 'unchanged', changes: [] });
      continue;
    }
    const changes = describeChanges(remoteGroup, d.group);
    if (rec && rec.hash === groupHash(remoteGroup)) items.push({ ...base, action: 'update', changes });
    else
      items.push({
        ...base,
        action: 'conflict',
        reason: rec ? 'edited-in-mimir' : 'not-written-by-stackshift',
        forcedAction: 'update',
        changes,
      });
  }
  for (const [ns, groups] of remote) {
    if (!owned.has(ns)) continue;
    for (const g of groups) {
      if (wanted.has(key(ns, g.name))) continue;
      const rec = records.get(ns, g.name);
      const changes = [
        `- group ${g.name} (${g.rules.length} rule${g.rules.length === 1 ? '' : 's'}): ${g.rules.map((r) => r.alert ?? r.record).join(', ')}`,
      ];
      if (rec && rec.hash !== groupHash(g))
        items.push({
          namespace: ns,
          group: g.name,
          remote: g,
          action: 'conflict',
          reason: 'edited-in-mimir',
          forcedAction: 'remove',
          changes,
        });
      else items.push({ namespace: ns, group: g.name, remote: g, action: 'remove', changes });
    }
  }
  return items.sort((a, b) =>
    a.namespace === b.namespace ? a.group.localeCompare(b.group) : a.namespace.localeCompare(b.namespace),
  );
}

/** Applies the Prometheus 3 PromQL fixes of the lint engine to every expression; returns what changed. */
export function applyVersionFixes(desired: SourceGroup[], to: string, from?: string): FixedExpr[] {
  const fixes: FixedExpr[] = [];
  for (const d of desired) {
    for (const r of d.group.rules) {
      const after = applyPromQLFixes(r.expr, { from, to, stage: 'cutover', origin: 'rule' });
      if (after !== r.expr) {
        fixes.push({
          namespace: d.namespace,
          group: d.group.name,
          rule: r.alert ?? r.record ?? '',
          before: r.expr,
          after,
        });
        r.expr = after;
      }
    }
  }
  return fixes;
}

/** Functions the expressions use that are experimental on `to` (they need promql-experimental-functions). */
export function experimentalFunctionsUsed(desired: SourceGroup[], to: string): string[] {
  const v = parseVersion(to);
  const out = new Set<string>();
  if (!v) return [];
  for (const d of desired) {
    for (const r of d.group.rules) {
      for (const f of functionCalls(parsePromQL(r.expr))) {
        const fact = FUNCTIONS.find((x) => x.name === f.name && x.experimental);
        if (fact && inSemverRange(v, fact.experimental)) out.add(f.name);
      }
    }
  }
  return [...out].sort();
}

/** `promtool check rules` of the target version on every namespace, written as plain rule files. */
async function checkWithPromtool(
  bin: string,
  desired: SourceGroup[],
  features: string[],
): Promise<NonNullable<RulesSyncReport['promtool']>> {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-rules-check-'));
  try {
    const byNs = new Map<string, SourceGroup[]>();
    for (const d of desired) byNs.set(d.namespace, [...(byNs.get(d.namespace) ?? []), d]);
    const files: string[] = [];
    const nsOfFile = new Map<string, string>();
    let i = 0;
    for (const [ns, groups] of byNs) {
      const file = join(dir, `ns-${++i}.yaml`);
      writeFileAtomic(file, stringify({ groups: groups.map((g) => groupDocument(g.group)) }, { lineWidth: 0 }));
      files.push(file);
      nsOfFile.set(file, ns);
    }
    const loaded = await loadAll(files, {});
    const rep = runPromtool(bin, loaded, features);
    return {
      binary: bin,
      version: rep.version,
      checked: rep.checked.length,
      features,
      problems: rep.findings.map((f) => `namespace ${nsOfFile.get(f.path) ?? f.path}: ${f.message}`),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function errorText(e: unknown): string {
  const hint = (e as { hint?: string }).hint;
  return `${(e as Error).message}${hint ? ` (${hint})` : ''}`;
}

function backupName(ns: string): string {
  return `${ns.replace(/[^A-Za-z0-9._-]+/g, '_')}.yaml`;
}

export async function runRulesSync(p: RulesSyncParams): Promise<RulesSyncReport> {
  const dryRun = Boolean(p.dryRun);
  let desired = readRuleSources(p.rules, p.namespaceFrom);
  if (p.namespaces?.length) desired = desired.filter((d) => p.namespaces!.includes(d.namespace));
  let fixes: FixedExpr[] = [];
  let experimental: string[] = [];
  if (p.toVersion) {
    const v = parseVersion(p.toVersion);
    if (!v) throw new UsageError(`--to-version "${p.toVersion}" is not a version such as 3.8.1`);
    if (p.fromVersion && !parseVersion(p.fromVersion))
      throw new UsageError(`--from-version "${p.fromVersion}" is not a version such as 2.55.1`);
    if (v.major >= 3) fixes = applyVersionFixes(desired, p.toVersion, p.fromVersion);
    experimental = experimentalFunctionsUsed(desired, p.toVersion);
  }
  let promtool: RulesSyncReport['promtool'];
  if (p.promtool) {
    promtool = await checkWithPromtool(p.promtool, desired, experimental.length ? [EXPERIMENTAL_FUNCTIONS_FLAG] : []);
  }
  const recordingRules = [
    ...new Set(desired.flatMap((d) => d.group.rules.filter((r) => r.record).map((r) => r.record!))),
  ].sort();
  const report: RulesSyncReport = {
    target: `${p.client.endpoint.url}${p.client.prefix}`,
    tenant: p.client.endpoint.tenant,
    dryRun,
    prune: Boolean(p.prune),
    force: Boolean(p.force),
    toVersion: p.toVersion,
    items: [],
    counts: { create: 0, update: 0, unchanged: 0, remove: 0, conflict: 0 },
    applied: { set: 0, deleted: 0 },
    fixes,
    promtool,
    recordingRules,
    backfillAdvice: recordingRules.length ? backfillExclusion(recordingRules) : undefined,
    experimentalFunctions: experimental,
    unmanagedNamespaces: [],
    exitCode: 0,
  };
  if (promtool?.problems.length) {
    report.exitCode = 2;
    return report;
  }
  const remote = await p.client.listAll();
  const items = planSync(desired, remote, p.records);
  report.items = items;
  const owned = new Set([...desired.map((d) => d.namespace), ...p.records.all().map((r) => r.namespace)]);
  report.unmanagedNamespaces = [...remote.keys()].filter((ns) => !owned.has(ns)).sort();
  for (const it of items) report.counts[it.action]++;

  const willWrite = (it: PlanItem): 'set' | 'delete' | undefined => {
    if (it.action === 'create' || it.action === 'update') return 'set';
    if (it.action === 'remove') return p.prune ? 'delete' : undefined;
    if (it.action === 'conflict' && p.force) {
      if (it.forcedAction === 'remove') return p.prune ? 'delete' : undefined;
      return 'set';
    }
    return undefined;
  };
  for (const it of items) {
    const w = willWrite(it);
    if (it.action === 'unchanged') continue;
    if (!w) it.outcome = it.action === 'conflict' ? 'blocked' : 'kept';
    else if (dryRun) it.outcome = 'planned';
  }
  if (!dryRun) {
    // what Mimir holds of every group about to be replaced or deleted is saved first
    const touched = items.filter((it) => willWrite(it) && it.remote);
    if (touched.length) {
      const dir = p.backupDir ?? join('stackshift-backup', `rules-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(dir, { recursive: true });
      for (const ns of new Set(touched.map((t) => t.namespace))) {
        writeFileAtomic(
          join(dir, backupName(ns)),
          stringify({ namespace: ns, groups: (remote.get(ns) ?? []).map(groupDocument) }, { lineWidth: 0 }),
        );
      }
      report.backupDir = dir;
      log.info('saved the ruler groups about to change', { dir });
    }
    for (const it of items) {
      if (willWrite(it) !== 'set') continue;
      try {
        await p.client.setGroup(it.namespace, it.desired!);
        p.records.put(it.namespace, it.group, groupHash(it.desired!));
        it.outcome = 'applied';
        report.applied.set++;
      } catch (e) {
        it.outcome = 'failed';
        it.error = errorText(e);
        report.exitCode = 2;
      }
    }
    for (const it of items) {
      if (willWrite(it) !== 'delete') continue;
      try {
        await p.client.deleteGroup(it.namespace, it.group);
        p.records.remove(it.namespace, it.group);
        it.outcome = 'applied';
        report.applied.deleted++;
      } catch (e) {
        it.outcome = 'failed';
        it.error = errorText(e);
        report.exitCode = 2;
      }
    }
    // the ruler already holds what the files say: remember it, so a later edit in Mimir is told apart
    for (const it of items) {
      if (it.action === 'unchanged' && p.records.get(it.namespace, it.group)?.hash !== groupHash(it.desired!))
        p.records.put(it.namespace, it.group, groupHash(it.desired!));
    }
    // records of groups that are gone from both sides
    for (const r of p.records.all()) {
      if (
        !remote.get(r.namespace)?.some((g) => g.name === r.group) &&
        !desired.some((d) => d.namespace === r.namespace && d.group.name === r.group)
      )
        p.records.remove(r.namespace, r.group);
    }
  }
  if (report.exitCode === 0 && items.some((it) => it.outcome === 'blocked')) report.exitCode = 1;
  return report;
}
