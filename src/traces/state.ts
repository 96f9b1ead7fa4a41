import { StateLease, openState, type Migration, type StateDb } from '../state/index.js';

/**
 * Durable state of `traces copy` in SQLite (src/state): the plan, one unit per (service, window), and one
 * row per trace ID. A trace row is inserted as 'sending' before its batch is posted and set to 'done' when
 * the receiver acknowledged it, each in one transaction: after kill -9 the file says exactly which traces
 * may have reached the target without being acknowledged, and the next run settles those first (read back
 * when a target query URL is given, else re-sent: Tempo merges identical spans on read). The primary key
 * makes a trace found by two units (two services, or two windows) one trace.
 *
 * One writer: the state lease (src/state StateLease) names the owning process; a second run refuses while
 * the owner lives and takes over once it is gone.
 */
export const TRACES_COPY_MIGRATION: Migration = {
  module: 'traces_copy',
  steps: [
    `CREATE TABLE traces_copy_plan (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       fingerprint TEXT NOT NULL,
       params TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE TABLE traces_copy_units (
       id INTEGER PRIMARY KEY,
       service TEXT NOT NULL,
       start_us INTEGER NOT NULL,
       end_us INTEGER NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done')),
       attempts INTEGER NOT NULL DEFAULT 0,
       ms INTEGER NOT NULL DEFAULT 0,
       UNIQUE (service, start_us)
     );
     CREATE TABLE traces_copy_traces (
       trace_id BLOB PRIMARY KEY,
       unit_id INTEGER NOT NULL REFERENCES traces_copy_units(id),
       status TEXT NOT NULL CHECK (status IN ('sending', 'done', 'rejected', 'resend')),
       spans INTEGER NOT NULL,
       rejected_spans INTEGER NOT NULL DEFAULT 0,
       bytes INTEGER NOT NULL DEFAULT 0,
       sends INTEGER NOT NULL DEFAULT 1,
       min_start_us INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE traces_copy_rejects (
       message TEXT PRIMARY KEY,
       count INTEGER NOT NULL
     );
     CREATE TABLE traces_copy_runs (
       id INTEGER PRIMARY KEY,
       started_at INTEGER NOT NULL,
       finished_at INTEGER,
       status TEXT NOT NULL,
       settled INTEGER NOT NULL DEFAULT 0,
       resent INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE traces_copy_lock (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       host TEXT NOT NULL,
       pid INTEGER NOT NULL,
       start TEXT NOT NULL,
       since INTEGER NOT NULL
     );`,
  ],
};

export interface CopyUnit {
  id: number;
  service: string;
  start_us: bigint;
  end_us: bigint;
  status: 'pending' | 'running' | 'done';
  attempts: number;
}

export class CopyState {
  readonly db: StateDb;
  readonly file: string;
  private lease?: StateLease;

  constructor(file: string) {
    this.file = file;
    this.db = openState(file, [TRACES_COPY_MIGRATION]);
    this.db.defaultSafeIntegers(true);
  }

  /** Takes the writer lock or throws naming the process that holds it. */
  lock(): void {
    this.lease ??= new StateLease(this.db, this.file, 'traces copy');
  }

  plan(): { fingerprint: string; params: string } | undefined {
    return this.db.prepare('SELECT fingerprint, params FROM traces_copy_plan WHERE id = 1').get() as
      { fingerprint: string; params: string } | undefined;
  }

