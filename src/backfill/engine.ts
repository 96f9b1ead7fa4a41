/**
 * The copy itself: planned units read from a SeriesSource, batched, written to a BatchSink, refusals split or
 * counted, windows adapted, units completed in the state. It depends on two small interfaces instead of the HTTP
 * clients (promtool's `cmd/promtool/rules.go` reads through a one-method `queryRangeAPI` the same way), so that
 * split-on-413, fatal refusals and window adaptation are tested with fakes in milliseconds
 * (test/backfill/engine-seams.test.ts); real servers stay for the end-to-end proof. The request halves are in
 * batch.ts; the rest (worker loop, unit, send path, read-back) stays one file of about 400 lines because all of it
 * shares a unit's counts, the fatal error and the stop signal.
 */
import type { RemoteReadQuery, RemoteWriteVersion, StreamOptions, WriteResult } from '../clients/index.js';
import { StackshiftError } from '../errors/index.js';
import { afterGrace, isRetryableError, withRetries, type RetryPolicy } from '../http/index.js';
import { log } from '../log/index.js';
import { redact } from '../redact/index.js';
import {
  encodeWriteRequest,
  encodeWriteRequestV2,
  labelsKey,
  newDecodeStats,
  snappyEncode,
  type Label,
  type Matcher,
  type SeriesSamples,
  type WriteSeries,
} from '../wire/index.js';
import { Batch, splitBatch, splitRefused } from './batch.js';
import { histogramBatches, weightOf } from './histograms.js';
import { RateLimiter, Semaphore, adaptWindow, escapeRegex } from './limits.js';
import { workLeft } from './plan.js';
import type { BackfillParams, RunControl } from './run.js';
import { emptyCounts, seriesHash, type BackfillState, type GroupRow, type UnitCounts } from './state.js';

/** Refusals that no amount of resending fixes and that concern every request: stop at once. */
const FATAL_REJECTS = new Set(['http-401', 'http-403', 'http-404', 'http-405', 'unsupported-media-type']);
const SPLIT_REJECTS = new Set(['request-too-large', 'mimir:distributor-max-write-message-size']);
/** Waits between attempts at a whole unit: about 1 s, then 2 s, ... (the HTTP layer has retried each request already). */
const UNIT_RETRY: RetryPolicy = { baseMs: 1000, maxMs: 10_000, maxRetryAfterMs: 0 };

/** Retries an HTTP transport made, for the report (RemoteReadClient and RemoteWriteClient have one; a fake need not). */
interface Transport {
  readonly http?: { readonly stats: { readonly retries: number } };
}

/**
 * What the engine reads: the series of one remote-read query (inclusive bounds), one at a time. With
 * `opts.reuse` a series' arrays may be reused for the next one. RemoteReadClient is the real source.
 */
export interface SeriesSource extends Transport {
  streamSeries(q: RemoteReadQuery, opts?: StreamOptions): AsyncIterable<SeriesSamples>;
}

/**
 * What the engine writes: one snappy-compressed remote-write request of `version` at a time, answered with what
 * the receiver did (refusals are results, not errors; an error is retried as a whole unit when retryable).
 * RemoteWriteClient is the real sink.
 */
export interface BatchSink extends Transport {
  readonly version: RemoteWriteVersion;
  send(body: Uint8Array, opts?: { signal?: AbortSignal }): Promise<WriteResult>;
}

/** The engine's tuning is the backfill's (BACKFILL_DEFAULTS); the range is the plan's, resumed or new. */
type Tuning = Pick<
  BackfillParams,
  | 'responseType'
  | 'readConcurrency'
  | 'writeConcurrency'
  | 'batchSamples'
  | 'readRate'
  | 'writeRate'
  | 'minWindowMs'
  | 'maxWindowMs'
  | 'unitSamples'
>;

