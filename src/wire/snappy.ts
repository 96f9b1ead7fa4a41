import { compressSync, uncompressSync } from 'snappy';
import { WireError } from './pb.js';

/** Snappy block format (not framed), as remote read and remote write require. */
export function snappyEncode(data: Uint8Array): Buffer {
  return compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

export function snappyDecode(data: Uint8Array): Buffer {
  try {
    return uncompressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { asBuffer: true }) as Buffer;
  } catch (e) {
    throw new WireError(`response is not valid snappy data: ${(e as Error).message}`);
  }
}
