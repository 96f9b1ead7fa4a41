// Why one file of about 460 lines: every gate before a stage and the baseline the post-upgrade comparison needs are
// one report stored under one state migration; the checks are short and run in order against the same server.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PrometheusClient, type RuleGroup } from '../clients/index.js';
import { resolveTarget, upgradePath } from '../compat/index.js';
import { log } from '../log/index.js';
import { formatBytes } from '../progress/index.js';
import type { Migration, StateDb } from '../state/index.js';
import { listSnapshots } from '../tsdb/index.js';
import { verifySnapshot, type SnapshotVerification } from '../snapshot/index.js';

/**
 * `stackshift preflight`: the gates before a stage (disk, snapshot, admin API, config and rules valid) and the
 * baseline the post-upgrade comparison needs (targets up, rule health, latency of the most expensive queries),
 * stored in the state database.
 */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface PreflightCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  advice?: string;
}

export interface QueryLatency {
  query: string;
  origin: string;
  medianMs: number;
  runsMs: number[];
  series?: number;
  error?: string;
}

export interface Baseline {
  targets: {
    up: number;
    down: number;
    unknown: number;
    downList: Array<{ pool: string; url: string; lastError: string }>;
  };
  rules: {
    total: number;
    unhealthy: number;
    unhealthyList: Array<{ group: string; name: string; lastError?: string }>;
    slowestGroups: Array<{ name: string; seconds: number }>;
  };
  queries: QueryLatency[];
}

export interface PreflightReport {
  schemaVersion: 1;
  generatedAt: string;
  prometheus: { url: string; version: string };
  target?: string;
  path?: string[];
  dataDir?: string;
  checks: PreflightCheck[];
  baseline: Baseline;
  passed: boolean;
  stateId?: number;
}

export interface StatfsLike {
  bavail: number;
  bsize: number;
  blocks: number;
}

export interface PreflightOptions {
  dataDir?: string;
  to?: string;
  /** Free disk must be at least this many times the TSDB size (default 3). */
  diskFactor?: number;
  /** Injected in tests; defaults to fs.statfsSync. */
  statfs?: (path: string) => StatfsLike;
  promtool?: string;
  configFile?: string;
  snapshotPath?: string;
  /** Extra queries whose latency goes into the baseline. */
  queries?: string[];
  /** How many of the most expensive rule expressions to time. */
  topRules?: number;
  runs?: number;
  state?: StateDb;
}

export const PREFLIGHT_MIGRATION: Migration = {
  module: 'preflight',
  steps: [
    `CREATE TABLE preflight_runs (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       created_at TEXT NOT NULL,
       prometheus_url TEXT NOT NULL,
       version TEXT NOT NULL,
       target TEXT,
       data_dir TEXT,
       passed INTEGER NOT NULL,
       targets_up INTEGER NOT NULL,
       targets_down INTEGER NOT NULL,
       rules_unhealthy INTEGER NOT NULL,
       document TEXT NOT NULL
     );
     CREATE INDEX preflight_runs_url ON preflight_runs(prometheus_url, created_at);
     CREATE TABLE preflight_query_latency (
       run_id INTEGER NOT NULL REFERENCES preflight_runs(id) ON DELETE CASCADE,
       query TEXT NOT NULL,
       origin TEXT NOT NULL,
       median_ms REAL NOT NULL,
       error TEXT
     );`,
  ],
};

/** Bytes of everything Prometheus keeps in the data dir, snapshots excluded (they are hard links). */
export function tsdbSize(dataDir: string): number {
  const du = (p: string): number => {
    let t = 0;
    for (const n of readdirSync(p)) {
      const q = join(p, n);
      const st = lstatSync(q);
      t += st.isDirectory() ? du(q) : st.size;
    }
    return t;
  };
  let total = 0;
  for (const n of readdirSync(dataDir)) {
    if (n === 'snapshots') continue;
    const q = join(dataDir, n);
    const st = lstatSync(q);
    total += st.isDirectory() ? du(q) : st.size;
  }
  return total;
}

