import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, HttpError, backoffDelay, parseRetryAfter, DEFAULT_RETRY } from '../../src/http/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { registerSecret } from '../../src/redact/index.js';

/** A scripted HTTP server: answers each request with the next handler (plain protocol behaviour, not a product double). */
async function scripted(
  t: { after: (fn: () => unknown) => void },
  handlers: Array<(req: IncomingMessage, res: ServerResponse) => void>,
) {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; at: number }> = [];
  let i = 0;
  const srv = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, at: Date.now() });
    req.resume();
    const h = handlers[Math.min(i++, handlers.length - 1)];
    h(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen };
}

const fast = { baseMs: 10, maxMs: 50, maxRetryAfterMs: 5_000 };

test('retries 5xx and 429, honouring Retry-After', async (t) => {
  const s = await scripted(t, [
    (_q, r) => {
      r.writeHead(503);
      r.end('busy');
    },
    (_q, r) => {
      r.writeHead(429, { 'retry-after': '1' });
      r.end('slow down');
    },
    (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/plain' });
      r.end('ok');
    },
  ]);
  const c = new HttpClient(endpointFromUrl(s.url), { retry: fast });
  t.after(() => c.close());
  const res = await c.text({ path: '/x' });
  assert.equal(res.text, 'ok');
  assert.equal(s.seen.length, 3);
  assert.equal(c.stats.retries, 2);
  const waited = s.seen[2].at - s.seen[1].at;
  assert.ok(waited >= 950, `Retry-After: 1 honoured (waited ${waited} ms)`);
});

test('does not retry other 4xx, and reports them with a hint', async (t) => {
  const s = await scripted(t, [
    (_q, r) => {
      r.writeHead(401);
      r.end('Unauthorized');
    },
  ]);
  const c = new HttpClient(endpointFromUrl(s.url), { retry: fast });
  t.after(() => c.close());
  await assert.rejects(
    c.text({ path: '/api' }),
    (e: unknown) =>
      e instanceof HttpError &&
      e.status === 401 &&
      /HTTP 401: Unauthorized/.test(e.message) &&
      /credentials/.test(e.hint ?? ''),
  );
  assert.equal(s.seen.length, 1);
});

test('gives up after the retry budget with the last status', async (t) => {
  const s = await scripted(t, [
    (_q, r) => {
      r.writeHead(502);
      r.end('bad gateway');
    },
  ]);
  const c = new HttpClient({ ...endpointFromUrl(s.url), retries: 2 }, { retry: fast });
  t.after(() => c.close());
  await assert.rejects(c.text({ path: '/y' }), (e: unknown) => e instanceof HttpError && e.status === 502);
  assert.equal(s.seen.length, 3);
});

test('connection refused is retried then reported as one clear line', async () => {
  const c = new HttpClient({ ...endpointFromUrl('http://127.0.0.1:1'), retries: 1 }, { retry: fast });
  await assert.rejects(
    c.text({ path: '/' }),
    (e: unknown) =>
      e instanceof HttpError &&
      e.kind === 'connect' &&
      /connection refused \(after 2 attempts\)/.test(e.message) &&
      !e.message.includes('\n'),
  );
  await c.close();
});

test('sends auth and tenant headers, and never leaks the token in errors', async (t) => {
  registerSecret('tok-abcdef-123456');
  const s = await scripted(t, [
    (req, r) => {
      r.writeHead(400);
      r.end(`bad request, you sent ${req.headers.authorization}`);
    },
  ]);
  const c = new HttpClient(
    { ...endpointFromUrl(s.url), tenant: 'team-a', auth: { kind: 'bearer', token: 'tok-abcdef-123456' } },
    { retry: fast },
  );
  t.after(() => c.close());
  const err = await c.text({ path: '/z' }).catch((e: unknown) => e as HttpError);
  assert.ok(err instanceof HttpError);
  assert.equal(s.seen[0].headers['x-scope-orgid'], 'team-a');
  assert.equal(s.seen[0].headers.authorization, 'Bearer tok-abcdef-123456');
  assert.ok(!err.message.includes('tok-abcdef-123456'), err.message);
  assert.ok(!(err.bodyExcerpt ?? '').includes('tok-abcdef-123456'));
});

test('Retry-After parsing and jittered backoff stay within bounds', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now()) !== undefined, true);
  assert.equal(parseRetryAfter('soon'), undefined);
  for (let a = 0; a < 10; a++) {
    const d = backoffDelay(a, DEFAULT_RETRY);
    const cap = Math.min(DEFAULT_RETRY.maxMs, DEFAULT_RETRY.baseMs * 2 ** a);
    assert.ok(d >= cap / 2 && d <= cap, `attempt ${a}: ${d}`);
  }
});
