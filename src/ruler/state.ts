import { existsSync } from 'node:fs';
import { openState, StateLease, type Migration, type StateDb } from '../state/index.js';

/**
 * What `rules sync` last wrote to each group of a ruler: the hash of the canonical form, per target (URL,
 * prefix, tenant), namespace and group. A group whose ruler copy no longer has that hash was edited (or
 * deleted) on the Mimir side after the sync, and is not overwritten without --force. One writer per file
 * (StateLease). No secret is stored: the target key is the URL without credentials and the tenant id.
 */
export const RULES_MIGRATION: Migration = {
  module: 'rules',
  steps: [
    `CREATE TABLE rules_written (
      target TEXT NOT NULL,
      namespace TEXT NOT NULL,
      grp TEXT NOT NULL,
      hash TEXT NOT NULL,
      written_at INTEGER NOT NULL,
      PRIMARY KEY (target, namespace, grp)
    )`,
  ],
};

export interface WrittenRecord {
  namespace: string;
  group: string;
  hash: string;
  writtenAt: number;
}

export interface RulesRecords {
  get(namespace: string, group: string): WrittenRecord | undefined;
  all(): WrittenRecord[];
  put(namespace: string, group: string, hash: string): void;
  remove(namespace: string, group: string): void;
  close(): void;
}

/** Records in memory only: --dry-run on a state file that does not exist yet (nothing is created). */
class MemoryRecords implements RulesRecords {
  private readonly m = new Map<string, WrittenRecord>();
  constructor(rows: WrittenRecord[] = []) {
    for (const r of rows) this.m.set(`${r.namespace}\u0000${r.group}`, r);
  }
  get(ns: string, g: string) {
    return this.m.get(`${ns}\u0000${g}`);
  }
  all() {
    return [...this.m.values()];
  }
  put(ns: string, g: string, hash: string) {
    this.m.set(`${ns}\u0000${g}`, { namespace: ns, group: g, hash, writtenAt: Date.now() });
  }
  remove(ns: string, g: string) {
    this.m.delete(`${ns}\u0000${g}`);
  }
  close() {
    /* nothing */
  }
}

class DbRecords implements RulesRecords {
  private readonly lease?: StateLease;
  constructor(
    private readonly db: StateDb,
    private readonly target: string,
    file: string,
    readOnly: boolean,
  ) {
    if (!readOnly) this.lease = new StateLease(db, file, 'rules');
  }
  get(ns: string, g: string): WrittenRecord | undefined {
    const r = this.db
      .prepare(
        'SELECT namespace, grp, hash, written_at FROM rules_written WHERE target = ? AND namespace = ? AND grp = ?',
      )
      .get(this.target, ns, g) as { namespace: string; grp: string; hash: string; written_at: number } | undefined;
    return r ? { namespace: r.namespace, group: r.grp, hash: r.hash, writtenAt: r.written_at } : undefined;
  }
  all(): WrittenRecord[] {
    const rows = this.db
      .prepare('SELECT namespace, grp, hash, written_at FROM rules_written WHERE target = ? ORDER BY namespace, grp')
      .all(this.target) as Array<{ namespace: string; grp: string; hash: string; written_at: number }>;
    return rows.map((r) => ({ namespace: r.namespace, group: r.grp, hash: r.hash, writtenAt: r.written_at }));
  }
  put(ns: string, g: string, hash: string): void {
    this.db
      .prepare(
        'INSERT INTO rules_written (target, namespace, grp, hash, written_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(target, namespace, grp) DO UPDATE SET hash = excluded.hash, written_at = excluded.written_at',
      )
      .run(this.target, ns, g, hash, Date.now());
  }
  remove(ns: string, g: string): void {
    this.db.prepare('DELETE FROM rules_written WHERE target = ? AND namespace = ? AND grp = ?').run(this.target, ns, g);
  }
  close(): void {
    this.lease?.release();
    this.db.close();
  }
}

/** The key of one ruler in the state: origin and path of the URL (no credentials), prefix and tenant. */
export function targetKey(url: string, prefix: string, tenant: string | undefined): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${prefix} tenant=${tenant ?? ''}`;
}

/**
 * Opens the records of one ruler. `dryRun` reads an existing file without taking the lease and never
 * creates one; otherwise the file is created and leased.
 */
export function openRulesRecords(file: string, target: string, dryRun: boolean): RulesRecords {
  if (dryRun && !existsSync(file)) return new MemoryRecords();
  const db = openState(file, [RULES_MIGRATION]);
  return new DbRecords(db, target, file, dryRun);
}

export function memoryRecords(rows: WrittenRecord[] = []): RulesRecords {
  return new MemoryRecords(rows);
}
