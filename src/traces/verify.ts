import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  compareTraces,
  TOLERANCES,
  type CompareOptions,
  type SpanDiff,
  type SpanRef,
  type Tolerance,
  type TraceComparison,
  type TraceStatus,
} from './compare.js';
import { idHex } from './ids.js';
import type { Trace } from './model.js';
import type { TraceStore } from './stores.js';

/**
 * `stackshift traces verify`: every trace the source holds in the window (service by service, paged), or a
 * sample of them, fetched from the target by ID and compared span by span. The consistency figure follows
 * `verify metrics`: matched units over expected plus unexpected ones, here spans.
 */
export const CONSISTENCY_DEFINITION =
  'consistency = spans equal on both sides (within the listed tolerances) / (source spans + target spans the source lacks), over the compared traces; a missing trace counts all its spans as missing';

export type Sample = { kind: 'count'; n: number } | { kind: 'fraction'; fraction: number };

export interface VerifyTracesParams {
  source: TraceStore;
  target: TraceStore;
  startUs: bigint;
  endUs: bigint;
  services?: string[];
  sample?: Sample;
  seed?: number;
  concurrency: number;
  compare: CompareOptions;
  minConsistency?: number;
  /** Also list the target's traces in the window and look each up in the source. */
  reverse?: boolean;
  /** How many differing traces the report details. */
  top: number;
  onProgress?: (p: { traces: number; spans: number }) => void;
}

export interface TraceDiscrepancy {
  traceId: string;
  status: Exclude<TraceStatus, 'complete'>;
  sourceSpans: number;
  targetSpans: number;
  missingSpans: SpanRef[];
  extraSpans: SpanRef[];
  differentSpans: SpanDiff[];
}

export interface VerifyTracesReport {
  schemaVersion: 1;
  kind: 'stackshift.verify.traces';
  generatedAt: string;
  source: { describe: string; kind: string };
  target: { describe: string; kind: string };
  window: { start: string; end: string };
  services: string[];
  mode: 'full' | 'sampled';
  sampling?: { kind: 'count' | 'fraction'; value: number; seed: number; population: number; sampled: number };
  consistency: { percent: number; basis: 'spans'; definition: string; gate?: { minPercent: number; passed: boolean } };
  traces: {
    compared: number;
    complete: number;
    partial: number;
    missing: number;
    different: number;
    completePercent: number;
  };
  spans: { source: number; target: number; matched: number; missing: number; extra: number; different: number };
  tolerances: Array<{ id: Tolerance; description: string; count: number }>;
  discrepancies: TraceDiscrepancy[];
  reverse?: { targetTraces: number; missingInSource: number; examples: string[] };
  warnings: string[];
  durationMs: number;
  throughput: { spansPerSecond: number; tracesPerSecond: number };
  peakRssBytes: number;
}

/** Peak resident set of this process (Linux VmHWM), for the report and the bench. */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.memoryUsage().rss;
}

function hash64(seed: number, id: Uint8Array): number {
  return createHash('sha1').update(`${seed}\x00`).update(id).digest().readUInt32BE(0) / 0x1_0000_0000;
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  });
  await Promise.all(workers);
}

