import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, STACK_LINE } from '../harness/cli.js';

/**
 * "The password is never printed" only means something on a path that would print it. This fault server
 * (plain node:http) answers every request with 401 and echoes what it was sent: the Authorization header,
 * its decoded user:password, and the query string, as some proxies and receivers do in their error bodies.
 * The CLI prints that body in its error line, so every secret reaches the printer: these tests fail when
 * redaction is removed, and check that the redacted form is what the user sees.
 */
async function echoServer(t: TestContext): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const srv = createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? '';
    received.push(auth);
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end(`denied: authorization: ${auth} (${decoded}) x-api-key=${req.headers['x-api-key'] ?? ''}`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, received };
}

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'stackshift-secrets-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const PASSWORD = 'pw-7f3e9a1c5b2d';
const TOKEN = 'tok-0a9b8c7d6e5f4321';

test('a basic-auth password echoed back by the server is redacted in every output format and in debug logs', async (t) => {
  const s = await echoServer(t);
  const b64 = Buffer.from(`admin:${PASSWORD}`).toString('base64');
  for (const format of ['text', 'json', 'markdown']) {
    const r = await runCli(
      [
        'assess',
        '--prometheus-url',
        s.url,
        '--prometheus-basic-auth-user',
        'admin',
        '--prometheus-basic-auth-password-env',
        'PROM_PW',
        '-o',
        format,
        '--log-level',
        'debug',
      ],
      { env: { PROM_PW: PASSWORD } },
    );
    const all = r.stdout + r.stderr;
    assert.equal(r.code, 2, all);
    assert.match(
      r.stderr,
      /HTTP 401: denied: authorization: Basic <redacted> \(admin:<redacted>\)/,
      'the echoed secrets reached the error line, redacted',
    );
    assert.ok(!all.includes(PASSWORD), `password printed (${format})`);
    assert.ok(!all.includes(b64), `basic-auth header printed (${format})`);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  }
  assert.ok(
    s.received.every((a) => a === `Basic ${b64}`),
    'the server did get the real credentials',
  );
});

test('a bearer token from a file, and a secret header from the config, are redacted when echoed', async (t) => {
  const s = await echoServer(t);
  const dir = tmp(t);
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  writeFileSync(
    join(dir, 'stackshift.yaml'),
    `endpoints:\n  prometheus:\n    url: ${s.url}\n    bearer_token_file: token\n    retries: 0\n    headers:\n      X-Api-Key: key-99aa88bb77cc\n`,
  );
  const r = await runCli(['assess', '--log-level', 'debug'], { cwd: dir });
  const all = r.stdout + r.stderr;
  assert.equal(r.code, 2, all);
  assert.match(r.stderr, /authorization: Bearer <redacted>/);
  assert.match(r.stderr, /x-api-key=<redacted>/);
  assert.ok(!all.includes(TOKEN), 'token printed');
  assert.ok(!all.includes('key-99aa88bb77cc'), 'api key printed');
  assert.deepEqual([...new Set(s.received)], [`Bearer ${TOKEN}`]);
});
