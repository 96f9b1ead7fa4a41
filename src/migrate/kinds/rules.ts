import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { StackshiftError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import {
  groupDocument,
  groupFromRemote,
  groupHash,
  MimirRulerClient,
  openRulesRecords,
  parseNamespaceFrom,
  readRuleSources,
  runRulesSync,
  sameGroup,
  targetKey,
  type RuleGroup,
  type WrittenRecord,
} from '../../ruler/index.js';
import type { MigrationStep, StepContext, StepKind } from '../types.js';
import { arg, endpointName } from './common.js';

/*
 * rules-sync: the rule files -> the Mimir ruler through src/ruler's `runRulesSync`. Before the first write,
 * every namespace the sync may touch (those of the files, and those its records name) is recorded as the
 * ruler holds it; rollback puts exactly that back: groups it created are deleted, groups it replaced or
 * deleted are set again, and a namespace that did not exist is gone again. After the sync the ruler's groups
 * are recorded again (hashes): a rollback that finds a group added, edited or deleted in Mimir since then
 * refuses, naming them, unless forced (`migrate rollback --force`), so an edit made there is never lost unasked.
 */

const RulesSyncParams = z
  .object({
    /** The Mimir whose ruler API takes the groups (its Prometheus HTTP prefix: `prefix`). */
    ruler: endpointName.default('mimir'),
    prefix: z
      .string()
      .regex(/^(\/.*)?$/, 'a path starting with / (default /prometheus), or "" for none')
      .optional(),
    /** Rule files, directories or globs, relative to the migration file. */
    rules: z.array(z.string().min(1)).min(1),
    namespace_from: z
      .string()
      .regex(/^(file|dir|fixed:.+)$/, 'file, dir or fixed:NAME')
      .default('file'),
    prune: z.boolean().default(false),
    force: z.boolean().default(false),
    /** Apply the Prometheus 3 PromQL fixes for the Prometheus version Mimir's engine is (e.g. 3.8.1). */
    to_version: z.string().min(1).optional(),
  })
  .strict();
type RulesSyncParams = z.infer<typeof RulesSyncParams>;

/** What the ruler held of one namespace before the step: groups as the ruler returned them (JSON-safe). */
type Snapshot = Record<string, RuleGroup[]>;

function rulerClient(ctx: StepContext, p: RulesSyncParams): MimirRulerClient {
  return new MimirRulerClient(ctx.endpoint(p.ruler, 'mimir'), { prefix: p.prefix });
}

function recordsFile(ctx: StepContext): string {
  return join(ctx.workDir, 'rules-written.db');
}

function desiredOf(ctx: StepContext, p: RulesSyncParams) {
  const paths = p.rules.map((r) => resolve(ctx.loaded.baseDir, r));
  return readRuleSources(paths, parseNamespaceFrom(p.namespace_from));
}

/** The groups of `namespaces` as the ruler holds them now. */
async function snapshot(client: MimirRulerClient, namespaces: Iterable<string>): Promise<Snapshot> {
  const all = await client.listAll();
  const out: Snapshot = {};
  for (const ns of [...new Set(namespaces)].sort())
    out[ns] = (all.get(ns) ?? []).map((g) => groupFromRemote(JSON.parse(JSON.stringify(groupDocument(g)))));
  return out;
}

function rulesSyncStep(def: { id: string; title: string; params: RulesSyncParams }): MigrationStep {
  const p = def.params;
  const before = (ctx: StepContext) => ctx.data.before as Snapshot | undefined;
  return {
    id: def.id,
    title: def.title,
    kind: 'rules-sync',
    plan: (ctx) => ({
      summary: `sync the rule groups of ${p.rules.join(', ')} to the ruler of ${p.ruler}${p.prune ? ', deleting groups gone from the files' : ''}`,
      commands: [
        `stackshift rules sync --to ${p.ruler} ${p.rules.map((r) => `--rules ${arg(r)}`).join(' ')} --namespace-from ${arg(p.namespace_from)}${p.prefix !== undefined ? ` --prefix ${arg(p.prefix)}` : ''}${p.prune ? ' --prune' : ''}${p.force ? ' --force' : ''}${p.to_version ? ` --to-version ${p.to_version}` : ''} --state ${arg(recordsFile(ctx))}`,
      ],
      gates: [],
      rollback: `put every namespace it touched back as the ruler held it before the step (recorded in ${join(ctx.workDir, 'before.yaml')}): created groups deleted, replaced or deleted ones set again`,
    }),
    async run(ctx) {
      const desired = desiredOf(ctx, p);
      const client = rulerClient(ctx, p);
      try {
        const ep = client.endpoint;
        const target = targetKey(ep.url, client.prefix, ep.tenant);
        // recorded before the first write to a namespace: a kill during the sync leaves a record the rollback
        // can use. A rerun only adds namespaces it has not recorded yet (rule files may have gained one): what
        // is recorded already is the ruler before the step, and the step's own writes must not replace it.
        const recorded = openRulesRecords(recordsFile(ctx), target, true);
        const owned = [...desired.map((d) => d.namespace), ...recorded.all().map((r) => r.namespace)];
        recorded.close();
        const known = before(ctx) ?? {};
        const missing = [...new Set(owned)].filter((ns) => !(ns in known));
        if (missing.length || !before(ctx)) {
          const snap: Snapshot = { ...known, ...(await snapshot(client, missing)) };
          writeFileAtomic(
            join(ctx.workDir, 'before.yaml'),
            stringify(
              Object.entries(snap)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([namespace, groups]) => ({ namespace, groups: groups.map(groupDocument) })),
              { lineWidth: 0 },
            ),
          );
          ctx.save({ ...ctx.data, before: snap });
        }
        // what the ruler held after the last sync is stale once this one writes: forgotten until it is done
        if (ctx.data.after) {
          const { after: _a, ...rest } = ctx.data;
          ctx.save(rest);
        }
        const records = openRulesRecords(recordsFile(ctx), target, false);
        try {
          const report = await runRulesSync({
            rules: p.rules.map((r) => resolve(ctx.loaded.baseDir, r)),
            namespaceFrom: parseNamespaceFrom(p.namespace_from),
            client,
            records,
            prune: p.prune,
            force: p.force,
            toVersion: p.to_version,
            backupDir: join(ctx.workDir, 'ruler-backup'),
          });
          // the ruler as this sync left it: a rollback that finds something else there was edited in Mimir since
          ctx.save({ ...ctx.data, after: hashesByNamespace(await snapshot(client, Object.keys(before(ctx)!))) });
          const failed = report.items.filter((i) => i.outcome === 'failed');
          // a conflict written anyway (force) is no conflict left: the figure counts those left untouched
          const blocked = report.items.filter((i) => i.action === 'conflict' && i.outcome === 'blocked');
          if (report.exitCode === 2 && failed.length === 0)
            throw new StackshiftError(
              'rules-sync',
              `rules-sync ${ctx.stepId}: the rule files were refused before anything was written (${report.promtool?.problems.join('; ') ?? 'see the report'})`,
            );
          return {
            result: report,
            figures: {
              groups: desired.length,
              created: report.counts.create,
              updated: report.counts.update,
              unchanged: report.counts.unchanged,
              removed: report.applied.deleted,
              conflicts: blocked.length,
              failed: failed.length,
              written: report.applied.set + report.applied.deleted,
            },
            note: `${report.applied.set} group(s) set, ${report.applied.deleted} deleted, ${report.counts.unchanged} unchanged, ${blocked.length} conflict(s) left, ${failed.length} failed`,
          };
        } finally {
          records.close();
        }
      } finally {
        await client.close();
      }
    },
    async verify(ctx) {
      // asks the ruler again: is every group of the files there, as the files say?
      const desired = desiredOf(ctx, p);
      const client = rulerClient(ctx, p);
      try {
        const remote = await client.listAll();
        const differing = desired.filter(
          (d) => !remote.get(d.namespace)?.some((g) => g.name === d.group.name && sameGroup(g, d.group)),
        ).length;
        return { groups_differing: differing, in_place: differing === 0 ? 1 : 0 };
      } finally {
        await client.close();
      }
    },
    async rollback(ctx) {
      const snap = before(ctx);
      if (!snap) return { action: 'none', detail: 'the step wrote nothing (it never reached the ruler)' };
      const client = rulerClient(ctx, p);
      let set = 0;
      let deleted = 0;
      let overridden: string[] = [];
      try {
        const now = await snapshot(client, Object.keys(snap));
        const after = ctx.data.after as Written | undefined;
        const edits = after ? editsSince(now, after) : editsOfRecords(now, recordsOf(ctx, client), Object.keys(snap));
        if (edits.length && !ctx.force)
          throw new StackshiftError(
            'rules-rollback-conflict',
            `rules-sync ${ctx.stepId}: rollback refused: ${edits.length} rule group(s) changed in the ruler since the step synced them${after ? '' : ' (the sync was interrupted: only the groups it recorded writing were compared)'}: ${listed(edits)}`,
            {
              hint: `rolling back would undo those edits: carry them into the rule files first, or roll back anyway (the ruler then holds ${join(ctx.workDir, 'before.yaml')}) with: stackshift migrate rollback --force`,
              exitCode: 2,
            },
          );
        overridden = edits;
        for (const [ns, was] of Object.entries(snap)) {
          const current = now[ns] ?? [];
          for (const g of current)
            if (!was.some((w) => w.name === g.name)) {
              await client.deleteGroup(ns, g.name);
              deleted++;
            }
          for (const w of was) {
            const c = current.find((g) => g.name === w.name);
            if (c && sameGroup(c, w)) continue;
            await client.setGroup(ns, w);
            set++;
          }
        }
      } finally {
        await client.close();
      }
      // the records describe writes that are undone now: a later run starts from the ruler as it is
      if (existsSync(recordsFile(ctx))) rmSync(recordsFile(ctx), { force: true });
      const { before: _b, after: _a, ...rest } = ctx.data;
      ctx.save(rest);
      return {
        action: 'restored',
        detail: `${Object.keys(snap).length} namespace(s) put back as before the step: ${set} group(s) set again, ${deleted} deleted${overridden.length ? `; forced over ${overridden.length} edit(s) made in the ruler since the sync: ${listed(overridden)}` : ''}`,
        result: { namespaces: Object.keys(snap), set, deleted, hashes: hashesOf(snap), overridden },
      };
    },
  };
}

