import { createHash } from 'node:crypto';
import { LokiClient, LokiPushError, msToNs, type LokiEntry, type PushEncoding } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpError } from '../http/index.js';
import { log } from '../log/index.js';
import { CopyState, type StreamRow, type UnitRow } from './copy-state.js';
import { logQuery, renderStreamSelector, type LogMatcher } from './logql.js';
import { readStream } from './page.js';
import { classifyPushReject, firstLine } from './rejects.js';
import { formatStream } from './streams.js';

/** One table of defaults for the CLI, tests, rehearsal and bench. */
export const LOGS_COPY_DEFAULTS = {
  windowMs: 3_600_000,
  /** Loki's default max_entries_limit_per_query. */
  pageSize: 5000,
  /** Well under Loki's 4 MiB gRPC message limit and its 6 MiB default ingestion burst. */
  batchBytes: 1 << 20,
  batchLines: 10_000,
  concurrency: 4,
  encoding: 'protobuf' as PushEncoding,
};

export interface LogsCopyOptions {
  source: ResolvedEndpoint;
  target: ResolvedEndpoint;
  selector: LogMatcher[];
  startMs: number;
  endMs: number;
  windowMs: number;
  pageSize: number;
  batchBytes: number;
  batchLines: number;
  concurrency: number;
  encoding: PushEncoding;
  statePath: string;
  onProgress?: (p: CopyProgress) => void;
  /** Tests: pause after each push, so a kill lands mid-copy. */
  pushDelayMs?: number;
}

export interface CopyProgress { unitsDone: number; unitsTotal: number; lines: number; bytes: number }

export interface LogsCopyReport {
  source: string;
  target: string;
  selector: string;
  range: { start: string; end: string; windowMs: number; note: string };
  state: string;
  streams: number;
  units: { total: number; done: number; redoneAfterCrash: number };
  lines: number;
  bytes: number;
  pushes: number;
  runs: number;
  thisRun: { lines: number; seconds: number; linesPerSecond: number };
  complete: boolean;
}

/** Windows are whole multiples of the window size since the epoch, as `logs verify` counts them. */
export function alignRange(startMs: number, endMs: number, windowMs: number): { startMs: number; endMs: number } {
  return { startMs: Math.floor(startMs / windowMs) * windowMs, endMs: Math.ceil(endMs / windowMs) * windowMs };
}

/** Turns a source refusal (bad selector, page size above its limit) into one clear line. */
function sourceError(e: unknown, what: string): never {
  if (e instanceof HttpError && e.status !== undefined && e.status >= 400 && e.status < 500) {
    const body = firstLine(e.bodyExcerpt ?? '');
    const hint = body.includes('max_entries_limit') ? "lower --page-size to the source's max_entries_limit_per_query (Loki's default is 5000)" : body.includes('query time range exceeds') ? 'lower --window' : 'check --selector and the source URL';
    throw new StackshiftError('logs-source', `the source refused ${what}: HTTP ${e.status}: ${body}`, { hint });
  }
  throw e;
}

export async function runLogsCopy(o: LogsCopyOptions): Promise<LogsCopyReport> {
  const range = alignRange(o.startMs, o.endMs, o.windowMs);
  const source = new LokiClient(o.source, { connections: o.concurrency + 2 });
  const target = new LokiClient(o.target, { connections: o.concurrency + 2 });
  const selectorText = renderStreamSelector(o.selector);
  let state: CopyState | undefined;
  try {
    // preflight before anything is written: the selector and the page size as the source takes them
    let listed: Array<Record<string, string>>;
    try {
      listed = await source.series([logQuery(o.selector)], msToNs(range.startMs), msToNs(range.endMs));
      await source.queryStreams({ query: logQuery(o.selector), startNs: msToNs(range.startMs), endNs: msToNs(range.startMs) + 1n, limit: o.pageSize, direction: 'forward' });
    } catch (e) { sourceError(e, `the selector ${selectorText} with --page-size ${o.pageSize}`); }
    state = new CopyState(o.statePath);
    state.lock();
    const params = { source: o.source.url, sourceTenant: o.source.tenant ?? '', target: o.target.url, targetTenant: o.target.tenant ?? '', selector: selectorText, startMs: range.startMs, endMs: range.endMs, windowMs: o.windowMs };
    const fingerprint = createHash('sha256').update(JSON.stringify(params)).digest('hex');
    const plan = state.plan();
    if (!plan) {
      listed.sort((a, b) => (formatStream(a) < formatStream(b) ? -1 : 1));
      state.createPlan(fingerprint, params, listed, range.startMs);
      log.info('logs copy planned', { streams: listed.length, windows: (range.endMs - range.startMs) / o.windowMs });
    } else if (plan.fingerprint !== fingerprint) {
      const old = JSON.parse(plan.params) as typeof params;
      throw new StackshiftError('usage', `state file ${o.statePath} belongs to another copy (${old.selector} from ${old.source} to ${old.target}, ${new Date(old.startMs).toISOString()}..${new Date(old.endMs).toISOString()}), not this one`, { hint: 'resume with the same source, target, --selector, --start/--end and --window, or pass a new --state file' });
    }
    return await copyStreams(o, state, source, target, range, selectorText);
  } finally {
    state?.close();
    await Promise.all([source.close(), target.close()]);
  }
}

