import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputError, UsageError } from '../errors/index.js';
import { backupFile, copyAccessOf, writeFileAtomicAsync, WriteQueue } from '../fsutil/index.js';
import { decodeUtf8 } from './encoding.js';
import { BackupWriter, BACKUP_DESCRIPTOR, defaultBackupDir } from './backup.js';
import { DatasourceCatalog, jsonSyntaxError, parseDatasourceList, type GrafanaDatasource } from './datasources.js';
import { classify, type DocumentShape } from './document.js';
import { unifiedDiff } from './diff.js';
import { detectLayout, roundTrips, serializeMigrated } from './format.js';
import { planExemplarLink } from './link.js';
import { outcomeFrom, totals, type DatasourceLink, type MigrationReport, type Outcome } from './report.js';
import {
  countReferences,
  resolveInputBindings,
  rewriteDashboard,
  rewriteLibraryModel,
  type MigrateRunOptions,
  type RewriteOptions,
  type RewriteResult,
} from './rewrite.js';

/** In-place runs only write a backup (`backupDir`); runs with an output directory leave the originals alone. */
export interface FilesMigrateOptions extends MigrateRunOptions {
  /** A dashboard file or a directory searched recursively for *.json. */
  input: string;
  /** Directory (or file, when input is a file) for the migrated copies; omitted or equal to input: in place. */
  output?: string;
  catalog: DatasourceCatalog;
  from: GrafanaDatasource;
  to: GrafanaDatasource;
  tempo?: GrafanaDatasource;
  /**
   * No longer needed (kept so existing scripts run): a dashboard without a uid is migrated with a warning.
   * Rewriting a file does not need the uid; only an import does (without one it creates a duplicate).
   */
  allowMissingUid?: boolean;
  /** Files never to treat as dashboards (the datasources file when it sits in the input directory). */
  exclude?: string[];
  onProgress?: (done: number, total: number) => void;
}

/** Names the export layout uses for things that are not dashboards. */
const NON_DASHBOARD_ROOT_FILES = new Set([BACKUP_DESCRIPTOR, 'folders.json', 'datasources.json']);
const NON_DASHBOARD_ROOT_DIRS = new Set(['datasources', 'node_modules']);

export interface InputFile {
  abs: string;
  rel: string;
}

/** Every *.json under the input (sorted, hidden entries skipped), or the input itself when it is a file. */
export function discoverFiles(input: string, exclude: string[] = []): { root: string; files: InputFile[] } {
  const abs = resolve(input);
  if (!existsSync(abs))
    throw new UsageError(`--in ${input} does not exist`, 'pass a dashboard file or a directory of dashboards');
  if (statSync(abs).isFile()) return { root: dirname(abs), files: [{ abs, rel: basename(abs) }] };
  const skip = new Set(exclude.map((e) => resolve(e)));
  const files: InputFile[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      if (skip.has(p)) continue;
      const st = statSync(p);
      if (st.isDirectory()) {
        if (depth === 0 && NON_DASHBOARD_ROOT_DIRS.has(name)) continue;
        if (existsSync(join(p, BACKUP_DESCRIPTOR)) && depth > 0) continue;
        walk(p, depth + 1);
      } else if (name.endsWith('.json') && !(depth === 0 && NON_DASHBOARD_ROOT_FILES.has(name))) {
        files.push({ abs: p, rel: relative(abs, p).split(sep).join('/') });
      }
    }
  };
  walk(abs, 0);
  return { root: abs, files };
}

/** Reads a datasources file (what GET /api/datasources returns) into a catalog. */
export function loadDatasourcesFile(file: string): { catalog: DatasourceCatalog; file: string } {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new UsageError(
      `--datasources ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      'save GET /api/datasources of your Grafana to a file and pass it with --datasources',
    );
  }
  return { catalog: new DatasourceCatalog(parseDatasourceList(text, abs)), file: abs };
}

interface Parsed {
  /** The file as read: what a backup holds, byte for byte. */
  bytes: Buffer;
  text: string;
  value: unknown;
  shape: DocumentShape;
}

function readParsed(f: InputFile): Parsed {
  let bytes: Buffer;
  try {
    bytes = readFileSync(f.abs);
  } catch (e) {
    throw new InputError(
      `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { file: f.abs },
      'check the path and its permissions',
    );
  }
  const text = decodeUtf8(bytes, f.abs);
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw jsonSyntaxError(e, text, f.abs, 'fix the file (or move it out of the directory); nothing was written');
  }
  return { bytes, text, value, shape: classify(value) };
}