export async function verifyTraces(p: VerifyTracesParams): Promise<VerifyTracesReport> {
  const t0 = Date.now();
  const seed = p.seed ?? 1;
  const warnings: string[] = [];
  const services = p.services?.length ? p.services : await p.source.services();
  if (services.length === 0) warnings.push(`${p.source.describe} lists no services: nothing to compare`);
  const seen = new Set<string>();
  const tolerated: Partial<Record<Tolerance, number>> = {};
  const traces = { compared: 0, complete: 0, partial: 0, missing: 0, different: 0, completePercent: 100 };
  const spans = { source: 0, target: 0, matched: 0, missing: 0, extra: 0, different: 0 };
  const discrepancies: TraceDiscrepancy[] = [];
  let population = 0;
  const hint = { startUs: p.startUs, endUs: p.endUs };

  const account = (c: TraceComparison) => {
    traces.compared++;
    traces[c.status]++;
    spans.source += c.sourceSpans;
    spans.target += c.targetSpans;
    spans.matched += c.matchedSpans;
    spans.missing += c.status === 'missing' ? c.sourceSpans : c.missingSpans.length;
    spans.extra += c.extraSpans.length;
    spans.different += c.differentSpans.length;
    for (const [k, v] of Object.entries(c.tolerated))
      tolerated[k as Tolerance] = (tolerated[k as Tolerance] ?? 0) + (v ?? 0);
    if (c.status !== 'complete' && discrepancies.length < p.top) {
      discrepancies.push({
        traceId: c.traceId,
        status: c.status,
        sourceSpans: c.sourceSpans,
        targetSpans: c.targetSpans,
        missingSpans: c.missingSpans,
        extraSpans: c.extraSpans,
        differentSpans: c.differentSpans,
      });
    }
    p.onProgress?.({ traces: traces.compared, spans: spans.source });
  };
  const check = async (src: Trace) => {
    const tgt = await p.target.get(src.traceId, hint);
    account(compareTraces(src, tgt, p.compare));
  };

  // reservoir of the n smallest hashes for --sample n: the same n traces on every run with the same seed
  const reservoir: Array<{ h: number; id: Uint8Array }> = [];
  for (const svc of services) {
    for await (const page of p.source.search(svc, p.startUs, p.endUs)) {
      const todo: Trace[] = [];
      for (const t of page) {
        const key = idHex(t.traceId);
        if (seen.has(key)) continue;
        seen.add(key);
        population++;
        if (!p.sample) todo.push(t);
        else if (p.sample.kind === 'fraction') {
          if (hash64(seed, t.traceId) < p.sample.fraction) todo.push(t);
        } else {
          const h = hash64(seed, t.traceId);
          if (reservoir.length < p.sample.n) {
            reservoir.push({ h, id: t.traceId });
            reservoir.sort((a, b) => b.h - a.h);
          } else if (h < reservoir[0].h) {
            reservoir[0] = { h, id: t.traceId };
            reservoir.sort((a, b) => b.h - a.h);
          }
        }
      }
      await pool(todo, p.concurrency, check);
    }
  }
  if (p.sample?.kind === 'count') {
    // second step: the chosen traces read again from the source by ID (with the window: ES-backed Jaeger's 72 h lookback)
    await pool(
      reservoir.map((r) => r.id),
      p.concurrency,
      async (id) => {
        const src = await p.source.get(id, hint);
        if (src) await check(src);
        else warnings.push(`trace ${idHex(id)} was listed by the source but could not be read back from it by ID`);
      },
    );
  }

  let reverse: VerifyTracesReport['reverse'];
  if (p.reverse) {
    reverse = { targetTraces: 0, missingInSource: 0, examples: [] };
    const rseen = new Set<string>();
    for (const svc of p.target.kind === 'tempo' ? [undefined] : await p.target.services()) {
      for await (const page of p.target.search(svc, p.startUs, p.endUs)) {
        const todo = page.filter((t) => {
          const k = idHex(t.traceId);
          if (rseen.has(k)) return false;
          rseen.add(k);
          return true;
        });
        reverse.targetTraces += todo.length;
        await pool(todo, p.concurrency, async (t) => {
          const k = idHex(t.traceId);
          if (seen.has(k)) return;
          const src = await p.source.get(t.traceId, hint);
          if (!src) {
            reverse!.missingInSource++;
            if (reverse!.examples.length < p.top) reverse!.examples.push(k);
          }
        });
      }
    }
    if (p.target.kind === 'tempo')
      warnings.push(
        'the reverse check lists Tempo traces through /api/search: traces copied from history are not found by a historical search (ingestion slack), only live-written ones are',
      );
  }

  traces.completePercent = traces.compared ? (traces.complete * 100) / traces.compared : 100;
  const denom = spans.source + spans.extra;
  const percent = denom ? (spans.matched * 100) / denom : 100;
  const ms = Date.now() - t0;
  const report: VerifyTracesReport = {
    schemaVersion: 1,
    kind: 'stackshift.verify.traces',
    generatedAt: new Date().toISOString(),
    source: { describe: p.source.describe, kind: p.source.kind },
    target: { describe: p.target.describe, kind: p.target.kind },
    window: { start: usIso(p.startUs), end: usIso(p.endUs) },
    services,
    mode: p.sample ? 'sampled' : 'full',
    sampling: p.sample
      ? {
          kind: p.sample.kind,
          value: p.sample.kind === 'count' ? p.sample.n : p.sample.fraction,
          seed,
          population,
          sampled: traces.compared,
        }
      : undefined,
    consistency: { percent, basis: 'spans', definition: CONSISTENCY_DEFINITION },
    traces,
    spans,
    tolerances: (Object.keys(TOLERANCES) as Tolerance[]).map((id) => ({
      id,
      description: TOLERANCES[id],
      count: tolerated[id] ?? 0,
    })),
    discrepancies,
    reverse,
    warnings,
    durationMs: ms,
    throughput: {
      spansPerSecond: ms ? Math.round((spans.source * 1000) / ms) : 0,
      tracesPerSecond: ms ? Math.round((traces.compared * 1000) / ms) : 0,
    },
    peakRssBytes: peakRss(),
  };
  if (traces.compared === 0 && services.length > 0)
    warnings.push('no traces found in the source over the window: check --start/--end and --service');
  if (p.minConsistency !== undefined)
    report.consistency.gate = {
      minPercent: p.minConsistency,
      passed: percent >= p.minConsistency && (!reverse || reverse.missingInSource === 0),
    };
  return report;
}

export function usIso(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString();
}
