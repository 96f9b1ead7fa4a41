import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collectList,
  durationFlag,
  intFlag,
  pathPrefixFlag,
  percentFlag,
  rateFlag,
  timeFlag,
  timeRangeFlags,
  FUTURE_SKEW_MS,
} from '../../src/cli/parse.js';
import { requireEndpoint } from '../../src/cli/endpoint-options.js';
import { parseTime } from '../../src/timeutil/index.js';
import { UsageError } from '../../src/errors/index.js';

const now = Date.parse('2026-11-22T12:00:00Z');

/** Asserts a UsageError whose one-line message matches `msg` (and hint `hint`, when given). */
function refuses(fn: () => unknown, msg: RegExp, hint?: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
    assert.match(e.message, msg);
    assert.ok(!e.message.includes('\n'));
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  });
}

test('time flags refuse the future beyond a small skew, on every command that takes one', () => {
  assert.equal(timeFlag('end', 'now', { now }), now);
  assert.equal(timeFlag('end', String((now + 60_000) / 1000), { now }), now + 60_000, 'a minute of clock skew passes');
  refuses(
    () => timeFlag('start', '2100-01-01T00:00:00Z', { now }),
    /--start 2100-01-01T00:00:00\.000Z is in the future/,
    /up to now/,
  );
  refuses(() => timeFlag('end', String((now + FUTURE_SKEW_MS + 60_000) / 1000), { now }), /--end .* is in the future/);
});

test('a number that looks like milliseconds is refused where seconds are expected', () => {
  refuses(
    () => timeFlag('time', '99999999999999', { now }),
    /--time "99999999999999" looks like milliseconds, but Unix seconds are expected/,
    /divide by 1000/,
  );
  refuses(() => timeFlag('start', String(now), { now }), /looks like milliseconds.*2026-11-22T12:00:00\.000Z/);
  assert.equal(timeFlag('start', String(now / 1000), { now }), now);
});

test('a date or time without an offset is refused instead of being read as local time', () => {
  refuses(
    () => parseTime('2026-01-01T00:00', '--start', now),
    /--start "2026-01-01T00:00" has no UTC offset/,
    /2026-01-01T00:00:00Z or 2026-01-01T00:00:00\+02:00/,
  );
  refuses(() => parseTime('2026-01-01 10:30:00', '--start', now), /has no UTC offset/);
  refuses(() => parseTime('2026-01-01', '--start', now), /has no UTC offset/);
  assert.equal(parseTime('2026-01-01T00:00:00+02:00', '--start', now), Date.parse('2025-12-31T22:00:00Z'));
  assert.equal(parseTime('2026-01-01T00:00Z', '--start', now), Date.parse('2026-01-01T00:00:00Z'));
  refuses(() => parseTime('2026-02-31T00:00:00Z', '--start', now), /no such date/);
  refuses(() => parseTime('100000y', '--start', now), /before 1970/);
});

test('ranges are validated before anything is planned', () => {
  const r = timeRangeFlags('5d', 'now', { now });
  assert.deepEqual(r, { startMs: now - 5 * 86_400_000, endMs: now, relative: true });
  assert.equal(timeRangeFlags('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', { now }).relative, false);
  refuses(() => timeRangeFlags('1d', '99999999999999', { now }), /--end "99999999999999" looks like milliseconds/);
  refuses(() => timeRangeFlags('now', '1d', { now }), /--start \(.*\) must be before --end/);
});

test('durations: zero is refused unless allowed, minimums named', () => {
  assert.equal(durationFlag('timeout', '30s'), 30_000);
  refuses(() => durationFlag('source-timeout', '0s'), /--source-timeout must be above 0 \(got "0s"\)/, /disable/);
  assert.equal(durationFlag('recheck-delay', '0s', { min: 0 }), 0);
  refuses(() => durationFlag('window', '30s', { min: 60_000 }), /--window must be at least 1m/);
  refuses(() => durationFlag('range', '5 minutes'), /--range "5 minutes" is not a duration/);
});

test('integers, rates and percentages', () => {
  assert.equal(intFlag('concurrency', '8', 1, 64), 8);
  refuses(() => intFlag('concurrency', '0', 1, 64), /--concurrency must be an integer from 1 to 64 \(got "0"\)/);
  refuses(() => intFlag('retries', 'abc', 0, 100), /got "abc"/);
  refuses(() => intFlag('top', '1.5', 0), /integer/);
  assert.equal(rateFlag('write-rate', '200k'), 200_000);
  assert.equal(rateFlag('write-rate', '1.5M'), 1_500_000);
  assert.equal(rateFlag('write-rate', undefined), undefined);
  refuses(() => rateFlag('read-rate', '0'), /positive number of samples per second/);
  assert.equal(percentFlag('min-consistency', '99.9%'), 99.9);
  refuses(() => percentFlag('min-consistency', '101'), /from 0 to 100/);
});

test('list flags, path prefixes and required endpoints: one parser each for every command', () => {
  const list = (...vs: string[]) => vs.reduce<string[]>((acc, v) => collectList(v, acc), []);
  assert.deepEqual(list('a,b', ' c ', ',,d,'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(list(), []);

  assert.equal(pathPrefixFlag('prefix', undefined), undefined);
  assert.equal(pathPrefixFlag('prefix', ' /prometheus '), '/prometheus');
  assert.equal(pathPrefixFlag('prefix', ''), '');
  refuses(
    () => pathPrefixFlag('target-prefix', 'prometheus'),
    /^--target-prefix "prometheus" must start with \/$/,
    /--target-prefix \/prometheus/,
  );

  const loaded = { config: { endpoints: { old: { url: 'http://old:9090', type: 'mimir' as const } } } } as never;
  const need = {
    prefix: 'source',
    nameFlag: 'from',
    example: 'http://host:9090',
    defaultType: 'prometheus' as const,
    typeWhenByUrl: 'prometheus' as const,
  };
  refuses(
    () => requireEndpoint(loaded, {}, { ...need, name: 'nowhere' }),
    /^no source: endpoint "nowhere" is not in the config and --source-url is not given$/,
    /--source-url http:\/\/host:9090, or --from <endpoint name/,
  );
  // given by URL only: the type says what the URL is, not the default name
  assert.equal(
    requireEndpoint(loaded, { url: 'http://x:9090' }, { ...need, name: 'mimir', defaultType: 'mimir' }).type,
    'prometheus',
  );
  // from the config: its own type stays
  const fromConfig = requireEndpoint(loaded, {}, { ...need, name: 'old' });
  assert.equal(fromConfig.url, 'http://old:9090');
  assert.equal(fromConfig.type, 'mimir');
});
