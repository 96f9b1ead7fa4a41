// Why one file of about 400 lines: the read-only view of a migration (its state, each backfill step's own state
// file, the ETA rules) is one snapshot taken under one data_version check; split, the page and /metrics could see
// two different moments.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StackshiftError } from '../errors/index.js';
import {
  buildReport,
  MigrateState,
  stepWorkDir,
  type EventRow,
  type MigrationPlan,
  type MigrationReportDoc,
  type StepRow,
} from '../migrate/index.js';

/** Events the page and /api/state carry (the report has them all). */
export const RECENT_EVENTS = 30;

/**
 * A backfill-metrics step keeps its own state in `<state>.d/<step>/backfill.db` (src/migrate/kinds/metrics.ts),
 * whose tables docs/format/backfill-state.md documents; the figures below are read from them.
 */
const BACKFILL_KIND = 'backfill-metrics';
const BACKFILL_FILE = 'backfill.db';

export interface BackfillLive {
  step: string;
  unitsDone: number;
  unitsRunning: number;
  samples: number;
  requests: number;
  /** Attempts beyond the first, over every unit (retries within a run and redos by later runs). */
  retries: number;
  rejectedRequests: number;
  rejectedSamples: number;
  /** Share of the planned range (every group) covered by done units, 0..1. */
  coverage?: number;
}

export interface StepLive {
  id: string;
  phase: number;
  kind: string;
  title: string;
  status: StepRow['status'];
  /** 0..1 where it can be measured: a wait by its deadline, a backfill by the range its done units cover. */
  progress?: number;
  etaAt?: string;
  /** How the ETA was reckoned: "deadline", "coverage", "mean of <n> done <kind> steps". */
  etaBasis?: string;
}

export interface LiveStatus {
  kind: 'stackshift.migrate.live';
  schemaVersion: 1;
  generatedAt: string;
  state: string;
  /** False while the state file does not exist yet (no run has started). */
  available: boolean;
  note?: string;
  /** The `migrate run` holding the state's writer lease, if any. */
  runner?: { pid: number; host: string; since: string; heartbeatAt: string; alive?: boolean };
  progress: { done: number; total: number; percent: number; etaAt?: string; etaComplete: boolean };
  steps: StepLive[];
  backfill: BackfillLive[];
  report?: MigrationReportDoc;
}

/** Phase names come from the plan file (the state keeps only their numbers); `planFile` is the one the state names. */
export type PhaseNames = (index: number, planFile: string | undefined) => string | undefined;

export interface Snapshot {
  status: LiveStatus;
  /** Durations (s) of the done backfill units, per step: the unit-duration histogram of /metrics. */
  unitSeconds: Map<string, number[]>;
}

interface Watched {
  db: Database.Database;
  version?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function openReadOnly(path: string): Database.Database {
  // readonly: this connection can neither write nor take the writer lease; in WAL mode it never blocks the writer
  return new Database(path, { readonly: true, fileMustExist: true });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * The migration's state, read-only: a `migrate run` in another process keeps writing it. `changed()` asks
 * SQLite's `data_version` of each file (it moves when another connection commits), so a poll costs a pragma
 * and the state is read again only after a commit.
 */
export class StateReader {
  private main?: Watched;
  private readonly steps = new Map<string, Watched>();

  constructor(
    readonly path: string,
    private readonly phaseNames: PhaseNames = () => undefined,
  ) {}

  /** Opens the file if it exists; refuses a file that is not a migrate state (named, with what to do). */
  private open(): Database.Database | undefined {
    if (this.main) return this.main.db;
    if (!existsSync(this.path)) return undefined;
    let db: Database.Database;
    try {
      db = openReadOnly(this.path);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
        name: string;
      }>;
      if (tables.length && !tables.some((t) => t.name === 'migrate_steps')) {
        db.close();
        throw new StackshiftError('serve', `${this.path} is not the state of a migration (no migrate_steps table)`, {
          hint: 'pass the --state of `stackshift migrate run` (default .stackshift/migrate.db)',
        });
      }
      if (!tables.length) {
        // created a moment ago by a run that has not made its tables yet
        db.close();
        return undefined;
      }
    } catch (e) {
      if (e instanceof StackshiftError) throw e;
      throw new StackshiftError('serve', `cannot read state file ${this.path}: ${(e as Error).message}`, {
        hint: 'check the path and its permissions; a damaged file is named by `stackshift migrate status`',
      });
    }
    this.main = { db };
    return db;
  }

  /** True when any watched file committed since the last call (and on the first call). */
  changed(): boolean {
    let moved = false;
    const db = this.open();
    if (!db) return this.main === undefined && existsSync(this.path);
    for (const w of [this.main!, ...this.steps.values()]) {
      const v = w.db.pragma('data_version', { simple: true }) as number;
      if (v !== w.version) moved = true;
      w.version = v;
    }
    return moved;
  }

  private stepDb(row: StepRow): Database.Database | undefined {
    const known = this.steps.get(row.id);
    if (known) return known.db;
    const file = join(stepWorkDir(this.path, row.id), BACKFILL_FILE);
    if (!existsSync(file)) return undefined;
    try {
      const db = openReadOnly(file);
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'backfill_units'").get()) {
        db.close();
        return undefined;
      }
      this.steps.set(row.id, { db });
      return db;
    } catch {
      return undefined;
    }
  }

