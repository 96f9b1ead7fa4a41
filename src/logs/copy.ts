import { createHash } from 'node:crypto';
import { LokiClient, LokiPushError, msToNs, type LokiEntry, type PushEncoding } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpError, afterGrace, sleep } from '../http/index.js';
import { log } from '../log/index.js';
import { CopyState, type GroupRow, type UnitRow } from './copy-state.js';
import { logQuery, renderStreamSelector, type LogMatcher } from './logql.js';
import { readLines } from './page.js';
import { classifyPushReject, firstLine } from './rejects.js';
import { formatStream, groupStreams } from './streams.js';

/** One table of defaults for the CLI, tests, rehearsal and bench. */
export const LOGS_COPY_DEFAULTS = {
  windowMs: 3_600_000,
  /** Loki's default max_entries_limit_per_query. */
  pageSize: 5000,
  /** Well under Loki's 4 MiB gRPC message limit and its 6 MiB default ingestion burst. */
  batchBytes: 1 << 20,
  batchLines: 10_000,
  concurrency: 4,
  /** Streams read by one query; groups also spread the work over --concurrency. */
  streamsPerUnit: 50,
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
  streamsPerUnit: number;
  encoding: PushEncoding;
  statePath: string;
  onProgress?: (p: CopyProgress) => void;
  /** Tests: pause after each push, so a kill lands mid-copy. */
  pushDelayMs?: number;
  /**
   * Stops the copy (Ctrl-C): no unit starts once it aborts; units in flight get `graceMs` (default
   * STOP_GRACE_MS), then their requests are aborted and they are redone by the next run (Loki stores a line
   * pushed twice once); the run is recorded as 'interrupted' and the report returned with `interrupted` set.
   */
  signal?: AbortSignal;
  graceMs?: number;
}

export interface CopyProgress {
  unitsDone: number;
  unitsTotal: number;
  lines: number;
  bytes: number;
}

export interface LogsCopyReport {
  source: string;
  target: string;
  selector: string;
  range: { start: string; end: string; windowMs: number; note: string };
  state: string;
  streams: number;
  groups: number;
  units: { total: number; done: number; redoneAfterCrash: number };
  lines: number;
  bytes: number;
  pushes: number;
  runs: number;
  thisRun: { lines: number; seconds: number; linesPerSecond: number };
  complete: boolean;
  /** Stopped (Ctrl-C) before every unit was done: re-run the same command to resume. */
  interrupted?: boolean;
}

/** Windows are whole multiples of the window size since the epoch, as `logs verify` counts them. */
export function alignRange(startMs: number, endMs: number, windowMs: number): { startMs: number; endMs: number } {
  return { startMs: Math.floor(startMs / windowMs) * windowMs, endMs: Math.ceil(endMs / windowMs) * windowMs };
}

/** Turns a source refusal (bad selector, page size above its limit) into one clear line. */
function sourceError(e: unknown, what: string): never {
  if (e instanceof HttpError && e.status !== undefined && e.status >= 400 && e.status < 500) {
    const body = firstLine(e.bodyExcerpt ?? '');
    const hint = body.includes('max_entries_limit')
      ? "lower --page-size to the source's max_entries_limit_per_query (Loki's default is 5000)"
      : body.includes('query time range exceeds')
        ? 'lower --window'
        : 'check --selector and the source URL';
    throw new StackshiftError('logs-source', `the source refused ${what}: HTTP ${e.status}: ${body}`, { hint });
  }
  throw e;
}