/** Group hashes per namespace, as the ruler held them right after the step's sync. */
type Written = Record<string, Record<string, string>>;

function hashesByNamespace(s: Snapshot): Written {
  return Object.fromEntries(
    Object.entries(s).map(([ns, gs]) => [ns, Object.fromEntries(gs.map((g) => [g.name, groupHash(g)]))]),
  );
}

/** Every group of the recorded namespaces that is not as the sync left it: added, edited or deleted since. */
function editsSince(now: Snapshot, after: Written): string[] {
  const out: string[] = [];
  const current = hashesByNamespace(now);
  for (const ns of Object.keys(now).sort()) {
    const was = after[ns] ?? {};
    const is = current[ns] ?? {};
    for (const name of [...new Set([...Object.keys(was), ...Object.keys(is)])].sort()) {
      if (!(name in is)) out.push(`${ns}/${name} deleted`);
      else if (!(name in was)) out.push(`${ns}/${name} added`);
      else if (was[name] !== is[name]) out.push(`${ns}/${name} edited`);
    }
  }
  return out;
}

/** After an interrupted sync: the groups it recorded writing that the ruler no longer holds as written. */
function editsOfRecords(now: Snapshot, records: WrittenRecord[], namespaces: string[]): string[] {
  const current = hashesByNamespace(now);
  return records
    .filter((r) => namespaces.includes(r.namespace) && current[r.namespace]?.[r.group] !== r.hash)
    .map((r) => `${r.namespace}/${r.group} ${current[r.namespace]?.[r.group] ? 'edited' : 'deleted'}`);
}

function recordsOf(ctx: StepContext, client: MimirRulerClient): WrittenRecord[] {
  const ep = client.endpoint;
  const records = openRulesRecords(recordsFile(ctx), targetKey(ep.url, client.prefix, ep.tenant), true);
  try {
    return records.all();
  } finally {
    records.close();
  }
}

function listed(items: string[], max = 10): string {
  return items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');
}

function hashesOf(s: Snapshot): Record<string, string[]> {
  return Object.fromEntries(Object.entries(s).map(([ns, gs]) => [ns, gs.map((g) => `${g.name}:${groupHash(g)}`)]));
}

export const rulesSyncKind: StepKind<RulesSyncParams> = {
  kind: 'rules-sync',
  description:
    'sync rule files to the Mimir ruler (src/ruler), namespaces recorded first; rollback puts them back as they were',
  params: RulesSyncParams as z.ZodType<RulesSyncParams>,
  figures: [
    'groups',
    'created',
    'updated',
    'unchanged',
    'removed',
    'conflicts',
    'failed',
    'written',
    'groups_differing',
    'in_place',
  ],
  defaultGates: ['conflicts == 0', 'failed == 0', 'in_place == 1'],
  endpoints: (p) => [p.ruler],
  create: rulesSyncStep,
};
