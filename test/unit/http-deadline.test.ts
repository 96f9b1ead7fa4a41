import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, HttpError } from '../../src/http/index.js';
import { endpointFromUrl } from '../../src/config/index.js';

/**
 * Fault servers (plain node:http, not a double of any product): a body dripped one byte at a time, a body
 * shorter than its Content-Length, a connection closed mid-body, a 500 carrying a TSDB append error.
 */
async function faultServer(
  t: { after: (fn: () => unknown) => void },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
) {
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const srv = createServer((req, res) => {
    requests++;
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const x of timers) clearInterval(x);
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, requests: () => requests, timers };
}

const fast = { baseMs: 10, maxMs: 50, maxRetryAfterMs: 5_000 };

/** Settles `p`, or reports that it was still pending after `ms` (the old client hangs on a dripping body). */
async function within<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ value?: T; error?: unknown; hung?: true; elapsed: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ hung: true }>((r) => {
    timer = setTimeout(() => r({ hung: true }), ms);
  });
  const r = await Promise.race([
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    hung,
  ]);
  clearTimeout(timer);
  return { ...r, elapsed: Date.now() - t0 };
}

test('a body dripped one byte at a time is cut off at the total request deadline, not after every byte', async (t) => {
  const s = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
    const iv = setInterval(() => res.write('x'), 100);
    s.timers.add(iv);
    res.on('close', () => clearInterval(iv));
  });
  const c = new HttpClient({ ...endpointFromUrl(s.url), timeoutMs: 1500, retries: 0 }, { retry: fast });
  t.after(() => c.close());
  const r = await within(c.text({ path: '/api/v1/status/buildinfo' }), 15_000);
  assert.ok(!r.hung, 'the request still hangs after 15 s with a 1.5 s timeout');
  assert.ok(r.error instanceof HttpError && r.error.kind === 'timeout', String(r.error));
  assert.match((r.error as HttpError).message, /no complete response within 1\.5s|1500ms/);
  assert.ok(r.elapsed < 8_000, `took ${r.elapsed} ms`);
});

test('a caller reading a fast body slowly (a streamed copy, rate-limited) is not cut off by the request timeout', async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 120);
  const s = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(40 * chunk.length) });
    for (let i = 0; i < 40; i++) res.write(chunk);
    res.end();
  });
  const c = new HttpClient({ ...endpointFromUrl(s.url), timeoutMs: 1000, retries: 0 }, { retry: fast });
  t.after(() => c.close());
  const t0 = Date.now();
  const res = await c.request({ path: '/api/v1/read' });
  let bytes = 0;
  for await (const b of res.body) {
    bytes += (b as Buffer).length;
    await new Promise((r) => setTimeout(r, 150)); // the caller writes what it read before it reads on
  }
  assert.equal(bytes, 40 * chunk.length);
  assert.ok(Date.now() - t0 > 1_500, `the read took ${Date.now() - t0} ms, longer than the 1 s timeout`);
});

test('an operation deadline stops the retries when the next wait would pass it', async (t) => {
  const s = await faultServer(t, (_q, res) => {
    res.writeHead(503);
    res.end('busy');
  });
  const c = new HttpClient(
    { ...endpointFromUrl(s.url), retries: 50 },
    { retry: { baseMs: 200, maxMs: 400, maxRetryAfterMs: 5_000 } },
  );
  t.after(() => c.close());
  const t0 = Date.now();
  const res = await c.request({ path: '/x', deadlineAt: Date.now() + 1_000 });
  const elapsed = Date.now() - t0;
  assert.equal(res.status, 503);
  assert.ok(s.requests() >= 2 && s.requests() < 10, `${s.requests()} attempts`);
  assert.ok(elapsed < 1_500, `gave up after ${elapsed} ms, deadline 1000 ms`);
});

test('a 500 carrying a known TSDB append error is returned at once, not retried', async (t) => {
  const s = await faultServer(t, (_q, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('too old sample\n');
  });
  const c = new HttpClient({ ...endpointFromUrl(s.url), retries: 3 }, { retry: fast });
  t.after(() => c.close());
  const res = await c.request({ method: 'POST', path: '/api/v1/write', body: 'x' });
  assert.equal(res.status, 500);
  assert.equal(s.requests(), 1);
  let text = '';
  for await (const chunk of res.body) text += String(chunk);
  assert.equal(text, 'too old sample\n', 'the body read for the decision is handed on to the caller');
});

test('a body shorter than its Content-Length is an HttpError naming the cause', async (t) => {
  const s = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"status":"su');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const c = new HttpClient({ ...endpointFromUrl(s.url), retries: 0 }, { retry: fast });
  t.after(() => c.close());
  const err = await c.text({ path: '/api/v1/query' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpError, `got ${String(err)}`);
  assert.equal(err.retryable, true);
  assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: .*(Content-Length|closed|reset)/);
  assert.match(err.hint ?? '', /ended the response early/);
});

test('a connection closed in the middle of a chunked body is an HttpError', async (t) => {
  const s = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"status":"success","data":[');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const c = new HttpClient({ ...endpointFromUrl(s.url), retries: 0 }, { retry: fast });
  t.after(() => c.close());
  const err = await c.text({ path: '/api/v1/series' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpError && err.kind === 'connect', `got ${String(err)}`);
  assert.match(err.message, /other side closed|reset/);
});
