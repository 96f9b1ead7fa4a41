import type { Migration, StateDb } from '../state/index.js';
import type { SnapshotVerification } from './snapshot.js';

/** Verification results survive the process, so `snapshot list`, `prune` and `preflight` know what was proven. */
export const SNAPSHOT_MIGRATION: Migration = {
  module: 'snapshot',
  steps: [
    `CREATE TABLE snapshot_verifications (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       path TEXT NOT NULL,
       name TEXT NOT NULL,
       verified_at TEXT NOT NULL,
       ok INTEGER NOT NULL,
       deep INTEGER NOT NULL,
       blocks INTEGER NOT NULL,
       errors INTEGER NOT NULL,
       bytes INTEGER NOT NULL,
       duration_ms INTEGER NOT NULL
     );
     CREATE INDEX snapshot_verifications_path ON snapshot_verifications(path, verified_at);`,
  ],
};

export interface VerificationRecord {
  path: string;
  name: string;
  verifiedAt: string;
  ok: boolean;
  deep: boolean;
  blocks: number;
  errors: number;
  bytes: number;
  durationMs: number;
}

export function recordVerification(db: StateDb, v: SnapshotVerification): void {
  db.prepare(
    'INSERT INTO snapshot_verifications (path, name, verified_at, ok, deep, blocks, errors, bytes, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(
    v.path,
    v.path.split('/').filter(Boolean).pop() ?? v.path,
    v.verifiedAt,
    v.ok ? 1 : 0,
    v.deep ? 1 : 0,
    v.blocks.length,
    v.problems.filter((p) => p.severity === 'error').length,
    v.bytesRead,
    v.durationMs,
  );
}

/** The newest verification of each snapshot path. */
export function latestVerifications(db: StateDb): Map<string, VerificationRecord> {
  const rows = db
    .prepare(
      `SELECT path, name, verified_at, ok, deep, blocks, errors, bytes, duration_ms FROM snapshot_verifications v
    WHERE id = (SELECT MAX(id) FROM snapshot_verifications w WHERE w.path = v.path)`,
    )
    .all() as Array<Record<string, unknown>>;
  return new Map(
    rows.map((r) => [
      String(r.path),
      {
        path: String(r.path),
        name: String(r.name),
        verifiedAt: String(r.verified_at),
        ok: r.ok === 1,
        deep: r.deep === 1,
        blocks: Number(r.blocks),
        errors: Number(r.errors),
        bytes: Number(r.bytes),
        durationMs: Number(r.duration_ms),
      },
    ]),
  );
}
