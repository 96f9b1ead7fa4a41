import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StackshiftError } from '../errors/index.js';

/**
 * Durable state in one embedded SQLite file. Each module owns a schema, named and versioned, applied in
 * order inside a transaction; WAL journaling with synchronous=FULL means a committed row survives kill -9
 * and power loss, which is what resumable work units rely on. No secret is ever stored here.
 */
export type StateDb = Database.Database;

export interface Migration {
  /** Module that owns the tables, e.g. "backfill". */
  module: string;
  /** Ordered SQL scripts; index+1 is the schema version. Never edit a shipped entry: append a new one. */
  steps: string[];
}

export function openState(path: string, migrations: Migration[] = []): StateDb {
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  let db: StateDb;
  try {
    db = new Database(full);
  } catch (e) {
    throw new StackshiftError('state', `cannot open state database ${full}: ${(e as Error).message}`, { hint: 'check the path and its permissions' });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  for (const m of migrations) migrate(db, m);
  return db;
}

export function migrate(db: StateDb, m: Migration): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(m.module) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > m.steps.length) {
    throw new StackshiftError('state', `state database has ${m.module} schema v${current}, newer than this stackshift knows (v${m.steps.length})`, { hint: 'use the stackshift version that created it, or a new --state file' });
  }
  const apply = db.transaction(() => {
    for (let v = current; v < m.steps.length; v++) db.exec(m.steps[v]);
    db.prepare('INSERT INTO schema_versions(module, version) VALUES(?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version').run(m.module, m.steps.length);
  });
  apply();
}