/**
 * Checks every file before anything is written: a file that is not UTF-8 JSON or not a dashboard stops the
 * run with an error naming it, and no file is half migrated. Returns the files that can be migrated and the
 * V2 files that are refused. A missing uid is not checked here: every such dashboard is migrated and
 * warned about in the report, all in one run.
 */
function preflight(files: InputFile[]): { refused: Outcome[]; ok: InputFile[] } {
  const refused: Outcome[] = [];
  const ok: InputFile[] = [];
  for (const f of files) {
    const { shape } = readParsed(f);
    if (shape.kind === 'other') {
      throw new InputError(
        shape.reason,
        { file: f.abs },
        'only Grafana dashboards (and library elements) belong in the input; move this file out or pass the dashboards one by one. Nothing was written',
      );
    }
    if (shape.kind === 'v2') {
      refused.push({
        ...outcomeFrom('dashboard', { uid: shape.uid, title: shape.title, where: f.rel }, undefined, 'refused'),
        reason: `Grafana V2 dashboard schema (${shape.apiVersion ?? 'elements/layout'}) is not supported; it was not down-converted`,
      });
      continue;
    }
    ok.push(f);
  }
  return { refused, ok };
}

/** Where the uid belongs in this shape of file, for the warning. */
function missingUidKey(shape: DocumentShape): string {
  if (shape.kind === 'dashboard') return shape.form === 'resource' ? 'metadata.name' : [...shape.base, 'uid'].join('.');
  if (shape.kind === 'library-element') return [...shape.base.slice(0, -1), 'uid'].join('.') || 'uid';
  return 'uid';
}

function rewrite(shape: DocumentShape, opts: RewriteOptions): RewriteResult {
  if (shape.kind === 'dashboard') return rewriteDashboard(shape.dashboard, opts, shape.base);
  if (shape.kind === 'library-element') return rewriteLibraryModel(shape.model, opts, shape.base);
  throw new Error('unreachable');
}

