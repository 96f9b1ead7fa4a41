import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { countSeriesByName } from '../assess/index.js';
import { PrometheusClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpError } from '../http/index.js';
import { startPrometheus } from '../lab/index.js';
import { log } from '../log/index.js';
import { inspectTsdb, listSnapshots, type SnapshotEntry, type TsdbInspection, type Problem } from '../tsdb/index.js';

/**
 * TSDB snapshots taken through the admin API (POST /api/v1/admin/tsdb/snapshot): Prometheus hard-links its
 * blocks and writes the head as a new block into <storage.tsdb.path>/snapshots/<YYYYMMDDTHHMMSSZ>-<hex>
 * (tsdb/db.go Snapshot; R§5). stackshift verifies every block of it byte by byte and, with --deep, proves a
 * real Prometheus opens it and holds the same series as the live server.
 */
export const ADMIN_API_ADVICE = [
  'Prometheus answers HTTP 500 "admin APIs disabled" because it was started without --web.enable-admin-api.',
  'Add --web.enable-admin-api to its command line for the duration of the upgrade (it is not reloadable: a restart is needed),',
  "and keep /api/v1/admin/* reachable only from the operator's host (a reverse proxy or network policy): it can also delete series.",
  'Without a restart: stop Prometheus and copy the data dir with hard links (cp -al <data> <data>.pre-upgrade), or take a filesystem/volume snapshot.',
].join(' ');

export interface CreatedSnapshot {
  name: string;
  /** Where it is on this machine, when the data dir could be located. */
  path?: string;
  dataDir?: string;
  skipHead: boolean;
  durationMs: number;
}

/** The server's --storage.tsdb.path as an absolute path on this machine (flags are relative to its CWD). */
export async function serverDataDir(client: PrometheusClient): Promise<string | undefined> {
  const [flags, runtime] = await Promise.all([client.flags(), client.runtimeInfo().catch(() => undefined)]);
  const p = flags['storage.tsdb.path'];
  if (!p) return undefined;
  if (isAbsolute(p)) return p;
  return runtime?.CWD ? resolve(runtime.CWD, p) : undefined;
}

export async function createSnapshot(
  client: PrometheusClient,
  opts: { skipHead?: boolean; dataDir?: string } = {},
): Promise<CreatedSnapshot> {
  const t0 = Date.now();
  let data: { name: string };
  try {
    data = await client.api<{ name: string }>(
      '/api/v1/admin/tsdb/snapshot',
      { skip_head: opts.skipHead ? 'true' : 'false' },
      { method: 'POST', retries: 0 },
    );
  } catch (e) {
    if (e instanceof HttpError && /admin APIs disabled/.test(e.message)) {
      throw new StackshiftError('admin-api-disabled', `${client.url} refused the snapshot: the admin API is disabled`, {
        hint: ADMIN_API_ADVICE,
        exitCode: 1,
      });
    }
    throw e;
  }
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : await serverDataDir(client).catch(() => undefined);
  const path = dataDir ? join(dataDir, 'snapshots', data.name) : undefined;
  return {
    name: data.name,
    path: path && existsSync(path) ? path : undefined,
    dataDir,
    skipHead: Boolean(opts.skipHead),
    durationMs: Date.now() - t0,
  };
}

export interface BlockVerdict {
  ulid: string;
  ok: boolean;
  minTime?: number;
  maxTime?: number;
  samples?: number;
  series?: number;
  chunks?: number;
  bytes: number;
  problems: Problem[];
}

export interface DeepCheck {
  prometheusVersion?: string;
  opened: boolean;
  startMs: number;
  windowStart?: number;
  windowEnd?: number;
  snapshotSeries: number;
  liveSeries?: number;
  /** Metric names whose series counts differ (snapshot vs live). */
  mismatches: Array<{ name: string; snapshot: number; live: number }>;
  error?: string;
}

export interface SnapshotVerification {
  schemaVersion: 1;
  path: string;
  ok: boolean;
  verifiedAt: string;
  durationMs: number;
  bytesRead: number;
  blocks: BlockVerdict[];
  problems: Problem[];
  deep?: DeepCheck;
}

export async function verifySnapshot(
  path: string,
  opts: { deep?: boolean; live?: PrometheusClient; workDir?: string } = {},
): Promise<SnapshotVerification> {
  const t0 = Date.now();
  const abs = resolve(path);
  const r: TsdbInspection = inspectTsdb(abs, { level: 'full' });
  const blocks: BlockVerdict[] = r.blocks.map((b) => ({
    ulid: b.ulid,
    ok: !b.problems.some((p) => p.severity === 'error'),
    minTime: b.minTime,
    maxTime: b.maxTime,
    samples: b.stats.numSamples,
    series: b.stats.numSeries,
    chunks: b.stats.numChunks,
    bytes: b.sizeBytes,
    problems: b.problems,
  }));
  const problems = [...r.problems];
  if (blocks.length === 0) problems.push({ severity: 'error', file: '.', message: 'the snapshot holds no block' });
  const out: SnapshotVerification = {
    schemaVersion: 1,
    path: abs,
    ok: !problems.some((p) => p.severity === 'error'),
    verifiedAt: new Date().toISOString(),
    durationMs: 0,
    bytesRead: r.totals.blockBytes,
    blocks,
    problems,
  };
  if (opts.deep) {
    out.deep = await deepCheck(abs, r, opts.live, opts.workDir);
    if (!out.deep.opened || out.deep.mismatches.length || out.deep.error) out.ok = false;
  }
  out.durationMs = Date.now() - t0;
  return out;
}

