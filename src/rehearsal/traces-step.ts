import { join } from 'node:path';
import { JaegerClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { HttpClient } from '../http/index.js';
import { labHas, serverVersion, startJaeger, type LabJaeger } from '../lab/index.js';
import { formatCount, formatDuration } from '../progress/index.js';
import {
  copyTraces,
  encodeTraces,
  JaegerStore,
  renderVerifyTracesMarkdown,
  spanCount,
  syntheticTraces,
  verifyTraces,
  type Trace,
} from '../traces/index.js';
import { formatPercent } from '../verify/index.js';
import { OtlpTraceExporter } from '../wire/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

const TRACES = 500;
const HOUR = 3_600_000;

async function waitForCount(store: JaegerStore, startUs: bigint, endUs: bigint, n: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  let got = 0;
  while (Date.now() < deadline) {
    const ids = new Set<string>();
    for await (const page of store.search(undefined, startUs, endUs))
      for (const t of page) ids.add(Buffer.from(t.traceId).toString('hex'));
    got = ids.size;
    if (got >= n) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return got;
}

/**
 * Traces, Jaeger -> OTLP: synthetic traces (every attribute type, events, links, errors, 16- and 32-hex IDs)
 * written into the lab's Jaeger, `traces copy` into a second Jaeger over OTLP/HTTP, `traces verify` by ID,
 * which must be 100 % with every trace complete.
 */
export const tracesStep: RehearsalStep = {
  id: 'traces',
  title: 'Traces: Jaeger -> OTLP copy and parity by ID (stackshift traces copy / verify)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const version = serverVersion('jaeger');
    if (!labHas('jaeger', version))
      return {
        status: 'skipped',
        summary: `jaeger ${version} is not built (bash scripts/build-servers.sh jaeger-${version})`,
      };
    const dir = join(ctx.workDir, 'traces');
    const servers: LabJaeger[] = [];
    const closers: Array<() => Promise<void>> = [];
    try {
      servers.push(
        ...(await Promise.all(['jaeger-source', 'jaeger-target'].map((name) => startJaeger({ name, dir })))),
      );
      const [source, target] = servers;
      const endMs = Math.floor(Date.now() / HOUR) * HOUR;
      const spec = { traces: TRACES, seed: ctx.opts.seed, startMs: endMs - 6 * HOUR, endMs, services: 4 };
      const startUs = BigInt(spec.startMs) * 1000n;
      const endUs = BigInt(endMs) * 1000n;
      const traces: Trace[] = [...syntheticTraces(spec)];
      const pushHttp = new HttpClient(endpointFromUrl(source.otlpUrl, 'tempo'));
      closers.push(() => pushHttp.close());
      const r = await new OtlpTraceExporter(pushHttp).export(encodeTraces(traces), spanCount(traces));
      if (r.outcome !== 'ok')
        return { status: 'failed', summary: `the source Jaeger refused the generated spans (HTTP ${r.status})` };
      const src = await JaegerStore.open(new JaegerClient(endpointFromUrl(source.url, 'jaeger')), {
        raw: true,
        pageLimit: 500,
      });
      closers.push(() => src.close());
      await waitForCount(src, startUs, endUs, TRACES);
      const expHttp = new HttpClient(endpointFromUrl(target.otlpUrl, 'tempo'));
      closers.push(() => expHttp.close());
      const tgt = await JaegerStore.open(new JaegerClient(endpointFromUrl(target.url, 'jaeger')), {
        raw: true,
        pageLimit: 500,
      });
      closers.push(() => tgt.close());
      const copy = await copyTraces({
        source: src,
        exporter: new OtlpTraceExporter(expHttp),
        readback: tgt,
        startUs,
        endUs,
        windowUs: BigInt(HOUR) * 1000n,
        batchSpans: 2000,
        concurrency: 2,
        statePath: join(dir, 'traces-copy.db'),
        sourceId: source.url,
        targetId: target.otlpUrl,
      });
      const stored = await waitForCount(tgt, startUs, endUs, TRACES);
      const v = await verifyTraces({
        source: src,
        target: tgt,
        startUs,
        endUs,
        concurrency: 8,
        compare: {},
        minConsistency: 100,
        top: 10,
      });
      const ok =
        copy.totals.traces === TRACES &&
        stored === TRACES &&
        v.consistency.percent === 100 &&
        v.traces.complete === TRACES;
      ctx.results.traces = {
        copied: copy.totals.traces,
        spans: copy.totals.spans,
        consistencyPercent: v.consistency.percent,
      };
      return {
        status: ok ? 'passed' : 'failed',
        summary: `Jaeger ${version}: ${copy.totals.traces} of ${TRACES} traces (${formatCount(copy.totals.spans)} spans) copied over OTLP in ${formatDuration(copy.run.durationMs)} (${formatCount(copy.run.spansPerSecond)} spans/s); verify by ID ${formatPercent(v.consistency.percent)}, ${v.traces.complete}/${v.traces.compared} traces complete (${formatCount(v.throughput.spansPerSecond)} spans/s)`,
        details: [
          `Source ${source.url} (api_v3, raw), target ${target.url} fed through its OTLP receiver ${target.otlpUrl}; window ${new Date(spec.startMs).toISOString()} .. ${new Date(endMs).toISOString()}.`,
          '',
          renderVerifyTracesMarkdown(v).replace(/^## /m, '#### '),
        ].join('\n'),
        data: {
          copied: copy.totals,
          run: copy.run,
          verify: { consistency: v.consistency.percent, traces: v.traces, spans: v.spans },
        },
      };
    } finally {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      if (!ctx.opts.keepRunning) await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