function remainingIn(
  text: string,
  opts: FilesMigrateOptions,
  bindings?: ReadonlyMap<string, GrafanaDatasource>,
): number {
  const shape = classify(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
  if (shape.kind === 'dashboard')
    return countReferences(shape.dashboard, opts.catalog, opts.from, 'dashboard', bindings);
  if (shape.kind === 'library-element')
    return countReferences(shape.model, opts.catalog, opts.from, 'library', bindings);
  return 0;
}

/**
 * Files mode: dashboards as files (exported JSON, provisioning directories, dashboards-as-code, or the
 * output of `stackshift dashboards export`), rewritten with no Grafana involved. Unchanged bytes stay as
 * they were; in place, each original is backed up before it is replaced.
 */
export async function migrateFiles(opts: FilesMigrateOptions): Promise<MigrationReport> {
  const t0 = Date.now();
  const { root, files } = discoverFiles(opts.input, [
    ...(opts.exclude ?? []),
    ...(opts.output ? [opts.output] : []),
    ...(opts.backupDir ? [opts.backupDir] : []),
  ]);
  const inputIsFile = statSync(resolve(opts.input)).isFile();
  const outAbs = opts.output ? resolve(opts.output) : undefined;
  const inPlace = !outAbs || outAbs === resolve(opts.input) || (!inputIsFile && outAbs === root);
  const outputPath = (f: InputFile): string => {
    if (inPlace) return f.abs;
    if (inputIsFile && outAbs!.endsWith('.json')) return outAbs!;
    return join(outAbs!, f.rel);
  };
  const { refused, ok } = preflight(files);
  const backup =
    inPlace && !opts.dryRun
      ? new BackupWriter(
          opts.backupDir ?? defaultBackupDir(opts.now),
          { mode: 'files', purpose: 'migrate', source: root },
          opts.now,
        )
      : undefined;
  const inputBindings = resolveInputBindings(opts.catalog, 'the datasources file', opts.bindInputs);
  const rwOpts: RewriteOptions = {
    catalog: opts.catalog,
    from: opts.from,
    to: opts.to,
    keepInputs: opts.keepInputs,
    exemplars: opts.exemplars,
    rewriteExpr: opts.rewriteExpr,
    inputBindings,
  };
  const outcomes: Outcome[] = [...refused];
  const writes = new WriteQueue(8);
  let done = 0;
  for (const f of ok) {
    if (opts.signal) {
      // the loop is synchronous between writes: yield so that a Ctrl-C is seen before the next file, not after the last
      await new Promise((r) => setImmediate(r));
      if (opts.signal.aborted) break;
    }
    const p = readParsed(f);
    // A byte-order mark is kept in front and kept out of the JSON work.
    const bom = p.text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
    const body = bom ? p.text.slice(1) : p.text;
    const layout = detectLayout(body);
    const exact = roundTrips(body, p.value, layout);
    const r = rewrite(p.shape, rwOpts);
    const kind = p.shape.kind === 'library-element' ? 'library-element' : 'dashboard';
    const base = { uid: (p.shape as { uid?: string }).uid, title: (p.shape as { title?: string }).title, where: f.rel };
    const changed = r.changes.length > 0;
    const newText = changed ? bom + serializeMigrated(body, exact, p.value, r.changes, layout) : p.text;
    const o = outcomeFrom(kind, base, r, changed ? (opts.dryRun ? 'would-change' : 'changed') : 'unchanged');
    if (!base.uid)
      o.warnings.push(
        `no uid (${missingUidKey(p.shape)}): importing it creates a new dashboard instead of updating the existing one; give it a stable uid before importing`,
      );
    // Re-counted on the text that is written, so the figure covers serialization as well as the rewrite.
    o.remaining = changed ? remainingIn(newText, opts, inputBindings) : r.placeholdersKept;
    if (opts.diff && changed) o.diff = unifiedDiff(f.rel, p.text, newText);
    if (!opts.dryRun) {
      const target = outputPath(f);
      if (inPlace) {
        // The original is durable in the backup before it is replaced.
        if (changed)
          await writes.add(async () => {
            await backup!.fileAsync(f.rel, p.bytes, f.abs);
            await writeFileAtomicAsync(target, newText);
          });
      } else if (
        !existsSync(target) ||
        !readFileSync(target).equals(changed ? Buffer.from(newText, 'utf8') : p.bytes)
      ) {
        // A different file already there is someone's work: keep it beside the new one.
        if (existsSync(target)) backupFile(target, opts.now);
        // A copy is never more open than its source (a 0600 dashboard stays 0600 in the output).
        const access = copyAccessOf(f.abs);
        await writes.add(() => writeFileAtomicAsync(target, changed ? newText : p.bytes, access));
      }
    }
    outcomes.push(o);
    opts.onProgress?.(++done, ok.length);
  }
  // writes in flight finish even when stopped: each file is either as it was or completely migrated
  await writes.drain();
  return {
    command: 'migrate',
    mode: 'files',
    source: resolve(opts.input),
    from: ref(opts.from),
    to: ref(opts.to),
    dryRun: Boolean(opts.dryRun),
    backupDir: backup && backup.written > 0 ? backup.dir : undefined,
    output: inPlace ? undefined : outAbs,
    outcomes,
    datasourceLink: opts.tempo ? filesLink(opts.to, opts.tempo, opts.exemplarLabel ?? 'trace_id') : undefined,
    totals: totals(outcomes),
    durationMs: Date.now() - t0,
    ...(done < ok.length ? { interrupted: { done, total: ok.length } } : {}),
  };
}

export function ref(ds: GrafanaDatasource): { name: string; uid: string; type: string } {
  return { name: ds.name, uid: ds.uid, type: ds.type };
}

function filesLink(to: GrafanaDatasource, tempo: GrafanaDatasource, label: string): DatasourceLink {
  const plan = planExemplarLink(to, tempo, label);
  return {
    datasource: ref(to),
    tempo: ref(tempo),
    label,
    status: plan.needed ? 'not-applied' : 'already-linked',
    reason: plan.needed
      ? 'files mode does not change datasources; add this to the datasource provisioning (or run migrate against Grafana)'
      : undefined,
    provisioning: plan.needed ? plan.provisioning : undefined,
  };
}
