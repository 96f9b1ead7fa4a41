import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC-32 Castagnoli, the checksum of every TSDB artifact (block chunks, index sections, WAL fragments, head
 * chunks). Two paths because bench/crc32c.bench.ts shows the SIMD library wins on large buffers (index
 * sections, 32 KiB WAL pages) while a block chunk is often ~100-600 bytes; below ~256 bytes the N-API call and the subarray
 * it needs cost more than slicing-by-8 in JavaScript.
 */
const T = new Int32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T[i] = c;
}
for (let i = 0; i < 256; i++) {
  for (let s = 1; s < 8; s++) {
    const p = T[(s - 1) * 256 + i];
    T[s * 256 + i] = (p >>> 8) ^ T[p & 0xff];
  }
}

/** Below this many bytes the JavaScript table is faster than the native call (measured by the benchmark). */
export const NATIVE_THRESHOLD = 256;

export function crc32cTable(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  let c = ~seed;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c =
      T[1792 + (c & 0xff)] ^
      T[1536 + ((c >>> 8) & 0xff)] ^
      T[1280 + ((c >>> 16) & 0xff)] ^
      T[1024 + (c >>> 24)] ^
      T[768 + buf[i + 4]] ^
      T[512 + buf[i + 5]] ^
      T[256 + buf[i + 6]] ^
      T[buf[i + 7]];
  }
  for (; i < end; i++) c = T[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32cNative(buf: Buffer, start = 0, end = buf.length, seed = 0): number {
  return nativeCrc32c(start === 0 && end === buf.length ? buf : buf.subarray(start, end), seed) >>> 0;
}

/** CRC-32C of buf[start:end), continuing from `seed` (a previous result) when given. */
export function crc32c(buf: Buffer, start = 0, end = buf.length, seed = 0): number {
  return end - start < NATIVE_THRESHOLD ? crc32cTable(buf, start, end, seed) : crc32cNative(buf, start, end, seed);
}
