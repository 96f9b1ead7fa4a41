import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { GrafanaClient } from '../../clients/index.js';
import {
  BACKUP_DESCRIPTOR,
  incomplete,
  migrateGrafana,
  restoreBackup,
  type MigrationReport,
  type Outcome,
  type RestoreReport,
} from '../../dashboards/index.js';
import { StackshiftError } from '../../errors/index.js';
import type { MigrationStep, StepContext, StepKind } from '../types.js';
import { arg, endpointName } from './common.js';

async function withGrafana<T>(ctx: StepContext, name: string, fn: (c: GrafanaClient) => Promise<T>): Promise<T> {
  const client = new GrafanaClient(ctx.endpoint(name, 'grafana'));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function figuresOf(outcomes: Outcome[]): Record<string, number> {
  return {
    dashboards: outcomes.length,
    incomplete: outcomes.filter((o) => incomplete([o])).length,
    rewritten: outcomes.reduce((a, o) => a + o.rewritten, 0),
    remaining: outcomes.reduce((a, o) => a + o.remaining, 0),
  };
}

/** A fresh directory for a pre-restore backup (a backup is never written over). */
function freshDir(ctx: StepContext, prefix: string): string {
  let dir = join(ctx.workDir, `${prefix}-${new Date(ctx.now()).toISOString().replace(/[-:.]/g, '')}`);
  for (let i = 1; existsSync(dir); i++)
    dir = join(ctx.workDir, `${prefix}-${new Date(ctx.now()).toISOString().replace(/[-:.]/g, '')}-${i}`);
  return dir;
}

/**
 * Restores every backup in `dirs`, newest first. Attempts of one step back up disjoint sets of dashboards (a
 * rerun after a crash finds the ones already migrated without references to the source and leaves them), so
 * the newest-first order puts back the state before the first attempt. A conflict (edited in Grafana since)
 * stops the rollback: restoring would discard someone's edit.
 */
async function restoreAll(ctx: StepContext, grafana: string, dirs: string[]): Promise<RestoreReport[]> {
  const reports: RestoreReport[] = [];
  await withGrafana(ctx, grafana, async (client) => {
    for (const dir of [...dirs].reverse()) {
      if (!existsSync(join(dir, BACKUP_DESCRIPTOR))) continue; // nothing was changed by that attempt
      const r = await restoreBackup({
        from: dir,
        client,
        backupDir: freshDir(ctx, 'pre-rollback'),
        message: `stackshift migrate rollback of ${ctx.stepId}`,
      });
      reports.push(r);
      const bad = r.outcomes.filter((o) => o.status !== 'restored' && o.status !== 'unchanged');
      if (bad.length) {
        throw new StackshiftError(
          'migrate-rollback',
          `rollback of ${ctx.stepId}: ${bad.length} item(s) not restored from ${dir}: ${bad.map((o) => `${o.uid} ${o.status}${o.reason ? ` (${o.reason})` : ''}`).join('; ')}`,
          {
            hint: `look at them in Grafana; \`stackshift dashboards restore --from ${dir} --force\` restores them anyway (discarding later edits)`,
          },
        );
      }
    }
  });
  return reports;
}

const MigrateParams = z
  .object({
    grafana: endpointName.default('grafana'),
    from_datasource: z.string().min(1),
    to_datasource: z.string().min(1),
    tempo_datasource: z.string().min(1).optional(),
    exemplars: z.boolean().default(false),
    uids: z.array(z.string().min(1)).optional(),
    folders: z.array(z.string().min(1)).optional(),
    concurrency: z.number().int().min(1).max(32).default(4),
    message: z.string().max(500).optional(),
  })
  .strict();
type MigrateParams = z.infer<typeof MigrateParams>;

function migrateStep(def: { id: string; title: string; params: MigrateParams }): MigrationStep {
  const p = def.params;
  const backups = (ctx: StepContext) => (Array.isArray(ctx.data.backups) ? (ctx.data.backups as string[]) : []);
  return {
    id: def.id,
    title: def.title,
    kind: 'dashboards-migrate',
    plan: (ctx) => ({
      summary: `point every dashboard reference to datasource ${p.from_datasource} at ${p.to_datasource} in Grafana ${p.grafana}${p.uids ? ` (dashboards ${p.uids.join(', ')})` : ''}, originals backed up first`,
      commands: [
        `stackshift dashboards migrate --endpoint ${p.grafana} --from-datasource ${arg(p.from_datasource)} --to-datasource ${arg(p.to_datasource)}${p.tempo_datasource ? ` --tempo-datasource ${arg(p.tempo_datasource)}` : ''}${p.exemplars ? ' --exemplars' : ''}${(p.uids ?? []).length ? ` --uid ${p.uids!.map(arg).join(' ')}` : ''} --backup-dir ${arg(join(ctx.workDir, 'backup-<attempt>'))}`,
      ],
      gates: [],
      rollback: `restore every backup this step took (stackshift dashboards restore --from ${join(ctx.workDir, 'backup-<attempt>')}), newest first: dashboards come back object-equal`,
    }),
    async run(ctx) {
      const list = backups(ctx);
      const dir = resolve(ctx.workDir, `backup-${list.length + 1}`);
      // recorded before anything changes: a kill during the migrate leaves a backup the rollback knows of
      ctx.save({ ...ctx.data, backups: [...list, dir] });
      const report: MigrationReport = await withGrafana(ctx, p.grafana, (client) =>
        migrateGrafana({
          client,
          from: p.from_datasource,
          to: p.to_datasource,
          tempo: p.tempo_datasource,
          exemplars: p.exemplars || Boolean(p.tempo_datasource),
          uids: p.uids,
          folders: p.folders,
          concurrency: p.concurrency,
          message: p.message ?? `stackshift migrate ${ctx.migrationId}: ${ctx.stepId}`,
          backupDir: dir,
        }),
      );
      const figures = figuresOf(report.outcomes);
      return {
        result: report,
        figures,
        note: `${figures.dashboards} dashboards, ${figures.rewritten} references rewritten, ${figures.remaining} remaining`,
      };
    },
    verify: async (_ctx, run) => run.figures ?? {},
    async rollback(ctx) {
      const reports = await restoreAll(ctx, p.grafana, backups(ctx));
      const restored = reports.reduce((a, r) => a + r.outcomes.filter((o) => o.status === 'restored').length, 0);
      return {
        action: 'restored',
        detail: `${restored} item(s) restored from ${reports.length} backup(s)`,
        result: reports,
      };
    },
  };
}

export const dashboardsMigrateKind: StepKind<MigrateParams> = {
  kind: 'dashboards-migrate',
  description:
    'point Grafana dashboards at the new datasource (src/dashboards), backed up first; rollback restores them',
  params: MigrateParams as z.ZodType<MigrateParams>,
  figures: ['dashboards', 'incomplete', 'rewritten', 'remaining'],
  defaultGates: ['incomplete == 0', 'remaining == 0'],
  endpoints: (p) => [p.grafana],
  create: migrateStep,
};

const RestoreParams = z
  .object({
    grafana: endpointName.default('grafana'),
    from: z.string().min(1),
    uids: z.array(z.string().min(1)).optional(),
    force: z.boolean().default(false),
  })
  .strict();
type RestoreParams = z.infer<typeof RestoreParams>;

function restoreStep(def: { id: string; title: string; params: RestoreParams }): MigrationStep {
  const p = def.params;
  const pre = (ctx: StepContext) => (Array.isArray(ctx.data.preRestore) ? (ctx.data.preRestore as string[]) : []);
  return {
    id: def.id,
    title: def.title,
    kind: 'dashboards-restore',
    plan: () => ({
      summary: `put back what the backup ${p.from} holds in Grafana ${p.grafana}`,
      commands: [
        `stackshift dashboards restore --endpoint ${p.grafana} --from ${arg(p.from)}${p.force ? ' --force' : ''}`,
      ],
      gates: [],
      rollback: 'restore the pre-restore backup this step took of what it overwrote',
    }),
    async run(ctx) {
      const dir = freshDir(ctx, 'pre-restore');
      ctx.save({ ...ctx.data, preRestore: [...pre(ctx), dir] });
      const report = await withGrafana(ctx, p.grafana, (client) =>
        restoreBackup({
          from: resolve(ctx.loaded.baseDir, p.from),
          client,
          uids: p.uids,
          force: p.force,
          backupDir: dir,
        }),
      );
      const figures = figuresOf(report.outcomes);
      return {
        result: report,
        figures: { dashboards: figures.dashboards, incomplete: figures.incomplete },
        note: `${report.outcomes.filter((o) => o.status === 'restored').length} restored`,
      };
    },
    verify: async (_ctx, run) => run.figures ?? {},
    async rollback(ctx) {
      const reports = await restoreAll(ctx, p.grafana, pre(ctx));
      return { action: 'restored', detail: `${reports.length} pre-restore backup(s) put back`, result: reports };
    },
  };
}

export const dashboardsRestoreKind: StepKind<RestoreParams> = {
  kind: 'dashboards-restore',
  description: 'put back a dashboards backup or export exactly (src/dashboards); rollback puts back what it overwrote',
  params: RestoreParams as z.ZodType<RestoreParams>,
  figures: ['dashboards', 'incomplete'],
  defaultGates: ['incomplete == 0'],
  endpoints: (p) => [p.grafana],
  create: restoreStep,
};
