/**
 * `backfill metrics` as one call: its parameters, their defaults, and runBackfill, which builds the clients and
 * runs the steps in order (probe the source, estimate or plan, preflight, copy, report). Each step is done
 * elsewhere (endpoints.ts, plan.ts, preflight.ts, estimate.ts, engine.ts, report.ts), as vmctl's `main.go`
 * builds what `remoteread.go` runs, so that this file reads as the order of a backfill and nothing else.
 */
import { existsSync } from 'node:fs';
import {
  PrometheusClient,
  RemoteReadClient,
  RemoteWriteClient,
  keptOnRefusal,
  type ReceiverKind,
  type RemoteWriteVersion,
} from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { UsageError } from '../errors/index.js';
import { HttpClient, HttpError, afterGrace } from '../http/index.js';
import { log } from '../log/index.js';
import { formatMatchers, parseSelector } from '../promql/index.js';
import type { Matcher } from '../wire/index.js';
import { BackfillEngine } from './engine.js';
import { checkEndpointUrl, externalLabels, receiverKind, retriesOf, sourcePaths, targetPaths } from './endpoints.js';
import { estimate } from './estimate.js';
import { fingerprint, planGroups, plannedNames, resumedRange, runStopped, type Shard } from './plan.js';
import { openReadBack, preflight } from './preflight.js';
import { externalAdvice, fillTotals, probeAdvice, reportRange, runFigures, type BackfillReport } from './report.js';
import { noteRestartRisk, readReceiver } from './restart-risk.js';
import { BackfillState, assertSamePlan } from './state.js';

/** How far a run has got, as `onProgress` is told after each unit. */
export interface RunProgress {
  coveredMs: number;
  totalMs: number;
  samples: number;
  unitsDone: number;
}

/** How a caller follows and stops a long run: `backfill metrics`, `backfill blocks` and the engine take the same. */
export interface RunControl {
  onProgress?: (p: RunProgress) => void;
  /**
   * Stops the run (Ctrl-C): no unit starts once it aborts; units in flight get `graceMs` (default STOP_GRACE_MS)
   * before their requests are aborted, and stay 'running' for the next run to redo (backfill blocks also removes
   * their half-written blocks). The run is recorded as 'interrupted' and the report returned with `interrupted`
   * set. Re-running with the same state resumes.
   */
  signal?: AbortSignal;
  graceMs?: number;
}

/** What `backfill metrics` and `backfill blocks` both take: the source, what to copy from it, and where the state lives. */
export interface CopyParams extends RunControl {
  source: ResolvedEndpoint;
  /** Remote-read path under the source URL; default /api/v1/read (Mimir: /prometheus/api/v1/read). */
  sourceReadPath?: string;
  selectors: string[];
  startMs: number;
  /** Exclusive. */
  endMs: number;
  /** --start/--end were relative (30d, now): on resume, the plan's stored range wins. */
  relativeRange?: boolean;
  keepExternalLabels: boolean;
  shard?: Shard;
  readConcurrency: number;
  statePath: string;
  retries: number;
}

export interface BackfillParams extends CopyParams {
  target: ResolvedEndpoint;
  /** Where to read the probe back (Prometheus API base); derived from the target URL when absent. */
  targetReadUrl?: string;
  remoteWriteVersion: RemoteWriteVersion;
  responseType: 'streamed' | 'samples';
  writeConcurrency: number;
  batchSamples: number;
  readRate?: number;
  writeRate?: number;
  windowMs: number;
  minWindowMs: number;
  maxWindowMs: number;
  unitSamples: number;
  namesPerGroup: number;
  dryRun: boolean;
  preflight: boolean;
  /**
   * Delete the preflight probe through the target's admin API afterwards. Off by default: on Prometheus 2.42 a
   * delete_series followed by a restart lost an hour of other series' samples in our tests.
   */
  deleteProbe?: boolean;
  /** Read each unit back from the target and redo it when short (default on where the target can be read). */
  readBack?: boolean;
}

/** Tuning defaults of a backfill: what the CLI applies when a flag is absent, and what library callers start from. */
export const BACKFILL_DEFAULTS = {
  keepExternalLabels: true,
  remoteWriteVersion: '1.0',
  responseType: 'streamed',
  readConcurrency: 2,
  writeConcurrency: 4,
  batchSamples: 20_000,
  windowMs: 24 * 3_600_000,
  minWindowMs: 60_000,
  maxWindowMs: 7 * 86_400_000,
  unitSamples: 2_000_000,
  namesPerGroup: 20,
  dryRun: false,
  preflight: true,
  retries: 10,
} as const satisfies Partial<BackfillParams>;

