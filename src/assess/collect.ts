// Why one file of about 420 lines: every probe (build info, flags, runtime, config, TSDB status, targets, rules,
// the data dir) fills the one Assessment and adds findings to it in order; the probes are short and share that object.
import { statfsSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PrometheusClient, type RuleGroup, type Target } from '../clients/index.js';
import { countSeriesByName } from './series.js';
import { formatBytes } from '../progress/index.js';
import { tryParseDuration } from '../timeutil/index.js';
import { upgradePath, parseVersion, compareVersions, RELEASE_FACTS } from '../compat/index.js';

export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  id: string;
  severity: Severity;
  message: string;
  advice?: string;
  source?: string;
}

export interface Assessment {
  schemaVersion: 1;
  generatedAt: string;
  prometheus: {
    url: string;
    version: string;
    revision: string;
    branch: string;
    goVersion?: string;
    buildDate?: string;
  };
  upgradePath: { target: string; stages: Array<{ from: string; to: string; kind: string; note: string }> };
  flags: { important: Record<string, string>; featureFlags: string[] };
  runtime: {
    startTime?: string;
    reloadConfigSuccess?: boolean;
    lastConfigTime?: string;
    corruptionCount?: number;
    storageRetention?: string;
    goroutineCount?: number;
  };
  storage: {
    retentionTime?: string;
    retentionSize?: string;
    headSeries: number;
    headChunks: number;
    headMinTime?: string;
    headMaxTime?: string;
    /** Series in the whole TSDB (blocks and head) over the retention, from count by __name__ over the range. */
    totalSeries?: number;
    topMetrics: Array<{ name: string; series: number }>;
    dataDir?: {
      path: string;
      tsdbBytes: number;
      freeBytes: number;
      totalBytes: number;
      blocks: number;
      walBytes: number;
    };
  };
  remote: {
    write: Array<{ url: string; name?: string; protobufMessage?: string; queueConfig?: Record<string, unknown> }>;
    read: Array<{ url: string; name?: string; readRecent?: boolean }>;
  };
  targets: {
    up: number;
    down: number;
    unknown: number;
    list: Array<{
      pool: string;
      url: string;
      health: string;
      lastError: string;
      lastScrape: string;
      job?: string;
      instance?: string;
    }>;
  };
  rules: {
    groups: number;
    rules: number;
    unhealthy: number;
    list: Array<{
      group: string;
      file: string;
      name: string;
      type: string;
      health: string;
      lastError?: string;
      evaluationTimeSeconds?: number;
    }>;
    groupList: Array<{ name: string; file: string; interval: number; evaluationTimeSeconds?: number; rules: number }>;
  };
  findings: Finding[];
}

const IMPORTANT_FLAGS = [
  'storage.tsdb.path',
  'storage.tsdb.retention.time',
  'storage.tsdb.retention.size',
  'storage.tsdb.retention',
  'storage.tsdb.min-block-duration',
  'storage.tsdb.max-block-duration',
  'storage.tsdb.wal-compression',
  'web.enable-admin-api',
  'web.enable-lifecycle',
  'web.enable-remote-write-receiver',
  'web.listen-address',
  'web.external-url',
  'web.route-prefix',
  'enable-feature',
  'query.max-concurrency',
  'query.timeout',
  'storage.remote.read-sample-limit',
  'storage.remote.read-concurrent-limit',
  'storage.remote.read-max-bytes-in-frame',
  'rules.alert.for-grace-period',
  'alertmanager.notification-queue-capacity',
  'log.level',
  'log.format',
  'agent',
];

/** Feature flags removed or renamed in 3.0 (docs/migration.md); the full rule set lives in the lint engine. */
const FLAGS_GONE_IN_3: Record<string, string> = {
  'promql-at-modifier': 'always on in 3.0; remove the flag',
  'promql-negative-offset': 'always on in 3.0; remove the flag',
  'remote-write-receiver': 'replaced by --web.enable-remote-write-receiver',
  'new-service-discovery-manager': 'always on in 3.0; remove the flag',
  'expand-external-labels': 'always on in 3.0; $ in external labels is now expanded',
  'no-default-scrape-port': 'always on in 3.0; targets without a port no longer get :80/:443 added',
  'auto-gomemlimit': 'on by default in 3.0 (disable with --no-auto-gomemlimit)',
  'auto-gomaxprocs': 'on by default in 3.0',
  agent: 'replaced by --agent',
  'otlp-write-receiver': 'replaced by --web.enable-otlp-receiver',
};

export interface AssessOptions {
  targetVersion?: string;
  dataDir?: string;
  /** How far back to count series across blocks; default: the server's retention, capped at 30d. */
  seriesWindowMs?: number;
}

function duSync(path: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const p = join(path, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) total += duSync(p);
    else total += st.blocks * 512;
  }
  return total;
}

