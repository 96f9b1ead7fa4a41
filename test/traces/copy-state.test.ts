import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import {
  CopyState,
  copyTraces,
  idHex,
  syntheticTraces,
  TempoStore,
  type Trace,
  type TraceStore,
} from '../../src/traces/index.js';
import { TempoClient } from '../../src/clients/index.js';
import { OtlpTraceExporter } from '../../src/wire/index.js';
import { TempoDouble } from '../doubles/tempo-double.js';
import { tempDir } from '../harness/index.js';

/**
 * The copy engine's bookkeeping, in milliseconds: an in-memory source (the TraceStore seam) and the Tempo
 * contract double as the receiver. The end-to-end proof on real Jaeger is jaeger-resume.test.ts.
 */
const HOUR = 3_600_000;
const SPEC = { traces: 60, seed: 3, startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 0, 1, 3), services: 3 };

class MemorySource implements TraceStore {
  readonly kind = 'jaeger' as const;
  readonly describe = 'memory';
  constructor(private readonly traces: Trace[]) {}
  async services(): Promise<string[]> {
    return ['synth-svc-0', 'synth-svc-1', 'synth-svc-2'];
  }
  async *search(service: string | undefined, a: bigint, b: bigint): AsyncGenerator<Trace[]> {
    const page = this.traces.filter((t) =>
      t.spans.some(
        (s) =>
          (service === undefined ||
            s.resource.attributes.some(
              (x) => x.key === 'service.name' && x.value.type === 'string' && x.value.value === service,
            )) &&
          s.startNs / 1000n >= a &&
          s.startNs / 1000n <= b,
      ),
    );
    if (page.length) yield page;
  }
  async get(id: Uint8Array): Promise<Trace | undefined> {
    return this.traces.find((t) => idHex(t.traceId) === idHex(id));
  }
  async close(): Promise<void> {}
}

/** An exporter that dies (like a killed process) on the n-th request, after or before the receiver got it. */
class DyingExporter extends OtlpTraceExporter {
  calls = 0;
  constructor(
    http: HttpClient,
    private readonly dieAt: number,
    private readonly afterSend: boolean,
  ) {
    super(http);
  }
  override async export(req: Uint8Array, spans: number, retries?: number) {
    if (spans > 0 && ++this.calls === this.dieAt) {
      if (this.afterSend) await super.export(req, spans, retries);
      throw new Error('simulated crash');
    }
    return super.export(req, spans, retries);
  }
}

async function setup(t: import('node:test').TestContext) {
  const tempo = await new TempoDouble().start();
  const http = new HttpClient(endpointFromUrl(tempo.otlpUrl, 'tempo', { retries: 0 }));
  const client = new TempoClient(endpointFromUrl(tempo.url, 'tempo'));
  t.after(async () => {
    await http.close();
    await client.close();
    await tempo.stop();
  });
  const traces = [...syntheticTraces(SPEC)];
  const base = {
    source: new MemorySource(traces),
    startUs: BigInt(SPEC.startMs) * 1000n,
    endUs: BigInt(SPEC.endMs) * 1000n,
    windowUs: BigInt(HOUR) * 1000n,
    batchSpans: 50,
    concurrency: 2,
    statePath: join(tempDir(t), 'copy.db'),
    sourceId: 'memory',
    targetId: tempo.otlpUrl,
  };
  return { tempo, http, readback: await TempoStore.open(client, { pageLimit: 100 }), traces, base };
}

function stored(tempo: TempoDouble, traces: Trace[]): number {
  return traces.filter(
    (t) =>
      tempo.traceCount() > 0 &&
      (tempo as unknown as { tenants: Map<string, Map<string, { spans: unknown[] }>> }).tenants
        .get('single-tenant')!
        .get(idHex(t.traceId))?.spans.length === t.spans.length,
  ).length;
}

