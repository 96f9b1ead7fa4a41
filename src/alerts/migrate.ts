import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, matchesGlob, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parse as parseYaml, parseDocument, stringify, type Node } from 'yaml';
import type { ResolvedEndpoint } from '../config/index.js';
import { unifiedDiff } from '../dashboards/index.js';
import { InputError, StackshiftError, UsageError } from '../errors/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { HttpClient, readBody, statusError } from '../http/index.js';
import { log } from '../log/index.js';
import { openState, StateLease, type Migration, type StateDb } from '../state/index.js';
import { amtoolVersion, checkConfig, type ConfigCheck } from './alertmanager.js';

/**
 * `alertmanager migrate`: an Alertmanager config (alertmanager.yml and the template files it names) moved to
 * Mimir's Alertmanager through its configuration API (references/http-api, "Alertmanager"; the answers of
 * pkg/alertmanager/api.go):
 *
 *   GET    /api/v1/alerts   YAML {template_files: {name: body}, alertmanager_config: "<yaml>"};
 *                           404 "alertmanager storage object not found" when the tenant has none
 *   POST   /api/v1/alerts   the same YAML; 201; 400 "error validating Alertmanager config: ..." (Mimir loads it
 *                           with Alertmanager's own config.Load, refuses *_file settings and template names with
 *                           a path)
 *   DELETE /api/v1/alerts   200, also when there is none
 *
 * Tenant in X-Scope-OrgID. Mimir keeps templates by file name only, so `templates:` entries are rewritten to
 * their file names and the files uploaded under those names; the uploaded form is checked by the real
 * `amtool check-config` (templates beside it) before anything is sent. Like `rules sync`, a remote config is
 * replaced only when it is what stackshift last put there (the hash kept in the state), unless --force; what
 * Mimir holds is saved before it is replaced.
 */
export interface MimirAlertmanagerConfig {
  template_files: Record<string, string>;
  alertmanager_config: string;
}

export class MimirAlertmanagerClient {
  readonly http: HttpClient;
  constructor(readonly endpoint: ResolvedEndpoint) {
    this.http = new HttpClient(endpoint);
  }

  /** The tenant's config; undefined when Mimir has none. */
  async get(): Promise<MimirAlertmanagerConfig | undefined> {
    const res = await this.http.request({
      method: 'GET',
      path: '/api/v1/alerts',
      headers: { accept: 'application/yaml' },
    });
    const text = await readBody(res, 64 * 1024 * 1024);
    if (res.status === 404 && /alertmanager storage object not found|the Alertmanager is not configured/i.test(text))
      return undefined;
    if (res.status !== 200) throw withHint(statusError('GET', res, text), res.status);
    const doc = (parseYaml(text) ?? {}) as Partial<MimirAlertmanagerConfig>;
    return { template_files: doc.template_files ?? {}, alertmanager_config: String(doc.alertmanager_config ?? '') };
  }

