import type { Migration, StateDb } from '../state/index.js';
import { redactDeep, redact } from '../redact/index.js';
import type { GateResult, StepRollbackResult, StepStatus } from './types.js';

export const MIGRATE_MIGRATION: Migration = {
  module: 'migrate',
  steps: [
    `CREATE TABLE migrate_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE migrate_steps (
       id TEXT PRIMARY KEY,
       phase INTEGER NOT NULL,
       ord INTEGER NOT NULL,
       kind TEXT NOT NULL,
       title TEXT NOT NULL,
       hash TEXT NOT NULL,
       status TEXT NOT NULL DEFAULT 'pending',
       attempts INTEGER NOT NULL DEFAULT 0,
       anchor_ms INTEGER,
       started_at INTEGER,
       finished_at INTEGER,
       result TEXT,
       figures TEXT,
       gates TEXT,
       data TEXT NOT NULL DEFAULT '{}',
       error TEXT,
       rollback TEXT
     );
     CREATE TABLE migrate_events (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       at INTEGER NOT NULL,
       step TEXT,
       phase INTEGER,
       event TEXT NOT NULL,
       detail TEXT
     );`,
  ],
};

export interface StepRow {
  id: string;
  phase: number;
  ord: number;
  kind: string;
  title: string;
  hash: string;
  status: StepStatus;
  attempts: number;
  anchorMs?: number;
  startedAt?: number;
  finishedAt?: number;
  result?: unknown;
  figures?: Record<string, number>;
  gates?: GateResult[];
  data: Record<string, unknown>;
  error?: string;
  rollback?: StepRollbackResult;
}

export interface EventRow {
  seq: number;
  at: number;
  step?: string;
  phase?: number;
  event: string;
  detail?: string;
}

interface RawRow {
  id: string;
  phase: number;
  ord: number;
  kind: string;
  title: string;
  hash: string;
  status: string;
  attempts: number;
  anchor_ms: number | null;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  figures: string | null;
  gates: string | null;
  data: string;
  error: string | null;
  rollback: string | null;
}

const json = (s: string | null) => (s === null ? undefined : JSON.parse(s));

/** The migration's rows. Every write is its own committed transaction (WAL, synchronous=FULL): kill -9 safe. */
export class MigrateState {
  constructor(readonly db: StateDb) {}

  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM migrate_meta WHERE key = ?').get(key) as { value: string } | undefined)
      ?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO migrate_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  steps(): StepRow[] {
    return (this.db.prepare('SELECT * FROM migrate_steps ORDER BY ord').all() as RawRow[]).map(toRow);
  }

  step(id: string): StepRow | undefined {
    const r = this.db.prepare('SELECT * FROM migrate_steps WHERE id = ?').get(id) as RawRow | undefined;
    return r && toRow(r);
  }

  upsertDefinition(s: { id: string; phase: number; ord: number; kind: string; title: string; hash: string }): void {
    this.db
      .prepare(
        `INSERT INTO migrate_steps(id, phase, ord, kind, title, hash) VALUES(@id, @phase, @ord, @kind, @title, @hash)
      ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, ord = excluded.ord, kind = excluded.kind, title = excluded.title, hash = excluded.hash`,
      )
      .run(s);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM migrate_steps WHERE id = ?').run(id);
  }

  start(id: string, anchorMs: number): void {
    this.db
      .prepare(
        "UPDATE migrate_steps SET status = 'running', attempts = attempts + 1, anchor_ms = COALESCE(anchor_ms, ?), started_at = ?, error = NULL WHERE id = ?",
      )
      .run(anchorMs, Date.now(), id);
  }

  saveData(id: string, data: Record<string, unknown>): void {
    this.db.prepare('UPDATE migrate_steps SET data = ? WHERE id = ?').run(JSON.stringify(data), id);
  }

  finish(
    id: string,
    status: 'done' | 'failed',
    r: { result?: unknown; figures?: Record<string, number>; gates?: GateResult[]; error?: string },
  ): void {
    this.db
      .prepare(
        'UPDATE migrate_steps SET status = ?, finished_at = ?, result = ?, figures = ?, gates = ?, error = ? WHERE id = ?',
      )
      .run(
        status,
        Date.now(),
        r.result === undefined ? null : JSON.stringify(redactDeep(r.result)),
        r.figures ? JSON.stringify(r.figures) : null,
        r.gates ? JSON.stringify(r.gates) : null,
        r.error === undefined ? null : redact(r.error),
        id,
      );
  }

  rolledBack(id: string, r: StepRollbackResult): void {
    this.db
      .prepare(
        "UPDATE migrate_steps SET status = 'rolled-back', finished_at = ?, rollback = ?, anchor_ms = NULL WHERE id = ?",
      )
      .run(Date.now(), JSON.stringify(redactDeep(r)), id);
  }

  event(e: { step?: string; phase?: number; event: string; detail?: string }): void {
    this.db
      .prepare('INSERT INTO migrate_events(at, step, phase, event, detail) VALUES(?, ?, ?, ?, ?)')
      .run(Date.now(), e.step ?? null, e.phase ?? null, e.event, e.detail === undefined ? null : redact(e.detail));
  }

  events(): EventRow[] {
    return (
      this.db.prepare('SELECT * FROM migrate_events ORDER BY seq').all() as Array<{
        seq: number;
        at: number;
        step: string | null;
        phase: number | null;
        event: string;
        detail: string | null;
      }>
    ).map((e) => ({
      seq: e.seq,
      at: e.at,
      step: e.step ?? undefined,
      phase: e.phase ?? undefined,
      event: e.event,
      detail: e.detail ?? undefined,
    }));
  }
}

function toRow(r: RawRow): StepRow {
  return {
    id: r.id,
    phase: r.phase,
    ord: r.ord,
    kind: r.kind,
    title: r.title,
    hash: r.hash,
    status: r.status as StepStatus,
    attempts: r.attempts,
    anchorMs: r.anchor_ms ?? undefined,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    result: json(r.result),
    figures: json(r.figures),
    gates: json(r.gates),
    data: JSON.parse(r.data) as Record<string, unknown>,
    error: r.error ?? undefined,
    rollback: json(r.rollback),
  };
}
