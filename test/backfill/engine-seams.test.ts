// The engine through its seams (SeriesSource, BatchSink): a fake source serves series from memory, a fake sink
// decodes every request and answers like a receiver would. No server, a state file in a temp dir: milliseconds
// per test. Real servers prove the same paths end to end in exact-copy, refusals and readback.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BackfillEngine,
  BackfillState,
  type BatchSink,
  type EngineOptions,
  type SeriesSource,
} from '../../src/backfill/index.js';
import { classifyReject, type WriteResult } from '../../src/clients/index.js';
import { StackshiftError } from '../../src/errors/index.js';
import { labelsKey, protoType, snappyDecode, type Label, type Matcher } from '../../src/wire/index.js';
import { tempDir } from '../harness/index.js';

const MIN = 60_000;

interface FakeSeries {
  labels: Label[];
  ts: number[];
}
/** One decoded request: per series its key and timestamps. */
type Request = Array<{ key: string; ts: number[] }>;

function matches(labels: Label[], m: Matcher): boolean {
  const v = labels.find((l) => l.name === m.name)?.value ?? '';
  const re = () => new RegExp(`^(?:${m.value})$`).test(v);
  return m.type === 'EQ' ? v === m.value : m.type === 'NEQ' ? v !== m.value : m.type === 'RE' ? re() : !re();
}

/** Serves `series` like remote read: the samples in the query's inclusive bounds, of the series its matchers select. */
function fakeSource(series: FakeSeries[]): SeriesSource & { queries: Array<[number, number]> } {
  const queries: Array<[number, number]> = [];
  return {
    queries,
    async *streamSeries(q) {
      queries.push([q.startMs, q.endMs]);
      for (const s of series) {
        if (!q.matchers.every((m) => matches(s.labels, m))) continue;
        const ts = s.ts.filter((t) => t >= q.startMs && t <= q.endMs);
        yield { labels: s.labels, timestamps: Float64Array.from(ts), values: Float64Array.from(ts, (t) => t / 1000) };
      }
    },
  };
}

const WR = protoType('WriteRequest');
function decode(body: Uint8Array): Request {
  const m = WR.toObject(WR.decode(snappyDecode(body)), { longs: Number, defaults: true }) as {
    timeseries: Array<{ labels: Label[]; samples: Array<{ timestamp: number }> }>;
  };
  return m.timeseries.map((s) => ({
    key: labelsKey(s.labels.map((l) => ({ name: l.name, value: l.value }))),
    ts: s.samples.map((x) => x.timestamp),
  }));
}

/**
 * A receiver: `answer` decides per request; what an 'ok' request holds is stored. `kept: 'rest'` answers store the
 * samples `refuse` does not pick (Mimir ingests the valid part of a refused request); 'none' store nothing.
 */
function fakeSink(
  answer: (req: Request, n: number) => WriteResult,
  refuse: (key: string, t: number) => boolean = () => true,
): BatchSink & { requests: Request[]; stored: Map<string, number[]> } {
  const requests: Request[] = [];
  const stored = new Map<string, number[]>();
  const store = (key: string, t: number) => stored.set(key, [...(stored.get(key) ?? []), t]);
  return {
    version: '1.0',
    requests,
    stored,
    async send(body) {
      const req = decode(body);
      requests.push(req);
      const r = answer(
        req,
        req.reduce((a, s) => a + s.ts.length, 0),
      );
      for (const s of req)
        for (const t of s.ts) if (r.outcome === 'ok' || (r.kept === 'rest' && !refuse(s.key, t))) store(s.key, t);
      return r;
    },
  };
}

const ok = (): WriteResult => ({ outcome: 'ok', status: 204 });
const refused = (status: number, body: string, kept: WriteResult['kept']): WriteResult => ({
  outcome: 'rejected',
  status,
  reject: classifyReject(status, body),
  message: body,
  kept,
});