test('copy: every trace once across services and windows; a second run with the same state sends nothing', async (t) => {
  const { tempo, http, traces, base } = await setup(t);
  const r1 = await copyTraces({ ...base, exporter: new OtlpTraceExporter(http) });
  assert.equal(r1.totals.traces, traces.length);
  assert.ok(r1.run.skippedDuplicates > 0, 'traces spanning services were found by several units and sent once');
  assert.equal(stored(tempo, traces), traces.length, 'each trace stored with exactly its spans (no span twice)');
  const pushes = tempo.pushes;
  const r2 = await copyTraces({ ...base, exporter: new OtlpTraceExporter(http) });
  assert.equal(r2.run.traces, 0);
  assert.equal(r2.plan.runs, 2);
  assert.equal(tempo.pushes, pushes + 0, 'no request when everything is done (the probe runs only on a fresh state)');
});

test('copy: a crash after the receiver stored a batch is settled by read-back, not re-sent', async (t) => {
  const { tempo, http, readback, traces, base } = await setup(t);
  await assert.rejects(
    copyTraces({ ...base, concurrency: 1, exporter: new DyingExporter(http, 3, true) }),
    /simulated crash/,
  );
  const db = new Database(base.statePath, { readonly: true });
  const sending = (
    db.prepare("SELECT COUNT(*) AS n FROM traces_copy_traces WHERE status = 'sending'").get() as { n: number }
  ).n;
  db.close();
  assert.ok(sending > 0, 'the batch on the wire is recorded as sending');
  const r = await copyTraces({ ...base, exporter: new OtlpTraceExporter(http), readback });
  assert.equal(r.run.settledInFlight, sending);
  assert.equal(r.run.resentInFlight, 0);
  assert.equal(r.totals.traces, traces.length);
  assert.equal(stored(tempo, traces), traces.length, 'no span stored twice');
});

test('copy: a crash before the batch arrived is re-sent on resume; without read-back the summary says so', async (t) => {
  const { tempo, http, readback, traces, base } = await setup(t);
  await assert.rejects(
    copyTraces({ ...base, concurrency: 1, exporter: new DyingExporter(http, 2, false) }),
    /simulated crash/,
  );
  const r = await copyTraces({ ...base, exporter: new OtlpTraceExporter(http), readback });
  assert.ok(r.run.resentInFlight > 0);
  assert.equal(r.run.settledInFlight, 0);
  assert.equal(stored(tempo, traces), traces.length);
  const db = new Database(base.statePath, { readonly: true });
  assert.deepEqual(db.prepare('SELECT status, COUNT(*) AS n FROM traces_copy_traces GROUP BY status').all(), [
    { status: 'done', n: traces.length },
  ]);
  const resent = (db.prepare('SELECT COUNT(*) AS n FROM traces_copy_traces WHERE sends = 2').get() as { n: number }).n;
  db.close();
  assert.equal(resent, r.run.resentInFlight);
});

test('copy: one writer per state file; a lock left by a dead process is taken over', async (t) => {
  const { http, base } = await setup(t);
  const holder = new CopyState(base.statePath);
  holder.lock();
  // another live process (our parent) holds it
  holder.db.prepare("UPDATE state_lease SET pid = ?, pid_start = '' WHERE module = 'traces copy'").run(process.ppid);
  await assert.rejects(
    copyTraces({ ...base, exporter: new OtlpTraceExporter(http) }),
    /is in use by another traces copy/,
  );
  holder.db.prepare("UPDATE state_lease SET pid = ?, pid_start = '' WHERE module = 'traces copy'").run(2 ** 22 + 12345);
  holder.db.close();
  const r = await copyTraces({ ...base, exporter: new OtlpTraceExporter(http) });
  assert.equal(r.totals.traces, SPEC.traces, "a dead owner's lock is taken over");
});

test('copy: a resumed state with another source or range is refused', async (t) => {
  const { http, base } = await setup(t);
  await copyTraces({ ...base, exporter: new OtlpTraceExporter(http) });
  await assert.rejects(
    copyTraces({ ...base, sourceId: 'other', exporter: new OtlpTraceExporter(http) }),
    /belongs to another copy/,
  );
  await assert.rejects(
    copyTraces({ ...base, endUs: base.endUs - 1000n, exporter: new OtlpTraceExporter(http) }),
    /was planned for/,
  );
});