export async function runLogsCopy(o: LogsCopyOptions): Promise<LogsCopyReport> {
  const range = alignRange(o.startMs, o.endMs, o.windowMs);
  const inFlight = afterGrace(o.signal, o.graceMs);
  const source = new LokiClient(o.source, { connections: o.concurrency + 2, signal: inFlight });
  const target = new LokiClient(o.target, { connections: o.concurrency + 2, signal: inFlight });
  const selectorText = renderStreamSelector(o.selector);
  let state: CopyState | undefined;
  try {
    // preflight before anything is written: the selector and the page size as the source takes them
    let listed: Array<Record<string, string>>;
    try {
      listed = await source.series([logQuery(o.selector)], msToNs(range.startMs), msToNs(range.endMs));
      await source.queryStreams({
        query: logQuery(o.selector),
        startNs: msToNs(range.startMs),
        endNs: msToNs(range.startMs) + 1n,
        limit: o.pageSize,
        direction: 'forward',
      });
    } catch (e) {
      sourceError(e, `the selector ${selectorText} with --page-size ${o.pageSize}`);
    }
    state = new CopyState(o.statePath);
    state.lock();
    const params = {
      source: o.source.url,
      sourceTenant: o.source.tenant ?? '',
      target: o.target.url,
      targetTenant: o.target.tenant ?? '',
      selector: selectorText,
      startMs: range.startMs,
      endMs: range.endMs,
      windowMs: o.windowMs,
    };
    const fingerprint = createHash('sha256').update(JSON.stringify(params)).digest('hex');
    const plan = state.plan();
    if (!plan) {
      listed.sort((a, b) => (formatStream(a) < formatStream(b) ? -1 : 1));
      const perUnit = Math.max(1, Math.min(o.streamsPerUnit, Math.ceil(listed.length / o.concurrency)));
      const groups = listed.length
        ? groupStreams(o.selector, listed, perUnit).map((g) => ({
            selector: logQuery(g.matchers),
            streams: g.streams.length,
          }))
        : [];
      state.createPlan(fingerprint, params, groups, range.startMs);
      log.info('logs copy planned', {
        streams: listed.length,
        groups: groups.length,
        windows: (range.endMs - range.startMs) / o.windowMs,
      });
    } else if (plan.fingerprint !== fingerprint) {
      const old = JSON.parse(plan.params) as typeof params;
      throw new StackshiftError(
        'usage',
        `state file ${o.statePath} belongs to another copy (${old.selector} from ${old.source} to ${old.target}, ${new Date(old.startMs).toISOString()}..${new Date(old.endMs).toISOString()}), not this one`,
        {
          hint: 'resume with the same source, target, --selector, --start/--end and --window, or pass a new --state file',
        },
      );
    }
    return await copyStreams(o, state, source, target, range, selectorText, inFlight);
  } finally {
    state?.close();
    await Promise.all([source.close(), target.close()]);
  }
}

