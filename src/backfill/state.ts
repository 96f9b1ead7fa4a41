// Format: docs/format/backfill-state.md (every table and column, the unit lifecycle, the fingerprint, the lease); keep it in step.
import { createHash } from 'node:crypto';
import { StackshiftError } from '../errors/index.js';
import { redact } from '../redact/index.js';
import { openState, StateLease, type Migration, type StateDb } from '../state/index.js';

/**
 * Durable backfill state in the SQLite file given by --state: the plan (parameters and name groups), one
 * row per work unit, and counts. A unit row is inserted as 'running' together with the advance of its
 * group's cursor, and marked 'done' together with its counts, rejects and series hashes, in single
 * transactions: after kill -9 the file holds either the whole unit or only its 'running' row, which the
 * next run redoes (re-sending samples is idempotent on Prometheus and Mimir).
 */
export const BACKFILL_MIGRATION: Migration = {
  module: 'backfill',
  steps: [
    `CREATE TABLE backfill_plan (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       fingerprint TEXT NOT NULL,
       params TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE TABLE backfill_groups (
       id INTEGER PRIMARY KEY,
       selector INTEGER NOT NULL,
       names TEXT NOT NULL,
       cursor_ms INTEGER NOT NULL,
       window_ms INTEGER NOT NULL
     );
     CREATE TABLE backfill_units (
       id INTEGER PRIMARY KEY,
       group_id INTEGER NOT NULL REFERENCES backfill_groups(id),
       start_ms INTEGER NOT NULL,
       end_ms INTEGER NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('running', 'done')),
       attempts INTEGER NOT NULL DEFAULT 1,
       series INTEGER NOT NULL DEFAULT 0,
       samples INTEGER NOT NULL DEFAULT 0,
       bytes INTEGER NOT NULL DEFAULT 0,
       requests INTEGER NOT NULL DEFAULT 0,
       histogram_samples INTEGER NOT NULL DEFAULT 0,
       unknown_chunks INTEGER NOT NULL DEFAULT 0,
       rejected_requests INTEGER NOT NULL DEFAULT 0,
       rejected_samples INTEGER NOT NULL DEFAULT 0,
       ms INTEGER NOT NULL DEFAULT 0,
       UNIQUE (group_id, start_ms)
     );
     CREATE TABLE backfill_rejects (
       unit_id INTEGER NOT NULL REFERENCES backfill_units(id),
       class TEXT NOT NULL,
       requests INTEGER NOT NULL,
       samples INTEGER NOT NULL,
       example TEXT,
       PRIMARY KEY (unit_id, class)
     );
     CREATE TABLE backfill_series (hash BLOB PRIMARY KEY) WITHOUT ROWID;
     CREATE TABLE backfill_runs (
       id INTEGER PRIMARY KEY,
       started_at INTEGER NOT NULL,
       finished_at INTEGER,
       status TEXT NOT NULL,
       samples INTEGER NOT NULL DEFAULT 0,
       units INTEGER NOT NULL DEFAULT 0,
       redone_units INTEGER NOT NULL DEFAULT 0
     );`,
  ],
};

export interface GroupRow {
  id: number;
  selector: number;
  names: string;
  cursor_ms: number;
  window_ms: number;
}
export interface UnitRow {
  id: number;
  group_id: number;
  start_ms: number;
  end_ms: number;
  status: 'running' | 'done';
  attempts: number;
}

/** What a unit counts and the plan sums. */
interface Counts {
  series: number;
  samples: number;
  bytes: number;
  requests: number;
  histogramSamples: number;
  unknownChunks: number;
  rejectedRequests: number;
  rejectedSamples: number;
}

export interface UnitCounts extends Counts {
  ms: number;
  rejects: Map<string, { requests: number; samples: number; example?: string }>;
  seriesHashes: Buffer[];
  /** Samples written per series (labels key), kept only while a unit is read back. */
  written?: Map<string, number>;
}

export function emptyCounts(): UnitCounts {
  return {
    series: 0,
    samples: 0,
    bytes: 0,
    requests: 0,
    histogramSamples: 0,
    unknownChunks: 0,
    rejectedRequests: 0,
    rejectedSamples: 0,
    ms: 0,
    rejects: new Map(),
    seriesHashes: [],
  };
}

export function seriesHash(key: string): Buffer {
  return createHash('sha1').update(key).digest().subarray(0, 12);
}

