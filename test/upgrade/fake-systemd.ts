import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A recording fake of `systemctl` and `journalctl` for the systemd driver's tests: every call is appended to
 * calls.log (one JSON array per line), and the few verbs the driver uses behave like systemd's for a simple
 * service: `daemon-reload` loads the unit files (a `start` runs the ExecStart= of the last reload, not the file
 * as it is now), `start` runs the loaded ExecStart= in its own session with its output in the "journal",
 * `stop` sends SIGTERM and waits, `is-active`, `show --property=FragmentPath|DropInPaths|MainPID --value`.
 * Its ExecStart= parsing is its own (continuations joined, split on blanks), not the driver's.
 */
const SCRIPT = `
const fs = require('fs'), path = require('path'), cp = require('child_process');
const dir = process.env.FAKE_SYSTEMD_DIR;
if (!dir) { console.error('FAKE_SYSTEMD_DIR is not set'); process.exit(1); }
const me = path.basename(process.argv[1]);
const argv = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.log'), JSON.stringify([me, ...argv]) + '\\n');
const unitPath = (u) => path.join(dir, 'units', u);
const loaded = (u) => path.join(dir, 'loaded', u);
const pidFile = (u) => path.join(dir, u + '.pid');
const journal = (u) => path.join(dir, u + '.journal');
const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
const pidOf = (u) => { try { const p = Number(fs.readFileSync(pidFile(u), 'utf8')); return p > 0 && alive(p) ? p : 0; } catch { return 0; } };
const execStart = (text) => {
  const lines = text.replace(/\\\\\\n/g, ' ').split('\\n').filter((l) => /^\\s*ExecStart=/.test(l));
  return lines[lines.length - 1].replace(/^\\s*ExecStart=[-@:+!]*/, '').trim().split(/\\s+/).map((w) => w.replace(/^'(.*)'$/, '$1'));
};
if (me === 'journalctl') {
  const u = argv[argv.indexOf('-u') + 1];
  process.stdout.write(fs.existsSync(journal(u)) ? fs.readFileSync(journal(u), 'utf8') : '');
  process.exit(0);
}
const unit = argv[argv.length - 1];
switch (argv[0]) {
  case 'show': {
    const prop = argv.find((a) => a.startsWith('--property=')).slice('--property='.length);
    if (prop === 'FragmentPath') console.log(fs.existsSync(unitPath(unit)) ? unitPath(unit) : '');
    else if (prop === 'DropInPaths') console.log('');
    else if (prop === 'MainPID') console.log(String(pidOf(unit)));
    else { console.error('fake systemctl: unknown property ' + prop); process.exit(1); }
    break;
  }
  case 'is-active': { const a = pidOf(unit) > 0; console.log(a ? 'active' : 'inactive'); process.exit(a ? 0 : 3); }
  case 'daemon-reload':
    fs.mkdirSync(path.join(dir, 'loaded'), { recursive: true });
    for (const u of fs.readdirSync(path.join(dir, 'units'))) fs.copyFileSync(unitPath(u), loaded(u));
    break;
  case 'stop': {
    const p = pidOf(unit);
    if (p) { process.kill(p, 'SIGTERM'); const end = Date.now() + 60000; while (alive(p) && Date.now() < end) cp.spawnSync('sleep', ['0.1']); }
    break;
  }
  case 'start': {
    if (pidOf(unit)) break;
    if (!fs.existsSync(loaded(unit))) { console.error('Unit ' + unit + ' not found.'); process.exit(5); }
    const [bin, ...args] = execStart(fs.readFileSync(loaded(unit), 'utf8'));
    const fd = fs.openSync(journal(unit), 'a');
    const c = cp.spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
    fs.writeFileSync(pidFile(unit), String(c.pid));
    c.unref();
    break;
  }
  default: console.error('fake systemctl: unsupported ' + argv.join(' ')); process.exit(1);
}
`;

export interface FakeSystemd {
  dir: string;
  bin: string;
  /** PATH and FAKE_SYSTEMD_DIR for a child process. */
  env: Record<string, string>;
  unitFile(name: string): string;
  /** Every call so far, as argv arrays ("systemctl", "stop", "prometheus.service"). */
  calls(): string[][];
  /** The calls that change something (not show, is-active, journalctl), as "verb unit" strings. */
  actions(): string[];
}

export function fakeSystemd(dir: string): FakeSystemd {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(dir, 'units'), { recursive: true });
  for (const name of ['systemctl', 'journalctl']) {
    writeFileSync(join(bin, name), `#!${process.execPath}\n${SCRIPT}`);
    chmodSync(join(bin, name), 0o755);
  }
  const calls = () =>
    existsSync(join(dir, 'calls.log'))
      ? readFileSync(join(dir, 'calls.log'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];
  return {
    dir,
    bin,
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FAKE_SYSTEMD_DIR: dir },
    unitFile: (name) => join(dir, 'units', name),
    calls,
    actions: () =>
      calls()
        .filter((c) => c[0] === 'systemctl' && !['show', 'is-active'].includes(c[1]!))
        .map((c) => c.slice(1).join(' ')),
  };
}