async function copyStreams(
  o: LogsCopyOptions,
  state: CopyState,
  source: LokiClient,
  target: LokiClient,
  range: { startMs: number; endMs: number },
  selectorText: string,
  inFlight: AbortSignal | undefined,
): Promise<LogsCopyReport> {
  const runId = state.startRun();
  const t0 = Date.now();
  const groups = state.groups();
  const windowsPerGroup = Math.round((range.endMs - range.startMs) / o.windowMs);
  const unitsTotal = groups.length * windowsPerGroup;
  const before = state.totals();
  let unitsDone = before.unitsDone;
  let runLines = 0;
  let runBytes = 0;
  let redone = 0;
  let failure: unknown;
  const queue = groups.slice();
  const report = () =>
    o.onProgress?.({ unitsDone, unitsTotal, lines: before.lines + runLines, bytes: before.bytes + runBytes });

  const runUnit = async (group: GroupRow, unit: UnitRow) => {
    const u0 = Date.now();
    let lines = 0,
      bytes = 0,
      pushes = 0;
    let batch = new Map<string, { labels: Record<string, string>; entries: LokiEntry[] }>();
    let batchLines = 0;
    let batchBytes = 0;
    const where = `${group.selector} in ${new Date(unit.startMs).toISOString()}..${new Date(unit.endMs).toISOString()}`;
    const flush = async () => {
      if (!batchLines) return;
      try {
        await target.push([...batch.values()], o.encoding);
      } catch (e) {
        if (e instanceof LokiPushError) {
          const r = classifyPushReject(e.status ?? 0, e.bodyExcerpt ?? '');
          throw new StackshiftError(
            `logs-reject-${r.id}`,
            `the target refused lines of ${where} (${r.id}): HTTP ${e.status}: ${firstLine(e.bodyExcerpt ?? '')}`,
            { hint: r.advice },
          );
        }
        throw e;
      }
      pushes++;
      lines += batchLines;
      bytes += batchBytes;
      runLines += batchLines;
      runBytes += batchBytes;
      batch = new Map();
      batchLines = 0;
      batchBytes = 0;
      report();
      if (o.pushDelayMs) await sleep(o.pushDelayMs, inFlight);
    };
    try {
      for await (const pages of readLines(
        source,
        group.selector,
        msToNs(unit.startMs),
        msToNs(unit.endMs),
        o.pageSize,
      )) {
        for (const p of pages) {
          const key = formatStream(p.labels);
          for (const e of p.entries) {
            if (failure) return;
            const size = Buffer.byteLength(e.line) + 16 + (e.metadata ? JSON.stringify(e.metadata).length : 0);
            if (batchLines && (batchBytes + size > o.batchBytes || batchLines >= o.batchLines)) await flush();
            let b = batch.get(key);
            if (!b) {
              b = { labels: p.labels, entries: [] };
              batch.set(key, b);
            }
            b.entries.push(e);
            batchLines++;
            batchBytes += size;
          }
        }
      }
    } catch (e) {
      if (e instanceof HttpError && !(e instanceof LokiPushError)) sourceError(e, `a query for ${where}`);
      throw e;
    }
    await flush();
    state.complete(unit.id, { lines, bytes, pushes, ms: Date.now() - u0 });
    unitsDone++;
    report();
  };

  const stopped = () => failure !== undefined || o.signal?.aborted === true;
  const worker = async () => {
    for (;;) {
      if (stopped()) return;
      const group = queue.shift();
      if (!group) return;
      // a group goes strictly forward in time: Loki refuses lines more than max_chunk_age/2 behind a stream's newest
      const left = state.runningUnit(group.id);
      if (left) {
        state.retry(left.id);
        redone++;
        await runUnit(group, left);
      }
      let cursor = group.cursorMs;
      while (cursor < range.endMs && !stopped()) {
        const unit = state.claim(group.id, cursor, Math.min(cursor + o.windowMs, range.endMs));
        await runUnit(group, unit);
        cursor = unit.endMs;
      }
    }
  };

  report();
  await Promise.all(
    Array.from({ length: Math.max(1, o.concurrency) }, () =>
      worker().catch((e: unknown) => {
        failure ??= e;
      }),
    ),
  );
  const seconds = (Date.now() - t0) / 1000;
  // stopped by the user: a failure then is a request being aborted, and the unit it was in is redone next run
  const interrupted = o.signal?.aborted === true && state.totals().unitsDone < unitsTotal;
  state.finishRun(runId, interrupted ? 'interrupted' : failure ? 'failed' : 'done', runLines, redone);
  if (failure && !interrupted) throw failure;
  const totals = state.totals();
  return {
    source: o.source.url,
    target: o.target.url,
    selector: selectorText,
    range: {
      start: new Date(range.startMs).toISOString(),
      end: new Date(range.endMs).toISOString(),
      windowMs: o.windowMs,
      note: 'windows are (start, end], aligned to multiples of the window since the epoch',
    },
    state: o.statePath,
    streams: totals.streams,
    groups: totals.groups,
    units: { total: unitsTotal, done: totals.unitsDone, redoneAfterCrash: totals.redoneUnits },
    lines: totals.lines,
    bytes: totals.bytes,
    pushes: totals.pushes,
    runs: totals.runs,
    thisRun: {
      lines: runLines,
      seconds: Math.round(seconds * 100) / 100,
      linesPerSecond: seconds > 0 ? Math.round(runLines / seconds) : 0,
    },
    complete: totals.unitsDone === unitsTotal,
    ...(interrupted ? { interrupted: true } : {}),
  };
}
