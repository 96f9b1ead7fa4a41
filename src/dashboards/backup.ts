import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { InputError, UsageError } from '../errors/index.js';
import {
  backupAccessOf,
  backupFile,
  writeFileAtomic,
  writeFileAtomicAsync,
  type WriteOptions,
} from '../fsutil/index.js';
import { redact } from '../redact/index.js';
import type { GrafanaDashboardEnvelope, GrafanaFolder, GrafanaLibraryElement } from '../clients/index.js';
import { jsonSyntaxError } from './datasources.js';

/**
 * A backup (or export) directory:
 *
 *   stackshift-backup.json            what this is: mode api|files, purpose, source, when
 *   dashboards/<folder path>/<uid>.json  api: the GET /api/dashboards/uid answer, {dashboard, meta}, as read
 *   library-elements/<uid>.json       api: the library element as read
 *   datasources/<uid>.json            api: a datasource before stackshift changed it
 *   folders.json, datasources.json    export: the folder tree and GET /api/datasources
 *   files/<relative path>             files: the original bytes of each file changed in place
 *   applied.jsonl                     api: one line per save (uid, version before, version after)
 *
 * Every file is written atomically and before the change it protects, so an interrupted run leaves a
 * backup of everything it touched.
 */
export const BACKUP_DESCRIPTOR = 'stackshift-backup.json';

export interface BackupDescriptor {
  kind: 'stackshift-dashboards-backup';
  formatVersion: 1;
  mode: 'api' | 'files';
  purpose: 'export' | 'migrate' | 'restore';
  createdAt: string;
  /** Grafana URL (api) or the directory the relative paths belong to (files). */
  source: string;
}

export interface AppliedEntry {
  kind: 'dashboard' | 'library-element' | 'datasource';
  uid: string;
  fromVersion?: number;
  toVersion?: number;
  at: string;
}

