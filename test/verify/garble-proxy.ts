import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeFrame } from '../../src/wire/index.js';

/**
 * A fault proxy in front of a real Prometheus that corrupts remote-read responses the way a broken
 * middlebox or disk would, while behaving like a server otherwise: every other request is passed through
 * untouched, and a corrupted response keeps the real status and headers, is sent in chunks (as Prometheus
 * streams it) and ends cleanly, so the client sees well-formed HTTP carrying garbled frames.
 *
 * - 'crc': one byte inside the payload of the chosen frame is flipped (the CRC-32C no longer matches).
 * - 'length': the chosen frame's length prefix claims far more bytes than follow (a truncated frame).
 * - 'noise': everything from the chosen frame on is replaced by random-looking bytes.
 * - 'payload': bytes inside the chosen frame's message are changed and the frame re-sealed with a valid
 *   CRC-32C (corruption before framing: a broken encoder or storage), so only decoding can notice.
 * The chosen frame is the second by default (the first series arrives intact), or `frame` (0 = first).
 */
export type Garble = 'crc' | 'length' | 'noise' | 'payload';

export interface GarbleProxy {
  url: string;
  /** Remote-read responses corrupted so far. */
  garbled: number;
  /** Requests passed through (including corrupted ones). */
  requests: number;
  close(): Promise<void>;
}

function uvarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let p = at; p < buf.length && p - at < 10; p++) {
    value += (buf[p] & 0x7f) * mul;
    if (buf[p] < 0x80) return { value, next: p + 1 };
    mul *= 128;
  }
  return undefined;
}

/** Offset of frame `n` (0-based) in a STREAMED_XOR_CHUNKS body, or undefined when there are fewer frames. */
function frameOffset(body: Buffer, n: number): number | undefined {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const h = uvarint(body, at);
    if (!h) return undefined;
    at = h.next + 4 + h.value;
    if (at >= body.length) return undefined;
  }
  return at;
}

export function garbleFrames(body: Buffer, how: Garble, frame = 1): Buffer {
  const out = Buffer.from(body);
  // a body with fewer frames: corrupt the first instead
  const at = frameOffset(out, frame) ?? 0;
  const h = uvarint(out, at);
  if (!h) return out;
  if (how === 'crc') {
    const p = h.next + 4 + Math.floor(h.value / 2);
    out[p] ^= 0x5a;
    return out;
  }
  if (how === 'payload') {
    const msg = Buffer.from(out.subarray(h.next + 4, h.next + 4 + h.value));
    for (let p = Math.floor(msg.length / 3); p < msg.length; p += 7) msg[p] ^= 0xa5;
    return Buffer.concat([out.subarray(0, at), encodeFrame(msg), out.subarray(h.next + 4 + h.value)]);
  }
  if (how === 'length') {
    // 0xff 0xff 0x7f = 2,097,151 bytes: under the reader's frame limit, far beyond the body
    return Buffer.concat([out.subarray(0, at), Buffer.from([0xff, 0xff, 0x7f]), out.subarray(h.next)]);
  }
  let x = 0x9e3779b9;
  for (let p = at; p < out.length; p++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + p) >>> 0;
    out[p] = x & 0xff;
  }
  return out;
}

/**
 * `garble(n)` decides for the n-th remote-read request (1-based) whether and how its response is corrupted.
 */
export async function startGarbleProxy(
  target: string,
  garble: (n: number) => Garble | undefined,
  opts: { frame?: number } = {},
): Promise<GarbleProxy> {
  const t = new URL(target);
  let reads = 0;
  const state = { garbled: 0, requests: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const isRead = req.method === 'POST' && (req.url ?? '').split('?')[0].endsWith('/api/v1/read');
    const how = isRead ? garble(++reads) : undefined;
    const up = httpRequest(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (r) => {
        const ct = String(r.headers['content-type'] ?? '');
        if (!how || r.statusCode !== 200 || !ct.startsWith('application/x-streamed-protobuf')) {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => {
          const bad = garbleFrames(Buffer.concat(parts), how, opts.frame);
          state.garbled++;
          const headers = { ...r.headers };
          delete headers['content-length'];
          res.writeHead(200, headers);
          // chunked, in pieces, as a streaming server sends it
          for (let p = 0; p < bad.length; p += 4096) res.write(bad.subarray(p, p + 4096));
          res.end();
        });
        r.on('error', () => res.destroy());
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get garbled() {
      return state.garbled;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