/** `count` series of metric `name`, one sample every `stepMs` in [0, endMs). */
function history(name: string, count: number, endMs: number, stepMs: number): FakeSeries[] {
  return Array.from({ length: count }, (_, i) => ({
    labels: [
      { name: '__name__', value: name },
      { name: 'i', value: String(i) },
    ],
    ts: Array.from({ length: Math.ceil(endMs / stepMs) }, (_, k) => k * stepMs),
  }));
}

/** A planned state (one name group per entry of `groups`) and an engine on it; one reader, one request in flight. */
function engine(
  t: TestContext,
  groups: string[][],
  o: { endMs: number; windowMs: number } & Partial<EngineOptions> & Pick<EngineOptions, 'reader' | 'writer'>,
): { state: BackfillState; engine: BackfillEngine } {
  const state = new BackfillState(join(tempDir(t), 'state.db'));
  t.after(() => state.close());
  state.createPlan(
    'f'.repeat(32),
    { describe: 'fake -> fake', startMs: 0, endMs: o.endMs },
    groups.map((names) => ({ selector: 0, names })),
    0,
    o.windowMs,
  );
  const e = new BackfillEngine({
    state,
    selectors: [[]],
    startMs: 0,
    responseType: 'streamed',
    externalLabels: { labels: [], keep: true },
    readConcurrency: 1,
    writeConcurrency: 1,
    batchSamples: 20_000,
    minWindowMs: MIN,
    maxWindowMs: 7 * 86_400_000,
    unitSamples: 2_000_000,
    ...o,
  });
  return { state, engine: e };
}

function storedExactlyOnce(
  stored: Map<string, number[]>,
  want: FakeSeries[],
  except: (key: string, t: number) => boolean = () => false,
): void {
  for (const s of want) {
    const key = labelsKey(s.labels);
    assert.deepEqual(
      [...(stored.get(key) ?? [])].sort((a, b) => a - b),
      s.ts.filter((t) => !except(key, t)),
      `samples of ${key} in the target`,
    );
  }
}

const sizes = (reqs: Request[]) => reqs.map((r) => r.reduce((a, s) => a + s.ts.length, 0));

test('a request refused as too large (413) is halved until each part fits, even where the receiver keeps the rest; every sample arrives once', async (t) => {
  const series = history('m', 3, 100_000, 1000); // 300 samples, one request of them
  const sink = fakeSink((_, n) => (n > 64 ? refused(413, 'request body too large', 'rest') : ok()));
  const { state, engine: e } = engine(t, [['m']], {
    endMs: 100_000,
    windowMs: 100_000,
    batchSamples: 1000,
    reader: fakeSource(series),
    writer: sink,
  });
  const res = await e.run();
  storedExactlyOnce(sink.stored, series);
  // depth first: 300 -> 150 -> 75 -> 37 + 38, ...; only the parts of at most 64 are accepted
  assert.deepEqual(sizes(sink.requests), [300, 150, 75, 37, 38, 75, 37, 38, 150, 75, 37, 38, 75, 37, 38]);
  const tot = state.totals();
  assert.deepEqual(tot.rejects, [], 'a split request is no refusal');
  assert.equal(tot.samples, 300);
  assert.equal(tot.requests, 15);
  assert.equal(res.units, 1);
});

test('one bad sample in a request a Prometheus receiver rolls back whole: bisected to that sample, the rest stored, one sample counted refused', async (t) => {
  const series = history('m', 3, 100_000, 1000);
  const bad = (key: string, ts: number) => key.includes('i="1"') && ts === 50_000;
  const sink = fakeSink((req) =>
    req.some((s) => s.ts.some((x) => bad(s.key, x))) ? refused(400, 'out of bounds', 'none') : ok(),
  );
  const { state, engine: e } = engine(t, [['m']], {
    endMs: 100_000,
    windowMs: 100_000,
    batchSamples: 1000,
    reader: fakeSource(series),
    writer: sink,
  });
  await e.run();
  storedExactlyOnce(sink.stored, series, bad);
  const tot = state.totals();
  assert.deepEqual(
    tot.rejects.map((r) => [r.class, r.requests, r.samples]),
    [['out-of-bounds', 1, 1]],
  );
  // each request holding the bad sample is smaller than the one before, down to the sample alone
  const hit = sizes(sink.requests.filter((r) => r.some((x) => x.ts.some((ts) => bad(x.key, ts)))));
  assert.ok(
    hit.every((n, i) => i === 0 || n < hit[i - 1]),
    `bisected: ${hit.join(' ')}`,
  );
  assert.deepEqual([hit[0], hit.at(-1)], [300, 1]);
});