export function timestampDirName(prefix: string, now = new Date()): string {
  return `${prefix}-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/** `stackshift-backup/dashboards-<UTC time>` in the working directory, never an existing one. */
export function defaultBackupDir(now = new Date(), cwd = process.cwd()): string {
  const base = resolve(cwd, 'stackshift-backup', timestampDirName('dashboards', now));
  let dir = base;
  for (let i = 1; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** Characters that are not safe in a file name on Linux, macOS or Windows. */
export function safeName(s: string): string {
  const cleaned = s
    .replace(/[/\\:*?"<>|\x00-\x1f]/g, '_')
    .replace(/^\.+/, '_')
    .trim();
  return cleaned.slice(0, 120) || '_';
}

const PRIVATE: WriteOptions = { mode: 0o600, maxMode: 0o600 };

/** Writes a backup directory lazily: nothing exists on disk until the first thing is backed up. */
export class BackupWriter {
  readonly dir: string;
  private started = false;
  private count = 0;

  /**
   * `refresh` (export only) lets a new export update an earlier export in the same directory; a file that
   * changed is kept beside the new one. A backup of a migrate or restore is never written over.
   */
  constructor(
    dir: string,
    private readonly descriptor: Omit<BackupDescriptor, 'kind' | 'formatVersion' | 'createdAt'>,
    private readonly now = new Date(),
    private readonly refresh = false,
  ) {
    this.dir = resolve(dir);
  }

  get written(): number {
    return this.count;
  }

  private start(): void {
    if (this.started) return;
    const existing = join(this.dir, BACKUP_DESCRIPTOR);
    if (existsSync(existing)) {
      const prev = (() => {
        try {
          return JSON.parse(readFileSync(existing, 'utf8')) as BackupDescriptor;
        } catch {
          return undefined;
        }
      })();
      if (!this.refresh || prev?.purpose !== 'export') {
        throw new UsageError(
          `${this.dir} already holds a stackshift backup`,
          this.refresh
            ? 'export into a new directory; a migrate or restore backup is never written over'
            : 'choose a new --backup-dir (or omit it for a fresh timestamped one); a backup is never overwritten',
        );
      }
    } else if (this.refresh && existsSync(this.dir) && readdirSync(this.dir).some((n) => !n.startsWith('.'))) {
      throw new UsageError(
        `${this.dir} is not empty and is not an earlier stackshift export`,
        'export into a new or empty directory',
      );
    }
    // The directory holds copies of files that may be private (0600 with a password): only its owner lists it.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const d: BackupDescriptor = {
      kind: 'stackshift-dashboards-backup',
      formatVersion: 1,
      createdAt: this.now.toISOString(),
      ...this.descriptor,
      source: redact(this.descriptor.source),
    };
    writeFileAtomic(join(this.dir, BACKUP_DESCRIPTOR), JSON.stringify(d, null, 2) + '\n', PRIVATE);
    this.started = true;
  }

  /** What Grafana gave us (dashboards, datasources) is readable by the one who ran stackshift only. */
  private put(rel: string, data: string | Uint8Array, access: WriteOptions = PRIVATE): string {
    this.start();
    const path = join(this.dir, rel);
    if (this.refresh && existsSync(path)) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      if (readFileSync(path).equals(bytes)) {
        this.count++;
        return path;
      }
      backupFile(path, this.now);
    }
    writeFileAtomic(path, data, access);
    this.count++;
    return path;
  }

  dashboard(env: GrafanaDashboardEnvelope, folderPath: string): string {
    return this.put(
      join('dashboards', folderPath, `${safeName(String(env.dashboard.uid))}.json`),
      JSON.stringify(env, null, 2) + '\n',
    );
  }

  libraryElement(el: GrafanaLibraryElement): string {
    return this.put(join('library-elements', `${safeName(el.uid)}.json`), JSON.stringify(el, null, 2) + '\n');
  }

  datasource(ds: Record<string, unknown>): string {
    return this.put(join('datasources', `${safeName(String(ds.uid))}.json`), JSON.stringify(ds, null, 2) + '\n');
  }

  /** The original bytes of `source` (never re-encoded), with its mode and owner: never more open than it. */
  file(rel: string, bytes: Uint8Array, source: string): string {
    return this.put(join('files', rel), bytes, backupAccessOf(source));
  }

  /** The same, without blocking: resolves once the copy is durable (fsynced and renamed into place). */
  async fileAsync(rel: string, bytes: Uint8Array, source: string): Promise<string> {
    this.start();
    const path = join(this.dir, 'files', rel);
    await writeFileAtomicAsync(path, bytes, backupAccessOf(source));
    this.count++;
    return path;
  }

  json(rel: string, value: unknown): string {
    return this.put(rel, JSON.stringify(value, null, 2) + '\n');
  }

  /** Forgets a backup whose change was not applied (a refused save), so a restore never replays it. */
  discard(path: string): void {
    try {
      unlinkSync(path);
      this.count--;
    } catch {
      /* already gone */
    }
  }

  applied(entry: Omit<AppliedEntry, 'at'>): void {
    this.start();
    appendFileSync(join(this.dir, 'applied.jsonl'), JSON.stringify({ ...entry, at: new Date().toISOString() }) + '\n', {
      mode: 0o600,
    });
  }
}

export interface BackupContents {
  dir: string;
  descriptor: BackupDescriptor;
  /** `env` is read from disk on each access. */
  dashboards: Array<{ file: string; readonly env: GrafanaDashboardEnvelope }>;
  libraryElements: Array<{ file: string; element: GrafanaLibraryElement }>;
  datasources: Array<{ file: string; datasource: Record<string, unknown> }>;
  folders?: GrafanaFolder[];
  /** files mode: paths relative to `descriptor.source`. */
  files: string[];
  applied: Map<string, AppliedEntry>;
}

function listJson(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw jsonSyntaxError(e, text, file, 'this backup file is damaged; restore it from another copy');
  }
}

export function readBackup(dir: string): BackupContents {
  const root = resolve(dir);
  const descFile = join(root, BACKUP_DESCRIPTOR);
  if (!existsSync(descFile)) {
    throw new UsageError(
      `${root} is not a stackshift backup: it has no ${BACKUP_DESCRIPTOR}`,
      'pass a directory written by `stackshift dashboards export` or by `migrate` (its backup directory)',
    );
  }
  const descriptor = readJson(descFile) as BackupDescriptor;
  if (descriptor?.kind !== 'stackshift-dashboards-backup' || descriptor.formatVersion !== 1) {
    throw new InputError(
      'not a stackshift dashboards backup descriptor (formatVersion 1)',
      { file: descFile, key: 'kind' },
      'pass a directory written by stackshift dashboards export or migrate',
    );
  }
  const loadDashboard = (file: string): GrafanaDashboardEnvelope => {
    const env = readJson(file) as GrafanaDashboardEnvelope;
    if (!env || typeof env.dashboard !== 'object' || env.dashboard === null || typeof env.dashboard.uid !== 'string') {
      throw new InputError(
        'expected {dashboard, meta} with dashboard.uid',
        { file, key: 'dashboard.uid' },
        'this backup file is damaged or was edited',
      );
    }
    return { dashboard: env.dashboard, meta: env.meta ?? {} };
  };
  // Every file is checked now, so a damaged backup stops the restore before it starts; the JSON is read
  // again when used, so a restore of thousands of dashboards holds one at a time.
  const dashboards = listJson(join(root, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      loadDashboard(file);
      return {
        file,
        get env(): GrafanaDashboardEnvelope {
          return loadDashboard(file);
        },
      };
    });
  const libraryElements = listJson(join(root, 'library-elements'))
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, element: readJson(file) as GrafanaLibraryElement }));
  const datasources = listJson(join(root, 'datasources'))
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, datasource: readJson(file) as Record<string, unknown> }));
  const foldersFile = join(root, 'folders.json');
  const folders = existsSync(foldersFile) ? (readJson(foldersFile) as GrafanaFolder[]) : undefined;
  const filesRoot = join(root, 'files');
  const files = listJson(filesRoot).map((f) => relative(filesRoot, f).split(sep).join('/'));
  const applied = new Map<string, AppliedEntry>();
  const appliedFile = join(root, 'applied.jsonl');
  if (existsSync(appliedFile)) {
    for (const line of readFileSync(appliedFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as AppliedEntry;
        applied.set(`${e.kind}/${e.uid}`, e);
      } catch {
        // A torn last line from an interrupted run: that save is treated as unknown.
      }
    }
  }
  return { dir: root, descriptor, dashboards, libraryElements, datasources, folders, files, applied };
}

/** Folder uid -> relative directory made of the (sanitised) titles from the root; root dashboards go to General. */
export function folderPaths(folders: GrafanaFolder[]): Map<string, string> {
  const byUid = new Map(folders.map((f) => [f.uid, f]));
  const out = new Map<string, string>([['', 'General']]);
  const used = new Map<string, Set<string>>([['', new Set(['General'])]]);
  const pathOf = (uid: string, depth = 0): string => {
    const known = out.get(uid);
    if (known !== undefined) return known;
    const f = byUid.get(uid);
    if (!f || depth > 64) return safeName(uid);
    const parent = f.parentUid && byUid.has(f.parentUid) ? pathOf(f.parentUid, depth + 1) : '';
    const siblings = used.get(parent) ?? new Set<string>();
    used.set(parent, siblings);
    let name = safeName(f.title);
    if (siblings.has(name)) name = safeName(`${f.title} (${f.uid})`);
    siblings.add(name);
    const p = parent ? `${parent}/${name}` : name;
    out.set(uid, p);
    return p;
  };
  for (const f of folders) pathOf(f.uid);
  return out;
}