export function diskCheck(
  dataDir: string,
  factor: number,
  statfs: (p: string) => StatfsLike = statfsSync,
): PreflightCheck & { freeBytes: number; tsdbBytes: number; neededBytes: number } {
  const tsdbBytes = tsdbSize(dataDir);
  const fs = statfs(dataDir);
  const freeBytes = fs.bavail * fs.bsize;
  const neededBytes = tsdbBytes * factor;
  const ok = freeBytes >= neededBytes;
  return {
    id: 'disk',
    title: `free disk >= ${factor}x TSDB size`,
    status: ok ? 'pass' : 'fail',
    freeBytes,
    tsdbBytes,
    neededBytes,
    detail: `TSDB ${formatBytes(tsdbBytes)}, free ${formatBytes(freeBytes)} of ${formatBytes(fs.blocks * fs.bsize)} on the data dir's filesystem; needs ${formatBytes(neededBytes)}`,
    advice: ok
      ? undefined
      : `free ${formatBytes(neededBytes - freeBytes)} more (stackshift snapshot prune, or grow the volume): the snapshot's head block, compaction after the restart and a rollback copy all need room`,
  };
}

function promtoolVersion(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /version (\S+)/.exec(r.stdout + r.stderr)?.[1];
}

async function timeQuery(client: PrometheusClient, query: string, origin: string, runs: number): Promise<QueryLatency> {
  const runsMs: number[] = [];
  let series: number | undefined;
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = await client.query(query, undefined, '60s');
      runsMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.resultType === 'vector' || r.resultType === 'matrix') series = r.result.length;
    }
  } catch (e) {
    return { query, origin, medianMs: NaN, runsMs, error: (e as Error).message };
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { query, origin, medianMs: sorted[Math.floor(sorted.length / 2)], runsMs, series };
}

