// Why one file of about 530 lines: apply and restore are two halves of one contract (what apply saves is exactly
// what restore puts back, managed fields compared the same way); kept together so they cannot drift apart.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq } from 'yaml';
import type { GrafanaClient } from '../clients/index.js';
import { canonicalJson, unifiedDiff } from '../dashboards/index.js';
import { InputError, UsageError } from '../errors/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { log } from '../log/index.js';

/**
 * The generated Mimir/Tempo/Loki datasources applied through Grafana's datasource API (`lgtm datasources
 * apply`), and put back exactly as they were (`lgtm datasources restore`).
 *
 * Apply, per datasource of the provisioning file (by uid):
 *   create     no datasource with that uid (POST /api/datasources)
 *   update     it exists and a managed field differs (PUT /api/datasources/uid/:uid with the whole object and
 *              the version read: PUT replaces, so unmanaged fields are carried over; a change made in between
 *              is refused by Grafana with 409, never clobbered)
 *   unchanged  every managed field already holds the file's value: nothing is sent
 *   conflict   the uid is free but the name is taken (Grafana would answer 409), or the datasource is read-only
 *              (provisioned from a file: Grafana answers 403): shown, never forced
 * Before the first write every datasource of the org is saved (GET /api/datasources/uid/:uid of each) with
 * the list of uids the apply creates; restore puts each saved object back (PUT when it differs, POST when it
 * was deleted since) and deletes the created ones. Secret values are write-only in Grafana: they are sent
 * from the file, compared only by which keys are set (secureJsonFields), and never logged, shown or saved.
 */
export const DATASOURCE_BACKUP_FORMAT = 'stackshift-grafana-datasources/1';
export const DATASOURCE_BACKUP_FILE = 'datasources.json';

/** The fields of a datasource the API takes and the apply manages, with Grafana's value when absent. */
const MANAGED: Record<string, unknown> = {
  name: '',
  type: '',
  access: 'proxy',
  url: '',
  user: '',
  database: '',
  basicAuth: false,
  basicAuthUser: '',
  withCredentials: false,
  isDefault: false,
  jsonData: {},
};

type Json = Record<string, unknown>;

export interface DesiredDatasource {
  uid: string;
  fields: Json;
  /** Keys of secureJsonData (the values stay in `secure`, never reported). */
  secure: Record<string, string>;
  line?: number;
}

export type DatasourceAction = 'create' | 'update' | 'unchanged' | 'delete' | 'conflict';

export interface DatasourceItem {
  uid: string;
  name: string;
  action: DatasourceAction;
  reason?: 'name-taken' | 'read-only';
  /** Field-level changes, current -> wanted (secret values shown as "(set)"). */
  changes: string[];
  diff?: string;
  outcome: 'applied' | 'planned' | 'unchanged' | 'blocked' | 'failed';
  error?: string;
  warnings?: string[];
}

export interface DatasourcesReport {
  command: 'apply' | 'restore';
  grafana: string;
  dryRun: boolean;
  items: DatasourceItem[];
  counts: Record<DatasourceAction, number>;
  backupFile?: string;
  exitCode: 0 | 1;
}

interface BackupDoc {
  format: string;
  grafana: string;
  takenAt: string;
  datasources: Json[];
  /** uids the apply was about to create: restore deletes them. */
  created: string[];
}

function pick(ds: Json): Json {
  const out: Json = {};
  for (const [k, dflt] of Object.entries(MANAGED)) out[k] = ds[k] ?? dflt;
  return out;
}

