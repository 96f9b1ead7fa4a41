import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyWithStaleMarkers, type HistorySeries } from '../../src/lab/index.js';
import type { MetricsReport } from '../../src/verify/index.js';
import { sortLabels } from '../../src/wire/index.js';
import { startServer } from '../harness/index.js';
import { cli, writeSeries } from './fixtures.js';
import { startGarbleProxy, type Garble } from './garble-proxy.js';

const HOUR = 3_600_000;
const SPEC = { series: 30, durationMs: 6 * HOUR, intervalMs: 30_000, seed: 41 };

/** Runs the CLI and kills it when it outlives `ms` (a hang), so the test reports instead of waiting forever. */
async function bounded(args: string[], ms: number) {
  const t0 = Date.now();
  const res = await Promise.race([
    cli(args),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref()),
  ]);
  return { res, ms: Date.now() - t0 };
}

const CASES: Array<[Garble, 'source' | 'target', number, string[]]> = [
  ['crc', 'source', 0, []],
  ['length', 'target', 0, []],
  ['noise', 'source', 1, []],
  ['crc', 'target', 1, []],
  // re-sealed with a valid checksum: only the protobuf decoder notices (was "internal error ... a bug")
  ['payload', 'source', 0, []],
  ['payload', 'target', 1, []],
  // sampled: several exact reads in flight when one fails (was an unhandled rejection: stack trace, exit 1)
  ['crc', 'target', 0, ['--sample', '50%']],
  ['payload', 'source', 0, ['--sample', '50%']],
];

for (const [how, side, frame, extra] of CASES) {
  test(`verify metrics${extra.length ? ' ' + extra.join(' ') : ''}: garbled remote-read frames from the ${side} (${how}, frame ${frame + 1}) end the run with a clear error, never a hang`, async (t) => {
    // one after the other: both use the same cached blocks
    const a = await startServer(t, { history: SPEC, name: 'source' });
    const b = await startServer(t, { history: SPEC, name: 'target' });
    const proxy = await startGarbleProxy(side === 'source' ? a.url : b.url, () => how, { frame });
    t.after(() => proxy.close());
    const end = Math.floor(Date.now() / HOUR) * 3600;
    const urls =
      side === 'source'
        ? ['--source-url', proxy.url, '--target-url', b.url]
        : ['--source-url', a.url, '--target-url', proxy.url];
    const { res, ms } = await bounded(
      [
        'verify',
        'metrics',
        ...urls,
        '--start',
        String(end - 6 * 3600),
        '--end',
        String(end),
        '--read-window',
        '2h',
        ...extra,
      ],
      90_000,
    );
    assert.ok(res, `verify metrics still running after ${ms} ms: a hang`);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.ok(proxy.garbled > 0, 'the proxy corrupted responses');
    assert.match(res.stderr, /^error: .*remote-read/m);
    assert.doesNotMatch(res.stderr, /internal error|this is a bug|at .*\.js:\d+/);
  });
}

test("verify metrics --concurrency 12: with more metrics in flight than the old fixed pool of 8, series re-read while their metric's streams are open are compared exactly", async (t) => {
  // 12 metric names; the target holds the same series with an HA-replica label that reverses their order,
  // and one changed value per series: every series is joined from a waiting digest and read again while
  // both streams of its metric are open. A pool of 8 connections per side, full of open streams, waits forever.
  const end = Date.UTC(2026, 0, 14);
  const source: HistorySeries[] = [];
  for (const prefix of ['aa', 'bb', 'cc', 'dd', 'ee', 'ff'])
    source.push(
      ...historyWithStaleMarkers({
        series: 6,
        durationMs: 3 * HOUR,
        intervalMs: 60_000,
        seed: 5,
        prefix,
        endMs: end,
        irregular: false,
      }),
    );
  const target = source.map((s, i) => {
    const values = s.values.slice();
    values[10] += 1;
    return {
      ...s,
      values,
      labels: sortLabels([...s.labels, { name: 'a_replica', value: `r${String(999 - i).padStart(4, '0')}` }]),
    };
  });
  const a = await startServer(t, { receiver: true, name: 'source' });
  const b = await startServer(t, { receiver: true, name: 'target' });
  await Promise.all([writeSeries(a, source), writeSeries(b, target)]);
  const { res, ms } = await bounded(
    [
      'verify',
      'metrics',
      '--source-url',
      a.url,
      '--target-url',
      b.url,
      '--start',
      String((end - 3 * HOUR) / 1000),
      '--end',
      String(end / 1000),
      '--drop-label',
      'a_replica',
      '--concurrency',
      '12',
      '--recheck',
      '0',
      '--output',
      'json',
    ],
    120_000,
  );
  assert.ok(res, `verify metrics still running after ${ms} ms: a hang`);
  assert.equal(res.code, 1, res.stderr);
  const r = JSON.parse(res.stdout) as MetricsReport;
  const samples = source.reduce((n, s) => n + s.timestamps.length, 0);
  assert.equal(r.samples!.expected, samples);
  assert.equal(r.samples!.mismatched, source.length, 'one changed value per series');
  assert.equal(r.samples!.matched, samples - source.length);
  assert.ok(
    r.samples!.refetches >= 12,
    `a series of every metric re-read while its streams were open: ${r.samples!.refetches}`,
  );
});
