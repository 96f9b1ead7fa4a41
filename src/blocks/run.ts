// Why one file of about 400 lines: the run loop of `backfill blocks` (plan, units per block, chunk stream into the
// block writer, commit per block, resume) reads as one sequence; its parts live in the other files of this folder.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BackfillState,
  assertSamePlan,
  emptyCounts,
  escapeRegex,
  externalLabels,
  peakRss,
  planGroups,
  planHash,
  plannedNames,
  resumedRange,
  retriesOf,
  runStopped,
  seriesHash,
  shardKey,
  slices,
  sourcePaths,
  workLeft,
  type CopyParams,
  type GroupRow,
  type UnitCounts,
} from '../backfill/index.js';
import { PrometheusClient } from '../clients/index.js';
import { UsageError } from '../errors/index.js';
import { HttpClient, afterGrace } from '../http/index.js';
import { log } from '../log/index.js';
import { formatMatchers, parseSelector } from '../promql/index.js';
import { SampleBuffer, type Matcher } from '../wire/index.js';
import { BlockWriter, existingBlock, type WrittenBlock } from './block-writer.js';
import { MimirBlockUploader } from './mimir-upload.js';
import { chunksForBlock, streamRawSeries } from './source.js';
import type { BlocksReport, BlocksTarget } from './report.js';
import { ulidFrom } from './ulid.js';

export interface BlocksParams extends CopyParams {
  target: BlocksTarget;
  blockDurationMs: number;
  namesPerQuery: number;
  /** Mimir: time between validation polls, and the longest wait. */
  uploadPollMs: number;
  validationTimeoutMs: number;
  /** Mimir: keep staged blocks after a successful upload. */
  keepStaged: boolean;
}

export const BLOCKS_DEFAULTS = {
  keepExternalLabels: true,
  readConcurrency: 2,
  namesPerQuery: 200,
  retries: 10,
  uploadPollMs: 5_000,
  validationTimeoutMs: 30 * 60_000,
  keepStaged: false,
} as const satisfies Partial<BlocksParams>;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The default block range per target: Prometheus's own 2h; Mimir's compactor refuses blocks crossing its (24h) range. */
export function defaultBlockDuration(kind: BlocksTarget['kind']): number {
  return kind === 'mimir' ? DAY_MS : 2 * HOUR_MS;
}

/** Where the block for a unit starting at `cursor` ends: the next multiple of the duration since the epoch (UTC midnight for 24h). */
export function blockEnd(cursor: number, durationMs: number, endMs: number): number {
  return Math.min(endMs, (Math.floor(cursor / durationMs) + 1) * durationMs);
}

function targetLocation(t: BlocksTarget): string {
  return t.kind === 'mimir' ? `${t.endpoint.url}${t.endpoint.tenant ? ` tenant ${t.endpoint.tenant}` : ''}` : t.dir;
}

/** Where blocks are written before they are visible: the target dir itself, or Mimir's staging dir. */
function blockParent(t: BlocksTarget): string {
  return t.kind === 'mimir' ? t.stagingDir : t.dir;
}

function checkTarget(t: BlocksTarget): void {
  if (t.kind === 'prometheus-data-dir') {
    const looksLikeData = ['wal', 'chunks_head', 'lock', 'queries.active'].some((f) => existsSync(join(t.dir, f)));
    if (!looksLikeData)
      throw new UsageError(
        `--prometheus-data-dir ${t.dir} does not look like a Prometheus data directory (no wal/, chunks_head/ or lock)`,
        'point it at the directory given to --storage.tsdb.path, or use --out DIR for blocks anywhere',
      );
  }
}

interface Unit {
  id: number;
  group: GroupRow;
  startMs: number;
  endMs: number;
}