  async set(cfg: MimirAlertmanagerConfig): Promise<void> {
    const res = await this.http.request({
      method: 'POST',
      path: '/api/v1/alerts',
      body: stringify(cfg, { lineWidth: 0 }),
      headers: { 'content-type': 'application/yaml' },
    });
    const text = await readBody(res, 1024 * 1024);
    if (res.status === 201 || res.status === 200) return;
    if (res.status === 400)
      throw new StackshiftError('alertmanager', `Mimir refused the Alertmanager config: ${text.trim().slice(0, 500)}`, {
        hint: 'Mimir refuses *_file settings (put the secret inline) and template names with a path; fix the config and run again',
        exitCode: 2,
        cause: statusError('POST', res, text),
      });
    throw withHint(statusError('POST', res, text), res.status);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

function withHint<E extends Error & { hint?: string }>(e: E, status: number): E {
  if (status === 401) e.hint = 'Mimir needs a tenant: pass --tenant (sent as X-Scope-OrgID)';
  if (status === 404)
    e.hint =
      "no Alertmanager config API at this URL: check --mimir-url (Mimir's Alertmanager, -alertmanager.enable-api)";
  return e;
}

/** The config as it will be uploaded: templates by file name, the files they match read. */
export function buildUpload(configFile: string, extraTemplates: string[] = []): MimirAlertmanagerConfig {
  if (!existsSync(configFile)) throw new UsageError(`${configFile}: no such Alertmanager config file`);
  const text = readFileSync(configFile, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length)
    throw new InputError(
      `${configFile}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`,
      { file: configFile },
      'fix the YAML (amtool check-config shows the same)',
    );
  const files: Record<string, string> = {};
  const add = (path: string) => {
    const name = basename(path);
    if (files[name] !== undefined && files[name] !== readFileSync(path, 'utf8'))
      throw new InputError(
        `two template files are named ${name}: Mimir keeps templates by file name only`,
        { file: path },
        'rename one of them',
      );
    files[name] = readFileSync(path, 'utf8');
  };
  const patterns = (doc.get('templates') as { items?: Array<{ value?: unknown }> } | undefined)?.items ?? [];
  const names: string[] = [];
  for (const p of patterns) {
    const pattern = String(p?.value ?? '');
    const full = resolve(dirname(configFile), pattern);
    const dir = dirname(full);
    const glob = basename(full);
    if (/[*?[]/.test(dir))
      throw new InputError(
        `${configFile}: templates entry "${pattern}" has a wildcard in its directory`,
        { file: configFile, key: 'templates' },
        'Mimir keeps templates in one directory: use a wildcard in the file name only, or pass --template for each file',
      );
    const matched = existsSync(dir)
      ? readdirSync(dir).filter((f) => matchesGlob(f, glob) && statSync(join(dir, f)).isFile())
      : [];
    for (const f of matched.sort()) add(join(dir, f));
    names.push(glob);
  }
  for (const t of extraTemplates) {
    if (!existsSync(t)) throw new UsageError(`--template ${t}: no such file`);
    add(t);
    if (!names.some((n) => matchesGlob(basename(t), n))) names.push(basename(t));
  }
  if (names.length) doc.set('templates', names);
  return { template_files: files, alertmanager_config: doc.toString({ lineWidth: 0 }) };
}

/** Same config: the YAML meaning of alertmanager_config (comments and layout are no difference) and the templates. */
export function configHash(c: MimirAlertmanagerConfig): string {
  const canon = JSON.stringify([
    sortDeep(parseYaml(c.alertmanager_config) ?? null),
    Object.keys(c.template_files)
      .sort()
      .map((k) => [k, c.template_files[k]]),
  ]);
  return createHash('sha256').update(canon).digest('hex');
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** amtool check-config on the uploaded form: the config and its templates side by side, as Mimir loads them. */
export function checkUpload(amtool: string, c: MimirAlertmanagerConfig): ConfigCheck {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-am-check-'));
  try {
    for (const [name, body] of Object.entries(c.template_files)) writeFileSync(join(dir, name), body);
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, c.alertmanager_config);
    return checkConfig(amtool, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const ALERTMANAGER_MIGRATION: Migration = {
  module: 'alertmanager',
  steps: [
    `CREATE TABLE alertmanager_written (
      target TEXT PRIMARY KEY,
      hash TEXT NOT NULL,
      written_at INTEGER NOT NULL
    )`,
  ],
};

/** What stackshift last put into one Mimir Alertmanager (by URL without credentials and tenant). */
export class AlertmanagerRecords {
  private constructor(
    private readonly db: StateDb | undefined,
    private readonly target: string,
    private readonly lease?: StateLease,
  ) {}

  static open(file: string, target: string, dryRun: boolean): AlertmanagerRecords {
    if (dryRun && !existsSync(file)) return new AlertmanagerRecords(undefined, target);
    const db = openState(file, [ALERTMANAGER_MIGRATION]);
    return new AlertmanagerRecords(db, target, dryRun ? undefined : new StateLease(db, file, 'alertmanager'));
  }

  get(): string | undefined {
    const r = this.db?.prepare('SELECT hash FROM alertmanager_written WHERE target = ?').get(this.target) as
      { hash: string } | undefined;
    return r?.hash;
  }

  put(hash: string): void {
    this.db
      ?.prepare(
        'INSERT INTO alertmanager_written (target, hash, written_at) VALUES (?, ?, ?) ON CONFLICT(target) DO UPDATE SET hash = excluded.hash, written_at = excluded.written_at',
      )
      .run(this.target, hash, Date.now());
  }

  close(): void {
    this.lease?.release();
    this.db?.close();
  }
}

export function alertmanagerTargetKey(url: string, tenant: string | undefined): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')} tenant=${tenant ?? ''}`;
}

export interface AlertmanagerMigrateReport {
  target: string;
  tenant?: string;
  dryRun: boolean;
  force: boolean;
  amtool: { binary: string; version: string };
  check: ConfigCheck;
  templates: string[];
  action: 'create' | 'update' | 'unchanged' | 'conflict' | 'invalid';
  reason?: 'edited-in-mimir' | 'not-written-by-stackshift';
  outcome: 'applied' | 'planned' | 'unchanged' | 'blocked' | 'refused';
  diff: string;
  backupFile?: string;
  exitCode: 0 | 1;
}

export interface AlertmanagerMigrateParams {
  amtool: string;
  config: string;
  templates?: string[];
  client: MimirAlertmanagerClient;
  records: AlertmanagerRecords;
  dryRun?: boolean;
  force?: boolean;
  backupDir?: string;
}

/**
 * Keys whose values Alertmanager treats as secrets (its `Secret`/`SecretURL` fields: passwords, tokens, keys,
 * webhook and API URLs that embed credentials); stricter than Alertmanager, so a plain URL may be masked too.
 */
const SECRET_KEY = /password|secret|token|credentials|_key$|^api_key$|api_url|webhook_url|^url$/;

/** Every scalar under a secret key, by its path in the document. */
function secretsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  walkSecrets(parseDocument(text).contents, '', (path, node) => out.set(path, String(node.value)));
  return out;
}

function walkSecrets(
  node: Node | null | undefined,
  path: string,
  found: (path: string, node: { value: unknown }) => void,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      const value = pair.value as Node | null;
      if (SECRET_KEY.test(key) && isScalar(value)) found(`${path}.${key}`, value);
      else walkSecrets(value, `${path}.${key}`, found);
    }
  } else if (isSeq(node)) node.items.forEach((item, i) => walkSecrets(item as Node, `${path}[${i}]`, found));
}

/**
 * The config as the diff shows it: every secret value replaced by "<secret>", or "<secret, changed>" where it
 * differs from the other side's value at the same place, so the diff (stdout and the JSON report) says that a
 * secret changes without ever printing one.
 */
function maskedConfig(text: string, other: Map<string, string> | undefined): string {
  const doc = parseDocument(text);
  walkSecrets(doc.contents, '', (path, node) => {
    const was = other?.get(path);
    node.value = was !== undefined && was !== String(node.value) ? '<secret, changed>' : '<secret>';
  });
  return doc.toString({ lineWidth: 0 });
}

function asText(c: MimirAlertmanagerConfig | undefined, other?: MimirAlertmanagerConfig): string {
  if (!c) return '';
  const config = maskedConfig(c.alertmanager_config, other && secretsOf(other.alertmanager_config));
  const parts = [`# alertmanager_config\n${config.replace(/\n?$/, '\n')}`];
  for (const k of Object.keys(c.template_files).sort())
    parts.push(`# template_files/${k}\n${c.template_files[k]!.replace(/\n?$/, '\n')}`);
  return parts.join('');
}

export async function migrateAlertmanager(p: AlertmanagerMigrateParams): Promise<AlertmanagerMigrateReport> {
  const upload = buildUpload(p.config, p.templates);
  const check = checkUpload(p.amtool, upload);
  const base = {
    target: p.client.endpoint.url,
    tenant: p.client.endpoint.tenant,
    dryRun: Boolean(p.dryRun),
    force: Boolean(p.force),
    amtool: { binary: p.amtool, version: amtoolVersion(p.amtool) },
    check,
    templates: Object.keys(upload.template_files).sort(),
  };
  if (!check.ok) return { ...base, action: 'invalid', outcome: 'refused', diff: '', exitCode: 1 };
  const remote = await p.client.get();
  const wantHash = configHash(upload);
  const diff = unifiedDiff('mimir-alertmanager', asText(remote), asText(upload, remote));
  let action: AlertmanagerMigrateReport['action'];
  let reason: AlertmanagerMigrateReport['reason'];
  if (!remote) action = 'create';
  else if (configHash(remote) === wantHash) action = 'unchanged';
  else if (p.records.get() === configHash(remote)) action = 'update';
  else {
    action = 'conflict';
    reason = p.records.get() ? 'edited-in-mimir' : 'not-written-by-stackshift';
  }
  const report: AlertmanagerMigrateReport = { ...base, action, reason, outcome: 'planned', diff, exitCode: 0 };
  if (action === 'unchanged') {
    report.outcome = 'unchanged';
    if (!p.dryRun && p.records.get() !== wantHash) p.records.put(wantHash);
    return report;
  }
  if (action === 'conflict' && !p.force) {
    report.outcome = 'blocked';
    report.exitCode = 1;
    return report;
  }
  if (p.dryRun) return report;
  if (remote) {
    const dir =
      p.backupDir ?? join('stackshift-backup', `alertmanager-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    const file = join(
      dir,
      `mimir-alertmanager-${(p.client.endpoint.tenant ?? 'anonymous').replace(/[^A-Za-z0-9._-]+/g, '_')}.yaml`,
    );
    if (existsSync(file))
      throw new UsageError(`${file} exists: a backup is never written over`, 'give another --backup-dir');
    writeFileAtomic(file, stringify(remote, { lineWidth: 0 }), { mode: 0o600 });
    report.backupFile = file;
    log.info("saved Mimir's Alertmanager config before replacing it", { file });
  }
  await p.client.set(upload);
  p.records.put(wantHash);
  report.outcome = 'applied';
  return report;
}

export function renderAlertmanagerMigrateText(r: AlertmanagerMigrateReport, opts: { diff?: boolean } = {}): string {
  const out = [
    `amtool ${r.amtool.version} check-config (the config as Mimir will load it, templates: ${r.templates.join(', ') || 'none'}): ${r.check.ok ? 'SUCCESS' : 'FAILED'}`,
  ];
  if (!r.check.ok) for (const l of r.check.output.split('\n')) out.push(`  ${l}`);
  out.push(
    `Mimir Alertmanager ${r.target}${r.tenant ? ` (tenant ${r.tenant})` : ''}: ${r.action}${r.reason ? ` (${r.reason})` : ''} -> ${r.outcome}${r.dryRun ? ' (dry run)' : ''}`,
  );
  if ((opts.diff || r.dryRun || r.outcome === 'blocked') && r.diff)
    for (const l of r.diff.trimEnd().split('\n')) out.push(`  ${l}`);
  if (r.backupFile) out.push(`backup of what Mimir held: ${r.backupFile}`);
  if (r.outcome === 'blocked')
    out.push(
      r.reason === 'edited-in-mimir'
        ? 'FAIL: the config in Mimir was changed after stackshift put it there; review the diff, then pass --force to replace it (it is saved first)'
        : 'FAIL: Mimir holds a config stackshift did not put there; review the diff, then pass --force to replace it (it is saved first)',
    );
  if (r.outcome === 'refused') out.push('FAIL: amtool check-config refused the config: nothing was sent');
  return `${out.join('\n')}\n`;
}
