import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { endpointFromUrl } from '../../src/config/index.js';
import { InterruptedError, isInterrupt } from '../../src/errors/index.js';
import { HttpClient, afterGrace, isRetryableError } from '../../src/http/index.js';
import { commandLine, shellQuote } from '../../src/cli/interrupt.js';

test('afterGrace: aborts with the stop reason only once the grace period after the stop has passed', async () => {
  const stop = new AbortController();
  const inFlight = afterGrace(stop.signal, 150)!;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(inFlight.aborted, false, 'nothing happens before the stop');
  const reason = new InterruptedError('SIGTERM');
  const t0 = Date.now();
  stop.abort(reason);
  assert.equal(inFlight.aborted, false, 'work in flight may go on for the grace period');
  // the grace timer does not hold the process open on its own (unref): keep the loop alive while waiting
  const keep = setTimeout(() => undefined, 5000);
  await new Promise<void>((r) => inFlight.addEventListener('abort', () => r(), { once: true }));
  clearTimeout(keep);
  assert.ok(Date.now() - t0 >= 140, `aborted after the grace period (${Date.now() - t0} ms)`);
  assert.equal(inFlight.reason, reason);
  assert.equal(isInterrupt(inFlight), true);
  assert.equal(afterGrace(undefined), undefined);
});

test('an interrupt is never retryable, and a client signal aborts a request hanging on the server at once', async () => {
  assert.equal(isRetryableError(new InterruptedError()), false);
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = new AbortController();
  const http = new HttpClient(
    { ...endpointFromUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), timeoutMs: 30_000, retries: 5 },
    { signal: stop.signal },
  );
  try {
    const t0 = Date.now();
    setTimeout(() => stop.abort(new InterruptedError()), 100);
    await assert.rejects(http.request({ path: '/slow' }), (e: unknown) => e instanceof InterruptedError);
    assert.ok(Date.now() - t0 < 2000, `aborted promptly (${Date.now() - t0} ms), not retried`);
    await assert.rejects(
      http.request({ path: '/after' }),
      (e: unknown) => e instanceof InterruptedError,
      'no request starts once stopped',
    );
  } finally {
    await http.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('the resume command reads back through a shell word for word, with --state added when absent', () => {
  const argv = [
    'backfill',
    'metrics',
    '--match',
    '{__name__=~"a|b.+"}',
    '--source-url',
    'http://x:9090',
    '--note',
    "it's $HOME `x`",
  ];
  const line = commandLine({ '--state': '/tmp/a b/state.db' }, argv);
  assert.ok(line.startsWith('stackshift backfill metrics '));
  const words = JSON.parse(
    execFileSync(
      'sh',
      ['-c', `node -e 'console.log(JSON.stringify(process.argv.slice(1)))' ${line.slice('stackshift '.length)}`],
      { encoding: 'utf8' },
    ),
  ) as string[];
  assert.deepEqual(words, [...argv, '--state', '/tmp/a b/state.db']);
  assert.equal(
    commandLine({ '--state': '/x.db' }, ['backfill', '--state', 'mine.db']),
    'stackshift backfill --state mine.db',
    'a given --state is kept',
  );
  assert.equal(
    commandLine({ '--state': '/x.db' }, ['backfill', '--state=mine.db']),
    'stackshift backfill --state=mine.db',
  );
  assert.equal(shellQuote('plain-word_1.db'), 'plain-word_1.db');
});

test('a run signal shared by many requests in flight raises no "possible leak" warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const server = createServer((_q, res) => {
    setTimeout(() => res.end('ok'), 200);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = new AbortController();
  const http = new HttpClient(endpointFromUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), {
    connections: 32,
    signal: afterGrace(stop.signal),
  });
  try {
    const answers = await Promise.all(Array.from({ length: 24 }, () => http.text({ path: '/' })));
    assert.equal(answers.length, 24);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.filter((w) => /MaxListeners/.test(w)),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    await http.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