export async function runPreflight(client: PrometheusClient, opts: PreflightOptions = {}): Promise<PreflightReport> {
  await client.ensureReady();
  const checks: PreflightCheck[] = [];
  const [build, flags, runtime, targets, groups] = await Promise.all([
    client.buildInfo(),
    client.flags(),
    client.runtimeInfo().catch(() => undefined),
    client.targets('active'),
    client.rules(),
  ]);
  const report: PreflightReport = {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    prometheus: { url: client.url, version: build.version },
    checks,
    baseline: {
      targets: { up: 0, down: 0, unknown: 0, downList: [] },
      rules: { total: 0, unhealthy: 0, unhealthyList: [], slowestGroups: [] },
      queries: [],
    },
    passed: false,
  };
  if (opts.to) {
    const t = resolveTarget(opts.to);
    if (t) {
      report.target = t.version;
      const p = upgradePath(build.version, t.version);
      report.path = p.stages.length ? [p.stages[0].from, ...p.stages.map((s) => s.to)] : [build.version];
      checks.push({
        id: 'path',
        title: 'upgrade path',
        status: 'pass',
        detail: `${report.path.join(' -> ')}${p.stages.length ? `; this preflight gates stage 1 (${p.stages[0].from} -> ${p.stages[0].to})` : ''}`,
      });
    }
  }

  // disk
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  report.dataDir = dataDir;
  if (dataDir) {
    const d = diskCheck(dataDir, opts.diskFactor ?? 3, opts.statfs);
    checks.push({ id: d.id, title: d.title, status: d.status, detail: d.detail, advice: d.advice });
  } else {
    checks.push({
      id: 'disk',
      title: `free disk >= ${opts.diskFactor ?? 3}x TSDB size`,
      status: 'skip',
      detail: 'no --data-dir given',
      advice: 'run preflight on the Prometheus host with --data-dir',
    });
  }

  // snapshot
  let snapPath = opts.snapshotPath ? resolve(opts.snapshotPath) : undefined;
  if (!snapPath && dataDir) {
    const snaps = listSnapshots(dataDir);
    if (snaps.length) snapPath = snaps[snaps.length - 1].path;
  }
  if (snapPath && existsSync(snapPath)) {
    let v: SnapshotVerification | undefined;
    try {
      v = await verifySnapshot(snapPath);
    } catch (e) {
      checks.push({
        id: 'snapshot',
        title: 'snapshot present and verified',
        status: 'fail',
        detail: `${snapPath}: ${(e as Error).message}`,
      });
    }
    if (v) {
      const errs = v.problems.filter((p) => p.severity === 'error');
      checks.push({
        id: 'snapshot',
        title: 'snapshot present and verified',
        status: v.ok ? 'pass' : 'fail',
        detail: `${snapPath}: ${v.blocks.length} blocks, ${formatBytes(v.bytesRead)} verified${errs.length ? `; ${errs.length} errors, first: ${errs[0].file}${errs[0].offset !== undefined ? ` at byte ${errs[0].offset}` : ''}: ${errs[0].message}` : ''}`,
        advice: v.ok ? undefined : 'take a new snapshot (stackshift snapshot create) and verify it',
      });
    }
  } else {
    checks.push({
      id: 'snapshot',
      title: 'snapshot present and verified',
      status: 'fail',
      detail: dataDir ? `no snapshot in ${join(dataDir, 'snapshots')}` : 'no --data-dir or --snapshot given',
      advice: 'stackshift snapshot create --prometheus-url URL --data-dir DIR',
    });
  }

  // admin API
  const admin = flags['web.enable-admin-api'] === 'true';
  const haveSnapshot = checks.find((c) => c.id === 'snapshot')?.status === 'pass';
  checks.push({
    id: 'admin-api',
    title: 'admin API enabled (for the snapshot)',
    status: admin ? 'pass' : haveSnapshot ? 'warn' : 'fail',
    detail: admin
      ? '--web.enable-admin-api is set'
      : '--web.enable-admin-api is not set: POST /api/v1/admin/tsdb/snapshot answers 500 "admin APIs disabled"',
    advice: admin
      ? undefined
      : "add --web.enable-admin-api to the Prometheus command line for the upgrade (needs a restart) and restrict /api/v1/admin/* to the operator's host",
  });

  // config and rules with promtool
  const promtool = opts.promtool ?? process.env.STACKSHIFT_PROMTOOL_BIN ?? 'promtool';
  const ptVersion = promtoolVersion(promtool);
  if (!ptVersion) {
    checks.push({
      id: 'config',
      title: 'config and rules valid (promtool)',
      status: 'skip',
      detail: `${promtool} is not installed here`,
      advice: `install the promtool of ${report.target ?? 'the target release'} and pass --promtool`,
    });
  } else {
    const cwd = runtime?.CWD;
    const cfgFlag = flags['config.file'];
    let cfgFile = opts.configFile
      ? resolve(opts.configFile)
      : cfgFlag
        ? isAbsolute(cfgFlag)
          ? cfgFlag
          : cwd
            ? resolve(cwd, cfgFlag)
            : undefined
        : undefined;
    let syntaxOnly = false;
    let tmp: string | undefined;
    if (!cfgFile || !existsSync(cfgFile)) {
      // Not on this host: check the loaded config as the server reports it (secrets are <secret>), syntax only.
      tmp = mkdtempSync(join(tmpdir(), 'stackshift-preflight-'));
      cfgFile = join(tmp, 'prometheus.yml');
      writeFileSync(cfgFile, await client.config());
      syntaxOnly = true;
    }
    const r = spawnSync(promtool, ['check', 'config', ...(syntaxOnly ? ['--syntax-only'] : []), cfgFile], {
      encoding: 'utf8',
      cwd: cwd && existsSync(cwd) ? cwd : undefined,
    });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    const loadedRuleFiles = [...new Set((groups as RuleGroup[]).map((g) => g.file))].map((f) =>
      isAbsolute(f) || !cwd ? f : resolve(cwd, f),
    );
    const ruleFiles = loadedRuleFiles.filter((f) => existsSync(f));
    // rule files the server loaded but this host does not have are not validated: say so, never pass silently
    const missingRules = loadedRuleFiles.filter((f) => !existsSync(f));
    const rr = ruleFiles.length
      ? spawnSync(promtool, ['check', 'rules', ...ruleFiles], { encoding: 'utf8' })
      : undefined;
    const ok = r.status === 0 && (!rr || rr.status === 0);
    const missingNote = missingRules.length
      ? `; ${missingRules.length} rule file${missingRules.length === 1 ? '' : 's'} the server loaded ${missingRules.length === 1 ? 'is' : 'are'} not on this host, so not validated: ${missingRules.slice(0, 3).join(', ')}${missingRules.length > 3 ? ', ...' : ''}`
      : '';
    const versionNote =
      report.target && !ptVersion.startsWith(report.path?.[1] ?? report.target)
        ? `; validated with promtool ${ptVersion}, which knows ${ptVersion}'s rules, not those of ${report.path?.[1] ?? report.target}: pass --promtool with that release's promtool for the real gate`
        : '';
    const firstErr = (s: string) =>
      s
        .split('\n')
        .find((l) => /FAILED|error|Error/.test(l))
        ?.trim() ?? s.trim().split('\n').pop();
    checks.push({
      id: 'config',
      title: 'config and rules valid (promtool)',
      status: ok ? (versionNote || missingNote ? 'warn' : 'pass') : 'fail',
      detail: `${syntaxOnly ? 'loaded config (syntax only, the file is not on this host)' : cfgFile}: ${r.status === 0 ? 'ok' : `FAILED: ${firstErr(r.stdout + r.stderr)}`}; ${ruleFiles.length} rule files${rr ? `: ${rr.status === 0 ? 'ok' : `FAILED: ${firstErr(rr.stdout + rr.stderr)}`}` : ' found on this host'}${missingNote}${versionNote}`,
      advice: !ok
        ? 'fix the config/rules before the upgrade: a restart with an invalid config leaves Prometheus down'
        : missingNote
          ? 'run preflight on the Prometheus host (or where its rule files are) so every rule file is validated before the restart'
          : undefined,
    });
  }

  // baseline
  const t = targets.activeTargets;
  report.baseline.targets = {
    up: t.filter((x) => x.health === 'up').length,
    down: t.filter((x) => x.health === 'down').length,
    unknown: t.filter((x) => x.health === 'unknown').length,
    downList: t
      .filter((x) => x.health === 'down')
      .map((x) => ({ pool: x.scrapePool, url: x.scrapeUrl, lastError: x.lastError })),
  };
  const rules = (groups as RuleGroup[]).flatMap((g) => g.rules.map((r) => ({ g, r })));
  report.baseline.rules = {
    total: rules.length,
    unhealthy: rules.filter((x) => x.r.health === 'err').length,
    unhealthyList: rules
      .filter((x) => x.r.health === 'err')
      .map((x) => ({ group: x.g.name, name: x.r.name, lastError: x.r.lastError })),
    slowestGroups: (groups as RuleGroup[])
      .filter((g) => g.evaluationTime !== undefined)
      .sort((a, b) => (b.evaluationTime ?? 0) - (a.evaluationTime ?? 0))
      .slice(0, 5)
      .map((g) => ({ name: g.name, seconds: g.evaluationTime ?? 0 })),
  };
  // The most expensive queries this server runs are its own rules; time the top ones as instant queries.
  const expensive = rules
    .filter((x) => x.r.health !== 'err')
    .sort((a, b) => (b.r.evaluationTime ?? 0) - (a.r.evaluationTime ?? 0))
    .slice(0, opts.topRules ?? 5);
  const runs = opts.runs ?? 3;
  for (const x of expensive)
    report.baseline.queries.push(
      await timeQuery(
        client,
        x.r.query,
        `rule ${x.g.name}/${x.r.name} (evaluation ${((x.r.evaluationTime ?? 0) * 1000).toFixed(2)} ms)`,
        runs,
      ),
    );
  for (const q of opts.queries ?? []) report.baseline.queries.push(await timeQuery(client, q, '--query', runs));
  checks.push({
    id: 'baseline',
    title: 'baseline recorded',
    status: 'pass',
    detail: `${report.baseline.targets.up} targets up, ${report.baseline.targets.down} down; ${report.baseline.rules.unhealthy} of ${report.baseline.rules.total} rules unhealthy; ${report.baseline.queries.length} queries timed (${runs} runs each)`,
    advice:
      report.baseline.targets.down || report.baseline.rules.unhealthy
        ? 'these failures exist BEFORE the upgrade; they are recorded so they are not blamed on it'
        : undefined,
  });
  report.passed = !checks.some((c) => c.status === 'fail');
  if (opts.state) report.stateId = saveBaseline(opts.state, report);
  return report;
}

