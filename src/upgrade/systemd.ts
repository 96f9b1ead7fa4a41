import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, StackshiftError, UsageError } from '../errors/index.js';
import { backupFile, writeFileAtomic } from '../fsutil/index.js';
import { execStartLines } from '../lint/index.js';
import type { DriverStatus, ServerDriver } from './driver.js';

/**
 * The `systemd` driver: the server is a systemd unit. Stop, start and state go through `systemctl` (stop,
 * daemon-reload, start, is-active, show), the log through `journalctl -u`. The binary is swapped in the unit
 * file that holds the effective ExecStart= (the fragment, or the last drop-in that sets one), backed up
 * first and followed by `systemctl daemon-reload`, so the change and its rollback are plain file edits.
 */

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

export interface ExecStart {
  binary: string;
  args: string[];
  /** Offsets of the binary's word in the unit text (what install replaces). */
  binaryFrom: number;
  binaryTo: number;
}

/**
 * The last non-empty ExecStart= of a unit text (systemd's own rule for a service with one command: a later
 * assignment replaces, an empty one resets). Continuation lines ("\" at the end) and quotes are honoured;
 * the prefixes -@:+! are skipped.
 */
export function parseExecStart(text: string): ExecStart | undefined {
  let found: ExecStart | undefined;
  for (const { from: start, to: end } of execStartLines(text)) {
    const words: Array<{ text: string; from: number; to: number }> = [];
    let i = start;
    while (i < end) {
      const c = text[i]!;
      if (/\s/.test(c) || (c === '\\' && /[\r\n]/.test(text[i + 1] ?? ''))) {
        i++;
        continue;
      }
      const from = i;
      let w = '';
      let q: string | null = null;
      while (i < end) {
        const d = text[i]!;
        if (q) {
          if (d === q) q = null;
          else w += d;
          i++;
          continue;
        }
        if (d === '"' || d === "'") {
          q = d;
          i++;
          continue;
        }
        if (/\s/.test(d) || (d === '\\' && /[\r\n]/.test(text[i + 1] ?? ''))) break;
        w += d;
        i++;
      }
      words.push({ text: w, from, to: i });
    }
    if (words.length === 0) {
      found = undefined;
      continue;
    }
    found = {
      binary: words[0]!.text,
      args: words.slice(1).map((w) => w.text),
      binaryFrom: words[0]!.from,
      binaryTo: words[0]!.to,
    };
  }
  return found;
}

export interface SystemdOptions {
  /** The systemctl and journalctl to run (default: from PATH). */
  systemctl?: string;
  journalctl?: string;
}

