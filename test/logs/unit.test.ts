import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LokiClient, LokiPushError, type LokiEntry } from '../../src/clients/index.js';
import {
  classifyPushReject,
  countByStreamQuery,
  groupStreams,
  parseStreamSelector,
  readStream,
  streamKey,
} from '../../src/logs/index.js';
import { lokiUnderTest } from './helpers.js';

const nowNs = () => BigInt(Math.floor(Date.now() / 1000) - 600) * 1_000_000_000n;

test('paging: lines sharing a nanosecond across page boundaries are delivered once each, none lost', async (t) => {
  const loki = await lokiUnderTest(t);
  const c = new LokiClient(loki.source);
  t.after(() => c.close());
  const base = nowNs();
  const entries: LokiEntry[] = [];
  // 3 lines, then a burst of 4 at one ns, 2 lines, a burst of 3, 1 line: pages of 5 cut through both bursts
  const plan = [1, 1, 1, 4, 1, 1, 3, 1];
  plan.forEach((n, i) => {
    for (let k = 0; k < n; k++)
      entries.push({
        tsNs: base + BigInt(i) * 1000n,
        line: `l${i}-${k} ✓`,
        ...(k % 2 ? { metadata: { k: String(k) } } : {}),
      });
  });
  const labels = { job: 'pager' };
  await c.push([{ labels, entries }]);
  // a stream with more labels shares the exact selector: it must not leak in
  await c.push([{ labels: { job: 'pager', extra: 'x' }, entries: [{ tsNs: base + 5000n, line: 'other stream' }] }]);
  const got: LokiEntry[] = [];
  for await (const page of readStream(c, labels, base - 1n, base + 10_000n, 5)) got.push(...page);
  const key = (e: LokiEntry) => `${e.tsNs}|${e.line}|${JSON.stringify(e.metadata ?? {})}`;
  assert.deepEqual(got.map(key).sort(), entries.map(key).sort());
  // a burst as large as the page cannot be paged past: a clear error, not a loop
  await assert.rejects(async () => {
    for await (const _ of readStream(c, labels, base - 1n, base + 10_000n, 4)) void _;
  }, /4 or more lines selected by \{job="pager"\} carry the same timestamp/);
});

test(
  'push: protobuf+snappy and JSON store the same lines, metadata included; 429 with Retry-After is waited for',
  { timeout: 60_000 },
  async (t) => {
    const loki = await lokiUnderTest(t);
    const c = new LokiClient(loki.source);
    t.after(() => c.close());
    const base = nowNs();
    const entries: LokiEntry[] = [
      { tsNs: base + 1n, line: 'ünïcödé 🚀', metadata: { trace_id: 'abc', user: 'Zoë' } },
      { tsNs: base + 1n, line: 'same ns' },
      { tsNs: base + 999_999_999n, line: 'nanos' },
    ];
    await c.push([{ labels: { job: 'pb' }, entries }], 'protobuf');
    await c.push([{ labels: { job: 'js' }, entries }], 'json');
    for (const job of ['pb', 'js']) {
      const got: LokiEntry[] = [];
      for await (const p of readStream(c, { job }, base, base + 1_000_000_000n, 100)) got.push(...p);
      assert.deepEqual(
        got.map((e) => [e.tsNs, e.line, e.metadata]).sort(),
        entries.map((e) => [e.tsNs, e.line, e.metadata]).sort(),
        job,
      );
    }
    if (loki.double) {
      loki.double.throttle(2, 1);
      const t0 = Date.now();
      await c.push([{ labels: { job: 'slow' }, entries: [{ tsNs: base + 5n, line: 'after 429' }] }]);
      assert.ok(Date.now() - t0 >= 1900, 'waited Retry-After twice');
      assert.equal(loki.double.lineCount(loki.source.tenant!), 7);
    }
  },
);

