import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { StackshiftError } from '../errors/index.js';

/**
 * One place that launches the lab's server processes: tracked in memory and as a pid file, stopped on exit,
 * SIGINT and SIGTERM; a pid file left by an owner that was killed outright is reaped by the next run, but
 * only when the pid still names the very process we launched (same executable, same start time), never a
 * process that reused the pid.
 */
export interface LabProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, no grace (crash tests). */
  kill(): Promise<void>;
  exited(): boolean;
  logs(): string;
}

export interface LaunchOptions {
  /** What it is, for error messages ("prometheus 3.8.1"). */
  what: string;
  bin: string;
  args: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
}

const running = new Map<number, ChildProcess>();
let hooksInstalled = false;

function pidDir(): string {
  const d = resolve(process.env.STACKSHIFT_LAB_PIDS ?? join(process.cwd(), '.cache', 'lab-pids'));
  mkdirSync(d, { recursive: true });
  return d;
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const [pid, child] of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
      try {
        unlinkSync(join(pidDir(), `${pid}.pid`));
      } catch {
        /* gone */
      }
    }
    running.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The kernel's start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or '' if unknown. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its closing ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function executable(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** Kills lab servers whose owning process died without cleaning up (kill -9 of a test run). */
export function reapOrphans(): number {
  let n = 0;
  const dir = pidDir();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.pid')) continue;
    let record: { pid: number; owner: number; ownerStart?: string; start?: string; exe?: string };
    try {
      const text = readFileSync(join(dir, f), 'utf8').trim();
      record = text.startsWith('{')
        ? JSON.parse(text)
        : { pid: Number(text.split(/\s+/)[0]), owner: Number(text.split(/\s+/)[1]) };
    } catch {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* gone */
      }
      continue;
    }
    const ownerAlive = alive(record.owner) && (!record.ownerStart || startTime(record.owner) === record.ownerStart);
    if (!ownerAlive && alive(record.pid)) {
      // only the process we launched: same start time and executable (a reused pid is left alone)
      const same =
        record.start !== undefined && record.start === startTime(record.pid) && record.exe === executable(record.pid);
      if (same) {
        try {
          process.kill(record.pid, 'SIGKILL');
          n++;
        } catch {
          /* gone */
        }
      }
    }
    if (!ownerAlive || !alive(record.pid)) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* gone */
      }
    }
  }
  return n;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Starts one server process with its output appended to logFile. */
export function launch(opts: LaunchOptions): LabProcess {
  installHooks();
  reapOrphans();
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(opts.bin, opts.args, {
    stdio: ['ignore', fd, fd],
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new StackshiftError('lab', `cannot start ${opts.what} (${opts.bin})`);
  const pid = child.pid;
  running.set(pid, child);
  const record = {
    pid,
    owner: process.pid,
    ownerStart: startTime(process.pid),
    start: startTime(pid),
    exe: executable(pid),
  };
  writeFileSync(join(pidDir(), `${pid}.pid`), JSON.stringify(record) + '\n');
  const exitedP = new Promise<void>((res) =>
    child.once('exit', () => {
      running.delete(pid);
      try {
        unlinkSync(join(pidDir(), `${pid}.pid`));
      } catch {
        /* gone */
      }
      res();
    }),
  );
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    pid,
    logFile: opts.logFile,
    exited,
    async stop(graceMs = 15_000) {
      if (exited()) return;
      const t = setTimeout(() => {
        try {
          child.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      child.kill('SIGTERM');
      await exitedP;
      clearTimeout(t);
    },
    async kill() {
      if (exited()) return;
      child.kill('SIGKILL');
      await exitedP;
    },
    logs: () => (existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8') : ''),
  };
}

function logTail(logFile: string, lines = 8): string {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n') : '';
}

/**
 * Waits until `url` answers 200 (or `ok` accepts the response), failing early when the process exits.
 */
export async function waitHttpReady(
  url: string,
  timeoutMs: number,
  proc?: LabProcess,
  what = 'server',
  ok?: (status: number, body: string) => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc?.exited())
      throw new StackshiftError('lab', `${what} exited before becoming ready\n${logTail(proc.logFile)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      const body = await r.text();
      if (ok ? ok(r.status, body) : r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new StackshiftError('lab', `${what} at ${url} not ready after ${timeoutMs} ms (${last})`);
}
