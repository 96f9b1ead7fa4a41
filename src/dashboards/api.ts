// Why one file of about 520 lines: export, migrate and the exemplar destination all go through the same read-at-
// version / save-with-overwrite:false path, the same fatal-error rule and the same concurrency helper; apart, each
// would need the others' internals.
import {
  GrafanaSaveError,
  GrafanaV2DashboardError,
  type GrafanaClient,
  type GrafanaDashboardEnvelope,
} from '../clients/index.js';
import { InterruptedError, StackshiftError, UsageError, isInterrupt } from '../errors/index.js';
import { HttpError } from '../http/index.js';
import { log } from '../log/index.js';
import { BackupWriter, defaultBackupDir, folderPaths } from './backup.js';
import { DatasourceCatalog, type GrafanaDatasource } from './datasources.js';
import { classify } from './document.js';
import { unifiedDiff } from './diff.js';
import { ref } from './files.js';
import { planExemplarLink } from './link.js';
import {
  outcomeFrom,
  totals,
  type DatasourceLink,
  type ExportReport,
  type MigrationReport,
  type Outcome,
} from './report.js';
import {
  countReferences,
  resolveInputBindings,
  rewriteDashboard,
  rewriteLibraryModel,
  type MigrateRunOptions,
  type RewriteOptions,
} from './rewrite.js';

/**
 * Runs fn over items with at most `concurrency` in flight; the first thrown error stops new work and is
 * rethrown. Once `signal` aborts no item is taken, and the calls in flight run to their end.
 */