async function copyStreams(o: LogsCopyOptions, state: CopyState, source: LokiClient, target: LokiClient, range: { startMs: number; endMs: number }, selectorText: string): Promise<LogsCopyReport> {
  const runId = state.startRun();
  const t0 = Date.now();
  const streams = state.streams();
  const windowsPerStream = Math.round((range.endMs - range.startMs) / o.windowMs);
  const unitsTotal = streams.length * windowsPerStream;
  const before = state.totals();
  let unitsDone = before.unitsDone;
  let runLines = 0;
  let runBytes = 0;
  let redone = 0;
  let failure: unknown;
  const queue = streams.slice();
  const report = () => o.onProgress?.({ unitsDone, unitsTotal, lines: before.lines + runLines, bytes: before.bytes + runBytes });

  const runUnit = async (stream: StreamRow, unit: UnitRow) => {
    const u0 = Date.now();
    let lines = 0, bytes = 0, pushes = 0;
    let batch: LokiEntry[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (!batch.length) return;
      try {
        await target.push([{ labels: stream.labels, entries: batch }], o.encoding);
      } catch (e) {
        if (e instanceof LokiPushError) {
          const r = classifyPushReject(e.status ?? 0, e.bodyExcerpt ?? '');
          throw new StackshiftError(`logs-reject-${r.id}`, `the target refused lines of ${formatStream(stream.labels)} in ${new Date(unit.startMs).toISOString()}..${new Date(unit.endMs).toISOString()} (${r.id}): HTTP ${e.status}: ${firstLine(e.bodyExcerpt ?? '')}`, { hint: r.advice });
        }
        throw e;
      }
      pushes++;
      lines += batch.length;
      bytes += batchBytes;
      runLines += batch.length;
      runBytes += batchBytes;
      batch = [];
      batchBytes = 0;
      report();
      if (o.pushDelayMs) await new Promise((r) => setTimeout(r, o.pushDelayMs));
    };
    try {
      for await (const page of readStream(source, stream.labels, msToNs(unit.startMs), msToNs(unit.endMs), o.pageSize)) {
        for (const e of page) {
          if (failure) return;
          const size = Buffer.byteLength(e.line) + 16 + (e.metadata ? JSON.stringify(e.metadata).length : 0);
          if (batch.length && (batchBytes + size > o.batchBytes || batch.length >= o.batchLines)) await flush();
          batch.push(e);
          batchBytes += size;
        }
      }
    } catch (e) {
      if (e instanceof HttpError && !(e instanceof LokiPushError)) sourceError(e, `a query for ${formatStream(stream.labels)}`);
      throw e;
    }
    await flush();
    state.complete(unit.id, { lines, bytes, pushes, ms: Date.now() - u0 });
    unitsDone++;
    report();
  };

  const worker = async () => {
    for (;;) {
      if (failure) return;
      const stream = queue.shift();
      if (!stream) return;
      // a stream goes strictly forward in time: Loki refuses lines more than max_chunk_age/2 behind its newest
      const left = state.runningUnit(stream.id);
      if (left) {
        state.retry(left.id);
        redone++;
        await runUnit(stream, left);
      }
      let cursor = stream.cursorMs;
      while (cursor < range.endMs && !failure) {
        const unit = state.claim(stream.id, cursor, Math.min(cursor + o.windowMs, range.endMs));
        await runUnit(stream, unit);
        cursor = unit.endMs;
      }
    }
  };

  report();
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, () => worker().catch((e: unknown) => { failure ??= e; })));
  const seconds = (Date.now() - t0) / 1000;
  state.finishRun(runId, failure ? 'failed' : 'done', runLines, redone);
  if (failure) throw failure;
  const totals = state.totals();
  return {
    source: o.source.url,
    target: o.target.url,
    selector: selectorText,
    range: { start: new Date(range.startMs).toISOString(), end: new Date(range.endMs).toISOString(), windowMs: o.windowMs, note: 'windows are (start, end], aligned to multiples of the window since the epoch' },
    state: o.statePath,
    streams: totals.streams,
    units: { total: unitsTotal, done: totals.unitsDone, redoneAfterCrash: totals.redoneUnits },
    lines: totals.lines,
    bytes: totals.bytes,
    pushes: totals.pushes,
    runs: totals.runs,
    thisRun: { lines: runLines, seconds: Math.round(seconds * 100) / 100, linesPerSecond: seconds > 0 ? Math.round(runLines / seconds) : 0 },
    complete: totals.unitsDone === unitsTotal,
  };
}
