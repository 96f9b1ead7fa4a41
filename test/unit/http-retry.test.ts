import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HttpError,
  isRetryableError,
  isRetryableStatus,
  nextWait,
  withRetries,
  DEFAULT_RETRY,
} from '../../src/http/index.js';
import { StackshiftError, UsageError } from '../../src/errors/index.js';

test('isRetryableStatus: 429 and 5xx are, known append errors and other 4xx are not', () => {
  const cases: Array<[number, string | undefined, boolean]> = [
    [429, undefined, true],
    [500, 'internal error', true],
    [502, undefined, true],
    [503, 'busy', true],
    [500, 'too old sample', false],
    [500, 'out of bounds', false],
    [500, 'write to WAL: out of order sample', false],
    [500, 'duplicate sample for timestamp', false],
    [501, undefined, false],
    [400, undefined, false],
    [404, undefined, false],
    [200, undefined, false],
  ];
  for (const [status, body, want] of cases)
    assert.equal(isRetryableStatus(status, body), want, `${status} ${body ?? ''}`);
});

test('isRetryableError: network faults, retryable statuses and cut-off streams are; refusals and bugs are not', () => {
  const cases: Array<[unknown, boolean]> = [
    [new HttpError('connect', 'http://x', 'refused'), true],
    [new HttpError('timeout', 'http://x', 'slow'), true],
    [new HttpError('tls', 'http://x', 'bad cert'), false],
    [new HttpError('dns', 'http://x', 'no host'), false],
    [new HttpError('status', 'http://x', '503', { status: 503 }), true],
    [new HttpError('status', 'http://x', '500', { status: 500, body: 'too old sample' }), false],
    [new HttpError('status', 'http://x', '400', { status: 400 }), false],
    [new StackshiftError('wire', 'truncated frame'), true],
    [new UsageError('bad flag'), false],
    [Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), true],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    [new TypeError('x is not a function'), false],
  ];
  for (const [err, want] of cases) assert.equal(isRetryableError(err), want, String(err));
});

test('nextWait: stops when attempts are spent, when Retry-After is too long, and when the wait would pass the deadline', () => {
  const p = { baseMs: 100, maxMs: 1000, maxRetryAfterMs: 5000 };
  const now = 1_000_000;
  const half = () => 0.5;
  assert.deepEqual(nextWait({ attempt: 1, attempts: 3, policy: p, now, random: half }), { waitMs: 75 });
  assert.deepEqual(nextWait({ attempt: 2, attempts: 3, policy: p, now, random: half }), { waitMs: 150 });
  assert.equal((nextWait({ attempt: 3, attempts: 3, policy: p, now }) as { stop: string }).stop, 'attempts');
  assert.deepEqual(nextWait({ attempt: 1, attempts: 3, policy: p, now, retryAfterMs: 2000 }), { waitMs: 2000 });
  assert.equal(
    (nextWait({ attempt: 1, attempts: 3, policy: p, now, retryAfterMs: 6000 }) as { stop: string }).stop,
    'retry-after',
  );
  assert.equal(
    (
      nextWait({ attempt: 1, attempts: 3, policy: p, now, retryAfterMs: 2000, deadlineAt: now + 1500 }) as {
        stop: string;
      }
    ).stop,
    'deadline',
  );
  assert.deepEqual(nextWait({ attempt: 1, attempts: 3, policy: p, now, random: half, deadlineAt: now + 1500 }), {
    waitMs: 75,
  });
});

test('withRetries: retries what is retryable, gives up at the deadline, never retries a refusal', async () => {
  let calls = 0;
  const seen: number[] = [];
  const v = await withRetries(
    async () => {
      if (++calls < 3) throw new HttpError('connect', 'http://x', 'refused');
      return 'ok';
    },
    { attempts: 5, policy: { baseMs: 1, maxMs: 2, maxRetryAfterMs: 10 }, onRetry: (_e, a) => seen.push(a) },
  );
  assert.equal(v, 'ok');
  assert.deepEqual(seen, [1, 2]);

  calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        throw new HttpError('status', 'http://x', '400', { status: 400 });
      },
      { attempts: 5 },
    ),
    /400/,
  );
  assert.equal(calls, 1);

  calls = 0;
  const t0 = Date.now();
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        throw new HttpError('timeout', 'http://x', 'slow');
      },
      { attempts: 100, policy: { ...DEFAULT_RETRY, baseMs: 100, maxMs: 100 }, deadlineAt: Date.now() + 400 },
    ),
    /slow/,
  );
  assert.ok(calls >= 2 && calls <= 9, `${calls} calls (waits of 50-100 ms within 400 ms)`);
  assert.ok(Date.now() - t0 < 600);
});

test('withRetries: an abort ends the wait at once', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('interrupted')), 50);
  const t0 = Date.now();
  await assert.rejects(
    withRetries(
      async () => {
        throw new HttpError('connect', 'http://x', 'refused');
      },
      { attempts: 3, policy: { baseMs: 10_000, maxMs: 10_000, maxRetryAfterMs: 10 }, signal: ac.signal },
    ),
    /interrupted/,
  );
  assert.ok(Date.now() - t0 < 2_000);
});