export function saveBaseline(db: StateDb, r: PreflightReport): number {
  const tx = db.transaction(() => {
    const info = db
      .prepare(
        'INSERT INTO preflight_runs (created_at, prometheus_url, version, target, data_dir, passed, targets_up, targets_down, rules_unhealthy, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        r.generatedAt,
        r.prometheus.url,
        r.prometheus.version,
        r.target ?? null,
        r.dataDir ?? null,
        r.passed ? 1 : 0,
        r.baseline.targets.up,
        r.baseline.targets.down,
        r.baseline.rules.unhealthy,
        JSON.stringify(r),
      );
    const id = Number(info.lastInsertRowid);
    const ins = db.prepare(
      'INSERT INTO preflight_query_latency (run_id, query, origin, median_ms, error) VALUES (?, ?, ?, ?, ?)',
    );
    for (const q of r.baseline.queries)
      ins.run(id, q.query, q.origin, Number.isFinite(q.medianMs) ? q.medianMs : -1, q.error ?? null);
    return id;
  });
  const id = tx();
  log.debug('preflight baseline stored', { id });
  return id;
}

/** The newest stored baseline of a server, for the post-upgrade comparison. */
export function latestBaseline(db: StateDb, prometheusUrl: string): PreflightReport | undefined {
  const row = db
    .prepare('SELECT id, document FROM preflight_runs WHERE prometheus_url = ? ORDER BY id DESC LIMIT 1')
    .get(prometheusUrl) as { id: number; document: string } | undefined;
  if (!row) return undefined;
  return { ...(JSON.parse(row.document) as PreflightReport), stateId: row.id };
}