export interface Totals extends Counts {
  units: number;
  unitsDone: number;
  rejects: Array<{ class: string; requests: number; samples: number; example?: string }>;
  coveredMs: number;
}

export class BackfillState {
  readonly db: StateDb;
  readonly file: string;
  private readonly lease: StateLease;

  /** Opens (or creates) the state file and takes its writer lease: a second backfill on the same file is refused. */
  constructor(file: string) {
    this.file = file;
    this.db = openState(file, [BACKFILL_MIGRATION]);
    let lease: StateLease | undefined;
    try {
      lease = new StateLease(this.db, file, 'backfill');
      this.checkConsistent();
    } catch (e) {
      lease?.release();
      this.db.close();
      throw e;
    }
    this.lease = lease;
  }

  /** A plan row that vanished while its groups and units remain means a damaged file, not a new backfill. */
  private checkConsistent(): void {
    const groups = (this.db.prepare('SELECT COUNT(*) AS n FROM backfill_groups').get() as { n: number }).n;
    const units = (this.db.prepare('SELECT COUNT(*) AS n FROM backfill_units').get() as { n: number }).n;
    let plan: { params: string } | undefined;
    try {
      plan = this.db.prepare('SELECT params FROM backfill_plan WHERE id = 1').get() as { params: string } | undefined;
      if (plan) JSON.parse(plan.params);
    } catch {
      plan = undefined;
    }
    if (!plan && (groups > 0 || units > 0)) {
      throw new StackshiftError(
        'state',
        `state file ${this.file} is damaged: it holds ${groups} name groups and ${units} units but no readable plan`,
        {
          hint: 'move the file aside and run again with a new --state file (units already copied are re-sent, which is idempotent), or restore the file from a copy',
        },
      );
    }
  }

  plan(): { fingerprint: string; params: string } | undefined {
    return this.db.prepare('SELECT fingerprint, params FROM backfill_plan WHERE id = 1').get() as
      { fingerprint: string; params: string } | undefined;
  }