  private backfillOf(row: StepRow): { live: BackfillLive; seconds: number[] } | undefined {
    const db = this.stepDb(row);
    if (!db) return undefined;
    const units = db
      .prepare(
        'SELECT status, start_ms, end_ms, attempts, samples, requests, rejected_requests, rejected_samples, ms FROM backfill_units',
      )
      .all() as Array<{
      status: string;
      start_ms: number;
      end_ms: number;
      attempts: number;
      samples: number;
      requests: number;
      rejected_requests: number;
      rejected_samples: number;
      ms: number;
    }>;
    const live: BackfillLive = {
      step: row.id,
      unitsDone: 0,
      unitsRunning: 0,
      samples: 0,
      requests: 0,
      retries: 0,
      rejectedRequests: 0,
      rejectedSamples: 0,
    };
    const seconds: number[] = [];
    let covered = 0;
    for (const u of units) {
      live.retries += Math.max(0, u.attempts - 1);
      if (u.status !== 'done') {
        live.unitsRunning++;
        continue;
      }
      live.unitsDone++;
      live.samples += u.samples;
      live.requests += u.requests;
      live.rejectedRequests += u.rejected_requests;
      live.rejectedSamples += u.rejected_samples;
      covered += u.end_ms - u.start_ms;
      seconds.push(u.ms / 1000);
    }
    const plan = db.prepare('SELECT params FROM backfill_plan WHERE id = 1').get() as { params: string } | undefined;
    const groups = (db.prepare('SELECT count(*) AS n FROM backfill_groups').get() as { n: number }).n;
    if (plan && groups) {
      const p = JSON.parse(plan.params) as { startMs?: number; endMs?: number };
      if (typeof p.startMs === 'number' && typeof p.endMs === 'number' && p.endMs > p.startMs)
        live.coverage = Math.min(1, covered / (groups * (p.endMs - p.startMs)));
    }
    return { live, seconds };
  }

  private lease(db: Database.Database): LiveStatus['runner'] {
    const r = db
      .prepare("SELECT pid, host, started_at, heartbeat_at FROM state_lease WHERE module = 'migrate'")
      .get() as { pid: number; host: string; started_at: number; heartbeat_at: number } | undefined;
    if (!r) return undefined;
    return {
      pid: r.pid,
      host: r.host,
      since: iso(r.started_at),
      heartbeatAt: iso(r.heartbeat_at),
      alive: r.host === hostname() ? pidAlive(r.pid) : undefined,
    };
  }

  read(now = Date.now()): Snapshot {
    const db = this.open();
    const empty: LiveStatus = {
      kind: 'stackshift.migrate.live',
      schemaVersion: 1,
      generatedAt: iso(now),
      state: this.path,
      available: false,
      note: 'no migrate run has written this state file yet: waiting for it',
      progress: { done: 0, total: 0, percent: 0, etaComplete: false },
      steps: [],
      backfill: [],
    };
    if (!db) return { status: empty, unitSeconds: new Map() };
    // one read transaction: the steps, events and lease of one commit, never half of the next
    return db.transaction(() => this.readIn(db, now))();
  }

  private readIn(db: Database.Database, now: number): Snapshot {
    const state = new MigrateState(db);
    const rows = state.steps();
    const events = state.events();
    const plan = planFromState(this.path, rows, state.meta('name'), state.meta('file'), this.phaseNames);
    const report = buildReport(plan, this.path, rows, events.slice(-RECENT_EVENTS) as EventRow[], now);
    const unitSeconds = new Map<string, number[]>();
    const backfill: BackfillLive[] = [];
    const coverage = new Map<string, number>();
    for (const r of rows) {
      if (r.kind !== BACKFILL_KIND) continue;
      const b = this.backfillOf(r);
      if (!b) continue;
      backfill.push(b.live);
      unitSeconds.set(r.id, b.seconds);
      if (b.live.coverage !== undefined) coverage.set(r.id, b.live.coverage);
    }
    const steps = estimate(rows, coverage, now);
    const done = rows.filter((r) => r.status === 'done').length;
    return {
      status: {
        kind: 'stackshift.migrate.live',
        schemaVersion: 1,
        generatedAt: iso(now),
        state: this.path,
        available: true,
        runner: this.lease(db),
        progress: {
          done,
          total: rows.length,
          percent: rows.length ? Math.round((done / rows.length) * 1000) / 10 : 0,
          ...overallEta(steps, now),
        },
        steps: steps.map(({ endsAtMs: _e, takesMs: _t, ...s }) => s),
        backfill,
        report,
      },
      unitSeconds,
    };
  }

