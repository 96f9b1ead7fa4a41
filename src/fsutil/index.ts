import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  existsSync,
} from 'node:fs';
import { dirname } from 'node:path';
import {
  createMode,
  fsyncDir,
  ownerError,
  planWrite,
  resolveWriteTarget,
  sweepStrayTemps,
  tempPathFor,
  type WriteOptions,
} from './target.js';

/**
 * Never leave a half-written file, and never change what the file is: write a sibling temp file with the
 * replaced file's mode and owner, fsync it, rename it over the target, fsync the directory. A symlink is
 * followed and the file it points to is replaced, so the link stays. rename(2) is atomic within one
 * filesystem, which a sibling in the same directory guarantees.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const plan = planWrite(path, opts);
  const dir = dirname(plan.real);
  mkdirSync(dir, { recursive: true });
  sweepStrayTemps(dir);
  const tmp = tempPathFor(plan.real);
  const fd = openSync(tmp, 'wx', createMode(plan));
  try {
    if (plan.owner) {
      try {
        fchownSync(fd, plan.owner.uid, plan.owner.gid);
      } catch (e) {
        throw ownerError(plan.real, plan.owner, e);
      }
    }
    // After the chown, which clears set-id bits.
    if (plan.exactMode) fchmodSync(fd, plan.mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, plan.real);
  fsyncDir(dir);
}

/**
 * Copies `path` to a timestamped backup beside it before a destructive write, and returns the backup path.
 * The copy is byte for byte (whatever the encoding), durable, and has the source's mode and owner, so a
 * backup of a 0600 file holding a password is never more readable than the file. A symlink's target is
 * what gets backed up. The timestamp keeps earlier backups: a second --fix run must not overwrite the
 * pristine original.
 */
export function backupFile(path: string, stamp = new Date()): string {
  const ts = stamp
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  let target = `${path}.stackshift-${ts}.bak`;
  for (let i = 1; existsSync(target); i++) target = `${path}.stackshift-${ts}-${i}.bak`;
  copyFileDurable(path, target);
  return target;
}

/**
 * Writes the bytes of `source` to `target` (atomically) with the source's mode, and its owner when the
 * target is new; an existing target keeps its own. For backups and --out-dir copies: never more open
 * than the source.
 */
export function copyFileDurable(source: string, target: string): void {
  writeFileAtomic(target, readFileSync(resolveWriteTarget(source)), backupAccessOf(source));
}

/**
 * Write options for a copy of `source` written elsewhere (--out-dir, a migrated copy): the source's
 * permission bits, and never more, even over an earlier copy. The owner is the writer's, as with cp.
 */
export function copyAccessOf(source: string): WriteOptions {
  const mode = planWrite(source).mode & 0o777;
  return { mode, maxMode: mode };
}

/** Write options for a backup of `source`: its permission bits (never more) and its owner. */
export function backupAccessOf(source: string): WriteOptions {
  const plan = planWrite(source);
  const mode = plan.mode & 0o777;
  return { mode, maxMode: mode, owner: plan.owner };
}

export { resolveWriteTarget, sweepStrayTemps, resetSweptDirs, fsyncDir, type WriteOptions } from './target.js';
export { writeFileAtomicAsync, WriteQueue } from './async.js';