export interface EngineOptions extends RunControl, Tuning {
  state: BackfillState;
  reader: SeriesSource;
  writer: BatchSink;
  selectors: Matcher[][];
  startMs: number;
  /** Exclusive. */
  endMs: number;
  /** Labels the source adds to every series (global.external_labels) and whether to keep them. */
  externalLabels: { labels: Label[]; keep: boolean };
  unitAttempts?: number;
  /**
   * Remote read of the target: after a unit's writes, its series and sample counts are read back, and a unit
   * the target holds fewer of is redone (then reported as `readback-mismatch` if it is still short).
   */
  readBack?: { reader: SeriesSource; externalLabels: Label[] };
  /** Most requests one refused request may be split into to re-send its acceptable part (receivers that keep nothing of a refused request). */
  splitBudget?: number;
}

export interface EngineResult {
  units: number;
  redoneUnits: number;
  /** Units that completed with rejects in an earlier run and were sent again in this one. */
  retriedRejectedUnits: number;
  /** Units whose read-back was short and which were written again. */
  readbackRedos: number;
  samples: number;
  series: number;
  bytes: number;
  requests: number;
  retries: number;
  ms: number;
  /** The signal stopped the run before every unit was done. */
  interrupted: boolean;
}

interface Unit {
  id: number;
  group: GroupRow;
  startMs: number;
  endMs: number;
  redo: boolean;
}

/** The target holds fewer samples of a unit than were written: the unit is written again. */
class ReadbackShort extends Error {
  constructor(
    readonly missing: number,
    readonly missingSeries: number,
    readonly detail: string,
  ) {
    super(`read-back short by ${missing} samples in ${missingSeries} series (${detail})`);
  }
}

/**
 * Copies the planned units: each unit is one remote-read query (a name group x a half-open time window),
 * streamed series by series into remote-write batches. Reading pauses while `writeConcurrency` requests are
 * in flight, so memory holds at most that many batches plus one series per reading unit, however large
 * the history.
 */
export class BackfillEngine {
  private readonly o: EngineOptions;
  private readonly groups: GroupRow[];
  private readonly matchersByGroup = new Map<number, Matcher[]>();
  private readonly redo: Unit[];
  private rr = 0;
  private readonly writeSlots: Semaphore;
  private readonly readLimiter?: RateLimiter;
  private readonly writeLimiter?: RateLimiter;
  private fatal: unknown;
  private readonly dropExternal: Map<string, string>;
  private runSamples = 0;
  private unitRetries = 0;
  private coveredMs = 0;
  private unitsDone = 0;
  private readonly totalMs: number;
  private readonly batches: Batch[] = [];
  private readonly retriedRejected: number;
  private readbackRedos = 0;
  /** Aborts requests in flight, a grace period after the stop signal. */
  private readonly hard?: AbortSignal;

  constructor(o: EngineOptions) {
    this.o = o;
    this.hard = afterGrace(o.signal, o.graceMs);
    this.groups = o.state.groups();
    for (const g of this.groups) {
      const names = JSON.parse(g.names) as string[];
      this.matchersByGroup.set(g.id, [
        ...o.selectors[g.selector],
        { type: 'RE', name: '__name__', value: names.map(escapeRegex).join('|') },
      ]);
    }
    const byId = new Map(this.groups.map((g) => [g.id, g]));
    // units refused in part by an earlier run are sent again: the user may have fixed the receiver since
    this.retriedRejected = o.state.requeueRejectedUnits();
    if (this.retriedRejected)
      log.info('re-sending units that the target refused in part in an earlier run', { units: this.retriedRejected });
    this.redo = o.state
      .runningUnits()
      .map((u) => ({ id: u.id, group: byId.get(u.group_id)!, startMs: u.start_ms, endMs: u.end_ms, redo: true }));
    this.writeSlots = new Semaphore(o.writeConcurrency);
    if (o.readRate) this.readLimiter = new RateLimiter(o.readRate);
    if (o.writeRate) this.writeLimiter = new RateLimiter(o.writeRate);
    this.dropExternal = new Map(o.externalLabels.keep ? [] : o.externalLabels.labels.map((l) => [l.name, l.value]));
    this.totalMs = this.groups.length * (o.endMs - o.startMs);
    const t = o.state.totals();
    this.coveredMs = t.coveredMs;
    this.unitsDone = t.unitsDone;
  }

