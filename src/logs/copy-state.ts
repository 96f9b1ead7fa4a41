import { StateLease, openState, type Migration, type StateDb } from '../state/index.js';

/**
 * Durable state of `stackshift logs copy` in the SQLite file given by --state. The plan is the list of
 * stream groups with a cursor each; a unit is one group x one window, inserted as 'running' when claimed and
 * marked 'done' with its counts in one transaction. After kill -9 the file holds either the whole unit or
 * only its 'running' row, which the next run redoes first (a re-pushed line is identical in timestamp,
 * line and metadata, and Loki stores such a line once). One writer: the state lease (src/state StateLease)
 * names the pid (with its start time, so a reused pid does not count) and host of the run that holds it. A group is a stream selector
 * narrowed to a set of streams (see groupStreams); a unit is one group x one window.
 */
export const LOGS_COPY_MIGRATION: Migration = {
  module: 'logs-copy',
  steps: [
    `CREATE TABLE logs_plan (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       fingerprint TEXT NOT NULL,
       params TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE TABLE logs_groups (
       id INTEGER PRIMARY KEY,
       selector TEXT NOT NULL,
       streams INTEGER NOT NULL,
       cursor_ms INTEGER NOT NULL
     );
     CREATE TABLE logs_units (
       id INTEGER PRIMARY KEY,
       group_id INTEGER NOT NULL REFERENCES logs_groups(id),
       start_ms INTEGER NOT NULL,
       end_ms INTEGER NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('running', 'done')),
       attempts INTEGER NOT NULL DEFAULT 1,
       lines INTEGER NOT NULL DEFAULT 0,
       bytes INTEGER NOT NULL DEFAULT 0,
       pushes INTEGER NOT NULL DEFAULT 0,
       ms INTEGER NOT NULL DEFAULT 0,
       UNIQUE (group_id, start_ms)
     );
     CREATE TABLE logs_lock (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       pid INTEGER NOT NULL,
       pid_start TEXT NOT NULL,
       host TEXT NOT NULL,
       since INTEGER NOT NULL
     );
     CREATE TABLE logs_runs (
       id INTEGER PRIMARY KEY,
       started_at INTEGER NOT NULL,
       finished_at INTEGER,
       status TEXT NOT NULL,
       lines INTEGER NOT NULL DEFAULT 0,
       redone_units INTEGER NOT NULL DEFAULT 0
     );`,
  ],
};

export interface GroupRow {
  id: number;
  selector: string;
  streams: number;
  cursorMs: number;
}
export interface UnitRow {
  id: number;
  groupId: number;
  startMs: number;
  endMs: number;
}
export interface CopyTotals {
  groups: number;
  streams: number;
  units: number;
  unitsDone: number;
  lines: number;
  bytes: number;
  pushes: number;
  redoneUnits: number;
  runs: number;
}

export class CopyState {
  readonly db: StateDb;
  private lease?: StateLease;

  constructor(readonly file: string) {
    this.db = openState(file, [LOGS_COPY_MIGRATION]);
  }

  /** Takes the one-writer lock or throws naming its holder; a lock of a dead process is taken over. */
  lock(): void {
    this.lease ??= new StateLease(this.db, this.file, 'logs copy');
  }

  plan(): { fingerprint: string; params: string } | undefined {
    return this.db.prepare('SELECT fingerprint, params FROM logs_plan WHERE id = 1').get() as
      { fingerprint: string; params: string } | undefined;
  }

  createPlan(
    fingerprint: string,
    params: unknown,
    groups: Array<{ selector: string; streams: number }>,
    startMs: number,
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO logs_plan (id, fingerprint, params, created_at) VALUES (1, ?, ?, ?)')
        .run(fingerprint, JSON.stringify(params), Date.now());
      const ins = this.db.prepare('INSERT INTO logs_groups (selector, streams, cursor_ms) VALUES (?, ?, ?)');
      for (const g of groups) ins.run(g.selector, g.streams, startMs);
    })();
  }

  groups(): GroupRow[] {
    return (
      this.db.prepare('SELECT id, selector, streams, cursor_ms FROM logs_groups ORDER BY id').all() as Array<{
        id: number;
        selector: string;
        streams: number;
        cursor_ms: number;
      }>
    ).map((r) => ({ id: r.id, selector: r.selector, streams: r.streams, cursorMs: r.cursor_ms }));
  }

  /** The unit a killed run left running for this group, if any. */
  runningUnit(groupId: number): UnitRow | undefined {
    const r = this.db
      .prepare("SELECT id, start_ms, end_ms FROM logs_units WHERE group_id = ? AND status = 'running'")
      .get(groupId) as { id: number; start_ms: number; end_ms: number } | undefined;
    return r && { id: r.id, groupId, startMs: r.start_ms, endMs: r.end_ms };
  }

  /** Creates the next unit of a group and advances its cursor, atomically. */
  claim(groupId: number, startMs: number, endMs: number): UnitRow {
    let id = 0;
    this.db.transaction(() => {
      id = Number(
        this.db
          .prepare("INSERT INTO logs_units (group_id, start_ms, end_ms, status) VALUES (?, ?, ?, 'running')")
          .run(groupId, startMs, endMs).lastInsertRowid,
      );
      this.db.prepare('UPDATE logs_groups SET cursor_ms = ? WHERE id = ?').run(endMs, groupId);
    })();
    return { id, groupId, startMs, endMs };
  }

  retry(unitId: number): void {
    this.db.prepare('UPDATE logs_units SET attempts = attempts + 1 WHERE id = ?').run(unitId);
  }

  complete(unitId: number, c: { lines: number; bytes: number; pushes: number; ms: number }): void {
    this.db
      .prepare("UPDATE logs_units SET status = 'done', lines = ?, bytes = ?, pushes = ?, ms = ? WHERE id = ?")
      .run(c.lines, c.bytes, c.pushes, c.ms, unitId);
  }

  startRun(): number {
    return Number(
      this.db.prepare("INSERT INTO logs_runs (started_at, status) VALUES (?, 'running')").run(Date.now())
        .lastInsertRowid,
    );
  }

  finishRun(id: number, status: string, lines: number, redone: number): void {
    this.db
      .prepare('UPDATE logs_runs SET finished_at = ?, status = ?, lines = ?, redone_units = ? WHERE id = ?')
      .run(Date.now(), status, lines, redone, id);
  }

  totals(): CopyTotals {
    const u = this.db
      .prepare(
        "SELECT COUNT(*) AS units, SUM(status = 'done') AS done, SUM(lines) AS lines, SUM(bytes) AS bytes, SUM(pushes) AS pushes, SUM(attempts > 1) AS redone FROM logs_units",
      )
      .get() as Record<string, number | null>;
    const g = this.db.prepare('SELECT COUNT(*) AS n, SUM(streams) AS streams FROM logs_groups').get() as {
      n: number;
      streams: number | null;
    };
    const runs = (this.db.prepare('SELECT COUNT(*) AS n FROM logs_runs').get() as { n: number }).n;
    return {
      groups: g.n,
      streams: g.streams ?? 0,
      units: u.units ?? 0,
      unitsDone: u.done ?? 0,
      lines: u.lines ?? 0,
      bytes: u.bytes ?? 0,
      pushes: u.pushes ?? 0,
      redoneUnits: u.redone ?? 0,
      runs,
    };
  }

  close(): void {
    this.lease?.release();
    this.db.close();
  }
}
