import { StackshiftError } from '../errors/index.js';

/**
 * Trace and span IDs in every spelling the systems use, normalised to raw bytes: Jaeger v1 JSON prints 16 hex
 * chars when the high half of a trace ID is zero; OTLP-JSON and api_v3 print 32 hex; Tempo's trace-by-ID JSON
 * prints base64 (gogo jsonpb); Tempo's search prints hex with leading zeros trimmed.
 */
export function idFromHex(hex: string, bytes: 16 | 8, what = 'ID'): Uint8Array {
  const h = hex.trim().toLowerCase();
  if (!/^[0-9a-f]*$/.test(h) || h.length === 0 || h.length > bytes * 2) {
    throw new StackshiftError('trace-id', `"${hex}" is not a ${bytes * 8}-bit hex ${what}`, {
      hint: `a ${what} is up to ${bytes * 2} hex digits`,
    });
  }
  return Uint8Array.from(Buffer.from(h.padStart(bytes * 2, '0'), 'hex'));
}

export function idFromBase64(b64: string, bytes: 16 | 8, what = 'ID'): Uint8Array {
  const buf = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (buf.length !== bytes) throw new StackshiftError('trace-id', `"${b64}" is not a base64 ${bytes * 8}-bit ${what}`);
  return Uint8Array.from(buf);
}

/**
 * Hex (padded or trimmed) or base64. Padded base64 of 16 or 8 bytes always carries '=' (16 and 8 are not
 * multiples of 3), so a string of hex digits only is hex.
 */
export function idFromAny(s: string, bytes: 16 | 8, what = 'ID'): Uint8Array {
  return /^[0-9a-fA-F]+$/.test(s) ? idFromHex(s, bytes, what) : idFromBase64(s, bytes, what);
}

export function idHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

/** Jaeger's own spelling of a trace ID: 16 hex when the high 64 bits are zero, else 32 (jaeger-idl TraceID.String). */
export function jaegerTraceIdHex(id: Uint8Array): string {
  const h = idHex(id);
  return h.startsWith('0000000000000000') ? h.slice(16) : h;
}

export function isZeroId(id: Uint8Array | undefined): boolean {
  if (!id) return true;
  for (const b of id) if (b !== 0) return false;
  return true;
}

export function idEquals(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (isZeroId(a) || isZeroId(b)) return isZeroId(a) && isZeroId(b);
  if (a!.length !== b!.length) return false;
  for (let i = 0; i < a!.length; i++) if (a![i] !== b![i]) return false;
  return true;
}