  close(): void {
    for (const w of [this.main, ...this.steps.values()]) w?.db.close();
    this.main = undefined;
    this.steps.clear();
  }
}

/** The plan as the state knows it (steps, phases, kinds, titles); phase names from the plan file when it loads. */
function planFromState(
  statePath: string,
  rows: StepRow[],
  name: string | undefined,
  file: string | undefined,
  phaseNames: PhaseNames,
): MigrationPlan {
  const steps = rows.map((r) => ({
    id: r.id,
    title: r.title,
    kind: r.kind,
    phase: r.phase,
    order: r.ord,
    params: {},
    gates: [],
    hash: r.hash,
  }));
  const indexes = [...new Set(steps.map((s) => s.phase))].sort((a, b) => a - b);
  return {
    file: file ?? '(unknown plan file)',
    baseDir: statePath,
    name: name ?? '(migration not started)',
    endpoints: {},
    phases: indexes.map((index) => ({
      index,
      name: phaseNames(index, file) ?? `Phase ${index}`,
      steps: steps.filter((s) => s.phase === index),
    })),
    steps,
    hash: '',
  };
}

/** `endsAtMs` for a step under way, `takesMs` for one not started. */
type Estimated = StepLive & { endsAtMs?: number; takesMs?: number };

/**
 * Per step: a wait ends at its deadline; a backfill's ETA extrapolates the time its done units took over the
 * range they cover; any other running or pending step is given the mean duration of the done steps of its kind.
 */
function estimate(rows: StepRow[], coverage: Map<string, number>, now: number): Estimated[] {
  const byKind = new Map<string, number[]>();
  for (const r of rows)
    if (r.status === 'done' && r.startedAt !== undefined && r.finishedAt !== undefined)
      byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r.finishedAt - r.startedAt]);
  return rows.map((r) => {
    const s: Estimated = { id: r.id, phase: r.phase, kind: r.kind, title: r.title, status: r.status };
    if (r.status === 'done') {
      s.progress = 1;
      return s;
    }
    if (r.status !== 'running' && r.status !== 'pending' && r.status !== 'rolled-back') return s;
    const deadline = r.data.deadline;
    const began = typeof r.data.startedAt === 'number' ? r.data.startedAt : r.startedAt;
    if (r.status === 'running' && typeof deadline === 'number') {
      if (began !== undefined && deadline > began)
        s.progress = Math.min(1, Math.max(0, (now - began) / (deadline - began)));
      s.endsAtMs = Math.max(now, deadline);
      s.etaBasis = 'deadline';
    } else if (r.status === 'running' && coverage.has(r.id) && r.startedAt !== undefined && coverage.get(r.id)! > 0) {
      const p = coverage.get(r.id)!;
      s.progress = p;
      s.endsAtMs = now + ((now - r.startedAt) * (1 - p)) / p;
      s.etaBasis = 'coverage';
    } else {
      const past = byKind.get(r.kind);
      if (past?.length) {
        const mean = past.reduce((a, b) => a + b, 0) / past.length;
        if (r.status === 'running' && r.startedAt !== undefined) s.endsAtMs = Math.max(now, r.startedAt + mean);
        else s.takesMs = mean;
        s.etaBasis = `mean of ${past.length} done ${r.kind} step${past.length > 1 ? 's' : ''}`;
      }
    }
    if (s.endsAtMs !== undefined) s.etaAt = iso(s.endsAtMs);
    return s;
  });
}

/** Steps run one after another: the end of the last one, and whether every step left had an estimate. */
function overallEta(steps: Estimated[], now: number): { etaAt?: string; etaComplete: boolean } {
  let t = now;
  let complete = true;
  let any = false;
  for (const s of steps) {
    if (s.status === 'done') continue;
    if (s.endsAtMs !== undefined) t = Math.max(t, s.endsAtMs);
    else if (s.takesMs !== undefined) t += s.takesMs;
    else {
      complete = false;
      continue;
    }
    any = true;
  }
  return any ? { etaAt: iso(t), etaComplete: complete } : { etaComplete: false };
}
