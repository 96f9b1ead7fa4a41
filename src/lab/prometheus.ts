import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StackshiftError } from '../errors/index.js';

/**
 * Real Prometheus servers on loopback, for the rehearsal and the test suite. Every server started here is
 * tracked (in memory and as a pid file) and stopped on exit, SIGINT and SIGTERM; a pid file left by a run
 * that was killed outright is reaped by the next run.
 */
export interface LabServer {
  name: string;
  url: string;
  port: number;
  dataDir: string;
  configFile: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
  /** Stop and start again on the same port and data dir (for restart tests). */
  restart(opts?: { extraArgs?: string[]; wait?: boolean }): Promise<void>;
  logs(): string;
}

export interface StartOptions {
  name: string;
  /** prometheus.yml content. `{{port}}` is replaced with the server's own port. */
  config: string;
  dataDir: string;
  /** Extra files to write next to the config (rule files etc.), name -> content. */
  files?: Record<string, string>;
  extraArgs?: string[];
  port?: number;
  readyTimeoutMs?: number;
  retention?: string;
  waitReady?: boolean;
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
      try { child.kill('SIGKILL'); } catch { /* gone */ }
      try { unlinkSync(join(pidDir(), `${pid}.pid`)); } catch { /* gone */ }
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
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Kills lab servers whose owning process died without cleaning up (kill -9 of a test run). */
export function reapOrphans(): number {
  let n = 0;
  const dir = pidDir();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.pid')) continue;
    const [pidText, ownerText] = readFileSync(join(dir, f), 'utf8').trim().split(/\s+/);
    const pid = Number(pidText);
    const owner = Number(ownerText);
    if (!alive(owner) && alive(pid)) {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { /* not linux or gone */ }
      if (cmd.includes('prometheus')) { try { process.kill(pid, 'SIGKILL'); n++; } catch { /* gone */ } }
    }
    if (!alive(owner) || !alive(pid)) { try { unlinkSync(join(dir, f)); } catch { /* gone */ } }
  }
  return n;
}

export function prometheusBinary(): string {
  const bin = process.env.STACKSHIFT_PROMETHEUS_BIN ?? 'prometheus';
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StackshiftError('lab', `cannot run ${bin}: ${r.error?.message ?? r.stderr}`, { hint: 'install it with: bash scripts/install-prometheus.sh (Debian package "prometheus")' });
  }
  return bin;
}

export function prometheusVersion(): string {
  const r = spawnSync(prometheusBinary(), ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
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

export async function waitReady(url: string, timeoutMs: number, child?: ChildProcess, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      const tail = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
      throw new StackshiftError('lab', `prometheus exited with code ${child.exitCode} before becoming ready\n${tail}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      await r.text();
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new StackshiftError('lab', `prometheus at ${url} not ready after ${timeoutMs} ms (${last})`);
}

export async function startPrometheus(opts: StartOptions): Promise<LabServer> {
  installHooks();
  reapOrphans();
  const bin = prometheusBinary();
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const confDir = join(opts.dataDir, '..', `${opts.name}-conf`);
  mkdirSync(confDir, { recursive: true });
  const configFile = join(confDir, 'prometheus.yml');
  writeFileSync(configFile, opts.config.replaceAll('{{port}}', String(port)));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(confDir, name), content);
  const logFile = join(confDir, 'prometheus.log');
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let currentExtra = opts.extraArgs ?? [];

  const launch = async (wait: boolean) => {
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${opts.dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.retention.time=${opts.retention ?? '3650d'}`,
      '--web.enable-admin-api',
      '--web.enable-lifecycle',
      ...currentExtra,
    ];
    const fd = openSync(logFile, 'a');
    child = spawn(bin, args, { stdio: ['ignore', fd, fd], cwd: confDir });
    closeSync(fd);
    const c = child;
    running.set(c.pid!, c);
    writeFileSync(join(pidDir(), `${c.pid}.pid`), `${c.pid} ${process.pid}\n`);
    c.on('exit', () => {
      running.delete(c.pid!);
      try { unlinkSync(join(pidDir(), `${c.pid}.pid`)); } catch { /* gone */ }
    });
    if (wait) await waitReady(url, opts.readyTimeoutMs ?? 60_000, c, logFile);
  };

  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((res) => {
      const t = setTimeout(() => { try { c.kill('SIGKILL'); } catch { /* gone */ } }, 15_000);
      c.once('exit', () => { clearTimeout(t); res(); });
      c.kill('SIGTERM');
    });
  };

  await launch(opts.waitReady ?? true);
  return {
    name: opts.name,
    url,
    port,
    dataDir: opts.dataDir,
    configFile,
    logFile,
    get pid() { return child!.pid!; },
    stop,
    async restart(r = {}) {
      await stop();
      if (r.extraArgs) currentExtra = r.extraArgs;
      await launch(r.wait ?? true);
    },
    logs: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}