export function inspectDataDir(path: string): NonNullable<Assessment['storage']['dataDir']> {
  const fs = statfsSync(path);
  let blocks = 0;
  let tsdbBytes = 0;
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    // snapshots are hard links of blocks: counting them would double the size the upgrade has to care about
    if (name === 'snapshots') continue;
    if (/^[0-9A-HJKMNP-TV-Z]{26}$/.test(name)) blocks++;
    const st = lstatSync(p);
    tsdbBytes += st.isDirectory() ? duSync(p) : st.blocks * 512;
  }
  return {
    path,
    tsdbBytes,
    freeBytes: fs.bavail * fs.bsize,
    totalBytes: fs.blocks * fs.bsize,
    blocks,
    walBytes: duSync(join(path, 'wal')),
  };
}

export async function collectAssessment(client: PrometheusClient, opts: AssessOptions = {}): Promise<Assessment> {
  await client.ensureReady();
  const [build, flags, runtime, configYaml, tsdb, targets, groups] = await Promise.all([
    client.buildInfo(),
    client.flags(),
    client.runtimeInfo(),
    client.config(),
    client.tsdbStatus(),
    client.targets('active'),
    client.rules(),
  ]);
  const findings: Finding[] = [];
  const target = opts.targetVersion ?? RELEASE_FACTS.lts[1].latest;
  const version = parseVersion(build.version);
  const path = version ? upgradePath(build.version, target) : { stages: [] };

  let totalSeries: number | undefined;
  let seriesByName: Array<{ name: string; series: number }> | undefined;
  const retentionMs = parseRetention(flags['storage.tsdb.retention.time'] ?? runtime.storageRetention);
  const windowMs = opts.seriesWindowMs ?? Math.min(retentionMs ?? 30 * 86_400_000, 30 * 86_400_000);
  try {
    seriesByName = await countSeriesByName(client, windowMs);
    totalSeries = seriesByName.reduce((a, b) => a + b.series, 0);
  } catch {
    totalSeries = undefined;
  }

  const featureFlags = (flags['enable-feature'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const important: Record<string, string> = {};
  for (const f of IMPORTANT_FLAGS) if (flags[f] !== undefined) important[f] = flags[f];

  let cfg: Record<string, unknown> = {};
  try {
    cfg = (parseYaml(configYaml) as Record<string, unknown>) ?? {};
  } catch {
    findings.push({
      id: 'config-unparsable',
      severity: 'warning',
      message: 'the loaded config returned by /api/v1/status/config could not be parsed',
    });
  }
  const rw = (Array.isArray(cfg.remote_write) ? cfg.remote_write : []) as Array<Record<string, unknown>>;
  const rr = (Array.isArray(cfg.remote_read) ? cfg.remote_read : []) as Array<Record<string, unknown>>;

  if (version && version.major === 2 && compareVersions(version, parseVersion('2.55.0')!) < 0) {
    findings.push({
      id: 'upgrade-bridge-required',
      severity: 'warning',
      message: `Prometheus ${build.version} must be upgraded to ${RELEASE_FACTS.bridge.version} before any 3.x release`,
      advice: `path: ${path.stages
        .map((s) => s.from)
        .concat(path.stages.length ? [path.stages[path.stages.length - 1].to] : [])
        .join(' -> ')}`,
      source: RELEASE_FACTS.bridge.source,
    });
  }
  for (const ff of featureFlags) {
    if (FLAGS_GONE_IN_3[ff])
      findings.push({
        id: 'feature-flag-changes-in-3',
        severity: 'warning',
        message: `--enable-feature=${ff}: ${FLAGS_GONE_IN_3[ff]}`,
        source: 'docs/migration.md (3.0)',
      });
  }
  if (flags['web.enable-admin-api'] !== 'true') {
    findings.push({
      id: 'admin-api-disabled',
      severity: 'info',
      message: 'the admin API is disabled, so stackshift cannot take a TSDB snapshot before the upgrade',
      advice: 'add --web.enable-admin-api for the duration of the upgrade, or snapshot the data dir another way',
    });
  }
  if (runtime.reloadConfigSuccess === false)
    findings.push({
      id: 'config-reload-failed',
      severity: 'critical',
      message: 'the last config reload failed: the running config differs from the file on disk',
      advice: 'fix the config (promtool check config) before upgrading',
    });
  if ((runtime.corruptionCount ?? 0) > 0)
    findings.push({
      id: 'tsdb-corruption',
      severity: 'critical',
      message: `TSDB reports ${runtime.corruptionCount} corruption(s)`,
      advice: 'inspect the data dir (stackshift tsdb inspect) before any upgrade',
    });

  const tlist = targets.activeTargets.map((t: Target) => ({
    pool: t.scrapePool,
    url: t.scrapeUrl,
    health: t.health,
    lastError: t.lastError,
    lastScrape: t.lastScrape,
    job: t.labels.job,
    instance: t.labels.instance,
  }));
  const down = tlist.filter((t) => t.health === 'down');
  for (const t of down)
    findings.push({
      id: 'target-down',
      severity: 'warning',
      message: `target ${t.url} (${t.pool}) is down: ${t.lastError || 'no error reported'}`,
      advice: 'a target down before the upgrade must not be blamed on it: record it in the baseline',
    });

  const rlist: Assessment['rules']['list'] = [];
  for (const g of groups as RuleGroup[]) {
    for (const r of g.rules) {
      rlist.push({
        group: g.name,
        file: g.file,
        name: r.name,
        type: r.type,
        health: r.health,
        lastError: r.lastError || undefined,
        evaluationTimeSeconds: r.evaluationTime,
      });
      if (r.health === 'err')
        findings.push({
          id: 'rule-unhealthy',
          severity: 'warning',
          message: `rule ${r.name} in group ${g.name} (${g.file}) fails: ${r.lastError ?? 'unknown error'}`,
          advice: 'fix the rule before the upgrade, so its state after the upgrade means something',
        });
    }
    if (g.evaluationTime !== undefined && g.interval > 0 && g.evaluationTime > g.interval * 0.8) {
      findings.push({
        id: 'rule-group-slow',
        severity: 'warning',
        message: `rule group ${g.name} takes ${g.evaluationTime.toFixed(2)}s of its ${g.interval}s interval`,
        advice: 'a slow group will miss evaluations after a restart while the head is warm-loading',
      });
    }
  }

  let dataDir: Assessment['storage']['dataDir'];
  if (opts.dataDir) {
    dataDir = inspectDataDir(opts.dataDir);
    if (dataDir.freeBytes < dataDir.tsdbBytes * 3) {
      findings.push({
        id: 'disk-headroom',
        severity: 'critical',
        message: `free disk ${formatBytes(dataDir.freeBytes)} is less than 3x the TSDB size (${formatBytes(dataDir.tsdbBytes)})`,
        advice:
          'a snapshot, the compaction after the restart and a rollback copy need room; free space or grow the volume first',
      });
    }
  }

  return {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    prometheus: {
      url: client.url,
      version: build.version,
      revision: build.revision,
      branch: build.branch,
      goVersion: build.goVersion,
      buildDate: build.buildDate,
    },
    upgradePath: { target, stages: path.stages },
    flags: { important, featureFlags },
    runtime: {
      startTime: runtime.startTime,
      reloadConfigSuccess: runtime.reloadConfigSuccess,
      lastConfigTime: runtime.lastConfigTime,
      corruptionCount: runtime.corruptionCount,
      storageRetention: runtime.storageRetention,
      goroutineCount: runtime.goroutineCount,
    },
    storage: {
      retentionTime: flags['storage.tsdb.retention.time'],
      retentionSize: flags['storage.tsdb.retention.size'],
      headSeries: tsdb.headStats.numSeries,
      headChunks: tsdb.headStats.chunkCount,
      headMinTime: validTime(tsdb.headStats.minTime),
      headMaxTime: validTime(tsdb.headStats.maxTime),
      totalSeries,
      topMetrics: seriesByName
        ? seriesByName.slice(0, 10)
        : tsdb.seriesCountByMetricName.map((m) => ({ name: m.name, series: m.value })),
      dataDir,
    },
    remote: {
      write: rw.map((w) => ({
        url: String(w.url),
        name: w.name as string | undefined,
        protobufMessage: w.protobuf_message as string | undefined,
        queueConfig: w.queue_config as Record<string, unknown> | undefined,
      })),
      read: rr.map((r) => ({
        url: String(r.url),
        name: r.name as string | undefined,
        readRecent: r.read_recent as boolean | undefined,
      })),
    },
    targets: {
      up: tlist.filter((t) => t.health === 'up').length,
      down: down.length,
      unknown: tlist.filter((t) => t.health === 'unknown').length,
      list: tlist,
    },
    rules: {
      groups: groups.length,
      rules: rlist.length,
      unhealthy: rlist.filter((r) => r.health === 'err').length,
      list: rlist,
      groupList: groups.map((g) => ({
        name: g.name,
        file: g.file,
        interval: g.interval,
        evaluationTimeSeconds: g.evaluationTime,
        rules: g.rules.length,
      })),
    },
    findings,
  };
}

function validTime(ms: number): string | undefined {
  // An empty head reports math.MaxInt64 / MinInt64.
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : undefined;
}

function parseRetention(v: string | undefined): number | undefined {
  return v ? tryParseDuration(v) : undefined;
}