test("the contract double is as strict as Loki: no tenant 401, numeric JSON timestamps 400, lines too far behind 400 with Loki's text", async (t) => {
  const loki = await lokiUnderTest(t);
  const c = new LokiClient(loki.source);
  t.after(() => c.close());
  const res = await fetch(`${loki.url}/loki/api/v1/labels`);
  assert.equal(res.status, 401);
  assert.equal((await res.text()).trim(), 'no org id');
  const bad = await fetch(`${loki.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-scope-orgid': loki.source.tenant! },
    body: JSON.stringify({ streams: [{ stream: { job: 'n' }, values: [[Number(nowNs() / 1_000_000n), 'x']] }] }),
  });
  assert.equal(bad.status, 400);
  const base = nowNs();
  await c.push([{ labels: { job: 'ooo' }, entries: [{ tsNs: base, line: 'newest' }] }]);
  const behind = base - 2n * 3_600_000_000_000n;
  const err = await c.push([{ labels: { job: 'ooo' }, entries: [{ tsNs: behind, line: 'two hours older' }] }]).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof LokiPushError);
  assert.equal(err.status, 400);
  assert.match(
    err.bodyExcerpt ?? '',
    /entry too far behind, entry timestamp is: \S+, oldest acceptable timestamp is: \S+/,
  );
  assert.equal(classifyPushReject(400, err.bodyExcerpt ?? '').id, 'out-of-order');
});

test('push refusals are classified with the setting that fixes each', () => {
  const cases: Array<[number, string, string, RegExp]> = [
    [
      400,
      'entry for stream \'{a="1"}\' has timestamp too old: 2026-01-01 00:00:00 +0000 UTC, oldest acceptable timestamp is: 2026-01-08 00:00:00 +0000 UTC',
      'too-old',
      /reject_old_samples/,
    ],
    [
      400,
      "entry with timestamp 2026-01-01 00:00:00 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-01T01:00:00Z',",
      'out-of-order',
      /max_chunk_age/,
    ],
    [
      400,
      "Max entry size '262144' bytes exceeded for stream '{a=\"1\"}' while adding an entry with length '300000' bytes",
      'line-too-long',
      /max_line_size/,
    ],
    [
      429,
      "Ingestion rate limit exceeded for user t (limit: 4194304 bytes/sec) while attempting to ingest '10' lines totaling '100' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
      'rate-limit',
      /ingestion_rate_mb/,
    ],
    [
      429,
      'Maximum active stream limit exceeded when trying to create stream {a="1"}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: \'t\'',
      'stream-limit',
      /max_global_streams_per_user/,
    ],
    [401, 'no org id', 'no-tenant', /--target-tenant/],
  ];
  for (const [status, body, id, advice] of cases) {
    const r = classifyPushReject(status, body);
    assert.equal(r.id, id, body);
    assert.match(r.advice, advice);
  }
});

test('LogQL is built from matchers and checked by the grammar; stream groups are disjoint and within the limit', () => {
  const sel = parseStreamSelector('{namespace=~"prod|staging", app!="x"}');
  assert.deepEqual(sel, [
    { name: 'namespace', op: '=~', value: 'prod|staging' },
    { name: 'app', op: '!=', value: 'x' },
  ]);
  assert.equal(
    countByStreamQuery(sel, ['pod', 'app'], 3_600_000),
    'sum by (app, pod) (count_over_time({namespace=~"prod|staging", app!="x"}[1h]))',
  );
  assert.throws(() => countByStreamQuery(sel, ['bad-name'], 60_000), /cannot be grouped on/);
  const streams = Array.from({ length: 50 }, (_, i) => ({
    job: 'j',
    pod: `p${i % 10}`,
    c: `c${i}`,
    ...(i % 3 ? { z: 'q.*' } : {}),
  }));
  const groups = groupStreams([{ name: 'job', op: '=', value: 'j' }], streams, 7);
  const seen = new Set<string>();
  for (const g of groups) {
    assert.ok(g.streams.length <= 7);
    // every stream of the group is selected by the group's matchers, and no stream is in two groups
    for (const s of g.streams) {
      const k = streamKey(s);
      assert.ok(!seen.has(k));
      seen.add(k);
      for (const m of g.matchers) {
        const v = (s as Record<string, string>)[m.name] ?? '';
        const ok = m.op === '=' ? v === m.value : m.op === '=~' ? new RegExp(`^(?:${m.value})$`).test(v) : true;
        assert.ok(ok, `${JSON.stringify(s)} selected by ${m.name}${m.op}${m.value}`);
      }
    }
    // and selects no stream of another group
    for (const other of streams.filter((s) => !g.streams.includes(s))) {
      const all = g.matchers.every((m) => {
        const v = (other as Record<string, string>)[m.name] ?? '';
        return m.op === '=' ? v === m.value : m.op === '=~' ? new RegExp(`^(?:${m.value})$`).test(v) : true;
      });
      assert.ok(!all, `${JSON.stringify(other)} leaks into a group`);
    }
  }
  assert.equal(seen.size, 50);
});
