import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors/index.js';

/**
 * Offset of the first byte that is not valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF), or -1. JSON travelling between systems must be UTF-8 (RFC 8259 §8.1), and Grafana reads it as
 * such; a Latin-1 `Caf\xe9` decoded as UTF-8 becomes U+FFFD, silently changing the dashboard.
 */
export function invalidUtf8Offset(b: Uint8Array): number {
  if (isUtf8(b)) return -1;
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Decodes a dashboard file's bytes, refusing (exit 2, nothing written) what is not UTF-8 rather than
 * replacing bytes: the migrated file and its backup must never differ from the original where nothing
 * was meant to change.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    const around = Buffer.from(bytes.subarray(Math.max(0, bad - 8), bad + 8))
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '?');
    throw new InputError(
      `not valid UTF-8 at byte offset ${bad} (byte 0x${bytes[bad].toString(16).padStart(2, '0')}, near "${around}")`,
      { file },
      'dashboard JSON must be UTF-8: convert the file (e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8) or move it out of the input; nothing was written',
    );
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
