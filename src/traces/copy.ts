import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { StackshiftError, UsageError } from '../errors/index.js';
import { RateLimiter } from '../backfill/index.js';
import { sleep } from '../http/index.js';
import { log } from '../log/index.js';
import type { OtlpTraceExporter } from '../wire/index.js';
import { idHex } from './ids.js';
import { spanCount, type Trace } from './model.js';
import { CopyState } from './state.js';
import type { TraceStore } from './stores.js';
import { encodeTraces } from './to-otlp.js';
import { peakRss, usIso } from './verify.js';

/**
 * `stackshift traces copy`: every trace of the source in [start, end], unit by unit (one service over one
 * window), sent to an OTLP/HTTP receiver as protobuf. Units and traces are durable (state.ts): a killed run
 * resumes where it stopped and no trace is sent twice, except one batch that was on the wire at the kill
 * and cannot be read back (then it is re-sent, which Tempo merges on read).
 */
export const TRACES_COPY_DEFAULTS = {
  windowUs: 3_600_000_000n,
  pageLimit: 100,
  batchSpans: 2000,
  concurrency: 2,
  retries: 10,
} as const;

export interface CopyTracesParams {
  source: TraceStore;
  exporter: OtlpTraceExporter;
  /** Where the target is read back to settle traces in flight at a kill (optional). */
  readback?: TraceStore;
  startUs: bigint;
  endUs: bigint;
  services?: string[];
  windowUs: bigint;
  batchSpans: number;
  concurrency: number;
  /** Spans per second, all workers together. */
  rate?: number;
  statePath: string;
  /** --start/--end were relative (2h, now): on resume the plan's stored range wins. */
  relativeRange?: boolean;
  /** For the fingerprint: what the source and target are. */
  sourceId: string;
  targetId: string;
  onProgress?: (p: { unitsDone: number; units: number; traces: number; spans: number }) => void;
  /**
   * Stops the copy (Ctrl-C): no batch is claimed once it aborts; the batches on the wire finish (or are
   * aborted by the HTTP clients' own signal, see afterGrace) and are settled by the next run; the run is
   * recorded as 'interrupted' and the report returned with `interrupted` set.
   */
  signal?: AbortSignal;
}

export interface CopyTracesReport {
  kind: 'stackshift.traces.copy';
  source: string;
  target: string;
  window: { start: string; end: string };
  state: string;
  plan: { services: string[]; units: number; unitsDone: number; resumed: boolean; runs: number };
  totals: { traces: number; spans: number; bytes: number; rejectedTraces: number; rejectedSpans: number };
  run: {
    traces: number;
    spans: number;
    skippedDuplicates: number;
    settledInFlight: number;
    resentInFlight: number;
    durationMs: number;
    spansPerSecond: number;
    requests: number;
    peakRssBytes: number;
  };
  rejects: Array<{ message: string; count: number }>;
  oldestSpan?: string;
  advice: string[];
  /** Stopped (Ctrl-C) before every unit was done: re-run the same command to resume. */
  interrupted?: boolean;
}

function fingerprint(p: CopyTracesParams): { hash: string; describe: string } {
  const key = { source: p.sourceId, target: p.targetId, services: p.services ?? [] };
  const describe = `${p.sourceId} -> ${p.targetId}${p.services?.length ? `, services ${p.services.join(',')}` : ''}`;
  return { hash: createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32), describe };
}

function minStartUs(t: Trace): bigint {
  let m: bigint | undefined;
  for (const s of t.spans) if (m === undefined || s.startNs < m) m = s.startNs;
  return (m ?? 0n) / 1000n;
}

/** Splits traces into batches of about `spans` spans (a trace is never split). */
function batches(traces: Trace[], spans: number): Trace[][] {
  const out: Trace[][] = [];
  let cur: Trace[] = [];
  let n = 0;
  for (const t of traces) {
    if (cur.length && n + t.spans.length > spans) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(t);
    n += t.spans.length;
  }
  if (cur.length) out.push(cur);
  return out;
}