test('without a split budget a refused request is counted whole and not sent again', async (t) => {
  const series = history('m', 3, 100_000, 1000);
  const sink = fakeSink(() => refused(400, 'out of bounds', 'none'));
  const { state, engine: e } = engine(t, [['m']], {
    endMs: 100_000,
    windowMs: 100_000,
    batchSamples: 1000,
    splitBudget: 0,
    reader: fakeSource(series),
    writer: sink,
  });
  await e.run();
  assert.deepEqual(sizes(sink.requests), [300]);
  assert.deepEqual(
    state.totals().rejects.map((r) => [r.class, r.requests, r.samples]),
    [['out-of-bounds', 1, 300]],
  );
});

test('a fatal refusal (401) stops the run: no further batch is read or unit claimed, the error names status and fix, the unit stays to resume', async (t) => {
  const series = [...history('a', 2, 3_600_000, 15_000), ...history('b', 2, 3_600_000, 15_000)];
  const sink = fakeSink(() => refused(401, 'unauthorized', 'none'));
  const { state, engine: e } = engine(t, [['a'], ['b']], {
    endMs: 3_600_000,
    windowMs: 10 * MIN,
    batchSamples: 50,
    reader: fakeSource(series),
    writer: sink,
  });
  await assert.rejects(e.run(), (err: unknown) => {
    assert.ok(err instanceof StackshiftError, String(err));
    assert.match(err.message, /refused a remote-write request \(HTTP 401, http-401\): unauthorized/);
    assert.match(err.hint ?? '', /credentials/);
    return true;
  });
  // a unit is 80 samples (2 series x 40): the rest of it, already waiting for the one write slot, goes out too;
  // nothing is read or claimed after it
  assert.deepEqual(sizes(sink.requests), [50, 30]);
  const tot = state.totals();
  assert.equal(tot.units, 1, 'no second unit claimed');
  assert.equal(tot.unitsDone, 0);
  assert.deepEqual(tot.rejects, [], "a fatal refusal is not recorded as a unit's reject");
  assert.equal(state.runningUnits().length, 1, 'the unit stays running, to be redone on resume');
});

test('window adaptation: sparse units double the window up to maxWindowMs, the tail leaves it; persisted', async (t) => {
  const series = history('m', 1, 120 * MIN, MIN); // 10 samples per 10 min
  const source = fakeSource(series);
  const { state, engine: e } = engine(t, [['m']], {
    endMs: 120 * MIN,
    windowMs: 10 * MIN,
    maxWindowMs: 40 * MIN,
    unitSamples: 1000,
    reader: source,
    writer: fakeSink(ok),
  });
  await e.run();
  assert.deepEqual(
    source.queries.map(([s, end]) => [s / MIN, (end + 1) / MIN]),
    [
      [0, 10],
      [10, 30],
      [30, 70],
      [70, 110],
      [110, 120],
    ],
  );
  assert.equal(state.groups()[0].window_ms, 40 * MIN);
});

test('window adaptation: dense units halve the window down to minWindowMs; persisted', async (t) => {
  const series = history('m', 1, 128 * MIN, 30_000); // 2 samples a minute against a unit size of 10
  const source = fakeSource(series);
  const { state, engine: e } = engine(t, [['m']], {
    endMs: 128 * MIN,
    windowMs: 64 * MIN,
    minWindowMs: 16 * MIN,
    unitSamples: 10,
    reader: source,
    writer: fakeSink(ok),
  });
  await e.run();
  assert.deepEqual(
    source.queries.map(([s, end]) => [s / MIN, (end + 1) / MIN]),
    [
      [0, 64],
      [64, 96],
      [96, 112],
      [112, 128],
    ],
  );
  assert.equal(state.groups()[0].window_ms, 16 * MIN);
});
