import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Never leave a half-written file: write a sibling temp file, fsync it, then rename over the target.
 * rename(2) is atomic within one filesystem, which a sibling in the same directory guarantees.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Copies `path` to a timestamped backup beside it before a destructive write, and returns the backup path.
 * The timestamp keeps earlier backups: a second --fix run must not overwrite the pristine original.
 */
export function backupFile(path: string, stamp = new Date()): string {
  const ts = stamp.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let target = `${path}.stackshift-${ts}.bak`;
  for (let i = 1; existsSync(target); i++) target = `${path}.stackshift-${ts}-${i}.bak`;
  copyFileSync(path, target);
  return target;
}
export { writeFileAtomicAsync, WriteQueue } from './async.js';
