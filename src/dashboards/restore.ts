import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GrafanaSaveError, GrafanaV2DashboardError, type GrafanaClient, type GrafanaFolder } from '../clients/index.js';
import { StackshiftError, UsageError } from '../errors/index.js';
import { backupAccessOf, writeFileAtomic } from '../fsutil/index.js';
import { BackupWriter, defaultBackupDir, folderPaths, readBackup, type BackupContents } from './backup.js';
import { classify } from './document.js';
import { unifiedDiff } from './diff.js';
import { canonicalJson } from './format.js';
import { outcomeFrom, totals, type Outcome, type RestoreReport } from './report.js';

export interface RestoreOptions {
  /** A backup written by migrate, or an export. */
  from: string;
  /** Needed for backups of a Grafana (api mode). */
  client?: GrafanaClient;
  /** files mode: restore into this directory instead of the one the backup was taken from. */
  output?: string;
  uids?: string[];
  dryRun?: boolean;
  diff?: boolean;
  /** Restore even what was edited in Grafana after stackshift saved it. */
  force?: boolean;
  /** Where what is about to be overwritten is saved first (default: a fresh timestamped directory). */
  backupDir?: string;
  message?: string;
  now?: Date;
}

/** Equal as dashboards: same JSON once canonically formatted, ignoring what Grafana assigns on save. */
export function sameDashboard(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const strip = ({ version: _v, id: _i, ...rest }: Record<string, unknown>) => rest;
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/**
 * Puts back exactly what a backup holds. Files: the original bytes. Grafana: the dashboard JSON as it was
 * read, saved over the current version (with overwrite:false, so a save racing the restore is reported),
 * then read back and compared. Whatever is overwritten is backed up first, so a restore can be undone too.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreReport> {
  const t0 = Date.now();
  const contents = readBackup(opts.from);
  const result = contents.descriptor.mode === 'files' ? restoreFiles(contents, opts) : await restoreApi(contents, opts);
  const outcomes = result.outcomes;
  return {
    command: 'restore',
    mode: contents.descriptor.mode,
    backup: contents.dir,
    target: result.target,
    dryRun: Boolean(opts.dryRun),
    preRestoreBackup: result.pre && result.pre.written > 0 ? result.pre.dir : undefined,
    outcomes,
    totals: totals(outcomes),
    durationMs: Date.now() - t0,
  };
}

function wanted(opts: RestoreOptions, uid: string | undefined): boolean {
  return !opts.uids?.length || (uid !== undefined && opts.uids.includes(uid));
}

function restoreFiles(
  c: BackupContents,
  opts: RestoreOptions,
): { target: string; outcomes: Outcome[]; pre?: BackupWriter } {
  const root = resolve(opts.output ?? c.descriptor.source);
  if (!existsSync(root))
    throw new UsageError(`${root} does not exist`, 'pass the directory to restore into with --out');
  const pre = opts.dryRun
    ? undefined
    : new BackupWriter(
        opts.backupDir ?? defaultBackupDir(opts.now),
        { mode: 'files', purpose: 'restore', source: root },
        opts.now,
      );
  const outcomes: Outcome[] = [];
  for (const rel of c.files) {
    const backedUp = join(c.dir, 'files', rel);
    const original = readFileSync(backedUp);
    const shape = (() => {
      try {
        return classify(JSON.parse(original.toString('utf8')));
      } catch {
        return undefined;
      }
    })();
    const uid = shape && 'uid' in shape ? shape.uid : undefined;
    if (!wanted(opts, uid)) continue;
    const base = { uid, title: shape && 'title' in shape ? shape.title : undefined, where: rel };
    const kind = shape?.kind === 'library-element' ? 'library-element' : 'dashboard';
    const dst = join(root, rel);
    const current = existsSync(dst) ? readFileSync(dst) : undefined;
    if (current && current.equals(original)) {
      outcomes.push(outcomeFrom(kind, base, undefined, 'unchanged'));
      continue;
    }
    const o = outcomeFrom(kind, base, undefined, opts.dryRun ? 'would-restore' : 'restored');
    if (opts.diff) o.diff = unifiedDiff(rel, current?.toString('utf8') ?? '', original.toString('utf8'));
    if (!opts.dryRun) {
      if (current) pre!.file(rel, current, dst);
      // A file that still exists keeps its mode and owner; one that was deleted comes back with those the
      // backup kept of it.
      writeFileAtomic(dst, original, backupAccessOf(backedUp));
      if (!readFileSync(dst).equals(original))
        throw new StackshiftError('restore-verify', `${dst}: the restored file does not match the backup`, {
          hint: 'check the disk; the backup itself is unchanged',
        });
    }
    outcomes.push(o);
  }
  return { target: root, outcomes, pre };
}

async function restoreApi(
  c: BackupContents,
  opts: RestoreOptions,
): Promise<{ target: string; outcomes: Outcome[]; pre?: BackupWriter }> {
  const client = opts.client;
  if (!client)
    throw new UsageError(
      `${c.dir} is a backup of Grafana ${c.descriptor.source}; restoring it needs a Grafana`,
      'pass --grafana-url (and credentials), or set endpoints.grafana in stackshift.yaml',
    );
  const message = opts.message ?? `stackshift restore from ${basename(c.dir)}`;
  const pre = opts.dryRun
    ? undefined
    : new BackupWriter(
        opts.backupDir ?? defaultBackupDir(opts.now),
        { mode: 'api', purpose: 'restore', source: client.url },
        opts.now,
      );
  const folders = new Map<string, GrafanaFolder>((c.folders ?? []).map((f) => [f.uid, f]));
  const paths = folderPaths(c.folders ?? []);
  const ensured = new Set<string>();
  const outcomes: Outcome[] = [];

  /** Recreates a deleted folder (parents first) from the export's folder tree or the dashboard's meta. */
  async function ensureFolder(uid: string, title?: string, depth = 0): Promise<void> {
    if (!uid || ensured.has(uid) || depth > 64) return;
    ensured.add(uid);
    if (await client!.folder(uid)) return;
    const f = folders.get(uid) ?? { uid, title: title ?? uid };
    if (f.parentUid) await ensureFolder(f.parentUid, undefined, depth + 1);
    if (!opts.dryRun) await client!.ensureFolder(f);
  }

  for (const entry of c.dashboards) {
    const env = entry.env;
    const uid = String(env.dashboard.uid);
    if (!wanted(opts, uid)) continue;
    const folderUid = String(env.meta.folderUid ?? '');
    const base = {
      uid,
      title: String(env.dashboard.title ?? ''),
      where: paths.get(folderUid) ?? (env.meta.folderTitle ? String(env.meta.folderTitle) : folderUid || 'General'),
    };
    try {
      const cur = await client.dashboard(uid);
      if (cur && sameDashboard(cur.dashboard, env.dashboard) && String(cur.meta.folderUid ?? '') === folderUid) {
        outcomes.push(outcomeFrom('dashboard', base, undefined, 'unchanged'));
        continue;
      }
      const applied = c.applied.get(`dashboard/${uid}`);
      if (cur && applied?.toVersion !== undefined && cur.meta.version !== applied.toVersion && !opts.force) {
        outcomes.push({
          ...outcomeFrom('dashboard', base, undefined, 'conflict'),
          reason: `edited in Grafana after stackshift saved it (now version ${cur.meta.version}, stackshift saved ${applied.toVersion}); restoring would discard those edits. Rerun with --force to restore anyway`,
        });
        continue;
      }
      if (cur?.meta.provisioned) {
        outcomes.push({
          ...outcomeFrom('dashboard', base, undefined, 'provisioned'),
          reason: 'provisioned: Grafana refuses API saves; restore the provisioning file instead',
        });
        continue;
      }
      const o = outcomeFrom('dashboard', base, undefined, opts.dryRun ? 'would-restore' : 'restored');
      if (opts.diff)
        o.diff = unifiedDiff(
          `${base.where}/${uid}.json`,
          cur ? JSON.stringify(cur.dashboard, null, 2) + '\n' : '',
          JSON.stringify(env.dashboard, null, 2) + '\n',
        );
      if (!cur) o.reason = 'recreated (it had been deleted)';
      if (!opts.dryRun) {
        await ensureFolder(folderUid, env.meta.folderTitle as string | undefined);
        if (cur) pre!.dashboard(cur, base.where);
        const res = await client.saveDashboard({
          dashboard: {
            ...env.dashboard,
            id: cur?.dashboard.id ?? null,
            version: cur?.meta.version ?? env.dashboard.version,
          },
          folderUid,
          message,
          overwrite: false,
        });
        const after = await client.dashboard(uid);
        if (!after || !sameDashboard(after.dashboard, env.dashboard)) {
          o.status = 'failed';
          o.reason = 'saved, but reading it back does not give the backed-up JSON';
        }
        o.version = { from: cur?.meta.version, to: res.version };
      }
      outcomes.push(o);
    } catch (e) {
      if (e instanceof GrafanaV2DashboardError) {
        // Now stored as V2 (someone converted it): putting the classic JSON back would undo that unseen.
        outcomes.push({
          ...outcomeFrom('dashboard', base, undefined, 'refused'),
          reason: `${e.message}; ${e.hint ?? ''}`,
        });
        continue;
      }
      if (e instanceof GrafanaSaveError) {
        outcomes.push({
          ...outcomeFrom(
            'dashboard',
            base,
            undefined,
            e.reason === 'version-mismatch' ? 'conflict' : e.reason === 'provisioned' ? 'provisioned' : 'failed',
          ),
          reason: `${e.message}; ${e.hint ?? ''}`,
        });
        continue;
      }
      if (e instanceof StackshiftError)
        throw new StackshiftError(e.code, `dashboard "${base.title}" (${uid}): ${e.message}`, {
          hint: e.hint,
          cause: e,
        });
      throw e;
    }
  }

  for (const { element } of c.libraryElements) {
    if (!wanted(opts, element.uid)) continue;
    const base = { uid: element.uid, title: element.name, where: paths.get(element.folderUid ?? '') ?? 'General' };
    const cur = await client.libraryElement(element.uid);
    if (!cur) {
      outcomes.push({
        ...outcomeFrom('library-element', base, undefined, 'failed'),
        reason: 'no longer exists in Grafana; re-import the dashboards that used it',
      });
      continue;
    }
    if (canonicalJson(cur.model) === canonicalJson(element.model) && cur.name === element.name) {
      outcomes.push(outcomeFrom('library-element', base, undefined, 'unchanged'));
      continue;
    }
    const applied = c.applied.get(`library-element/${element.uid}`);
    if (
      c.descriptor.purpose !== 'export' &&
      applied?.toVersion !== undefined &&
      cur.version !== applied.toVersion &&
      !opts.force
    ) {
      outcomes.push({
        ...outcomeFrom('library-element', base, undefined, 'conflict'),
        reason: `edited after stackshift saved it (version ${cur.version}, stackshift saved ${applied.toVersion}); rerun with --force to restore anyway`,
      });
      continue;
    }
    const o = outcomeFrom('library-element', base, undefined, opts.dryRun ? 'would-restore' : 'restored');
    if (opts.diff)
      o.diff = unifiedDiff(
        `library-elements/${element.uid}.json`,
        JSON.stringify(cur.model, null, 2) + '\n',
        JSON.stringify(element.model, null, 2) + '\n',
      );
    if (!opts.dryRun) {
      pre!.libraryElement(cur);
      try {
        const res = await client.patchLibraryElement({
          uid: element.uid,
          name: element.name,
          kind: element.kind,
          model: element.model,
          folderUid: cur.folderUid,
          version: cur.version,
        });
        o.version = { from: cur.version, to: res?.version };
      } catch (e) {
        if (!(e instanceof GrafanaSaveError)) throw e;
        o.status = 'conflict';
        o.reason = `${e.message}; ${e.hint ?? ''}`;
      }
    }
    outcomes.push(o);
  }

  for (const { datasource } of c.datasources) {
    const uid = String(datasource.uid);
    const base = { uid, title: String(datasource.name ?? uid), where: 'datasources' };
    const cur = await client.datasource(uid);
    if (!cur) {
      outcomes.push({ ...outcomeFrom('datasource', base, undefined, 'failed'), reason: 'no longer exists in Grafana' });
      continue;
    }
    if (canonicalJson(cur.jsonData ?? {}) === canonicalJson(datasource.jsonData ?? {})) {
      outcomes.push(outcomeFrom('datasource', base, undefined, 'unchanged'));
      continue;
    }
    const o = outcomeFrom('datasource', base, undefined, opts.dryRun ? 'would-restore' : 'restored');
    if (!opts.dryRun) {
      pre!.datasource(cur);
      await client.updateDatasource(uid, { ...cur, jsonData: datasource.jsonData ?? {}, version: cur.version });
    }
    outcomes.push(o);
  }
  return { target: client.url, outcomes, pre };
}
