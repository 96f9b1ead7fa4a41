import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
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
  const existed = existsSync(full) && statSync(full).size > 0;
  let db: StateDb;
  try {
    db = new Database(full);
  } catch (e) {
    throw new StackshiftError('state', `cannot open state database ${full}: ${(e as Error).message}`, {
      hint: 'check the path and its permissions',
    });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    // a damaged file must be refused before anything is planned on top of it (a new plan beside the old
    // groups would count every sample twice)
    if (existed) {
      const rows = db.pragma('quick_check(5)') as Array<{ quick_check: string }>;
      if (rows.length !== 1 || rows[0].quick_check !== 'ok')
        throw Object.assign(new Error(rows.map((r) => r.quick_check).join('; ')), { code: 'SQLITE_CORRUPT' });
    }
    db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    db.exec(LEASE_TABLE);
    // files made before the holder's start time was recorded
    if (!(db.pragma('table_info(state_lease)') as Array<{ name: string }>).some((c) => c.name === 'pid_start'))
      db.exec("ALTER TABLE state_lease ADD COLUMN pid_start TEXT NOT NULL DEFAULT ''");
    for (const m of migrations) migrate(db, m);
  } catch (e) {
    db.close();
    if (e instanceof StackshiftError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
      throw new StackshiftError('state', `state file ${full} is damaged (${(e as Error).message.slice(0, 160)})`, {
        hint: 'move it aside and run again with a new state file (a backfill then re-sends what it had copied, which is idempotent), or restore the file from a copy; keep state files on a local filesystem (SQLite WAL does not work over NFS)',
      });
    }
    throw new StackshiftError('state', `cannot use state database ${full}: ${(e as Error).message}`, {
      hint: 'check the path, its permissions and free disk space',
    });
  }
  return db;
}

export function migrate(db: StateDb, m: Migration): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(m.module) as
    { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > m.steps.length) {
    throw new StackshiftError(
      'state',
      `state database has ${m.module} schema v${current}, newer than this stackshift knows (v${m.steps.length})`,
      { hint: 'use the stackshift version that created it, or a new --state file' },
    );
  }
  const apply = db.transaction(() => {
    for (let v = current; v < m.steps.length; v++) db.exec(m.steps[v]);
    db.prepare(
      'INSERT INTO schema_versions(module, version) VALUES(?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version',
    ).run(m.module, m.steps.length);
  });
  apply();
}

const LEASE_TABLE = `CREATE TABLE IF NOT EXISTS state_lease (
  module TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  pid_start TEXT NOT NULL DEFAULT ''
)`;

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), '' where /proc is not there. */
function pidStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
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
 * One writer per state file: a lease row (pid with its start time, host, heartbeat) taken in an immediate
 * transaction. A second process is refused at once with who holds the lease; a lease whose holder is gone (on
 * this host: a dead pid, or a pid reused by another process; elsewhere: no heartbeat for `ttlMs`) is taken
 * over. `module` names the kind of run in the refusal ("another backfill"). The heartbeat timer does not keep
 * the process alive.
 */
export class StateLease {
  private readonly timer: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly db: StateDb,
    file: string,
    private readonly module: string,
    opts: { ttlMs?: number; heartbeatMs?: number; hint?: string } = {},
  ) {
    const ttlMs = opts.ttlMs ?? 60_000;
    const host = hostname();
    const take = db.transaction(() => {
      const now = Date.now();
      const row = db
        .prepare('SELECT pid, host, started_at, heartbeat_at, pid_start FROM state_lease WHERE module = ?')
        .get(module) as
        | {
            pid: number | bigint;
            host: string;
            started_at: number | bigint;
            heartbeat_at: number | bigint;
            pid_start: string;
          }
        | undefined;
      // a database opened with safe integers hands back bigints
      const cur = row && {
        pid: Number(row.pid),
        host: row.host,
        startedAt: Number(row.started_at),
        heartbeatAt: Number(row.heartbeat_at),
        pidStart: row.pid_start,
      };
      if (cur && !(cur.pid === process.pid && cur.host === host)) {
        const fresh = now - cur.heartbeatAt < ttlMs;
        const alive =
          cur.host === host ? pidAlive(cur.pid) && (cur.pidStart === '' || pidStart(cur.pid) === cur.pidStart) : fresh;
        if (alive && (fresh || cur.host === host)) {
          throw new StackshiftError(
            'state',
            `state file ${file} is in use by another ${module} (pid ${cur.pid} on ${cur.host}, since ${new Date(cur.startedAt).toISOString()}, last seen ${Math.round((now - cur.heartbeatAt) / 1000)}s ago)`,
            {
              hint:
                opts.hint ??
                (cur.host === host
                  ? 'wait for it to finish or stop it; one process per state file (parallel runs: --shard i/N, each with its own --state)'
                  : `if that host no longer runs it, the lease lapses ${Math.round(ttlMs / 1000)}s after its last heartbeat; one process per state file`),
            },
          );
        }
      }
      db.prepare(
        'INSERT INTO state_lease (module, pid, host, started_at, heartbeat_at, pid_start) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(module) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, pid_start = excluded.pid_start',
      ).run(module, process.pid, host, now, now, pidStart(process.pid));
    });
    take.immediate();
    this.timer = setInterval(() => {
      try {
        db.prepare('UPDATE state_lease SET heartbeat_at = ? WHERE module = ? AND pid = ? AND host = ?').run(
          Date.now(),
          module,
          process.pid,
          host,
        );
      } catch {
        // busy or closed: the next beat tries again; the lease outlives a missed beat by ttlMs
      }
    }, opts.heartbeatMs ?? 10_000);
    this.timer.unref();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    try {
      this.db
        .prepare('DELETE FROM state_lease WHERE module = ? AND pid = ? AND host = ?')
        .run(this.module, process.pid, hostname());
    } catch {
      // the file is going away or damaged: nothing to release
    }
  }
}
