import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TempoClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient, HttpError } from '../../src/http/index.js';
import {
  compareTraces,
  encodeTraces,
  idHex,
  syntheticTraces,
  TempoStore,
  tracesFromOtlpJson,
  type Trace,
} from '../../src/traces/index.js';
import { OtlpTraceExporter } from '../../src/wire/index.js';
import { TempoDouble } from '../doubles/tempo-double.js';

/**
 * Tempo's API contract as stackshift uses it. Runs against the double, or a real Tempo when
 * STACKSHIFT_TEST_TEMPO_URL (query, :3200) and STACKSHIFT_TEST_TEMPO_OTLP_URL (distributor, :4318) are set.
 * Fault injection (429) exists only in the double and is skipped against a real Tempo.
 */
const REAL = process.env.STACKSHIFT_TEST_TEMPO_URL;
const REAL_OTLP = process.env.STACKSHIFT_TEST_TEMPO_OTLP_URL;

async function tempo(
  t: TestContext,
  opts: ConstructorParameters<typeof TempoDouble>[0] = {},
): Promise<{ url: string; otlpUrl: string; double?: TempoDouble }> {
  if (REAL) return { url: REAL, otlpUrl: REAL_OTLP ?? REAL.replace(/:\d+$/, ':4318') };
  const d = await new TempoDouble(opts).start();
  t.after(() => d.stop());
  return { url: d.url, otlpUrl: d.otlpUrl, double: d };
}

async function push(otlpUrl: string, traces: Trace[], tenant?: string, retries = 3) {
  const http = new HttpClient(endpointFromUrl(otlpUrl, 'tempo', { tenant, retries }), {
    retry: { baseMs: 10, maxMs: 50 },
  });
  try {
    return await new OtlpTraceExporter(http).export(
      encodeTraces(traces),
      traces.reduce((a, x) => a + x.spans.length, 0),
    );
  } finally {
    await http.close();
  }
}

const now = Date.now();
const RECENT = { traces: 12, seed: Math.floor(now / 1000) % 100000, startMs: now - 90_000, endMs: now + 30_000 };

async function poll<T>(fn: () => Promise<T | undefined>, ms = REAL ? 60_000 : 2000): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('Tempo: pushed traces come back by ID through /api/traces and /api/v2/traces, base64 IDs and enum names decoded, equal span by span', async (t) => {
  const { url, otlpUrl } = await tempo(t);
  const traces = [...syntheticTraces(RECENT)];
  const r = await push(otlpUrl, traces);
  assert.equal(r.outcome, 'ok');
  const client = new TempoClient(endpointFromUrl(url, 'tempo'));
  t.after(() => client.close());
  for (const v2 of [false, true]) {
    for (const tr of traces) {
      const raw = await poll(() => client.trace(idHex(tr.traceId), { v2 }));
      assert.ok(raw, `trace ${idHex(tr.traceId)} found (v2=${v2})`);
      const text = JSON.stringify(raw);
      assert.ok(text.includes(Buffer.from(tr.traceId).toString('base64')), 'IDs are base64 in Tempo JSON');
      assert.ok(text.includes('SPAN_KIND_'), 'kinds are enum names');
      const got = tracesFromOtlpJson(raw);
      const c = compareTraces(tr, got[0]);
      assert.equal(c.status, 'complete', JSON.stringify(c.differentSpans.slice(0, 2)));
      assert.equal(c.matchedSpans, tr.spans.length);
    }
  }
});