  createPlan(
    fingerprint: string,
    params: unknown,
    groups: Array<{ selector: number; names: string[] }>,
    startMs: number,
    windowMs: number,
  ): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO backfill_plan (id, fingerprint, params, created_at) VALUES (1, ?, ?, ?)')
        .run(fingerprint, JSON.stringify(params), Date.now());
      const ins = this.db.prepare(
        'INSERT INTO backfill_groups (selector, names, cursor_ms, window_ms) VALUES (?, ?, ?, ?)',
      );
      for (const g of groups) ins.run(g.selector, JSON.stringify(g.names), startMs, windowMs);
    });
    tx();
  }

  groups(): GroupRow[] {
    return this.db
      .prepare('SELECT id, selector, names, cursor_ms, window_ms FROM backfill_groups ORDER BY id')
      .all() as GroupRow[];
  }

  runningUnits(): UnitRow[] {
    return this.db
      .prepare(
        "SELECT id, group_id, start_ms, end_ms, status, attempts FROM backfill_units WHERE status = 'running' ORDER BY id",
      )
      .all() as UnitRow[];
  }

  /** Creates the next unit of a group and advances its cursor, atomically. */
  claimUnit(groupId: number, startMs: number, endMs: number): number {
    let id = 0;
    this.db.transaction(() => {
      const r = this.db
        .prepare("INSERT INTO backfill_units (group_id, start_ms, end_ms, status) VALUES (?, ?, ?, 'running')")
        .run(groupId, startMs, endMs);
      id = Number(r.lastInsertRowid);
      this.db.prepare('UPDATE backfill_groups SET cursor_ms = ? WHERE id = ?').run(endMs, groupId);
    })();
    return id;
  }

  /**
   * Units that completed with rejects go back to 'running' (their rejects forgotten) so that this run sends them
   * again; returns how many. Re-sent samples that the target already holds are idempotent.
   */
  requeueRejectedUnits(): number {
    let n = 0;
    this.db.transaction(() => {
      const ids = (
        this.db
          .prepare(
            "SELECT id FROM backfill_units WHERE status = 'done' AND (rejected_requests > 0 OR rejected_samples > 0)",
          )
          .all() as Array<{ id: number }>
      ).map((r) => r.id);
      const del = this.db.prepare('DELETE FROM backfill_rejects WHERE unit_id = ?');
      const upd = this.db.prepare("UPDATE backfill_units SET status = 'running' WHERE id = ?");
      for (const id of ids) {
        del.run(id);
        upd.run(id);
      }
      n = ids.length;
    })();
    return n;
  }

  retryUnit(unitId: number): void {
    this.db.prepare('UPDATE backfill_units SET attempts = attempts + 1 WHERE id = ?').run(unitId);
  }

  setWindow(groupId: number, windowMs: number): void {
    this.db.prepare('UPDATE backfill_groups SET window_ms = ? WHERE id = ?').run(windowMs, groupId);
  }

  completeUnit(unitId: number, c: UnitCounts): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE backfill_units SET status = 'done', series = ?, samples = ?, bytes = ?, requests = ?, histogram_samples = ?, unknown_chunks = ?,
        rejected_requests = ?, rejected_samples = ?, ms = ? WHERE id = ?`,
        )
        .run(
          c.series,
          c.samples,
          c.bytes,
          c.requests,
          c.histogramSamples,
          c.unknownChunks,
          c.rejectedRequests,
          c.rejectedSamples,
          c.ms,
          unitId,
        );
      const rej = this.db.prepare(
        'INSERT OR REPLACE INTO backfill_rejects (unit_id, class, requests, samples, example) VALUES (?, ?, ?, ?, ?)',
      );
      // a refusal may echo request headers: nothing reaches the file unredacted
      for (const [cls, r] of c.rejects)
        rej.run(unitId, cls, r.requests, r.samples, r.example === undefined ? null : redact(r.example));
      const ser = this.db.prepare('INSERT OR IGNORE INTO backfill_series (hash) VALUES (?)');
      for (const h of c.seriesHashes) ser.run(h);
    })();
  }

  startRun(): number {
    return Number(
      this.db.prepare("INSERT INTO backfill_runs (started_at, status) VALUES (?, 'running')").run(Date.now())
        .lastInsertRowid,
    );
  }

  finishRun(id: number, status: string, samples: number, units: number, redone: number): void {
    this.db
      .prepare(
        'UPDATE backfill_runs SET finished_at = ?, status = ?, samples = ?, units = ?, redone_units = ? WHERE id = ?',
      )
      .run(Date.now(), status, samples, units, redone, id);
  }

  runs(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM backfill_runs').get() as { n: number }).n;
  }

  totals(): Totals {
    const u = this.db
      .prepare(
        `SELECT COUNT(*) AS units, SUM(status = 'done') AS done, SUM(samples) AS samples, SUM(bytes) AS bytes, SUM(requests) AS requests,
      SUM(histogram_samples) AS hist, SUM(unknown_chunks) AS unknown, SUM(rejected_requests) AS rreq, SUM(rejected_samples) AS rsam,
      SUM(CASE WHEN status = 'done' THEN end_ms - start_ms ELSE 0 END) AS covered FROM backfill_units`,
      )
      .get() as Record<string, number | null>;
    const series = (this.db.prepare('SELECT COUNT(*) AS n FROM backfill_series').get() as { n: number }).n;
    const rejects = this.db
      .prepare(
        `SELECT r.class AS class, SUM(r.requests) AS requests, SUM(r.samples) AS samples, MAX(r.example) AS example
      FROM backfill_rejects r JOIN backfill_units u ON u.id = r.unit_id WHERE u.status = 'done' GROUP BY r.class ORDER BY SUM(r.samples) DESC`,
      )
      .all() as Totals['rejects'];
    return {
      units: u.units ?? 0,
      unitsDone: u.done ?? 0,
      series,
      samples: u.samples ?? 0,
      bytes: u.bytes ?? 0,
      requests: u.requests ?? 0,
      histogramSamples: u.hist ?? 0,
      unknownChunks: u.unknown ?? 0,
      rejectedRequests: u.rreq ?? 0,
      rejectedSamples: u.rsam ?? 0,
      rejects: rejects.map((r) => ({ ...r, example: r.example ?? undefined })),
      coveredMs: u.covered ?? 0,
    };
  }

  close(): void {
    this.lease.release();
    this.db.close();
  }
}

export function assertSamePlan(state: BackfillState, fingerprint: string, describe: string): void {
  const p = state.plan();
  if (p && p.fingerprint !== fingerprint) {
    const old = JSON.parse(p.params) as { describe?: string };
    throw new StackshiftError(
      'usage',
      `state file ${state.file} belongs to another backfill (${old.describe ?? 'different parameters'}), not this one (${describe})`,
      {
        hint: 'resume with the same source, target, --match, --start/--end and --shard, or pass a new --state file',
      },
    );
  }
}