export async function forEachConcurrent<T>(
  items: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const it: AsyncIterator<T> | Iterator<T> =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && !signal?.aborted) {
      const next = await it.next();
      if (next.done || signal?.aborted) return;
      try {
        await fn(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (failure) throw failure.error;
}

/** Errors after which carrying on with other dashboards cannot succeed: credentials, network, TLS. */
function isFatal(e: unknown): boolean {
  if (!(e instanceof HttpError)) return !(e instanceof StackshiftError);
  return e.kind !== 'status' || e.status === 401 || e.status === 403;
}

function aboutDashboard(uid: string, title: string | undefined, e: unknown): unknown {
  if (e instanceof StackshiftError) {
    return new StackshiftError(e.code, `dashboard ${title ? `"${title}" ` : ''}(${uid}): ${e.message}`, {
      hint: e.hint,
      cause: e,
      exitCode: e.exitCode,
    });
  }
  return e;
}

/** How Grafana 12+ stores each dashboard, read from its /apis resource. */
interface StorageProbe {
  enabled: boolean;
  namespace: string;
}

async function probeStorage(
  client: GrafanaClient,
  version: string | undefined,
  namespace?: string,
): Promise<StorageProbe> {
  const major = Number.parseInt(version ?? '', 10);
  if (!(major >= 12)) return { enabled: false, namespace: namespace ?? 'default' };
  if (namespace) return { enabled: true, namespace };
  const org = await client.currentOrg().catch(() => undefined);
  // /apis namespaces: "default" is org 1, "org-<id>" any other (Grafana docs, http-api/apis.md).
  return { enabled: true, namespace: !org || org.id === 1 ? 'default' : `org-${org.id}` };
}

/** GET of one dashboard; a V2-stored one Grafana refuses (406) comes back as the reason, with the way out. */
export async function readDashboard(
  client: GrafanaClient,
  uid: string,
): Promise<GrafanaDashboardEnvelope | undefined | { refused: string }> {
  try {
    return await client.dashboard(uid);
  } catch (e) {
    if (e instanceof GrafanaV2DashboardError)
      return { refused: `stored in the V2 schema, which Grafana's /api refuses (HTTP 406); ${e.hint}` };
    throw e;
  }
}

/** The reason a dashboard is stored in the V2 schema, or undefined when it is a classic (v0/v1) one. */
async function v2Reason(
  client: GrafanaClient,
  probe: StorageProbe,
  env: GrafanaDashboardEnvelope,
): Promise<string | undefined> {
  const shape = classify(env.dashboard);
  if (shape.kind === 'v2') return 'Grafana returned a V2 dashboard (elements/layout)';
  if (!probe.enabled) return undefined;
  const res = await client.dashboardResource(probe.namespace, String(env.dashboard.uid));
  const status = res?.status as { conversion?: { storedVersion?: string } } | undefined;
  const stored = status?.conversion?.storedVersion;
  if (stored && /^v2/.test(stored))
    return `stored as ${stored} (V2 schema); the legacy API only returns a lossy down-conversion`;
  return undefined;
}

export interface ExportOptions {
  client: GrafanaClient;
  output: string;
  uids?: string[];
  folders?: string[];
  concurrency?: number;
  namespace?: string;
  onProgress?: (done: number, total?: number) => void;
  now?: Date;
}

/** Lists the dashboards a run works on, restricted to the given uids and folders. */
function listDashboards(client: GrafanaClient, uids?: string[], folders?: string[]) {
  return client.searchAll({
    type: 'dash-db',
    dashboardUIDs: uids?.length ? uids : undefined,
    folderUIDs: folders?.length ? folders : undefined,
  });
}

/**
 * Every dashboard as Grafana returns it ({dashboard, meta}), under a directory per folder (nested folders
 * nested), with the folder tree, the datasource list and the library panels: a backup that `restore`
 * replays and files-mode `migrate` reads.
 */
export async function exportGrafana(opts: ExportOptions): Promise<ExportReport> {
  const t0 = Date.now();
  const { client } = opts;
  const health = await client.health();
  const datasources = await client.datasources();
  const folders = await client.folders();
  const probe = await probeStorage(client, health.version, opts.namespace);
  const paths = folderPaths(folders);
  const out = new BackupWriter(opts.output, { mode: 'api', purpose: 'export', source: client.url }, opts.now, true);
  out.json('datasources.json', datasources);
  out.json('folders.json', folders);
  const outcomes: Outcome[] = [];
  let done = 0;
  await forEachConcurrent(listDashboards(client, opts.uids, opts.folders), opts.concurrency ?? 4, async (hit) => {
    try {
      const env = await readDashboard(client, hit.uid);
      const where =
        paths.get((env && !('refused' in env) ? env.meta.folderUid : undefined) ?? hit.folderUid ?? '') ?? 'General';
      if (env && 'refused' in env) {
        outcomes.push({
          ...outcomeFrom('dashboard', { uid: hit.uid, title: hit.title, where }, undefined, 'refused'),
          reason: `${env.refused}; not exported`,
        });
        return;
      }
      if (!env) {
        outcomes.push({
          ...outcomeFrom('dashboard', { uid: hit.uid, title: hit.title, where }, undefined, 'skipped'),
          reason: 'deleted after it was listed',
        });
        return;
      }
      const v2 = await v2Reason(client, probe, env);
      if (v2) {
        outcomes.push({
          ...outcomeFrom('dashboard', { uid: hit.uid, title: hit.title, where }, undefined, 'refused'),
          reason: `${v2}; not exported`,
        });
        return;
      }
      out.dashboard(env, where);
      const o = outcomeFrom(
        'dashboard',
        { uid: hit.uid, title: String(env.dashboard.title ?? hit.title), where },
        undefined,
        'exported',
      );
      if (env.meta.provisioned) o.reason = 'provisioned';
      o.version = { from: env.meta.version };
      outcomes.push(o);
    } catch (e) {
      throw aboutDashboard(hit.uid, hit.title, e);
    } finally {
      opts.onProgress?.(++done);
    }
  });
  for await (const el of client.libraryElements()) {
    out.libraryElement(el);
    outcomes.push({
      ...outcomeFrom(
        'library-element',
        { uid: el.uid, title: el.name, where: paths.get(el.folderUid ?? '') ?? 'General' },
        undefined,
        'exported',
      ),
      version: { from: el.version },
    });
  }
  outcomes.sort(byWhere);
  return {
    command: 'export',
    source: client.url,
    output: out.dir,
    grafanaVersion: health.version,
    folders: folders.length,
    datasources: datasources.length,
    outcomes,
    totals: totals(outcomes),
    durationMs: Date.now() - t0,
  };
}

function byWhere(a: Outcome, b: Outcome): number {
  return (
    a.kind.localeCompare(b.kind) ||
    (a.where ?? '').localeCompare(b.where ?? '') ||
    (a.title ?? '').localeCompare(b.title ?? '') ||
    (a.uid ?? '').localeCompare(b.uid ?? '')
  );
}

export interface ApiMigrateOptions extends MigrateRunOptions {
  client: GrafanaClient;
  from: string;
  to: string;
  tempo?: string;
  /** Version-history message; the default names the two datasources. */
  message?: string;
  uids?: string[];
  folders?: string[];
  concurrency?: number;
  namespace?: string;
  onProgress?: (done: number, total?: number) => void;
  /** Runs between reading a dashboard and saving it; tests use it to land a concurrent edit there. */
  beforeSave?: (uid: string) => Promise<void>;
}

/** Resolves the --from/--to/--tempo datasources against a Grafana's datasource list. */
export function selectDatasources(
  catalog: DatasourceCatalog,
  where: string,
  from: string,
  to: string,
  tempo?: string,
): { from: GrafanaDatasource; to: GrafanaDatasource; tempo?: GrafanaDatasource } {
  const f = catalog.select(from, '--from-datasource', where);
  const t = catalog.select(to, '--to-datasource', where);
  if (f.uid === t.uid)
    throw new UsageError(`--from-datasource and --to-datasource are the same datasource (${f.name}, uid ${f.uid})`);
  let tp: GrafanaDatasource | undefined;
  if (tempo) {
    tp = catalog.select(tempo, '--tempo-datasource', where);
    if (tp.type !== 'tempo')
      throw new UsageError(
        `--tempo-datasource "${tempo}" is a ${tp.type} datasource, not tempo`,
        'pass the name or uid of the Tempo datasource',
      );
  }
  return { from: f, to: t, tempo: tp };
}

/**
 * API mode: read each dashboard, rewrite it, back it up, then save it with the version it was read at and
 * overwrite:false, so an edit made in the meantime makes Grafana answer 412 and is reported, never lost.
 * Provisioned dashboards are skipped (Grafana refuses them), V2-stored ones refused.
 */
export async function migrateGrafana(opts: ApiMigrateOptions): Promise<MigrationReport> {
  const t0 = Date.now();
  const { client } = opts;
  const health = await client.health();
  const catalog = new DatasourceCatalog((await client.datasources()) as GrafanaDatasource[]);
  const sel = selectDatasources(catalog, `Grafana at ${client.url}`, opts.from, opts.to, opts.tempo);
  const probe = await probeStorage(client, health.version, opts.namespace);
  const paths = folderPaths(await client.folders());
  const backup = opts.dryRun
    ? undefined
    : new BackupWriter(
        opts.backupDir ?? defaultBackupDir(opts.now),
        { mode: 'api', purpose: 'migrate', source: client.url },
        opts.now,
      );
  const inputBindings = resolveInputBindings(catalog, `Grafana at ${client.url}`, opts.bindInputs);
  const rw: RewriteOptions = {
    catalog,
    from: sel.from,
    to: sel.to,
    keepInputs: opts.keepInputs,
    exemplars: opts.exemplars,
    rewriteExpr: opts.rewriteExpr,
    inputBindings,
  };
  const outcomes: Outcome[] = [];
  const libraryUids = new Set<string>();
  let done = 0;
  const work = forEachConcurrent(
    listDashboards(client, opts.uids, opts.folders),
    opts.concurrency ?? 4,
    async (hit) => {
      try {
        outcomes.push(await migrateOne(hit.uid, hit.title, hit.folderUid));
      } catch (e) {
        if (isFatal(e)) throw aboutDashboard(hit.uid, hit.title, e);
        // One dashboard Grafana keeps failing on (5xx after retries, 422...) must not stop the others.
        const cut = isInterrupt(opts.signal) && e instanceof InterruptedError;
        const reason = cut
          ? 'stopped: Grafana had not answered within the grace period after Ctrl-C, so whether it saved is unknown; the rerun finds out'
          : (e as Error).message;
        outcomes.push({ ...outcomeFrom('dashboard', { uid: hit.uid, title: hit.title }, undefined, 'failed'), reason });
      } finally {
        opts.onProgress?.(++done);
      }
    },
    opts.signal,
  );
  try {
    await work;
  } catch (e) {
    // The run stops, but what it already saved must be findable: say where the backup is.
    const saved = outcomes.filter((o) => o.status === 'changed').length;
    if (backup && backup.written > 0)
      log.warn(
        `stopped after saving ${saved} dashboard${saved === 1 ? '' : 's'}; their backup is in ${backup.dir} (undo with: stackshift dashboards restore --from ${backup.dir})`,
      );
    throw e;
  }

  async function migrateOne(uid: string, title: string, folderUid?: string): Promise<Outcome> {
    const read = await readDashboard(client, uid);
    if (read && 'refused' in read)
      return {
        ...outcomeFrom(
          'dashboard',
          { uid, title, where: paths.get(folderUid ?? '') ?? 'General' },
          undefined,
          'refused',
        ),
        reason: `${read.refused}; not changed`,
      };
    const env = read;
    const where = paths.get(env?.meta.folderUid ?? folderUid ?? '') ?? 'General';
    const base = { uid, title: String(env?.dashboard.title ?? title), where };
    if (!env) return { ...outcomeFrom('dashboard', base, undefined, 'skipped'), reason: 'deleted after it was listed' };
    const v2 = await v2Reason(client, probe, env);
    if (v2) return { ...outcomeFrom('dashboard', base, undefined, 'refused'), reason: `${v2}; not changed` };
    const work = structuredClone(env.dashboard);
    const r = rewriteDashboard(work, rw);
    collectLibraryPanels(work, libraryUids);
    if (r.changes.length === 0)
      return { ...outcomeFrom('dashboard', base, r, 'unchanged'), remaining: r.placeholdersKept };
    const o = outcomeFrom('dashboard', base, r, opts.dryRun ? 'would-change' : 'changed');
    o.remaining = countReferences(work, catalog, sel.from, 'dashboard', inputBindings);
    if (opts.diff)
      o.diff = unifiedDiff(
        `${where}/${uid}.json`,
        JSON.stringify(env.dashboard, null, 2) + '\n',
        JSON.stringify(work, null, 2) + '\n',
      );
    if (env.meta.provisioned) {
      o.status = 'provisioned';
      o.reason = `provisioned${env.meta.provisionedExternalId ? ` from ${env.meta.provisionedExternalId}` : ''}: Grafana refuses API saves; migrate the provisioning file with --in`;
      return o;
    }
    if (opts.dryRun) return o;
    const saved = backup!.dashboard(env, where);
    await opts.beforeSave?.(uid);
    const version = env.meta.version ?? (typeof env.dashboard.version === 'number' ? env.dashboard.version : undefined);
    try {
      const res = await client.saveDashboard({
        dashboard: { ...work, version },
        folderUid: env.meta.folderUid ?? '',
        message:
          opts.message ?? `stackshift: datasource ${sel.from.name} -> ${sel.to.name} (${r.rewritten} references)`,
        overwrite: false,
      });
      backup!.applied({ kind: 'dashboard', uid, fromVersion: version, toVersion: res.version });
      o.version = { from: version, to: res.version };
    } catch (e) {
      if (!(e instanceof GrafanaSaveError)) throw e;
      // Refused, so nothing changed: drop the backup so a later restore cannot replay it over someone's edit.
      backup!.discard(saved);
      o.status = e.reason === 'provisioned' ? 'provisioned' : e.reason === 'version-mismatch' ? 'conflict' : 'failed';
      o.reason = `${e.message}; ${e.hint ?? ''}`.replace(/; $/, '');
      o.remaining = r.rewritten + r.placeholdersKept;
    }
    return o;
  }

  // Stopped: library panels and the exemplar link are work not started; the rerun does them.
  const stopped = opts.signal?.aborted === true;
  // Library panels live outside dashboards: all of them on a full run, the ones used otherwise.
  const filtered = Boolean(opts.uids?.length || opts.folders?.length);
  for await (const el of stopped ? [] : client.libraryElements()) {
    if (filtered && !libraryUids.has(el.uid)) continue;
    const model = structuredClone(el.model);
    const r = rewriteLibraryModel(model, rw);
    if (r.changes.length === 0) continue;
    const o = outcomeFrom(
      'library-element',
      { uid: el.uid, title: el.name, where: paths.get(el.folderUid ?? '') ?? 'General' },
      r,
      opts.dryRun ? 'would-change' : 'changed',
    );
    o.remaining = countReferences(model, catalog, sel.from, 'library', inputBindings);
    if (opts.diff)
      o.diff = unifiedDiff(
        `library-elements/${el.uid}.json`,
        JSON.stringify(el.model, null, 2) + '\n',
        JSON.stringify(model, null, 2) + '\n',
      );
    if (!opts.dryRun) {
      const saved = backup!.libraryElement(el);
      try {
        const res = await client.patchLibraryElement({
          uid: el.uid,
          name: el.name,
          kind: el.kind,
          model,
          folderUid: el.folderUid,
          version: el.version,
        });
        backup!.applied({ kind: 'library-element', uid: el.uid, fromVersion: el.version, toVersion: res?.version });
        o.version = { from: el.version, to: res?.version };
      } catch (e) {
        if (!(e instanceof GrafanaSaveError)) throw e;
        backup!.discard(saved);
        o.status = 'conflict';
        o.reason = `${e.message}; ${e.hint ?? ''}`;
        o.remaining = r.rewritten;
      }
    }
    outcomes.push(o);
  }

  const link =
    sel.tempo && !stopped
      ? await linkExemplars(client, sel.to, sel.tempo, opts.exemplarLabel ?? 'trace_id', opts.dryRun, backup)
      : undefined;
  outcomes.sort(byWhere);
  if (backup && backup.written > 0) log.info('backup written', { dir: backup.dir, files: backup.written });
  return {
    command: 'migrate',
    mode: 'api',
    source: client.url,
    from: ref(sel.from),
    to: ref(sel.to),
    dryRun: Boolean(opts.dryRun),
    backupDir: backup && backup.written > 0 ? backup.dir : undefined,
    outcomes,
    datasourceLink: link,
    totals: totals(outcomes),
    durationMs: Date.now() - t0,
    ...(stopped ? { interrupted: { done } } : {}),
  };
}

function collectLibraryPanels(d: Record<string, unknown>, into: Set<string>): void {
  const visit = (panels: unknown) => {
    if (!Array.isArray(panels)) return;
    for (const p of panels) {
      if (!p || typeof p !== 'object') continue;
      const lp = (p as { libraryPanel?: { uid?: unknown } }).libraryPanel;
      if (lp && typeof lp.uid === 'string') into.add(lp.uid);
      visit((p as { panels?: unknown }).panels);
    }
  };
  visit(d.panels);
  if (Array.isArray(d.rows)) for (const r of d.rows) visit((r as { panels?: unknown })?.panels);
}

/** Adds the Tempo exemplar destination to the target datasource (backed up first); provisioned ones get a snippet. */
async function linkExemplars(
  client: GrafanaClient,
  to: GrafanaDatasource,
  tempo: GrafanaDatasource,
  label: string,
  dryRun: boolean | undefined,
  backup: BackupWriter | undefined,
): Promise<DatasourceLink> {
  const full = (await client.datasource(to.uid)) as GrafanaDatasource | undefined;
  const base = { datasource: ref(to), tempo: ref(tempo), label };
  if (!full) return { ...base, status: 'not-applied', reason: `datasource ${to.uid} disappeared` };
  const plan = planExemplarLink(full, tempo, label);
  if (!plan.needed) return { ...base, status: 'already-linked' };
  if (full.readOnly)
    return {
      ...base,
      status: 'not-applied',
      reason: 'the datasource is provisioned (read-only in Grafana); add this to its provisioning file',
      provisioning: plan.provisioning,
    };
  if (dryRun) return { ...base, status: 'would-link', provisioning: plan.provisioning };
  backup!.datasource(full);
  await client.updateDatasource(to.uid, { ...full, jsonData: plan.jsonData });
  backup!.applied({
    kind: 'datasource',
    uid: to.uid,
    fromVersion: typeof full.version === 'number' ? full.version : undefined,
  });
  return { ...base, status: 'linked' };
}