test('Tempo: an unknown trace ID is a 404 (undefined), not an error', async (t) => {
  const { url } = await tempo(t);
  const client = new TempoClient(endpointFromUrl(url, 'tempo'));
  t.after(() => client.close());
  assert.equal(await client.trace('0123456789abcdef0123456789abcdef'), undefined);
  const store = await TempoStore.open(client, { pageLimit: 20 });
  assert.equal(await store.get(Uint8Array.from(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'))), undefined);
});

test('Tempo search: trimmed hex IDs for live traces; a copied historical trace is found by ID but not by its historical window', async (t) => {
  const { url, otlpUrl } = await tempo(t);
  const live = [...syntheticTraces({ ...RECENT, seed: RECENT.seed + 1, traces: 6 })];
  const oldStart = now - 30 * 86_400_000;
  const historical = [
    ...syntheticTraces({ traces: 3, seed: RECENT.seed + 2, startMs: oldStart, endMs: oldStart + 3_600_000 }),
  ];
  assert.equal((await push(otlpUrl, [...live, ...historical])).outcome, 'ok');
  const client = new TempoClient(endpointFromUrl(url, 'tempo'));
  t.after(() => client.close());
  const liveIds = new Set(live.map((x) => idHex(x.traceId)));
  const found = await poll(async () => {
    const hits = await client.search({ q: '{}', limit: 1000 });
    const ids = new Set(hits.map((h) => h.traceID.padStart(32, '0')));
    return [...liveIds].every((i) => ids.has(i)) ? hits : undefined;
  });
  assert.ok(found, 'live traces are searchable without start/end');
  // a trace whose ID starts with zeros (every third synthetic one) is listed trimmed
  const zeroHigh = live.find((x) => x.traceId[0] === 0)!;
  assert.ok(
    found!.some((h) => h.traceID === idHex(zeroHigh.traceId).replace(/^0+/, '')),
    'search IDs are hex with leading zeros trimmed',
  );
  const hist = historical[0];
  const windowHits = await client.search({
    q: '{}',
    startS: Math.floor(oldStart / 1000),
    endS: Math.floor(oldStart / 1000) + 7200,
    limit: 1000,
  });
  assert.equal(
    windowHits.filter((h) => h.traceID.padStart(32, '0') === idHex(hist.traceId)).length,
    0,
    'not found by a historical search',
  );
  const byId = await poll(() => client.trace(idHex(hist.traceId)));
  assert.ok(byId, 'found by ID without start/end');
  assert.equal(compareTraces(hist, tracesFromOtlpJson(byId)[0]).status, 'complete');
  await assert.rejects(
    client.search({ q: '{}', startS: 0, endS: 200 * 3600 }),
    (e: HttpError) => e.status === 400 && /exceeds 168h/.test(e.message),
  );
});

test(
  'Tempo distributor: 429 with Retry-After is retried and honoured (OTLP spec); other 4xx are final',
  { skip: REAL ? 'fault injection exists only in the double' : false },
  async (t) => {
    const { otlpUrl, double } = await tempo(t);
    double!.throttle(2, 1);
    const t0 = Date.now();
    const r = await push(otlpUrl, [...syntheticTraces({ ...RECENT, traces: 2 })]);
    assert.equal(r.outcome, 'ok');
    assert.equal(double!.throttled, 2);
    assert.ok(Date.now() - t0 >= 1900, 'waited the two Retry-After seconds');
    double!.throttle(5, 1);
    await assert.rejects(
      push(otlpUrl, [...syntheticTraces({ ...RECENT, traces: 1 })], undefined, 1),
      (e: HttpError) => e.status === 429,
    );
    // a body that is not protobuf: 400, reported as rejected, not retried
    double!.throttle(0);
    const http = new HttpClient(endpointFromUrl(otlpUrl, 'tempo', { retries: 5 }));
    t.after(() => http.close());
    const before = double!.pushes;
    const bad = await new OtlpTraceExporter(http, { gzip: false }).export(Uint8Array.from([0xff, 0xff, 0xff]), 1);
    assert.equal(bad.outcome, 'rejected');
    assert.equal(http.stats.requests, 1, 'a 400 is sent once');
    assert.equal(double!.pushes, before);
  },
);

test('Tempo multi-tenancy: X-Scope-OrgID is sent on push and query; without it Tempo answers 401', async (t) => {
  const { url, otlpUrl } = await tempo(t, { multitenancy: true });
  const traces = [...syntheticTraces({ ...RECENT, seed: RECENT.seed + 3, traces: 2 })];
  if (!REAL) await assert.rejects(push(otlpUrl, traces), (e: HttpError) => e.status === 401);
  assert.equal((await push(otlpUrl, traces, 'team-a')).outcome, 'ok');
  const a = new TempoClient(endpointFromUrl(url, 'tempo', { tenant: 'team-a' }));
  const b = new TempoClient(endpointFromUrl(url, 'tempo', { tenant: 'team-b' }));
  t.after(async () => {
    await a.close();
    await b.close();
  });
  assert.ok(await poll(() => a.trace(idHex(traces[0].traceId))), 'found in its tenant');
  assert.equal(await b.trace(idHex(traces[0].traceId)), undefined, 'not in another tenant');
});

test('TempoStore.open refuses a server that is not Tempo (no "echo" at /api/echo)', async (t) => {
  const s = createServer((_q, r) => r.writeHead(404).end('not here'));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(() => s.close());
  const client = new TempoClient(endpointFromUrl(`http://127.0.0.1:${(s.address() as AddressInfo).port}`, 'tempo'));
  t.after(() => client.close());
  await assert.rejects(
    TempoStore.open(client, { pageLimit: 20 }),
    (e: HttpError) => e.kind === 'protocol' && /is not Tempo/.test(e.message),
  );
});
