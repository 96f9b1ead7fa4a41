/**
 * Traces, one run on real Jaeger (lab v1.76.0, in-memory storage) on loopback:
 *   read-only   list every trace of the window from the source (api_v3 search, raw) and convert it: the baseline
 *   copy        copyTraces: the same read, OTLP protobuf encode + gzip + POST to a second Jaeger, state in SQLite
 *   verify      verifyTraces: the same read, each trace fetched from the target by ID and compared span by span
 *   encoder     the hand-written OTLP encoder against protobufjs (fromObject + encode) on the same request
 * and the peak RSS of the CLI (child process) for `traces copy` and `traces verify` when the trace count grows 10x.
 * Bars (issue 15): figures as ratios to the read-only rate of the same run; peak RSS flat as the data grows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JaegerClient } from '../src/clients/index.js';
import { endpointFromUrl } from '../src/config/index.js';
import { HttpClient } from '../src/http/index.js';
import { startJaeger, type LabJaeger } from '../src/lab/index.js';
import {
  copyTraces,
  encodeTraces,
  JaegerStore,
  spanCount,
  syntheticTraces,
  toResourceSpans,
  verifyTraces,
  type Trace,
} from '../src/traces/index.js';
import { OtlpTraceExporter, otlpType } from '../src/wire/index.js';
import { fmtRate, timeIt } from './util.js';

const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;
const MAIN = { traces: 2000, seed: 5, startMs: base, endMs: base + 4 * HOUR, services: 4 };
const RSS_1X = { traces: 500, seed: 6, startMs: base + 10 * HOUR, endMs: base + 12 * HOUR, services: 4 };
const RSS_10X = { traces: 5000, seed: 7, startMs: base + 20 * HOUR, endMs: base + 30 * HOUR, services: 4 };
const CLI = resolve('dist/src/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'stackshift-bench-traces-'));
const log = (s: string) => process.stderr.write(s + '\n');
const us = (ms: number) => BigInt(ms) * 1000n;

async function push(j: LabJaeger, spec: typeof MAIN): Promise<number> {
  const http = new HttpClient(endpointFromUrl(j.otlpUrl, 'tempo'), { connections: 4 });
  const ex = new OtlpTraceExporter(http);
  let batch: Trace[] = [];
  let spans = 0;
  for (const t of syntheticTraces(spec)) {
    batch.push(t);
    if (spanCount(batch) >= 4000) {
      await ex.export(encodeTraces(batch), spanCount(batch));
      spans += spanCount(batch);
      batch = [];
    }
  }
  if (batch.length) {
    await ex.export(encodeTraces(batch), spanCount(batch));
    spans += spanCount(batch);
  }
  await http.close();
  return spans;
}

async function store(j: LabJaeger): Promise<JaegerStore> {
  return JaegerStore.open(new JaegerClient(endpointFromUrl(j.url, 'jaeger'), { connections: 12 }), {
    raw: true,
    pageLimit: 500,
  });
}

async function count(s: JaegerStore, spec: typeof MAIN): Promise<{ traces: number; spans: number }> {
  const ids = new Set<string>();
  let spans = 0;
  for await (const page of s.search(undefined, us(spec.startMs), us(spec.endMs))) {
    for (const t of page) {
      const k = Buffer.from(t.traceId).toString('hex');
      if (!ids.has(k)) {
        ids.add(k);
        spans += t.spans.length;
      }
    }
  }
  return { traces: ids.size, spans };
}

async function settle(s: JaegerStore, spec: typeof MAIN): Promise<void> {
  for (let i = 0; i < 240 && (await count(s, spec)).traces < spec.traces; i++)
    await new Promise((r) => setTimeout(r, 500));
}

function cliRss(args: string[]): { rss: number; ms: number; code: number | null } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args, '-o', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' },
    maxBuffer: 1 << 26,
  });
  const doc = JSON.parse(r.stdout || '{}') as { peakRssBytes?: number; run?: { peakRssBytes?: number } };
  if (r.status !== 0) log(r.stderr);
  return { rss: doc.peakRssBytes ?? doc.run?.peakRssBytes ?? 0, ms: Date.now() - t0, code: r.status };
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const jaegers: LabJaeger[] = [];
try {
  jaegers.push(
    ...(await Promise.all(['src', 'dst', 'dst2'].map((name) => startJaeger({ name, dir: join(work, name) })))),
  );
  const [src, dst, dst2] = jaegers;
  const srcStore = await store(src);
  const dstStore = await store(dst);
  log(`pushing ${MAIN.traces + RSS_1X.traces + RSS_10X.traces} synthetic traces into the source`);
  for (const spec of [MAIN, RSS_1X, RSS_10X]) await push(src, spec);
  for (const spec of [MAIN, RSS_1X, RSS_10X]) await settle(srcStore, spec);

  // read-only baseline
  let t0 = performance.now();
  const base1 = await count(srcStore, MAIN);
  const readMs = performance.now() - t0;
  const readRate = (base1.spans * 1000) / readMs;

  // copy
  t0 = performance.now();
  const exHttp = new HttpClient(endpointFromUrl(dst.otlpUrl, 'tempo'), { connections: 4 });
  const copy = await copyTraces({
    source: srcStore,
    exporter: new OtlpTraceExporter(exHttp),
    startUs: us(MAIN.startMs),
    endUs: us(MAIN.endMs),
    windowUs: us(HOUR),
    batchSpans: 2000,
    concurrency: 2,
    statePath: join(work, 'copy.db'),
    sourceId: src.url,
    targetId: dst.otlpUrl,
  });
  const copyMs = performance.now() - t0;
  await exHttp.close();
  await settle(dstStore, MAIN);

  // verify
  t0 = performance.now();
  const v = await verifyTraces({
    source: srcStore,
    target: dstStore,
    startUs: us(MAIN.startMs),
    endUs: us(MAIN.endMs),
    concurrency: 8,
    compare: {},
    top: 5,
  });
  const verifyMs = performance.now() - t0;

  // encoder: hand-written vs protobufjs, same 200 traces
  const sample = [...syntheticTraces({ ...MAIN, traces: 200 })];
  const n = spanCount(sample);
  const hand = timeIt(() => encodeTraces(sample), 500);
  const T = otlpType('ExportTraceServiceRequest');
  const toPb = (x: { type: string; value?: unknown; values?: unknown[] }): Record<string, unknown> => {
    switch (x.type) {
      case 'string':
        return { string_value: x.value };
      case 'bool':
        return { bool_value: x.value };
      case 'int':
        return { int_value: String(x.value) };
      case 'double':
        return { double_value: x.value };
      case 'bytes':
        return { bytes_value: x.value };
      case 'array':
        return { array_value: { values: (x.values as Array<{ type: string }>).map(toPb) } };
      default:
        return {};
    }
  };
  const kv = (a: Array<{ key: string; value: { type: string } }>) =>
    a.map((y) => ({ key: y.key, value: toPb(y.value) }));
  const pbjs = timeIt(
    () =>
      T.encode(
        T.fromObject({
          resource_spans: toResourceSpans(sample).map((rs) => ({
            resource: { attributes: kv(rs.resource.attributes) },
            scope_spans: rs.scopeSpans.map((ss) => ({
              scope: { name: ss.scope.name, version: ss.scope.version },
              spans: ss.spans.map((s) => ({
                trace_id: s.traceId,
                span_id: s.spanId,
                parent_span_id: s.parentSpanId,
                name: s.name,
                kind: s.kind,
                trace_state: s.traceState,
                start_time_unix_nano: s.startNs.toString(),
                end_time_unix_nano: s.endNs.toString(),
                attributes: kv(s.attributes),
                events: s.events.map((e) => ({
                  time_unix_nano: e.timeNs.toString(),
                  name: e.name,
                  attributes: kv(e.attributes),
                })),
                links: s.links.map((l) => ({ trace_id: l.traceId, span_id: l.spanId, attributes: kv(l.attributes) })),
                status: s.status,
              })),
            })),
          })),
        }),
      ).finish(),
    500,
  );

  console.log(`traces on Jaeger ${src.version}: ${base1.traces} traces, ${base1.spans} spans`);
  console.log(`read-only  ${fmtRate(readRate)} spans (baseline)`);
  console.log(
    `copy       ${fmtRate((copy.totals.spans * 1000) / copyMs)} spans  ratio ${((copy.totals.spans * 1000) / copyMs / readRate).toFixed(2)}  (${copy.totals.traces} traces, ${mib(copy.totals.bytes)} gzip sent)`,
  );
  console.log(
    `verify     ${fmtRate((v.spans.source * 1000) / verifyMs)} spans  ratio ${((v.spans.source * 1000) / verifyMs / readRate).toFixed(2)}  (consistency ${v.consistency.percent} %)`,
  );
  console.log(
    `encoder    hand-written ${fmtRate((n * 1000) / hand.ms)} spans, protobufjs ${fmtRate((n * 1000) / pbjs.ms)} spans, ratio ${(pbjs.ms / hand.ms).toFixed(2)}x; bytes ${hand.result.length} vs ${pbjs.result.length}`,
  );

  // peak RSS of the CLI at 1x and 10x traces
  const peaks: Array<{ copy: number; verify: number }> = [];
  for (const [name, spec] of [
    ['1x', RSS_1X],
    ['10x', RSS_10X],
  ] as const) {
    const range = ['--start', new Date(spec.startMs).toISOString(), '--end', new Date(spec.endMs).toISOString()];
    const c = cliRss([
      'traces',
      'copy',
      '--jaeger-url',
      src.url,
      '--otlp-url',
      dst2.otlpUrl,
      ...range,
      '--state',
      join(work, `rss-${name}.db`),
    ]);
    const d2 = await store(dst2);
    await settle(d2, spec);
    await d2.close();
    const vv = cliRss(['traces', 'verify', '--jaeger-url', src.url, '--target-jaeger-url', dst2.url, ...range]);
    peaks.push({ copy: c.rss, verify: vv.rss });
    console.log(
      `RSS ${name.padEnd(3)} (${spec.traces} traces)  copy ${mib(c.rss)} in ${(c.ms / 1000).toFixed(1)}s, verify ${mib(vv.rss)} in ${(vv.ms / 1000).toFixed(1)}s (exit ${c.code}/${vv.code})`,
    );
  }
  console.log(
    `RSS 10x/1x copy ${(peaks[1].copy / peaks[0].copy).toFixed(2)}, verify ${(peaks[1].verify / peaks[0].verify).toFixed(2)} (flat: close to 1)`,
  );
  await srcStore.close();
  await dstStore.close();
} finally {
  await Promise.all(jaegers.map((j) => j.stop()));
  rmSync(work, { recursive: true, force: true });
}
