import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../src/promql/index.js';
import { UsageError } from '../../src/errors/index.js';

test('parseSelector turns PromQL series selectors into matchers', () => {
  assert.deepEqual(parseSelector('{job=~"api|db"}'), [{ type: 'RE', name: 'job', value: 'api|db' }]);
  assert.deepEqual(parseSelector('up{job="x", env!="dev", path!~`/health.*`}'), [
    { type: 'EQ', name: '__name__', value: 'up' },
    { type: 'EQ', name: 'job', value: 'x' },
    { type: 'NEQ', name: 'env', value: 'dev' },
    { type: 'NRE', name: 'path', value: '/health.*' },
  ]);
  assert.deepEqual(parseSelector(`{"service.name"='a\\'b\\n'}`), [
    { type: 'EQ', name: 'service.name', value: "a'b\n" },
  ]);
  assert.deepEqual(parseSelector('node_cpu_seconds_total'), [
    { type: 'EQ', name: '__name__', value: 'node_cpu_seconds_total' },
  ]);
});

test('parseSelector refuses what is not a plain, non-empty selector, with a clear message', () => {
  for (const [text, msg] of [
    ['', /empty --match/],
    ['{job=}', /syntax error at column 6/],
    ['rate(x[5m])', /got a function call/],
    ['x[5m]', /got a range selector/],
    ['{job=""}', /matches every series/],
    ['{job=~".*"}', /matches every series/],
    ['{job=~"(unclosed"}', /not a valid regular expression/],
  ] as const) {
    assert.throws(
      () => parseSelector(text),
      (e: unknown) => e instanceof UsageError && msg.test(e.message),
      text,
    );
  }
});
