import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * A fault injector in front of a real server (not a double of any product): it forwards requests to the real
 * server and, on the requests the plan picks, answers 429 with Retry-After, 503, resets the connection (before or
 * after forwarding), answers slowly or too slowly, returns a 400 in Mimir's or Prometheus's words or Prometheus
 * 2.42's 500 "too old sample" — never forwarding what it refuses, so the real server stores nothing of a refused
 * request — or, on the read side, cuts a forwarded response in the middle of its body (`truncate`). `undercount`
 * forwards the request and passes the answer on with X-Prometheus-Remote-Write-Samples-Written one lower: a
 * remote write 2.0 receiver saying it stored a sample fewer than it was sent.
 */
export type Fault =
  | 'none'
  | '429'
  | '503'
  | 'reset-before'
  | 'reset-after'
  | 'slow'
  | 'timeout'
  | '400-mimir'
  | '400-prom'
  | '500-too-old'
  | '413'
  | 'truncate'
  | '400-echo'
  | 'blackhole'
  | 'undercount';

/** `contentType` is the request's; `written` the answer's X-Prometheus-Remote-Write-Samples-Written, as passed on. */
export interface ProxyEntry {
  n: number;
  at: number;
  method: string;
  path: string;
  hash: string;
  fault: Fault;
  status: number | 'reset';
  contentType?: string;
  written?: string;
}

export interface FaultProxy {
  url: string;
  log: ProxyEntry[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFaultProxy(
  target: string,
  plan: (n: number, method: string, path: string) => Fault,
  opts: { stripPrefix?: string } = {},
): Promise<FaultProxy> {
  const log: ProxyEntry[] = [];
  let n = 0;
  const forward = async (req: IncomingMessage, body: Buffer) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    const path =
      opts.stripPrefix && req.url?.startsWith(opts.stripPrefix) ? req.url.slice(opts.stripPrefix.length) : req.url;
    const r = await fetch(target + path, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const i = ++n;
    const fault = plan(i, req.method ?? 'GET', req.url ?? '/');
    const entry: ProxyEntry = {
      n: i,
      at: Date.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      hash: createHash('sha1').update(body).digest('hex'),
      fault,
      status: 0,
      contentType: req.headers['content-type'],
    };
    log.push(entry);
    try {
      switch (fault) {
        case '429':
          entry.status = 429;
          res
            .writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' })
            .end('the request has been rejected because the tenant exceeded its ingestion rate limit\n');
          return;
        case '503':
          entry.status = 503;
          res.writeHead(503, { 'content-type': 'text/plain' }).end('TSDB unavailable\n');
          return;
        case 'reset-before':
          entry.status = 'reset';
          req.socket.destroy();
          return;
        case 'reset-after':
          await forward(req, body);
          entry.status = 'reset';
          req.socket.destroy();
          return;
        case 'slow':
          await sleep(300);
          break;
        case 'timeout':
          await sleep(2500);
          break;
        case '400-mimir':
          entry.status = 400;
          res
            .writeHead(400, { 'content-type': 'text/plain' })
            .end(
              'failed pushing to ingester: user=t1: the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old). The affected sample has timestamp 2026-01-01T00:00:00Z and is from series up{job="x"}\n',
            );
          return;
        case '400-prom':
          entry.status = 400;
          res.writeHead(400, { 'content-type': 'text/plain' }).end('out of order sample\n');
          return;
        case '500-too-old':
          entry.status = 500;
          res.writeHead(500, { 'content-type': 'text/plain' }).end('too old sample\n');
          return;
        case 'blackhole':
          // a receiver that acknowledges and loses the request
          entry.status = 204;
          res.writeHead(204).end();
          return;
        case '400-echo':
          // some gateways echo the request headers in their refusal (credentials included)
          entry.status = 400;
          res.writeHead(400, { 'content-type': 'text/plain' }).end(
            `bad request; headers: ${Object.entries(req.headers)
              .map(([k, v]) => `${k}: ${String(v)}`)
              .join('\n')}\n`,
          );
          return;
        case '413':
          entry.status = 413;
          res.writeHead(413, { 'content-type': 'text/plain' }).end('request entity too large\n');
          return;
        case 'truncate': {
          const r = await forward(req, body);
          entry.status = 'reset';
          const h: Record<string, string> = {};
          r.headers.forEach((v, k) => {
            if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) h[k] = v;
          });
          // half the body, then the connection goes: the client sees a response that stops in the middle
          res.writeHead(r.status, h);
          res.write(r.body.subarray(0, Math.floor(r.body.length / 2)), () => req.socket.destroy());
          return;
        }
        default:
          break;
      }
      const r = await forward(req, body);
      entry.status = r.status;
      const h: Record<string, string> = {};
      // fetch has already decoded any gzip body, so content-encoding is not passed on
      r.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) h[k] = v;
      });
      const wk = 'x-prometheus-remote-write-samples-written';
      if (fault === 'undercount' && h[wk] !== undefined) h[wk] = String(Number(h[wk]) - 1);
      entry.written = h[wk];
      if (!res.destroyed) res.writeHead(r.status, h).end(r.body);
    } catch (e) {
      entry.status = 502;
      if (!res.destroyed) res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