/** Clock skew allowed for --end beyond now: a sample from the future would move a Prometheus head past every live write. */
export const FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Unit windows safe for a receiver kind. A Prometheus TSDB appends in order what lies within half a block range
 * (1 h) of its head's newest sample and sends the rest through its out-of-order head; with 24 h windows nearly
 * every sample of a backfill is out of order, and Prometheus 2.42 was seen to lose thousands of them while
 * compacting that head (204 to every request). Windows of 30 min (at most 1 h) keep the appends in order.
 * (Here, not in endpoints.ts: it falls back to BACKFILL_DEFAULTS, and the defaults stay one table.)
 */
export function receiverDefaults(kind: ReceiverKind): { windowMs: number; maxWindowMs: number } {
  return kind === 'prometheus'
    ? { windowMs: 30 * 60_000, maxWindowMs: 3_600_000 }
    : { windowMs: BACKFILL_DEFAULTS.windowMs, maxWindowMs: BACKFILL_DEFAULTS.maxWindowMs };
}

/** Copies (or, with dryRun, estimates) every raw sample of the selectors in [startMs, endMs). */
export async function runBackfill(p: BackfillParams): Promise<BackfillReport> {
  // 1. refuse bad input before anything is opened
  const selectors: Matcher[][] = p.selectors.map((s) => parseSelector(s));
  if (!(p.endMs > p.startMs))
    throw new UsageError(
      `--start (${new Date(p.startMs).toISOString()}) must be before --end (${new Date(p.endMs).toISOString()})`,
    );
  // the probe goes to --start and the copy up to --end: neither may lie in the future, where a Prometheus target
  // would move its head past every live write ("too old sample" from then on)
  if (p.endMs > Date.now() + FUTURE_SKEW_MS) {
    throw new UsageError(
      `--end ${new Date(p.endMs).toISOString()} is in the future: a backfill copies history, and a sample written ahead of now would make a Prometheus target refuse every present-day write`,
      'use --end now or an earlier time (Unix seconds, not milliseconds)',
    );
  }
  checkEndpointUrl(p.source, 'source');
  checkEndpointUrl(p.target, 'target');

  // 2. clients; a stopped run lets requests in flight finish for a grace period, then aborts them
  const sp = sourcePaths(p.source, p.sourceReadPath);
  const tp = targetPaths(p.target, p.targetReadUrl);
  const inFlight = afterGrace(p.signal, p.graceMs);
  const srcHttp = new HttpClient(retriesOf(p.source, p.retries), {
    connections: p.readConcurrency + 2,
    signal: inFlight,
  });
  const apiHttp = new HttpClient(retriesOf(p.source, Math.min(p.retries, 2), sp.apiBase), { signal: inFlight });
  const tgtHttp = new HttpClient(retriesOf(p.target, p.retries, tp.base), {
    connections: p.writeConcurrency + 1,
    signal: inFlight,
  });
  const api = new PrometheusClient(apiHttp);
  const reader = new RemoteReadClient(srcHttp, { path: sp.readPath });
  const receiver = receiverKind(p.target, tp.path);
  const writer = new RemoteWriteClient(tgtHttp, { path: tp.path, version: p.remoteWriteVersion, receiver });
  const readBackOn = !p.dryRun && p.readBack !== false && tp.readUrl !== undefined;
  const rbHttp = readBackOn
    ? new HttpClient(retriesOf(p.target, p.retries, tp.readUrl), {
        connections: p.readConcurrency + 1,
        signal: inFlight,
      })
    : undefined;
  let state: BackfillState | undefined;
  try {
    // 3. the source must be a Prometheus-compatible API; learn its version and external labels
    const build = await api.buildInfo().catch((e) => {
      if (e instanceof HttpError && e.status === 404)
        throw new HttpError(
          'protocol',
          p.source.url,
          `${p.source.url} has no Prometheus API (GET ${sp.apiBase}/api/v1/status/buildinfo: HTTP 404)`,
          { hint: 'point --source-url at Prometheus, or at Mimir with --from <mimir endpoint> (type: mimir)' },
        );
      throw e;
    });
    const ext = await externalLabels(api);
    // a Prometheus receiver's version and out-of-order window: some lose acknowledged samples at a restart
    const receiverFacts =
      receiver === 'prometheus' && tp.readUrl ? await readReceiver(p.target, tp.readUrl) : undefined;
    const report: BackfillReport = {
      kind: p.dryRun ? 'dry-run' : 'backfill',
      source: { url: p.source.url, readPath: sp.readPath, version: build.version },
      target: {
        url: tp.base + tp.path,
        path: tp.path,
        tenant: p.target.tenant,
        remoteWrite: p.remoteWriteVersion,
        readUrl: tp.readUrl,
        receiver,
        keptOnRefusal: keptOnRefusal(receiver),
        version: receiverFacts?.version,
      },
      range: reportRange(p.startMs, p.endMs),
      selectors: selectors.map(formatMatchers),
      shard: p.shard,
      externalLabels: {
        labels: Object.fromEntries(ext.map((l) => [l.name, l.value])),
        action: p.keepExternalLabels ? 'kept' : 'dropped',
      },
      plan: { groups: 0, names: 0, units: 0, unitsDone: 0, resumed: false, runs: 0 },
      totals: { series: 0, samples: 0, bytes: 0, requests: 0, histogramSamples: 0, unknownChunks: 0 },
      rejects: [],
      advice: [],
    };

    // 4. --dry-run: an estimate from sampled windows, nothing planned or written
    if (p.dryRun) {
      report.estimate = await estimate(reader, selectors, p);
      report.advice.push(...externalAdvice(ext, p.keepExternalLabels));
      noteRestartRisk(report, receiverFacts);
      return report;
    }

    // 5. resume or plan; a new state file is created only after the preflight passed, so bad input writes nothing
    const fp = fingerprint(p, sp, tp);
    let preflightDone = false;
    if (!existsSync(p.statePath) && p.preflight) {
      report.preflight = await preflight(writer, tp.readUrl, p, p.startMs);
      preflightDone = true;
    }
    state = new BackfillState(p.statePath);
    assertSamePlan(state, fp.hash, fp.describe);
    const existing = state.plan();
    const { startMs, endMs } = resumedRange(existing, p);
    if (existing) {
      report.plan.resumed = true;
      log.info('resuming backfill', {
        state: p.statePath,
        range: `${new Date(startMs).toISOString()} .. ${new Date(endMs).toISOString()}`,
      });
    }
    report.range = reportRange(startMs, endMs);

    // 6. preflight: one probe sample at the oldest timestamp, read back, before hours are spent
    if (p.preflight && !existing && !preflightDone) report.preflight = await preflight(writer, tp.readUrl, p, startMs);

    // 7. a new plan: the metric names in the range, in groups of namesPerGroup
    if (!existing) {
      const plan = await planGroups(api, selectors, startMs, endMs, p.shard, p.namesPerGroup);
      if (plan.names === 0)
        log.warn('no series match the selectors in the range (on this shard): nothing to copy', {
          selectors: p.selectors.join(' '),
        });
      state.createPlan(
        fp.hash,
        { describe: fp.describe, startMs, endMs, selectors: p.selectors, shard: p.shard },
        plan.groups,
        startMs,
        p.windowMs,
      );
    }
    const groups = state.groups();
    report.plan.groups = groups.length;
    report.plan.names = plannedNames(groups);

    // 8. the read-back: the target must serve remote read before any unit is written
    const readBack = rbHttp ? await openReadBack(rbHttp, tp.readUrl!, startMs, p) : undefined;
    report.readBack = {
      enabled: Boolean(readBack),
      url: readBack ? `${tp.readUrl}/api/v1/read` : undefined,
      redoneUnits: 0,
    };

    // 9. the copy
    const runId = state.startRun();
    const engine = new BackfillEngine({
      state,
      reader,
      writer,
      selectors,
      startMs,
      endMs,
      responseType: p.responseType,
      externalLabels: { labels: ext, keep: p.keepExternalLabels },
      readConcurrency: p.readConcurrency,
      writeConcurrency: p.writeConcurrency,
      batchSamples: p.batchSamples,
      readRate: p.readRate,
      writeRate: p.writeRate,
      minWindowMs: p.minWindowMs,
      maxWindowMs: p.maxWindowMs,
      unitSamples: p.unitSamples,
      readBack,
      onProgress: p.onProgress,
      signal: p.signal,
      graceMs: p.graceMs,
    });
    let res;
    try {
      res = await engine.run();
    } catch (e) {
      const t = state.totals();
      state.finishRun(runId, 'failed', 0, 0, 0);
      throw runStopped('backfill', 'units', t, p.statePath, e);
    }
    // stopped by the user: neither failed nor done; the next run resumes from the units left
    state.finishRun(runId, res.interrupted ? 'interrupted' : 'done', res.samples, res.units, res.redoneUnits);

    // 10. the report: totals of every run so far, this run's figures, advice
    if (res.interrupted) report.interrupted = true;
    fillTotals(report, state.totals(), state.runs());
    report.run = runFigures(res);
    report.readBack.redoneUnits = res.readbackRedos;
    report.advice.push(...externalAdvice(ext, p.keepExternalLabels), ...probeAdvice(report));
    noteRestartRisk(report, receiverFacts);
    return report;
  } finally {
    state?.close();
    await Promise.all([srcHttp.close(), apiHttp.close(), tgtHttp.close(), rbHttp?.close()]);
  }
}