  private nextUnit(): Unit | undefined {
    if (this.fatal || this.o.signal?.aborted) return undefined;
    const r = this.redo.shift();
    if (r) {
      this.o.state.retryUnit(r.id);
      return r;
    }
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[(this.rr + i) % this.groups.length];
      if (g.cursor_ms >= this.o.endMs) continue;
      this.rr = (this.rr + i + 1) % this.groups.length;
      const startMs = g.cursor_ms;
      const endMs = Math.min(this.o.endMs, startMs + g.window_ms);
      const id = this.o.state.claimUnit(g.id, startMs, endMs);
      g.cursor_ms = endMs;
      return { id, group: g, startMs, endMs, redo: false };
    }
    return undefined;
  }

  async run(): Promise<EngineResult> {
    const t0 = Date.now();
    const redone = this.redo.length;
    let units = 0;
    const worker = async () => {
      for (let u = this.nextUnit(); u; u = this.nextUnit()) {
        const unit = u;
        const attempts = this.o.unitAttempts ?? 3;
        try {
          // Retried with the same response type, never switched to SAMPLES: Prometheus before 2.45 leaves native
          // histograms out of SAMPLES responses without a word, and a unit cannot know it holds none before
          // it has read them. A unit that keeps failing stops the run (resumable) instead.
          await withRetries(
            async (a) => {
              const c = await this.runUnit(unit);
              if (this.o.readBack && c.written && c.rejectedRequests === 0) {
                const short = await this.readBack(unit, c.written);
                if (short && a < attempts) throw short;
                // still short after the redos: reported, and redone by the next run (a unit with rejects is)
                if (short) this.reject(c, 'readback-mismatch', short.missing, short.message);
              }
              c.written = undefined;
              this.o.state.completeUnit(unit.id, c);
              this.adapt(unit, c.samples);
              units++;
              this.runSamples += c.samples;
              this.coveredMs += unit.endMs - unit.startMs;
              this.unitsDone++;
              this.o.onProgress?.({
                coveredMs: this.coveredMs,
                totalMs: this.totalMs,
                samples: this.runSamples,
                unitsDone: this.unitsDone,
              });
            },
            {
              attempts,
              policy: UNIT_RETRY,
              signal: this.hard,
              isRetryable: (e) =>
                !this.fatal && !this.o.signal?.aborted && (e instanceof ReadbackShort || isRetryableError(e)),
              onRetry: (e, a) => {
                if (e instanceof ReadbackShort) this.readbackRedos++;
                log.warn(
                  e instanceof ReadbackShort
                    ? 'the target holds fewer samples than were written; writing the unit again'
                    : 'unit failed, retrying',
                  { unit: unit.id, attempt: a, error: (e as Error).message },
                );
                this.o.state.retryUnit(unit.id);
                this.unitRetries++;
              },
            },
          );
        } catch (e) {
          // stopped by the user: the unit stays 'running' and the next run redoes it (re-sent samples are idempotent)
          if (this.o.signal?.aborted && !this.fatal) return;
          this.fatal ??= e;
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: this.o.readConcurrency }, worker));
    if (this.fatal) throw this.fatal;
    const ms = Date.now() - t0;
    const t = this.o.state.totals();
    return {
      units,
      redoneUnits: redone,
      retriedRejectedUnits: this.retriedRejected,
      readbackRedos: this.readbackRedos,
      samples: this.runSamples,
      series: t.series,
      bytes: t.bytes,
      requests: t.requests,
      retries: (this.o.writer.http?.stats.retries ?? 0) + (this.o.reader.http?.stats.retries ?? 0) + this.unitRetries,
      ms,
      interrupted: this.o.signal?.aborted === true && workLeft(this.o.state, this.groups, this.o.endMs),
    };
  }

  /** The group's next window after this unit (see adaptWindow), persisted. */
  private adapt(u: Unit, samples: number): void {
    const g = u.group;
    const next = adaptWindow(g.window_ms, u.endMs - u.startMs, samples, this.o);
    if (next !== g.window_ms) {
      g.window_ms = next;
      this.o.state.setWindow(g.id, next);
    }
  }

  private transformLabels(labels: Label[]): Label[] {
    if (this.dropExternal.size === 0) return labels;
    // Prometheus adds an external label only where the series lacks it, so drop exact name=value matches only
    return labels.filter((l) => this.dropExternal.get(l.name) !== l.value);
  }

  private takeBatch(): Batch {
    return this.batches.pop() ?? new Batch(this.o.batchSamples);
  }

  private async runUnit(u: Unit): Promise<UnitCounts> {
    const c = emptyCounts();
    const t0 = Date.now();
    const matchers = this.matchersByGroup.get(u.group.id)!;
    const pending = new Set<Promise<void>>();
    let unitError: unknown;
    let batch = this.takeBatch();
    const flush = async () => {
      const b = batch;
      batch = this.takeBatch();
      if (this.writeLimiter) await this.writeLimiter.take(b.n, this.hard);
      await this.writeSlots.acquire();
      const p = this.sendBatch(b.series, b.n, c)
        .catch((e) => {
          unitError ??= e;
        })
        .finally(() => {
          this.writeSlots.release();
          pending.delete(p);
          b.reset();
          this.batches.push(b);
        });
      pending.add(p);
    };
    const stats = newDecodeStats();
    if (this.o.readBack) c.written = new Map();
    try {
      for await (const s of this.o.reader.streamSeries(
        { startMs: u.startMs, endMs: u.endMs - 1, matchers },
        { responseType: this.o.responseType, stats, reuse: true, signal: this.hard },
      )) {
        if (unitError || this.fatal) break;
        const labels = this.transformLabels(s.labels);
        const n = s.timestamps.length;
        const hn = s.histograms?.length ?? 0;
        c.histogramSamples += hn;
        c.unknownChunks += s.unknownChunks ?? 0;
        if (n === 0 && hn === 0) continue;
        c.series++;
        const key = labelsKey(labels);
        c.seriesHashes.push(seriesHash(key));
        c.written?.set(key, (c.written.get(key) ?? 0) + n + hn);
        c.samples += n;
        if (hn) {
          // native histograms go in entries of their own, weighted by encoded size (see histograms.ts)
          for (const part of histogramBatches(labels, s.histograms!, this.o.batchSamples, batch.n)) {
            if (this.readLimiter) await this.readLimiter.take(part.weight, this.hard);
            batch.addEntry(part.series, part.weight);
            if (batch.n >= this.o.batchSamples) await flush();
          }
          if (n === 0) continue;
        }
        if (this.readLimiter) await this.readLimiter.take(n, this.hard);
        let off = 0;
        while (off < n) {
          const take = Math.min(n - off, this.o.batchSamples - batch.n);
          batch.add(labels, s.timestamps, s.values, off, off + take);
          off += take;
          // the series' arrays are reused by the reader once we ask for the next one, so they are copied above
          if (batch.n >= this.o.batchSamples) await flush();
        }
      }
      if (batch.n > 0 && !unitError) await flush();
    } finally {
      await Promise.all(pending);
      batch.reset();
      this.batches.push(batch);
    }
    if (unitError) throw unitError;
    if (this.fatal) throw this.fatal;
    c.ms = Date.now() - t0;
    return c;
  }

  private encode(series: WriteSeries[]): Buffer {
    return snappyEncode(this.o.writer.version === '2.0' ? encodeWriteRequestV2(series) : encodeWriteRequest(series));
  }

  private async sendBatch(
    batch: WriteSeries[],
    n: number,
    c: UnitCounts,
    budget = { left: this.o.splitBudget ?? Math.min(256, 2 * n) },
  ): Promise<void> {
    const body = this.encode(batch);
    const r: WriteResult = await this.o.writer.send(body, { signal: this.hard });
    c.requests++;
    c.bytes += body.length;
    if (r.outcome === 'ok') {
      const sent = r.written ? weightOf(batch) : undefined;
      if (r.written && sent && (r.written.samples !== sent.samples || r.written.histograms !== sent.histograms)) {
        log.warn('receiver wrote fewer samples than sent', {
          sent: sent.samples,
          written: r.written.samples,
          sentHistograms: sent.histograms,
          writtenHistograms: r.written.histograms,
        });
        this.reject(
          c,
          'written-count-mismatch',
          Math.max(0, sent.samples - r.written.samples) + Math.max(0, sent.histograms - r.written.histograms),
          `sent ${sent.samples} samples and ${sent.histograms} histograms, X-Prometheus-Remote-Write-Samples-Written ${r.written.samples}, -Histograms-Written ${r.written.histograms}`,
        );
      }
      return;
    }
    const id = r.reject!.id;
    if (FATAL_REJECTS.has(id)) {
      this.fatal ??= new StackshiftError(
        'target',
        `the target refused a remote-write request (HTTP ${r.status}, ${id}): ${redact(r.message ?? '')}`,
        { hint: r.reject!.advice },
      );
      return;
    }
    // Too large: halve and resend. Refused by a receiver that keeps nothing of a refused request (Prometheus's
    // remote write 1.0 rolls the whole append back): bisect, so that one bad sample does not cost its neighbours;
    // re-sent samples are idempotent. The budget bounds the extra requests when most of a request is bad.
    const tooLarge = SPLIT_REJECTS.has(id);
    const halves =
      n > 1 && (tooLarge || (r.kept !== 'rest' && budget.left >= 2))
        ? tooLarge
          ? splitBatch(batch, n)
          : splitRefused(batch, n)
        : undefined;
    if (halves) {
      if (!tooLarge) budget.left -= 2;
      const [a, b] = halves;
      await this.sendBatch(a.batch, a.n, c, budget);
      await this.sendBatch(b.batch, b.n, c, budget);
      return;
    }
    // what is known not to be stored: the *-Written headers say; else the request (Mimir: an upper bound)
    const refused = r.written ? Math.max(0, n - r.written.samples - r.written.histograms) : n;
    this.reject(c, id, refused, r.message);
  }

  /** Reads the unit back from the target; a ReadbackShort when any written series holds fewer samples there. */
  private async readBack(u: Unit, written: Map<string, number>): Promise<ReadbackShort | undefined> {
    const rb = this.o.readBack!;
    const targetExternal = new Map(rb.externalLabels.map((l) => [l.name, l.value]));
    // matchers on labels the copy dropped would match nothing on the target
    const matchers = this.matchersByGroup.get(u.group.id)!.filter((m) => !this.dropExternal.has(m.name));
    const got = new Map<string, number>();
    try {
      for await (const s of rb.reader.streamSeries(
        { startMs: u.startMs, endMs: u.endMs - 1, matchers },
        { responseType: this.o.responseType, stats: newDecodeStats(), signal: this.hard },
      )) {
        // the target adds its own external labels to what it serves; the copy did not write them
        const labels = targetExternal.size ? s.labels.filter((l) => targetExternal.get(l.name) !== l.value) : s.labels;
        const key = labelsKey(labels);
        got.set(key, (got.get(key) ?? 0) + s.timestamps.length + (s.histograms?.length ?? 0));
      }
    } catch (e) {
      if (isRetryableError(e) || this.hard?.aborted) throw e;
      throw new StackshiftError('target', `cannot read the copy back from the target: ${(e as Error).message}`, {
        hint: 'pass --target-read-url with the Prometheus API of the target (Mimir: .../prometheus), or --no-readback for a write-only target',
        cause: e,
      });
    }
    let missing = 0;
    let missingSeries = 0;
    let example = '';
    for (const [key, n] of written) {
      const have = got.get(key) ?? 0;
      if (have < n) {
        missing += n - have;
        missingSeries++;
        example ||= `${key}: ${have} of ${n}`;
      }
    }
    return missing
      ? new ReadbackShort(
          missing,
          missingSeries,
          `${new Date(u.startMs).toISOString()} .. ${new Date(u.endMs).toISOString()}, e.g. ${example}`,
        )
      : undefined;
  }

  private reject(c: UnitCounts, cls: string, samples: number, example?: string): void {
    c.rejectedRequests++;
    c.rejectedSamples += samples;
    // a receiver may echo the request headers in its refusal: never store a credential
    const e = c.rejects.get(cls) ?? {
      requests: 0,
      samples: 0,
      example: example === undefined ? undefined : redact(example),
    };
    e.requests++;
    e.samples += samples;
    c.rejects.set(cls, e);
  }
}
