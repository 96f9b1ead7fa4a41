import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StackshiftError, InputError } from '../errors/index.js';
import { backupFile, writeFileAtomic } from '../fsutil/index.js';

/**
 * How `upgrade run` stops, installs, starts and inspects a Prometheus. One interface; the `local` driver runs
 * a binary with the flags of an args file (the same file `lint prom3` reads and fixes), as the lab, the tests
 * and the rehearsal do; the `systemd` driver (systemd.ts) goes through systemctl and the unit file, the `kubernetes` driver
 * (kubernetes.ts) through kubectl. Every step shows its exact commands before it runs them (`--dry-run` prints them).
 *
 * The local "unit" is an args file: the first line is the binary, every other line one flag, exactly like a
 * systemd ExecStart split over lines. `<unit>.pid` holds the pid of the running server and `<unit>.log` its
 * output; the server runs in its own session so that a kill -9 of stackshift leaves it running.
 */
export interface DriverStatus {
  running: boolean;
  pid?: number;
  /** The binary the running process executes (/proc/<pid>/exe), else the unit's. */
  binary?: string;
}

export interface ServerDriver {
  kind: 'local' | 'systemd' | 'kubernetes';
  /** The server is not on this host (kubernetes): `binary` is an image, its data dir and files are remote. */
  remote?: boolean;
  /** The release a `binary` (or image) is; default: run it with --version. */
  versionOf?(binary: string): string | undefined;
  /** For a remote server: copies a snapshot taken through the admin API to this host, to verify and keep. */
  snapshotCopy?: { commands(snapshot: string): string[]; fetch(snapshot: string, into: string): Promise<string> };
  /** What the unit runs: the binary and its flags. */
  unit(): { binary: string; args: string[]; file: string };
  status(): DriverStatus;
  /** The exact commands of a step, for --dry-run and the log. */
  commands(step: 'stop' | 'install' | 'start', binary?: string): string[];
  stop(timeoutMs?: number): Promise<void>;
  /** Points the unit at another binary (a backup of the unit is made first); returns the backup's path. */
  install(binary: string): string;
  /** Starts the server (kubernetes: waits on the rollout, with its deadline). */
  start(): void | Promise<void>;
  /** The server's log so far (replay progress falls back to it). */
  log(): string;
  /** Where that log is, for messages ("<unit>.log", "journalctl -u prometheus.service"). */
  logWhere(): string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** The words of one line as a shell (or systemd's ExecStart) splits them: blanks separate, quotes group. */
export function lineWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) {
      i++;
      continue;
    }
    let w = '';
    let q: string | null = null;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (q) {
        if (c === q) q = null;
        else w += c;
        continue;
      }
      if (c === '"' || c === "'") {
        q = c;
        continue;
      }
      if (/\s/.test(c)) break;
      w += c;
    }
    words.push(w);
  }
  return words;
}

/**
 * Line 1 is the binary; every other line holds flags, usually one (a line with several, as `lint prom3 --fix`
 * may leave when it appends a flag, is split into words like ExecStart does; quote a value with blanks).
 */
export function parseArgsUnit(text: string, file: string): { binary: string; args: string[] } {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const binary = lines[0];
  if (!binary || binary.startsWith('-'))
    throw new InputError(
      'the first line must be the Prometheus binary',
      { file, line: 1 },
      'write the binary path on line 1 and one flag per line after it',
    );
  return { binary, args: lines.slice(1).flatMap(lineWords) };
}

export function localDriver(unitFile: string): ServerDriver {
  let file: string;
  try {
    file = realpathSync(resolve(unitFile));
  } catch {
    throw new InputError(
      'does not exist',
      { file: unitFile },
      'give the args file of the local server (line 1: binary, then one flag per line)',
    );
  }
  const pidFile = `${file}.pid`;
  const logFile = `${file}.log`;
  const read = () => parseArgsUnit(readFileSync(file, 'utf8'), file);
  const pid = (): number | undefined => {
    if (!existsSync(pidFile)) return undefined;
    const p = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(p) && p > 0 && alive(p) ? p : undefined;
  };
  const driver: ServerDriver = {
    kind: 'local',
    unit: () => ({ ...read(), file }),
    status() {
      const p = pid();
      return p ? { running: true, pid: p, binary: exeOf(p) } : { running: false, binary: read().binary };
    },
    commands(step, binary) {
      const u = read();
      if (step === 'stop') return [`kill -TERM $(cat ${quote(pidFile)})  # then wait for the process to exit`];
      if (step === 'install')
        return [
          `cp -p ${quote(file)} ${quote(file)}.<timestamp>.bak`,
          `sed -i '1s|.*|${binary}|' ${quote(file)}`,
          `${quote(binary ?? u.binary)} --version`,
        ];
      return [
        `setsid ${[u.binary, ...u.args].map(quote).join(' ')} >>${quote(logFile)} 2>&1 &  echo $! > ${quote(pidFile)}`,
      ];
    },
    async stop(timeoutMs = 120_000) {
      const p = pid();
      if (!p) return;
      process.kill(p, 'SIGTERM');
      const deadline = Date.now() + timeoutMs;
      while (alive(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (alive(p))
        throw new StackshiftError(
          'upgrade-stop',
          `Prometheus (pid ${p}) did not exit within ${timeoutMs / 1000} s of SIGTERM`,
          { hint: 'it may still be flushing; wait, or stop it by hand, then rerun stackshift upgrade run' },
        );
    },
    install(binary) {
      const abs = resolve(binary);
      if (!existsSync(abs))
        throw new StackshiftError('upgrade-install', `the new binary ${abs} does not exist`, {
          hint: "pass --binary with the path of the target release's prometheus",
        });
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      const first = lines.findIndex((l) => l.trim() && !l.trim().startsWith('#'));
      if (lines[first]?.trim() === abs) return '';
      const backup = backupFile(file);
      lines[first] = abs;
      writeFileAtomic(file, lines.join('\n'));
      return backup;
    },
    start() {
      if (pid()) return;
      const u = read();
      const fd = openSync(logFile, 'a');
      try {
        const child = spawn(u.binary, u.args, { cwd: dirname(file), detached: true, stdio: ['ignore', fd, fd] });
        if (!child.pid)
          throw new StackshiftError('upgrade-start', `cannot start ${u.binary}`, {
            hint: `check the binary and the flags in ${file}`,
          });
        writeFileAtomic(pidFile, `${child.pid}\n`);
        child.unref();
      } finally {
        closeSync(fd);
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    logWhere: () => logFile,
  };
  return driver;
}

/** The version a prometheus binary reports of itself ("2.55.1"), or undefined. */
export function binaryVersion(binary: string): string | undefined {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /version (\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1];
}
