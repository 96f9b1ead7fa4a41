import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID (48-bit millisecond time, 80 bits of entropy, Crockford base32). The entropy is derived from `seed`,
 * so a unit redone after a crash gets the same block ID: an already renamed (or uploaded) block is
 * recognised instead of written twice.
 */
export function ulidFrom(timeMs: number, seed: string): string {
  const rnd = createHash('sha256').update(seed).digest();
  let n = BigInt(Math.floor(timeMs)) << 80n;
  for (let i = 0; i < 10; i++) n |= BigInt(rnd[i]) << BigInt(8 * (9 - i));
  let s = '';
  for (let i = 0; i < 26; i++) {
    s = CROCKFORD[Number(n & 31n)] + s;
    n >>= 5n;
  }
  return s;
}