function show(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(JSON.parse(canonicalJson(v)));
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/** Managed-field differences, `current` -> `wanted`; jsonData key by key. */
function fieldChanges(current: Json, wanted: Json): string[] {
  const out: string[] = [];
  for (const k of Object.keys(MANAGED)) {
    const a = current[k] ?? MANAGED[k];
    const b = wanted[k] ?? MANAGED[k];
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if (k === 'jsonData' && typeof a === 'object' && typeof b === 'object' && a && b) {
      const ja = a as Json;
      const jb = b as Json;
      for (const key of [...new Set([...Object.keys(ja), ...Object.keys(jb)])].sort()) {
        if (canonicalJson(ja[key] ?? null) === canonicalJson(jb[key] ?? null)) continue;
        out.push(`jsonData.${key}: ${key in ja ? show(ja[key]) : '(none)'} -> ${key in jb ? show(jb[key]) : '(none)'}`);
      }
      continue;
    }
    out.push(`${k}: ${show(a)} -> ${show(b)}`);
  }
  return out;
}

function pretty(fields: Json, secureKeys: string[]): string {
  const o: Json = JSON.parse(canonicalJson(fields));
  if (secureKeys.length) o.secureJsonData = Object.fromEntries(secureKeys.sort().map((k) => [k, '(secret)']));
  return `${JSON.stringify(o, null, 2)}\n`;
}

/**
 * Provisioning expands $VAR and ${VAR} from the environment and writes a literal $ as $$
 * (docs/sources/administration/provisioning, "Using environment variables").
 */
function expandEnv(text: string, file: string): string {
  const guard = '\u0000dollar\u0000';
  const protectedText = text.replace(/\$\$/g, guard);
  const expanded = protectedText.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a, b) => {
    const name = (a ?? b) as string;
    const v = process.env[name];
    if (v === undefined)
      throw new InputError(
        `${file}: environment variable ${name} is not set (the file uses ${m})`,
        { file, key: name },
        `set ${name}, or write a literal $ as $$`,
      );
    return v;
  });
  return expanded.split(guard).join('$');
}

/** The datasources of a provisioning file (apiVersion 1, `datasources:`), each with a uid. */
export function readDesiredDatasources(file: string): DesiredDatasource[] {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UsageError(`--datasources ${file}: no such file`, 'give the provisioning file `lgtm config` wrote');
  const raw = readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(raw, { lineCounter: lc });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new InputError(
      `${file}: not valid YAML: ${e.message.split('\n')[0]}`,
      { file, line: lc.linePos(e.pos[0]).line },
      'give a Grafana datasource provisioning file (apiVersion: 1, datasources:)',
    );
  }
  const list = doc.get('datasources', true);
  if (!isSeq(list))
    throw new InputError(
      `${file} has no datasources: list`,
      { file, key: 'datasources' },
      'give a Grafana datasource provisioning file (apiVersion: 1, datasources:)',
    );
  const out: DesiredDatasource[] = [];
  const data = (parseDocument(expandEnv(raw, file)).toJS() as { datasources: Json[] }).datasources;
  list.items.forEach((node, i) => {
    const line =
      node && (node as { range?: [number] }).range
        ? lc.linePos((node as { range: [number] }).range[0]).line
        : undefined;
    const d = data[i];
    const where = { file, line, key: `datasources[${i}]` };
    if (!isMap(node) || !d || typeof d !== 'object')
      throw new InputError(
        `${file}: datasources[${i}] is not a map`,
        where,
        'each datasource is a map with name, type, uid, url',
      );
    for (const k of ['name', 'type', 'uid'] as const) {
      if (typeof d[k] !== 'string' || !d[k])
        throw new InputError(
          `${file}: datasources[${i}]${d.name ? ` (${String(d.name)})` : ''} has no ${k}`,
          { ...where, key: `datasources[${i}].${k}` },
          k === 'uid'
            ? 'apply works by uid (dashboards and correlations refer to it): add uid: to the datasource'
            : `add ${k}: to the datasource`,
        );
    }
    if (!/^[a-zA-Z0-9\-_]{1,40}$/.test(String(d.uid)))
      throw new InputError(
        `${file}: datasources[${i}].uid "${String(d.uid)}" is not a Grafana uid`,
        { ...where, key: `datasources[${i}].uid` },
        'a uid is 1 to 40 letters, digits, - or _',
      );
    const fields: Json = {};
    for (const k of Object.keys(MANAGED)) if (d[k] !== undefined) fields[k] = d[k];
    const secure: Record<string, string> = {};
    for (const [k, v] of Object.entries((d.secureJsonData ?? {}) as Json)) secure[k] = String(v);
    out.push({ uid: String(d.uid), fields, secure, line });
  });
  const seen = new Set<string>();
  for (const d of out) {
    if (seen.has(d.uid))
      throw new InputError(
        `${file}: uid "${d.uid}" is given twice`,
        { file, line: d.line, key: 'uid' },
        'give each datasource its own uid',
      );
    seen.add(d.uid);
  }
  return out;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function countsOf(items: DatasourceItem[]): Record<DatasourceAction, number> {
  const c = { create: 0, update: 0, unchanged: 0, delete: 0, conflict: 0 };
  for (const it of items) c[it.action]++;
  return c;
}