export async function copyTraces(p: CopyTracesParams): Promise<CopyTracesReport> {
  if (!(p.endUs > p.startUs))
    throw new UsageError(`--start (${usIso(p.startUs)}) must be before --end (${usIso(p.endUs)})`);
  const t0 = Date.now();
  const fp = fingerprint(p);
  const fresh = !existsSync(p.statePath);
  if (fresh) await p.exporter.probe();
  // the source answered the probe before this point: a bad source leaves no state file behind
  const services = p.services?.length ? p.services : await p.source.services();
  const state = new CopyState(p.statePath);
  let runId = 0;
  try {
    state.lock();
    const plan = state.plan();
    if (plan && plan.fingerprint !== fp.hash) {
      const old = JSON.parse(plan.params) as { describe?: string };
      throw new StackshiftError(
        'usage',
        `state file ${p.statePath} belongs to another copy (${old.describe ?? 'different parameters'}), not this one (${fp.describe})`,
        {
          hint: 'resume with the same --jaeger-url, --otlp-url, --service, --start and --end, or pass a new --state file',
        },
      );
    }
    if (plan) {
      const stored = JSON.parse(plan.params) as { startUs?: string; endUs?: string };
      if (stored.startUs !== undefined && (BigInt(stored.startUs) !== p.startUs || BigInt(stored.endUs!) !== p.endUs)) {
        if (!p.relativeRange) {
          throw new UsageError(
            `state file ${p.statePath} was planned for ${usIso(BigInt(stored.startUs))} .. ${usIso(BigInt(stored.endUs!))}, not the range given now`,
            'resume with the same --start/--end (relative ones such as 6h resume the stored range), or use a new --state file',
          );
        }
        p = { ...p, startUs: BigInt(stored.startUs), endUs: BigInt(stored.endUs!) };
      }
    }
    if (!plan) {
      const units: Array<{ service: string; startUs: bigint; endUs: bigint }> = [];
      for (let a = p.startUs; a < p.endUs; a += p.windowUs) {
        const b = a + p.windowUs > p.endUs ? p.endUs : a + p.windowUs;
        for (const service of services) units.push({ service, startUs: a, endUs: b - 1n });
      }
      state.createPlan(
        fp.hash,
        { describe: fp.describe, startUs: p.startUs.toString(), endUs: p.endUs.toString() },
        units,
      );
      if (services.length === 0) log.warn('the source lists no services: nothing to copy', { source: p.sourceId });
    } else log.info('resuming traces copy', { state: p.statePath });
    runId = state.startRun();

    // 1. traces that were on the wire when an earlier run died: read back, else send again
    let settledInFlight = 0;
    let resentInFlight = 0;
    const inFlight = state.inFlight();
    // Jaeger and Tempo store asynchronously: poll the unresolved ones a few rounds (about 3 s) before giving up on them
    let unresolved = inFlight;
    for (let round = 0; p.readback && unresolved.length && round < 10; round++) {
      if (round) await sleep(300, p.signal);
      const still: typeof unresolved = [];
      for (let i = 0; i < unresolved.length; i += 8) {
        await Promise.all(
          unresolved.slice(i, i + 8).map(async (t) => {
            const got = await p.readback!.get(t.id);
            if (got !== undefined && new Set(got.spans.map((s) => idHex(s.spanId))).size >= t.spans) {
              state.resolveInFlight(t.id, true);
              settledInFlight++;
            } else still.push(t);
          }),
        );
      }
      unresolved = still;
    }
    for (const t of unresolved) {
      state.resolveInFlight(t.id, false);
      resentInFlight++;
    }
    if (inFlight.length)
      log.info('settled traces in flight at the last interruption', {
        found: settledInFlight,
        resend: resentInFlight,
        readback: p.readback ? 'yes' : 'no',
      });

    // 2. units, `concurrency` at a time
    const todo = state.units(['pending', 'running']);
    const all = state.units().length;
    let unitsDone = all - todo.length;
    const limiter = p.rate ? new RateLimiter(p.rate) : undefined;
    const run = { traces: 0, spans: 0, skippedDuplicates: 0, requests: 0 };
    let next = 0;
    const send = async (unitId: number, batch: Trace[]): Promise<void> => {
      const n = spanCount(batch);
      await limiter?.take(n);
      run.requests++;
      const r = await p.exporter.export(encodeTraces(batch), n);
      if (r.outcome === 'too-large' && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await send(unitId, batch.slice(0, half));
        await send(unitId, batch.slice(half));
        return;
      }
      const ids = batch.map((t) => t.traceId);
      if (r.outcome === 'ok') {
        state.settle(ids, 'done', r.bytesSent, 0, r.message ? `warning: ${r.message}` : undefined);
        run.traces += batch.length;
        run.spans += n;
      } else if (r.outcome === 'partial') {
        state.settle(
          ids,
          'done',
          r.bytesSent,
          r.rejectedSpans,
          r.message || `${r.rejectedSpans} spans rejected (partial success)`,
        );
        run.traces += batch.length;
        run.spans += n - r.rejectedSpans;
      } else state.settle(ids, 'rejected', r.bytesSent, 0, `HTTP ${r.status}: ${r.message ?? ''}`);
    };
    let failed = false;
    const stopped = () => failed || p.signal?.aborted === true;
    const worker = async () => {
      while (next < todo.length && !stopped()) {
        const u = todo[next++];
        const u0 = Date.now();
        state.startUnit(u.id);
        for await (const page of p.source.search(u.service, u.start_us, u.end_us)) {
          if (stopped()) return;
          // claimed batch by batch, so that only the request on the wire is 'sending' at any moment
          for (const b of batches(page, p.batchSpans)) {
            if (stopped()) return;
            const claimed = state.claim(
              u.id,
              b.map((t) => ({ id: t.traceId, spans: t.spans.length, minStartUs: minStartUs(t) })),
            );
            const mine = b.filter((t) => claimed.has(idHex(t.traceId)));
            run.skippedDuplicates += b.length - mine.length;
            if (mine.length) await send(u.id, mine);
          }
        }
        state.finishUnit(u.id, Date.now() - u0);
        unitsDone++;
        p.onProgress?.({ unitsDone, units: all, traces: run.traces, spans: run.spans });
      }
    };
    // on the first failure the others stop claiming and finish the request they have on the wire
    const results = await Promise.allSettled(
      Array.from({ length: Math.max(1, p.concurrency) }, () =>
        worker().catch((e) => {
          failed = true;
          throw e;
        }),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // stopped by the user: a failure then is a request being aborted; the next run settles what was on the wire
    const interrupted = p.signal?.aborted === true && unitsDone < all;
    if (failure && !interrupted) {
      const e = failure.reason as unknown;
      state.finishRun(runId, 'failed', settledInFlight, resentInFlight);
      const t = state.totals();
      throw new StackshiftError(
        'traces-copy',
        `traces copy stopped after ${t.unitsDone} of ${t.units} units: ${(e as Error).message}`,
        {
          hint: `${(e as StackshiftError).hint ? (e as StackshiftError).hint + '; then ' : ''}re-run the same command to resume from ${p.statePath}`,
          cause: e,
        },
      );
    }
    state.finishRun(runId, interrupted ? 'interrupted' : 'done', settledInFlight, resentInFlight);
    const t = state.totals();
    const ms = Date.now() - t0;
    const report: CopyTracesReport = {
      kind: 'stackshift.traces.copy',
      source: p.sourceId,
      target: p.targetId,
      window: { start: usIso(p.startUs), end: usIso(p.endUs) },
      state: p.statePath,
      plan: {
        services,
        units: t.units,
        unitsDone: t.unitsDone,
        resumed: !fresh && plan !== undefined,
        runs: state.runs(),
      },
      totals: {
        traces: t.traces,
        spans: t.spans,
        bytes: t.bytes,
        rejectedTraces: t.rejectedTraces,
        rejectedSpans: t.rejectedSpans,
      },
      run: {
        ...run,
        settledInFlight,
        resentInFlight,
        durationMs: ms,
        spansPerSecond: ms ? Math.round((run.spans * 1000) / ms) : 0,
        peakRssBytes: peakRss(),
      },
      rejects: t.rejects,
      oldestSpan: t.minStartUs !== undefined && t.traces > 0 ? usIso(t.minStartUs) : undefined,
      advice: [],
      ...(interrupted ? { interrupted: true } : {}),
    };
    report.advice.push(...copyAdvice(report, t.minStartUs, resentInFlight > 0 && !p.readback));
    return report;
  } finally {
    state.close();
  }
}

/** The summary's advice: Tempo's ingestion slack, how to make the copy searchable, and what was refused. */
export function copyAdvice(r: CopyTracesReport, minStartUs: bigint | undefined, resentBlind: boolean): string[] {
  const out: string[] = [];
  if (r.totals.traces > 0 && minStartUs !== undefined) {
    const ageH = Math.max(0, (Date.now() - Number(minStartUs / 1000n)) / 3_600_000);
    out.push(
      `Tempo keeps spans older than its ingestion slack (storage.trace.wal.ingestion_time_range_slack, default 2m) but dates their blocks at ingestion time: the copied traces are found by ID (GET /api/traces/<id> without start/end, which \`stackshift traces verify\` uses), not by /api/search or TraceQL over their historical time range.`,
    );
    out.push(
      `To make them searchable, raise ingestion_time_range_slack on the Tempo ingesters/live-store above the age of the oldest copied span (${r.oldestSpan}, about ${Math.ceil(ageH)}h) before copying, and revert it afterwards (grafana/tempo#1299); blocks then carry historical times, so compactor block_retention counts from the span times: spans older than the retention are deleted at the next retention pass.`,
    );
  }
  if (r.totals.rejectedTraces || r.totals.rejectedSpans)
    out.push(
      `${r.totals.rejectedTraces} traces (${r.totals.rejectedSpans} spans) were refused by the receiver and are not in the target: see the messages; a 400 means it could not accept the data (limits such as max_bytes_per_trace), and re-running will not send them again.`,
    );
  if (resentBlind)
    out.push(
      'some traces that were on the wire when the previous run was interrupted were sent again (no --tempo-url/--target-jaeger-url to read them back): Tempo merges identical spans on read; other receivers may store them twice.',
    );
  return out;
}
