import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseTime, tryParseDuration } from '../../src/timeutil/index.js';

test('durations in Prometheus syntax', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(tryParseDuration('5 minutes'), undefined);
  assert.throws(() => parseDuration('abc', '--start'), /invalid --start "abc"/);
});

test('times as RFC 3339, Unix seconds or duration back from now', () => {
  const now = Date.parse('2026-11-22T00:00:00Z');
  assert.equal(parseTime('2026-01-31T00:00:00Z', 'x', now), Date.parse('2026-01-31T00:00:00Z'));
  assert.equal(parseTime('1767225600', 'x', now), 1_767_225_600_000);
  assert.equal(parseTime('1767225600.5', 'x', now), 1_767_225_600_500);
  assert.equal(parseTime('30d', 'x', now), now - 30 * 86_400_000);
  assert.equal(parseTime('now', 'x', now), now);
  assert.throws(() => parseTime('yesterday', '--end', now), /invalid --end "yesterday"/);
});