/** Every datasource of the org, each as GET /api/datasources/uid/:uid returns it (the list omits fields). */
async function readAll(client: GrafanaClient): Promise<Map<string, Json>> {
  const out = new Map<string, Json>();
  for (const d of await client.datasources()) {
    const full = await client.datasource(d.uid);
    if (full) out.set(d.uid, full);
  }
  return out;
}

function writeBackup(dir: string, doc: BackupDoc): string {
  const file = join(dir, DATASOURCE_BACKUP_FILE);
  if (existsSync(file))
    throw new UsageError(`${file} exists: a backup is never written over`, 'give another --backup-dir');
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export interface ApplyDatasourcesParams {
  client: GrafanaClient;
  desired: DesiredDatasource[];
  /** uid of the datasource to make Grafana's default (it must be one of `desired`). */
  setDefault?: string;
  dryRun?: boolean;
  backupDir?: string;
}

export async function applyDatasources(p: ApplyDatasourcesParams): Promise<DatasourcesReport> {
  if (p.setDefault && !p.desired.some((d) => d.uid === p.setDefault))
    throw new UsageError(
      `--set-default ${p.setDefault}: no datasource with that uid in the file`,
      `give one of: ${p.desired.map((d) => d.uid).join(', ')}`,
    );
  const current = await readAll(p.client);
  const byName = new Map([...current.values()].map((d) => [String(d.name), d]));
  const items: Array<DatasourceItem & { body?: Json; secure?: Record<string, string> }> = [];
  for (const d of p.desired) {
    const have = current.get(d.uid);
    const name = String(d.fields.name);
    const secureKeys = Object.keys(d.secure);
    if (!have) {
      const wanted = { ...pick({}), ...d.fields, isDefault: p.setDefault === d.uid || d.fields.isDefault === true };
      const other = byName.get(name);
      if (other) {
        items.push({
          uid: d.uid,
          name,
          action: 'conflict',
          reason: 'name-taken',
          changes: [`a datasource named "${name}" exists with uid ${String(other.uid)}`],
          outcome: 'blocked',
          error: `Grafana refuses a second datasource named "${name}" (409 data source with the same name already exists): give the file's datasource uid ${String(other.uid)} to update that one, or another name`,
        });
        continue;
      }
      items.push({
        uid: d.uid,
        name,
        action: 'create',
        changes: [...fieldChanges({}, wanted), ...secureKeys.map((k) => `secureJsonData.${k}: (none) -> (set)`)],
        diff: unifiedDiff(`datasource/${d.uid}`, '', pretty(wanted, secureKeys)),
        outcome: 'planned',
        body: { ...wanted, uid: d.uid },
        secure: d.secure,
      });
      continue;
    }
    const isDefault = p.setDefault === d.uid ? true : (d.fields.isDefault ?? have.isDefault ?? false);
    const wanted = { ...pick(have), ...d.fields, isDefault };
    const missingSecure = secureKeys.filter((k) => (have.secureJsonFields as Json | undefined)?.[k] !== true);
    const changes = [
      ...fieldChanges(pick(have), wanted),
      ...missingSecure.map((k) => `secureJsonData.${k}: (none) -> (set)`),
    ];
    if (!changes.length) {
      items.push({ uid: d.uid, name, action: 'unchanged', changes, outcome: 'unchanged' });
      continue;
    }
    if (have.readOnly === true) {
      items.push({
        uid: d.uid,
        name,
        action: 'conflict',
        reason: 'read-only',
        changes,
        outcome: 'blocked',
        error:
          'provisioned from a file: Grafana refuses API changes (403 Cannot update read-only data source); change the provisioning file instead',
      });
      continue;
    }
    items.push({
      uid: d.uid,
      name,
      action: 'update',
      changes,
      diff: unifiedDiff(
        `datasource/${d.uid}`,
        pretty(pick(have), Object.keys((have.secureJsonFields ?? {}) as Json)),
        pretty(wanted, [...new Set([...Object.keys((have.secureJsonFields ?? {}) as Json), ...secureKeys])]),
      ),
      outcome: 'planned',
      body: { ...wanted, uid: d.uid, version: have.version },
      secure: d.secure,
    });
  }
  const report: DatasourcesReport = {
    command: 'apply',
    grafana: p.client.url,
    dryRun: Boolean(p.dryRun),
    items: [],
    counts: countsOf(items),
    exitCode: 0,
  };
  const writes = items.filter((it) => it.body);
  if (!p.dryRun && writes.length) {
    report.backupFile = writeBackup(p.backupDir ?? join('stackshift-backup', `datasources-${stamp()}`), {
      format: DATASOURCE_BACKUP_FORMAT,
      grafana: p.client.url,
      takenAt: new Date().toISOString(),
      datasources: [...current.values()],
      created: writes.filter((w) => w.action === 'create').map((w) => w.uid),
    });
    log.info('saved every datasource before changing any', { file: report.backupFile });
    for (const it of writes) {
      const body = { ...it.body!, ...(Object.keys(it.secure ?? {}).length ? { secureJsonData: it.secure } : {}) };
      const r =
        it.action === 'create' ? await p.client.createDatasource(body) : await p.client.putDatasource(it.uid, body);
      if (r.ok) it.outcome = 'applied';
      else {
        it.outcome = 'failed';
        it.error = `Grafana refused the ${it.action} (HTTP ${r.status}: ${r.message})${r.status === 409 && it.action === 'update' ? '; it was changed after it was read: run apply again to see the new diff' : ''}`;
      }
    }
  }
  report.items = items.map(({ body: _b, secure: _s, ...rest }) => rest);
  if (items.some((it) => it.outcome === 'failed' || it.outcome === 'blocked')) report.exitCode = 1;
  return report;
}

function readBackupFile(from: string): { file: string; doc: BackupDoc } {
  const file = existsSync(from) && statSync(from).isDirectory() ? join(from, DATASOURCE_BACKUP_FILE) : from;
  if (!existsSync(file))
    throw new UsageError(
      `--from ${from}: no ${DATASOURCE_BACKUP_FILE} there`,
      'give the backup directory `lgtm datasources apply` printed',
    );
  let doc: BackupDoc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as BackupDoc;
  } catch (e) {
    throw new InputError(
      `${file} is not JSON: ${(e as Error).message}`,
      { file },
      'give a backup `lgtm datasources apply` wrote',
    );
  }
  if (doc?.format !== DATASOURCE_BACKUP_FORMAT || !Array.isArray(doc.datasources) || !Array.isArray(doc.created))
    throw new InputError(
      `${file} is not a datasource backup (format "${String(doc?.format)}", expected "${DATASOURCE_BACKUP_FORMAT}")`,
      { file, key: 'format' },
      'give a backup `lgtm datasources apply` wrote',
    );
  return { file, doc };
}

