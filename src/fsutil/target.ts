import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StackshiftError } from '../errors/index.js';

/** Linux gives up on a chain of more symlinks than this (ELOOP); so do we. */
const MAX_SYMLINK_HOPS = 40;

/** What a write must keep of the file it replaces, or give a new file. */
export interface WritePlan {
  /** The real file: symlinks followed, so a link stays a link and the file it points to is the one written. */
  real: string;
  /** Permission bits to set on the new file (kept from the replaced file, or asked for). */
  mode: number;
  /** Owner to give the new file, when the replaced file had one other than ours. */
  owner?: { uid: number; gid: number };
  /** Whether `mode` must be set exactly (fchmod, past the umask). */
  exactMode: boolean;
}

export interface WriteOptions {
  /**
   * Mode for a file that does not exist yet (default 0644, less the umask). A file that exists keeps its
   * own mode and owner whatever this says.
   */
  mode?: number;
  /**
   * Permission bits the result may have at most, whether the file is new or replaced: a copy of a 0600
   * source written over an earlier 0644 copy becomes 0600, never stays more open than its source.
   */
  maxMode?: number;
  /** Owner for a file that does not exist yet (a backup keeps its source's owner). */
  owner?: { uid: number; gid: number };
}

/**
 * Follows `path` through symlinks to the file a write must replace, even when the last link dangles
 * (then the file it names is created). realpath alone cannot do this: it fails on a dangling link.
 */
export function resolveWriteTarget(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < MAX_SYMLINK_HOPS; hops++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The file does not exist: resolve its directory (which may itself sit behind links) and keep the name.
      try {
        return join(realpathSync(dirname(p)), basename(p));
      } catch {
        return p;
      }
    }
    if (!st.isSymbolicLink()) return realpathSync(p);
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new StackshiftError('symlink-loop', `${path}: too many levels of symbolic links`, {
    hint: 'fix the symlink chain; nothing was written',
  });
}

function isMine(o: { uid: number; gid: number }): boolean {
  return typeof process.getuid !== 'function' || (o.uid === process.getuid() && o.gid === process.getgid!());
}

/** Mode and owner the new content must get: those of the file it replaces, or `opts.mode` for a new one. */
export function planWrite(path: string, opts: WriteOptions = {}): WritePlan {
  const real = resolveWriteTarget(path);
  let st: Stats | undefined;
  try {
    st = statSync(real);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const cap = (m: number) => (opts.maxMode === undefined ? m : m & (opts.maxMode | ~0o777));
  if (!st) {
    const exact = opts.mode !== undefined || opts.maxMode !== undefined;
    return {
      real,
      mode: cap(opts.mode ?? 0o644),
      exactMode: exact,
      owner: opts.owner && !isMine(opts.owner) ? opts.owner : undefined,
    };
  }
  const owner = { uid: st.uid, gid: st.gid };
  return { real, mode: cap(st.mode & 0o7777), exactMode: true, owner: isMine(owner) ? undefined : owner };
}

/**
 * Mode the temp file is created with. When the final mode is set exactly afterwards, 0600: the content is
 * never readable by more than its final mode allows, even for a moment. Otherwise the umask applies.
 */
export function createMode(plan: WritePlan): number {
  return plan.exactMode ? 0o600 : plan.mode;
}

/** The temp file name a write uses; `.<name>.<pid>.<random>.tmp`, so a stray one names the process that left it. */
export function tempPathFor(real: string): string {
  return join(dirname(real), `.${basename(real)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

const TEMP_RE = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const swept = new Set<string>();

/**
 * Removes temp files that a writer killed before its rename left in `dir` (kill -9, power loss): only ours
 * by name, and only those whose process is gone, so a concurrent writer's temp file is never touched.
 * Done once per directory per process. Returns the names removed.
 */
export function sweepStrayTemps(dir: string): string[] {
  const abs = resolve(dir);
  if (swept.has(abs)) return [];
  swept.add(abs);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || processAlive(Number(m[2]))) continue;
    try {
      unlinkSync(join(abs, name));
      removed.push(name);
    } catch {
      /* someone else removed it */
    }
  }
  return removed;
}

/** Forgets which directories were swept (tests simulate a second run in one process). */
export function resetSweptDirs(): void {
  swept.clear();
}

/**
 * fsync of the directory makes the rename itself durable: without it a crash can bring back the old
 * directory entry although the new file's data reached the disk.
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR/EPERM); the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function ownerError(real: string, owner: { uid: number; gid: number }, cause: unknown): StackshiftError {
  return new StackshiftError(
    'keep-owner',
    `${real}: cannot keep its owner (uid ${owner.uid}, gid ${owner.gid}) when replacing it`,
    {
      hint: 'run as that user (or root), or copy the file and point stackshift at the copy; nothing was written',
      cause,
    },
  );
}