/** Hard links (blocks are immutable; Prometheus replaces files by rename, never edits them), copies across filesystems. */
export function linkTree(from: string, to: string): { linked: number; copied: number } {
  const n = { linked: 0, copied: 0 };
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const a = join(from, name);
    const b = join(to, name);
    if (statSync(a).isDirectory()) {
      const s = linkTree(a, b);
      n.linked += s.linked;
      n.copied += s.copied;
    } else {
      try {
        linkSync(a, b);
        n.linked++;
      } catch {
        copyFileSync(a, b);
        n.copied++;
      }
    }
  }
  return n;
}

/**
 * Starts a throwaway Prometheus on a hard-linked copy (never on the snapshot itself: a server writes a WAL
 * and may compact, which would change the backup) and compares series per metric name over the snapshot's
 * time range with the live server.
 */
async function deepCheck(
  path: string,
  r: TsdbInspection,
  live: PrometheusClient | undefined,
  workDirIn?: string,
): Promise<DeepCheck> {
  const t0 = Date.now();
  const work = workDirIn
    ? resolve(workDirIn)
    : join(dirname(path), `.stackshift-deep-${basename(path)}-${process.pid}`);
  const dataDir = join(work, 'data');
  const check: DeepCheck = { opened: false, startMs: 0, snapshotSeries: 0, mismatches: [] };
  rmSync(work, { recursive: true, force: true });
  try {
    const n = linkTree(path, dataDir);
    log.debug('deep verify: copy prepared', { linked: n.linked, copied: n.copied, dir: dataDir });
    const server = await startPrometheus({
      name: 'stackshift-deep-verify',
      dataDir,
      config: 'global:\n  scrape_interval: 1h\nscrape_configs: []\n',
      retention: '36500d',
      readyTimeoutMs: 300_000,
    });
    const client = new PrometheusClient(endpointFromUrl(server.url));
    try {
      check.opened = true;
      check.startMs = Date.now() - t0;
      check.prometheusVersion = (await client.buildInfo()).version;
      if (r.totals.minTime === undefined || r.totals.maxTime === undefined) return check;
      // Block maxTime is exclusive: the last sample is at maxTime-1.
      const at = r.totals.maxTime - 1;
      const window = r.totals.maxTime - r.totals.minTime;
      check.windowStart = r.totals.minTime;
      check.windowEnd = r.totals.maxTime;
      const snap = await countSeriesByName(client, window, at);
      check.snapshotSeries = snap.reduce((a, b) => a + b.series, 0);
      if (live) {
        const l = await countSeriesByName(live, window, at);
        check.liveSeries = l.reduce((a, b) => a + b.series, 0);
        const lm = new Map(l.map((x) => [x.name, x.series]));
        const sm = new Map(snap.map((x) => [x.name, x.series]));
        for (const name of new Set([...lm.keys(), ...sm.keys()])) {
          const a = sm.get(name) ?? 0;
          const b = lm.get(name) ?? 0;
          if (a !== b) check.mismatches.push({ name, snapshot: a, live: b });
        }
      }
    } finally {
      await client.close();
      await server.stop();
    }
  } catch (e) {
    check.error = (e as Error).message;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return check;
}

export interface PrunePlan {
  keep: SnapshotEntry[];
  remove: SnapshotEntry[];
  freedBytes: number;
  applied: boolean;
}

/**
 * Retention: keep the newest `keepLast`, and of the rest delete only those older than `olderThanMs` (when
 * given). The newest snapshot that verified OK (`protect`) is never deleted, whatever the rules say.
 */
export function planPrune(
  dataDir: string,
  opts: { keepLast: number; olderThanMs?: number; now?: number; protect?: string[] },
): PrunePlan {
  const now = opts.now ?? Date.now();
  const all = listSnapshots(dataDir).filter((s) => !s.name.startsWith('.'));
  const newestFirst = [...all].sort((a, b) => (b.createdAt ?? b.name).localeCompare(a.createdAt ?? a.name));
  const keep: SnapshotEntry[] = [];
  const remove: SnapshotEntry[] = [];
  newestFirst.forEach((s, i) => {
    const age = s.createdAt ? now - Date.parse(s.createdAt) : Infinity;
    const protectedOne = opts.protect?.includes(s.name);
    if (i < opts.keepLast || protectedOne || (opts.olderThanMs !== undefined && age < opts.olderThanMs)) keep.push(s);
    else remove.push(s);
  });
  return { keep, remove, freedBytes: remove.reduce((a, s) => a + s.exclusiveBytes, 0), applied: false };
}

export function applyPrune(plan: PrunePlan): PrunePlan {
  for (const s of plan.remove) {
    log.info('deleting snapshot', { name: s.name, exclusiveBytes: s.exclusiveBytes });
    rmSync(s.path, { recursive: true, force: true });
  }
  return { ...plan, applied: true };
}