export interface RestoreDatasourcesParams {
  client: GrafanaClient;
  from: string;
  dryRun?: boolean;
  /** Where the current state is saved before restore changes it (default: next to the backup). */
  backupDir?: string;
}

/** Puts back what a backup holds: saved datasources as they were, the ones the apply created deleted. */
export async function restoreDatasources(p: RestoreDatasourcesParams): Promise<DatasourcesReport> {
  const { file, doc } = readBackupFile(p.from);
  const current = await readAll(p.client);
  const saved = new Map(doc.datasources.map((d) => [String(d.uid), d]));
  const items: Array<DatasourceItem & { run?: () => Promise<string | undefined> }> = [];
  for (const uid of doc.created) {
    const have = current.get(uid);
    if (!have || saved.has(uid)) continue;
    items.push({
      uid,
      name: String(have.name),
      action: 'delete',
      changes: ['created by the apply: deleted'],
      diff: unifiedDiff(`datasource/${uid}`, pretty(pick(have), []), ''),
      outcome: 'planned',
      run: async () => {
        const r = await p.client.deleteDatasource(uid);
        return r === 'gone' || r.ok ? undefined : `HTTP ${r.status}: ${r.message}`;
      },
    });
  }
  // the saved default last: making it default again is what takes the flag off the one that has it now
  const ordered = [...saved.values()].sort((a, b) => Number(a.isDefault === true) - Number(b.isDefault === true));
  for (const s of ordered) {
    const uid = String(s.uid);
    const have = current.get(uid);
    const want = pick(s);
    if (!have) {
      const secret = Object.keys((s.secureJsonFields ?? {}) as Json).filter((k) => (s.secureJsonFields as Json)[k]);
      items.push({
        uid,
        name: String(s.name),
        action: 'create',
        changes: fieldChanges({}, want),
        diff: unifiedDiff(`datasource/${uid}`, '', pretty(want, [])),
        outcome: 'planned',
        warnings: secret.length
          ? [
              `deleted since the backup; recreated without its secret values (${secret.join(', ')}): Grafana never hands them out, set them again`,
            ]
          : undefined,
        run: async () => {
          const r = await p.client.createDatasource({ ...want, uid });
          return r.ok ? undefined : `HTTP ${r.status}: ${r.message}`;
        },
      });
      continue;
    }
    const changes = fieldChanges(pick(have), want);
    if (!changes.length) {
      items.push({ uid, name: String(s.name), action: 'unchanged', changes, outcome: 'unchanged' });
      continue;
    }
    items.push({
      uid,
      name: String(s.name),
      action: 'update',
      changes,
      diff: unifiedDiff(`datasource/${uid}`, pretty(pick(have), []), pretty(want, [])),
      outcome: 'planned',
      run: async () => {
        const r = await p.client.putDatasource(uid, { ...want, uid, version: have.version });
        return r.ok ? undefined : `HTTP ${r.status}: ${r.message}`;
      },
    });
  }
  const report: DatasourcesReport = {
    command: 'restore',
    grafana: p.client.url,
    dryRun: Boolean(p.dryRun),
    items: [],
    counts: countsOf(items),
    exitCode: 0,
  };
  const writes = items.filter((it) => it.run);
  if (!p.dryRun && writes.length) {
    report.backupFile = writeBackup(p.backupDir ?? `${file.replace(/\.json$/, '')}-before-restore-${stamp()}`, {
      format: DATASOURCE_BACKUP_FORMAT,
      grafana: p.client.url,
      takenAt: new Date().toISOString(),
      datasources: [...current.values()],
      created: writes.filter((w) => w.action === 'create').map((w) => w.uid),
    });
    for (const it of writes) {
      const err = await it.run!();
      if (err === undefined) it.outcome = 'applied';
      else {
        it.outcome = 'failed';
        it.error = `Grafana refused the ${it.action}: ${err}`;
      }
    }
  }
  report.items = items.map(({ run: _r, ...rest }) => rest);
  if (items.some((it) => it.outcome === 'failed')) report.exitCode = 1;
  return report;
}

