import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { JaegerClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import { labHas, serverVersion, startJaeger, type LabJaeger } from '../../src/lab/index.js';
import { encodeTraces, JaegerStore, spanCount, type Trace } from '../../src/traces/index.js';
import { OtlpTraceExporter } from '../../src/wire/index.js';
import { tempDir } from '../harness/index.js';

export const JAEGER_VERSION = serverVersion('jaeger');
/** Skip reason when the lab's Jaeger is not built yet (scripts/build-servers.sh jaeger-<version>). */
export const NO_JAEGER = labHas('jaeger', JAEGER_VERSION)
  ? false
  : `jaeger ${JAEGER_VERSION} is not built (bash scripts/build-servers.sh jaeger-${JAEGER_VERSION})`;

/** Starts lab Jaegers; `cleanup` receives their stop (t.after in a test, after() in a suite). */
export async function startJaegers(cleanup: (fn: () => Promise<void>) => void, names: string[]): Promise<LabJaeger[]> {
  const dir = tempDir(undefined, 'stackshift-jaeger-');
  const js = await Promise.all(names.map((name) => startJaeger({ name, dir: join(dir, name) })));
  cleanup(async () => {
    await Promise.all(js.map((j) => j.stop()));
    if (!process.env.STACKSHIFT_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  });
  return js;
}

/** Sends traces to an OTLP/HTTP receiver in batches of about `batchSpans` spans. */
export async function pushTraces(otlpUrl: string, traces: Iterable<Trace>, batchSpans = 4000): Promise<number> {
  const http = new HttpClient(endpointFromUrl(otlpUrl, 'tempo', { retries: 5 }), { connections: 4 });
  const ex = new OtlpTraceExporter(http);
  let batch: Trace[] = [];
  let n = 0;
  let sent = 0;
  const inflight: Array<Promise<unknown>> = [];
  const flush = async () => {
    const b = batch;
    batch = [];
    n = 0;
    inflight.push(
      ex.export(encodeTraces(b), spanCount(b)).then((r) => {
        if (r.outcome !== 'ok') throw new Error(`push refused: ${r.status} ${r.message}`);
        sent += b.length;
      }),
    );
    if (inflight.length >= 4) await inflight.shift();
  };
  try {
    for (const t of traces) {
      batch.push(t);
      n += t.spans.length;
      if (n >= batchSpans) await flush();
    }
    if (batch.length) await flush();
    await Promise.all(inflight);
    return sent;
  } finally {
    await http.close();
  }
}

/** Distinct traces Jaeger lists over the window (all services), through api_v3. */
export async function countTraces(url: string, startUs: bigint, endUs: bigint): Promise<number> {
  const store = await JaegerStore.open(new JaegerClient(endpointFromUrl(url, 'jaeger')), {
    raw: true,
    pageLimit: 2000,
  });
  try {
    const ids = new Set<string>();
    for await (const page of store.search(undefined, startUs, endUs))
      for (const t of page) ids.add(Buffer.from(t.traceId).toString('hex'));
    return ids.size;
  } finally {
    await store.close();
  }
}

/** Waits until Jaeger lists `n` traces in the window (its batch processor stores asynchronously). */
export async function waitForTraces(
  url: string,
  startUs: bigint,
  endUs: bigint,
  n: number,
  timeoutMs = 60_000,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  let got = 0;
  while (Date.now() < end) {
    got = await countTraces(url, startUs, endUs);
    if (got >= n) return got;
    await new Promise((r) => setTimeout(r, 500));
  }
  return got;
}
