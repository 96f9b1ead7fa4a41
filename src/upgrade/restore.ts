import { readFileSync, statSync, chmodSync } from 'node:fs';
import { writeFileAtomic } from '../fsutil/index.js';

/** Puts a backup's exact bytes back in place of a file (atomically), keeping the file's mode. */
export function restoreBackup(backup: string, file: string): void {
  const mode = (() => {
    try {
      return statSync(file).mode & 0o7777;
    } catch {
      return statSync(backup).mode & 0o7777;
    }
  })();
  writeFileAtomic(file, readFileSync(backup));
  chmodSync(file, mode);
}