const MARK: Record<DatasourceAction, string> = { create: '+', update: '~', unchanged: '=', delete: '-', conflict: '!' };

export function renderDatasourcesText(r: DatasourcesReport, opts: { diff?: boolean } = {}): string {
  const out: string[] = [
    `lgtm datasources ${r.command} on ${r.grafana}${r.dryRun ? ' (dry run: nothing changed)' : ''}`,
  ];
  for (const it of r.items) {
    out.push(
      `  ${MARK[it.action]} ${it.action.padEnd(9)} ${it.uid} (${it.name})  ${it.outcome}${it.reason ? ` [${it.reason}]` : ''}`,
    );
    for (const c of it.changes) out.push(`      ${c}`);
    if (it.error) out.push(`      ${it.error}`);
    for (const w of it.warnings ?? []) out.push(`      warning: ${w}`);
    if ((opts.diff || r.dryRun) && it.diff) for (const l of it.diff.trimEnd().split('\n')) out.push(`      ${l}`);
  }
  const c = r.counts;
  out.push(
    '',
    `${c.create} to create, ${c.update} to update, ${c.delete} to delete, ${c.unchanged} unchanged, ${c.conflict} blocked`,
  );
  if (r.backupFile)
    out.push(`backup: ${r.backupFile} (undo: stackshift lgtm datasources restore --from ${r.backupFile})`);
  if (r.exitCode !== 0) out.push('FAIL: a datasource was refused or blocked (see above)');
  return `${out.join('\n')}\n`;
}