  createPlan(
    fingerprint: string,
    params: unknown,
    units: Array<{ service: string; startUs: bigint; endUs: bigint }>,
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO traces_copy_plan (id, fingerprint, params, created_at) VALUES (1, ?, ?, ?)')
        .run(fingerprint, JSON.stringify(params), Date.now());
      const ins = this.db.prepare(
        "INSERT INTO traces_copy_units (service, start_us, end_us, status) VALUES (?, ?, ?, 'pending')",
      );
      for (const u of units) ins.run(u.service, u.startUs, u.endUs);
    })();
  }

  units(status?: CopyUnit['status'][]): CopyUnit[] {
    const rows = this.db
      .prepare(
        'SELECT id, service, start_us, end_us, status, attempts FROM traces_copy_units ORDER BY start_us, service',
      )
      .all() as Array<Omit<CopyUnit, 'id' | 'attempts'> & { id: bigint; attempts: bigint }>;
    return rows
      .filter((r) => !status || status.includes(r.status))
      .map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) }));
  }

  startUnit(id: number): void {
    this.db.prepare("UPDATE traces_copy_units SET status = 'running', attempts = attempts + 1 WHERE id = ?").run(id);
  }

  finishUnit(id: number, ms: number): void {
    this.db.prepare("UPDATE traces_copy_units SET status = 'done', ms = ms + ? WHERE id = ?").run(ms, id);
  }

  /** Claims traces for a batch: returns the IDs not already claimed by any unit, now marked 'sending'. */
  claim(unitId: number, traces: Array<{ id: Uint8Array; spans: number; minStartUs: bigint }>): Set<string> {
    const got = new Set<string>();
    this.db.transaction(() => {
      // a new trace, or one whose earlier send could not be confirmed ('resend'): both are sent now
      const ins = this.db
        .prepare(`INSERT INTO traces_copy_traces (trace_id, unit_id, status, spans, min_start_us) VALUES (?, ?, 'sending', ?, ?)
        ON CONFLICT(trace_id) DO UPDATE SET status = 'sending', sends = sends + 1, unit_id = excluded.unit_id WHERE status = 'resend'`);
      for (const t of traces)
        if (ins.run(Buffer.from(t.id), unitId, t.spans, t.minStartUs).changes > 0)
          got.add(Buffer.from(t.id).toString('hex'));
    })();
    return got;
  }

  /** Marks a posted batch: done (with bytes spread over its traces) or rejected. */
  settle(ids: Uint8Array[], outcome: 'done' | 'rejected', bytes: number, rejectedSpans = 0, message?: string): void {
    this.db.transaction(() => {
      const upd = this.db.prepare(
        'UPDATE traces_copy_traces SET status = ?, bytes = ?, rejected_spans = ? WHERE trace_id = ?',
      );
      const per = ids.length ? Math.round(bytes / ids.length) : 0;
      ids.forEach((id, i) => upd.run(outcome, per, i === 0 ? rejectedSpans : 0, Buffer.from(id)));
      if (message)
        this.db
          .prepare(
            'INSERT INTO traces_copy_rejects (message, count) VALUES (?, 1) ON CONFLICT(message) DO UPDATE SET count = count + 1',
          )
          .run(message.slice(0, 300));
    })();
  }

  /** Traces posted but never acknowledged (the run before was killed mid-request). */
  inFlight(): Array<{ id: Uint8Array; spans: number; minStartUs: bigint }> {
    const rows = this.db
      .prepare("SELECT trace_id, spans, min_start_us FROM traces_copy_traces WHERE status = 'sending'")
      .all() as Array<{ trace_id: Buffer; spans: bigint; min_start_us: bigint }>;
    return rows.map((r) => ({ id: Uint8Array.from(r.trace_id), spans: Number(r.spans), minStartUs: r.min_start_us }));
  }

  /** An in-flight trace found complete in the target: done. Not found: 'resend', so its unit sends it again. */
  resolveInFlight(id: Uint8Array, present: boolean): void {
    this.db
      .prepare('UPDATE traces_copy_traces SET status = ? WHERE trace_id = ?')
      .run(present ? 'done' : 'resend', Buffer.from(id));
  }

  totals(): {
    units: number;
    unitsDone: number;
    traces: number;
    spans: number;
    rejectedTraces: number;
    rejectedSpans: number;
    bytes: number;
    minStartUs?: bigint;
    rejects: Array<{ message: string; count: number }>;
  } {
    const u = this.db.prepare("SELECT COUNT(*) AS n, SUM(status = 'done') AS done FROM traces_copy_units").get() as {
      n: bigint;
      done: bigint | null;
    };
    const t = this.db
      .prepare(
        `SELECT SUM(status = 'done') AS traces, SUM(CASE WHEN status = 'done' THEN spans - rejected_spans ELSE 0 END) AS spans,
      SUM(status = 'rejected') AS rtraces, SUM(CASE WHEN status = 'rejected' THEN spans ELSE rejected_spans END) AS rspans, SUM(bytes) AS bytes, MIN(min_start_us) AS minstart FROM traces_copy_traces`,
      )
      .get() as Record<string, bigint | null>;
    const rejects = (
      this.db.prepare('SELECT message, count FROM traces_copy_rejects ORDER BY count DESC').all() as Array<{
        message: string;
        count: bigint;
      }>
    ).map((r) => ({ message: r.message, count: Number(r.count) }));
    return {
      units: Number(u.n),
      unitsDone: Number(u.done ?? 0n),
      traces: Number(t.traces ?? 0n),
      spans: Number(t.spans ?? 0n),
      rejectedTraces: Number(t.rtraces ?? 0n),
      rejectedSpans: Number(t.rspans ?? 0n),
      bytes: Number(t.bytes ?? 0n),
      minStartUs: t.minstart ?? undefined,
      rejects,
    };
  }

  startRun(): number {
    return Number(
      this.db.prepare("INSERT INTO traces_copy_runs (started_at, status) VALUES (?, 'running')").run(Date.now())
        .lastInsertRowid,
    );
  }

  finishRun(id: number, status: string, settled: number, resent: number): void {
    this.db
      .prepare('UPDATE traces_copy_runs SET finished_at = ?, status = ?, settled = ?, resent = ? WHERE id = ?')
      .run(Date.now(), status, settled, resent, id);
  }

  runs(): number {
    return Number((this.db.prepare('SELECT COUNT(*) AS n FROM traces_copy_runs').get() as { n: bigint }).n);
  }

  close(): void {
    try {
      this.lease?.release();
    } finally {
      this.db.close();
    }
  }
}