export function systemdDriver(unitName: string, o: SystemdOptions = {}): ServerDriver {
  if (!/^[\w@:.\\-]+$/.test(unitName))
    throw new UsageError(
      `--unit "${unitName}" is not a systemd unit name`,
      'give the service name, e.g. prometheus.service',
    );
  const unit = unitName.includes('.') ? unitName : `${unitName}.service`;
  const systemctl = o.systemctl ?? 'systemctl';
  const journalctl = o.journalctl ?? 'journalctl';

  const sys = (args: string[], check = true): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync(systemctl, args, { encoding: 'utf8' });
    if (r.error)
      throw new StackshiftError('upgrade-driver', `cannot run ${systemctl}: ${r.error.message}`, {
        hint: 'the systemd driver needs systemctl on PATH (run upgrade on the Prometheus host), or use --driver local',
      });
    const out = { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    if (check && out.status !== 0)
      throw new StackshiftError(
        'upgrade-driver',
        `systemctl ${args.join(' ')} failed (exit ${out.status}): ${(out.stderr || out.stdout).trim().split('\n').slice(-3).join(' | ')}`,
        { hint: `see systemctl status ${unit} and journalctl -u ${unit}` },
      );
    return out;
  };
  const show = (prop: string): string => sys(['show', `--property=${prop}`, '--value', unit]).stdout.trim();

  /** The file whose ExecStart= is the one systemd runs: the last drop-in setting one, else the fragment. */
  const unitFile = (): string => {
    const fragment = show('FragmentPath');
    if (!fragment)
      throw new UsageError(
        `--unit: systemd does not know the unit ${unit}`,
        `check the name (systemctl status ${unit}); the unit must be installed before an upgrade`,
      );
    const dropIns = show('DropInPaths').split(/\s+/).filter(Boolean);
    let file = fragment;
    for (const d of dropIns) if (existsSync(d) && parseExecStart(readFileSync(d, 'utf8'))) file = d;
    return file;
  };
  const read = () => {
    const file = unitFile();
    const exec = parseExecStart(readFileSync(file, 'utf8'));
    if (!exec)
      throw new InputError(
        `the unit has no ExecStart=`,
        { file },
        'the systemd driver swaps the binary of ExecStart=; add it to the unit',
      );
    return { file, exec };
  };
  const activeState = (): string => sys(['is-active', unit], false).stdout.trim();
  const running = (s: string) => s === 'active' || s === 'activating' || s === 'reloading';

  const driver: ServerDriver = {
    kind: 'systemd',
    unit() {
      const { file, exec } = read();
      return { binary: exec.binary, args: exec.args, file };
    },
    status(): DriverStatus {
      if (!running(activeState())) return { running: false, binary: read().exec.binary };
      const pid = Number(show('MainPID'));
      let binary: string | undefined;
      if (pid > 0) {
        try {
          binary = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
        } catch {
          /* another host's view */
        }
      }
      return { running: true, pid: pid > 0 ? pid : undefined, binary: binary ?? read().exec.binary };
    },
    commands(step, binary) {
      if (step === 'stop')
        return [`systemctl stop ${quote(unit)}`, `systemctl is-active ${quote(unit)}  # until it is no longer active`];
      if (step === 'install') {
        const { file, exec } = read();
        return [
          `cp -p ${quote(file)} ${quote(file)}.stackshift-<timestamp>.bak`,
          `sed -i 's|^ExecStart=${exec.binary}|ExecStart=${binary ?? exec.binary}|' ${quote(file)}`,
          'systemctl daemon-reload',
          `${quote(binary ?? exec.binary)} --version`,
        ];
      }
      return ['systemctl daemon-reload', `systemctl start ${quote(unit)}`, `systemctl is-active ${quote(unit)}`];
    },
    async stop(timeoutMs = 120_000) {
      if (!running(activeState())) return;
      sys(['stop', unit]);
      const deadline = Date.now() + timeoutMs;
      while (running(activeState()) || activeState() === 'deactivating') {
        if (Date.now() > deadline)
          throw new StackshiftError(
            'upgrade-stop',
            `${unit} is still active ${timeoutMs / 1000} s after systemctl stop`,
            { hint: `it may still be flushing; wait (systemctl status ${unit}), then rerun stackshift upgrade run` },
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    install(binary) {
      const abs = resolve(binary);
      if (!existsSync(abs))
        throw new StackshiftError('upgrade-install', `the new binary ${abs} does not exist`, {
          hint: "pass --binary with the path of the target release's prometheus",
        });
      const { file, exec } = read();
      if (exec.binary === abs) return '';
      const text = readFileSync(file, 'utf8');
      const backup = backupFile(file);
      writeFileAtomic(file, text.slice(0, exec.binaryFrom) + quote(abs) + text.slice(exec.binaryTo));
      sys(['daemon-reload']);
      return backup;
    },
    start() {
      if (running(activeState())) return;
      // the unit file may have been edited (the changes step, a rollback): systemd must read it again first
      sys(['daemon-reload']);
      sys(['start', unit]);
    },
    log() {
      const r = spawnSync(journalctl, ['-u', unit, '--no-pager', '-o', 'cat', '-n', '2000'], { encoding: 'utf8' });
      return r.error || r.status !== 0 ? '' : r.stdout;
    },
    logWhere: () => `journalctl -u ${unit}`,
  };
  return driver;
}