/** Copies the selected history into TSDB blocks, one unit of work per (selector, block range), resumably. */
export async function runBlocks(p: BlocksParams): Promise<BlocksReport> {
  const selectors: Matcher[][] = p.selectors.map((s) => parseSelector(s));
  if (!(p.endMs > p.startMs))
    throw new UsageError(
      `--start (${new Date(p.startMs).toISOString()}) must be before --end (${new Date(p.endMs).toISOString()})`,
    );
  if (!(p.blockDurationMs >= 60_000)) throw new UsageError('--block-duration must be at least 1m');
  if (p.target.kind === 'mimir' && DAY_MS % p.blockDurationMs !== 0)
    throw new UsageError(
      `--block-duration ${p.blockDurationMs / HOUR_MS}h does not divide a day: Mimir's compactor refuses blocks that cross its 24h range`,
      'use 24h (the default for --mimir-url), 12h, 6h or 2h',
    );
  checkTarget(p.target);
  const sp = sourcePaths(p.source, p.sourceReadPath);
  const inFlight = afterGrace(p.signal, p.graceMs);
  const srcHttp = new HttpClient(retriesOf(p.source, p.retries), {
    connections: p.readConcurrency + 2,
    signal: inFlight,
  });
  const apiHttp = new HttpClient(retriesOf(p.source, Math.min(p.retries, 2), sp.apiBase), { signal: inFlight });
  const mimirHttp =
    p.target.kind === 'mimir'
      ? new HttpClient(retriesOf(p.target.endpoint, p.retries), { signal: inFlight })
      : undefined;
  const api = new PrometheusClient(apiHttp);
  let state: BackfillState | undefined;
  try {
    const build = await api.buildInfo();
    const ext = await externalLabels(api);
    const drop = new Map(p.keepExternalLabels ? [] : ext.map((l) => [l.name, l.value]));
    const key = {
      kind: 'blocks',
      source: p.source.url + sp.readPath,
      target: `${p.target.kind}:${targetLocation(p.target)}`,
      selectors: p.selectors,
      shard: shardKey(p.shard),
      keepExternal: p.keepExternalLabels,
      blockMs: p.blockDurationMs,
    };
    const describe = `blocks ${key.source} -> ${key.target}, ${p.selectors.join(' ')}${key.shard ? `, shard ${key.shard}` : ''}, ${p.blockDurationMs / HOUR_MS}h blocks`;
    const fp = planHash(key);

    state = new BackfillState(p.statePath);
    assertSamePlan(state, fp, describe);
    const existing = state.plan();
    const { startMs, endMs, stored } = resumedRange<{ startMs: number; endMs: number; createdMs: number }>(existing, p);
    let createdMs: number;
    if (stored) {
      createdMs = stored.createdMs;
      log.info('resuming backfill blocks', { state: p.statePath });
    } else {
      createdMs = Date.now();
      // one group per selector: a unit is a block range, and its queries take namesPerQuery names at a time
      const plan = await planGroups(api, selectors, startMs, endMs, p.shard, Infinity);
      if (plan.names === 0)
        log.warn('no series match the selectors in the range (on this shard): no blocks to write', {
          selectors: p.selectors.join(' '),
        });
      state.createPlan(
        fp,
        {
          describe,
          startMs,
          endMs,
          selectors: p.selectors,
          shard: p.shard,
          createdMs,
          blockDurationMs: p.blockDurationMs,
        },
        plan.groups,
        startMs,
        p.blockDurationMs,
      );
    }
    const groups = state.groups();
    const byId = new Map(groups.map((g) => [g.id, g]));
    const redo: Unit[] = state
      .runningUnits()
      .map((u) => ({ id: u.id, group: byId.get(u.group_id)!, startMs: u.start_ms, endMs: u.end_ms }));
    const resumed = Boolean(existing);
    const redoneUnits = redo.length;
    const runId = state.startRun();
    const uploader = mimirHttp
      ? new MimirBlockUploader(mimirHttp, {
          pollMs: p.uploadPollMs,
          validationTimeoutMs: p.validationTimeoutMs,
          retries: p.retries,
          signal: inFlight,
        })
      : undefined;

    const totalMs = groups.length * (endMs - startMs);
    const t0 = state.totals();
    let coveredMs = t0.coveredMs;
    let unitsDone = t0.unitsDone;
    let runSamples = 0;
    let units = 0;
    let fatal: unknown;
    const written: BlocksReport['blocks'] = [];
    let chunksCopied = 0;
    let chunksRecut = 0;
    let uploadsSkipped = 0;
    // series whose hash (backfill_series) is committed already in this run: the next blocks of a series skip the
    // SHA-1 and the insert (10 % of a run's CPU when done for every series of every block); one key per series
    const recorded = new Set<string>();
    const pendingKeys = new Map<number, string[]>();

    const st = state;
    const nextUnit = (): Unit | undefined => {
      if (fatal || p.signal?.aborted) return undefined;
      const r = redo.shift();
      if (r) {
        st.retryUnit(r.id);
        return r;
      }
      for (const g of groups) {
        if (g.cursor_ms >= endMs) continue;
        const s = g.cursor_ms;
        const e = blockEnd(s, p.blockDurationMs, endMs);
        const id = st.claimUnit(g.id, s, e);
        g.cursor_ms = e;
        return { id, group: g, startMs: s, endMs: e };
      }
      return undefined;
    };

    const runUnit = async (u: Unit): Promise<UnitCounts> => {
      const c = emptyCounts();
      const t = Date.now();
      const ulid = ulidFor(createdMs, fp, u.id, u.startMs);
      const parent = blockParent(p.target);
      let block: WrittenBlock | undefined = existingBlock(parent, ulid);
      if (block) {
        log.info('block of this unit already in place (an earlier run was stopped before recording it)', { ulid });
        c.samples = block.meta.stats.numFloatSamples ?? block.meta.stats.numSamples;
        c.histogramSamples = block.meta.stats.numHistogramSamples ?? 0;
        c.series = block.meta.stats.numSeries;
      } else {
        let writer: BlockWriter | undefined;
        const buf = new SampleBuffer(1024);
        const newKeys: string[] = [];
        pendingKeys.set(u.id, newKeys);
        try {
          const names = JSON.parse(u.group.names) as string[];
          const base = selectors[u.group.selector];
          const queries: Matcher[][] = p.shard
            ? slices(names, p.namesPerQuery).map((ns) => [
                ...base,
                { type: 'RE', name: '__name__', value: ns.map(escapeRegex).join('|') },
              ])
            : [base];
          for (const matchers of queries) {
            c.requests++;
            for await (const s of streamRawSeries(srcHttp, sp.readPath, {
              startMs: u.startMs,
              endMs: u.endMs - 1,
              matchers,
            })) {
              if (fatal) throw fatal;
              const labels = drop.size ? s.labels.filter((l) => drop.get(l.name) !== l.value) : s.labels;
              const key = drop.size ? undefined : s.key;
              const cs = chunksForBlock(s, u.startMs, u.endMs - 1, buf);
              if (cs.length === 0) continue;
              writer ??= new BlockWriter(
                parent,
                ulid,
                u.startMs,
                u.endMs,
                p.target.kind === 'mimir' ? { source: 'stackshift' } : undefined,
                p.target.kind === 'mimir' ? 64 * 1024 * 1024 : undefined,
              );
              for (const x of cs) {
                writer.addChunk(labels, key, x.encoding, x.minT, x.maxT, x.data, x.samples, x.histogram);
                if (x.histogram) c.histogramSamples += x.samples;
                else c.samples += x.samples;
                if (x.recut) chunksRecut++;
                else chunksCopied++;
              }
              c.series++;
              const k = key ?? s.key;
              if (!recorded.has(k)) {
                c.seriesHashes.push(seriesHash(k));
                newKeys.push(k);
              }
            }
          }
          if (writer) block = await writer.finish();
        } catch (e) {
          writer?.abort();
          throw e;
        }
      }
      if (block) {
        c.bytes = block.bytes;
        if (uploader) {
          const outcome = await uploader.upload(block);
          if (outcome === 'already-there') uploadsSkipped++;
          if (!p.keepStaged) rmSync(block.dir, { recursive: true, force: true });
        }
        written.push({
          ulid: block.ulid,
          minTime: block.meta.minTime,
          maxTime: block.meta.maxTime,
          series: block.meta.stats.numSeries,
          samples: block.meta.stats.numSamples,
          chunks: block.meta.stats.numChunks,
        });
      }
      c.ms = Date.now() - t;
      return c;
    };

    const started = Date.now();
    const worker = async () => {
      for (let u = nextUnit(); u; u = nextUnit()) {
        try {
          const c = await runUnit(u);
          st.completeUnit(u.id, c);
          for (const k of pendingKeys.get(u.id) ?? []) recorded.add(k);
          pendingKeys.delete(u.id);
          units++;
          runSamples += c.samples + c.histogramSamples;
          coveredMs += u.endMs - u.startMs;
          unitsDone++;
          p.onProgress?.({ coveredMs, totalMs, samples: runSamples, unitsDone });
        } catch (e) {
          pendingKeys.delete(u.id);
          // stopped by the user: the unit stays 'running' (its partial block removed) and the next run redoes it
          if (p.signal?.aborted && !fatal) return;
          fatal ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: p.readConcurrency }, worker));
    const ms = Date.now() - started;
    if (fatal) {
      st.finishRun(runId, 'failed', runSamples, units, redoneUnits);
      throw runStopped('backfill blocks', 'blocks', st.totals(), p.statePath, fatal);
    }
    const interrupted = p.signal?.aborted === true && workLeft(st, groups, endMs);
    st.finishRun(runId, interrupted ? 'interrupted' : 'done', runSamples, units, redoneUnits);
    const tt = st.totals();
    const blocksTotal = (
      st.db.prepare("SELECT COUNT(*) AS n FROM backfill_units WHERE status = 'done' AND series > 0").get() as {
        n: number;
      }
    ).n;
    const advice: string[] = [];
    if (p.target.kind === 'prometheus-data-dir')
      advice.push(
        'a running Prometheus loads new blocks at its next reload (about once a minute); blocks older than its retention (--storage.tsdb.retention.time/size) are deleted at once, so raise the retention first if the history is older; Prometheus before 2.39 needs --storage.tsdb.allow-overlapping-blocks',
      );
    if (p.target.kind === 'mimir')
      advice.push(
        'Mimir serves uploaded blocks once store-gateways have synced them (and the query-frontend results cache may hold older answers); queries newer than -querier.query-store-after come from ingesters only',
      );
    if (ext.length && p.keepExternalLabels)
      advice.push(
        `the source's external labels (${ext.map((l) => `${l.name}="${l.value}"`).join(', ')}) are on every copied series (remote read adds them); use --drop-external-labels if the target's live series lack them`,
      );
    return {
      kind: 'backfill-blocks',
      source: { url: p.source.url, readPath: sp.readPath, version: build.version },
      target: { kind: p.target.kind, location: targetLocation(p.target) },
      range: { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), startMs, endMs },
      selectors: selectors.map(formatMatchers),
      shard: p.shard,
      state: p.statePath,
      blockDurationMs: p.blockDurationMs,
      plan: { names: plannedNames(groups), units: tt.units, unitsDone: tt.unitsDone, resumed, runs: st.runs() },
      totals: {
        blocks: blocksTotal,
        series: tt.series,
        samples: tt.samples,
        histogramSamples: tt.histogramSamples,
        bytes: tt.bytes,
        queries: tt.requests,
      },
      run: {
        blocks: written.length,
        samples: runSamples,
        units,
        redoneUnits,
        chunksCopied,
        chunksRecut,
        uploadsSkipped,
        durationMs: ms,
        samplesPerSecond: ms ? Math.round((runSamples * 1000) / ms) : 0,
        peakRssBytes: peakRss(),
      },
      blocks: written.sort((a, b) => a.minTime - b.minTime),
      advice,
      ...(interrupted ? { interrupted: true } : {}),
    };
  } finally {
    state?.close();
    await Promise.all([srcHttp.close(), apiHttp.close(), mimirHttp?.close()]);
  }
}

/** One ULID per unit of a plan, the same on every run of it (see ulidFrom); its time part is the plan's creation. */
function ulidFor(createdMs: number, fp: string, unitId: number, startMs: number): string {
  return ulidFrom(createdMs + unitId, `${fp}:${unitId}:${startMs}`);
}
