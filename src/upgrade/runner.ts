import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PrometheusClient } from '../clients/index.js';
import { parseVersion, upgradePath } from '../compat/index.js';
import { StackshiftError, UsageError } from '../errors/index.js';
import { fixFiles, type Stage } from '../lint/index.js';
import { log } from '../log/index.js';
import { createProgress } from '../progress/index.js';
import { createSnapshot, verifySnapshot } from '../snapshot/index.js';
import { StateLease, type Migration, type StateDb } from '../state/index.js';
import { binaryVersion, type ServerDriver } from './driver.js';
import { postUpgradeGates, seriesByName, type GateResult } from './gates.js';
import { gapWindow, measureGap, waitPast, type GapReport } from './gap.js';
import { runPreflight, PREFLIGHT_MIGRATION } from './preflight.js';
import { restoreBackup } from './restore.js';
import { checkZeroGapTarget, fillGap, startShadow, stopShadow, waitShadowScraping, type Shadow } from './zero-gap.js';
import { freePort } from '../lab/index.js';

/**
 * `stackshift upgrade run`: one stage (2.x -> 2.55.x, or 2.55.x -> 3.x) as a durable state machine. Each step
 * is recorded in the state database before and after it runs; a rerun after kill -9 resumes at the first step
 * not done, and a destructive step that was under way is checked (is the server stopped? does the unit name
 * the new binary?) instead of being repeated. A failed gate after the restart rolls back to the old binary and
 * unit by itself, unless told not to.
 *
 * Why one file of ~440 lines: the steps of a stage are one state machine whose order is the point; reading
 * it top to bottom is reading the runbook. Drivers, gates, the zero-gap fill and preflight are elsewhere.
 */
export const RUN_STEPS = [
  'snapshot',
  'preflight',
  'changes',
  'shadow',
  'stop',
  'install',
  'start',
  'replay',
  'gates',
  'fill',
  'gap',
  'signoff',
] as const;
export type RunStep = (typeof RUN_STEPS)[number];

export const UPGRADE_RUN_MIGRATION: Migration = {
  module: 'upgrade-run',
  steps: [
    `CREATE TABLE upgrade_runs (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       prometheus_url TEXT NOT NULL,
       unit TEXT NOT NULL,
       from_version TEXT NOT NULL,
       to_version TEXT NOT NULL,
       old_binary TEXT NOT NULL,
       new_binary TEXT NOT NULL,
       status TEXT NOT NULL,
       created_at TEXT NOT NULL,
       finished_at TEXT
     );
     CREATE TABLE upgrade_steps (
       run_id INTEGER NOT NULL REFERENCES upgrade_runs(id),
       step TEXT NOT NULL,
       status TEXT NOT NULL,
       started_at TEXT NOT NULL,
       finished_at TEXT,
       detail TEXT,
       PRIMARY KEY (run_id, step)
     );`,
  ],
};

export interface RunOptions {
  client: PrometheusClient;
  driver: ServerDriver;
  state: StateDb;
  to: string;
  /** The new release's prometheus binary (its promtool is looked up beside it). */
  binary: string;
  /** The data dir on this host (not given for a remote driver: its snapshot is copied here instead). */
  dataDir?: string;
  /** Apply the stage's config/flag/rule fixes (default true). */
  fixes?: boolean;
  /** Roll back by itself when a gate fails after the restart (default true). */
  autoRollback?: boolean;
  /** How long WAL replay may take before the stage is failed (default 30 min). */
  readyTimeoutMs?: number;
  /** Gap measurement window margin around the restart (default 2 min). */
  gapMarginMs?: number;
  /** Fill the restart's scrape gap from a shadow scraper (see zero-gap.ts). */
  zeroGap?: boolean;
  /** Where run files go (the shadow's unit and data): the state database's directory. */
  workDir: string;
}

export interface StepRecord {
  step: RunStep;
  status: 'started' | 'done' | 'failed' | 'skipped';
  startedAt: string;
  finishedAt?: string;
  detail?: Record<string, unknown>;
}

export interface RunReport {
  schemaVersion: 1;
  kind: 'stackshift.upgrade.run';
  runId: number;
  prometheus: string;
  from: string;
  to: string;
  status: 'signed-off' | 'failed' | 'rolled-back' | 'running';
  steps: StepRecord[];
  gates?: GateResult[];
  gap?: GapReport;
  replay?: { points: Array<{ ms: number; current: number; max: number }>; durationMs: number };
  fill?: { series: number; samples: number; requests: number };
  rollback?: { reason: string; restored: string[] };
}

interface RunRow {
  id: number;
  from_version: string;
  to_version: string;
  old_binary: string;
  new_binary: string;
  status: RunReport['status'];
  unit: string;
}

function now(): string {
  return new Date().toISOString();
}

/** Refuses a stage that skips the 2.55 bridge (or goes backwards), saying why. */
export function checkStage(from: string, to: string): void {
  const f = parseVersion(from);
  const t = parseVersion(to);
  if (!f || !t) throw new UsageError(`cannot parse the stage ${from} -> ${to}`);
  const p = upgradePath(f.raw, t.raw);
  if (p.stages.length === 0)
    throw new UsageError(
      `${from} is not older than ${to}: nothing to upgrade (for a way back, use stackshift upgrade rollback)`,
    );
  if (p.stages.length > 1) {
    throw new UsageError(
      `${from} -> ${to} skips the 2.55 bridge: the path is ${[p.stages[0].from, ...p.stages.map((s) => s.to)].join(' -> ')}`,
      'run one stage at a time: first --to 2.55.1, let it run, then --to the 3.x release (3.x rolls back only onto 2.55.x, which reads what 3.x writes)',
    );
  }
}

class RunLog {
  constructor(
    private db: StateDb,
    readonly id: number,
  ) {}
  steps(): StepRecord[] {
    return (
      this.db
        .prepare(
          'SELECT step, status, started_at, finished_at, detail FROM upgrade_steps WHERE run_id = ? ORDER BY rowid',
        )
        .all(this.id) as Array<{
        step: RunStep;
        status: StepRecord['status'];
        started_at: string;
        finished_at: string | null;
        detail: string | null;
      }>
    ).map((r) => ({
      step: r.step,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at ?? undefined,
      detail: r.detail ? JSON.parse(r.detail) : undefined,
    }));
  }
  get(step: RunStep): StepRecord | undefined {
    return this.steps().find((s) => s.step === step);
  }
  begin(step: RunStep): void {
    this.db
      .prepare(
        "INSERT INTO upgrade_steps (run_id, step, status, started_at) VALUES (?, ?, 'started', ?) ON CONFLICT(run_id, step) DO UPDATE SET status = 'started'",
      )
      .run(this.id, step, now());
  }
  end(step: RunStep, status: 'done' | 'failed' | 'skipped', detail?: Record<string, unknown>): void {
    this.db
      .prepare('UPDATE upgrade_steps SET status = ?, finished_at = ?, detail = ? WHERE run_id = ? AND step = ?')
      .run(status, now(), detail ? JSON.stringify(detail) : null, this.id, step);
  }
  finish(status: RunReport['status']): void {
    this.db.prepare('UPDATE upgrade_runs SET status = ?, finished_at = ? WHERE id = ?').run(status, now(), this.id);
  }
}

/** The commands and checks each step would run, without running anything. */
export function dryRun(
  driver: ServerDriver,
  from: string,
  to: string,
  binary: string,
): Array<{ step: RunStep; does: string; commands: string[] }> {
  checkStage(from, to);
  const stage = stageOf(to);
  return [
    {
      step: 'snapshot',
      does: 'create a TSDB snapshot through the admin API and verify every block (CRC of every chunk, index TOC)',
      commands: [
        'curl -XPOST $URL/api/v1/admin/tsdb/snapshot',
        ...(driver.snapshotCopy?.commands('<snapshot name>') ?? []),
      ],
    },
    {
      step: 'preflight',
      does: 'disk >= 3x TSDB, the snapshot verified, config and rules checked by the new promtool; baseline of targets, rules, query latency and series per metric name stored',
      commands: [`${promtoolBeside(binary)} check config <config.file>`],
    },
    driver.remote
      ? {
          step: 'changes',
          does: `none by stackshift: the ${driver.kind} driver refuses to edit the ConfigMap and the manifest (apply the "${stage}" fixes of lint prom3 to them yourself, then run with --no-fixes)`,
          commands: [],
        }
      : {
          step: 'changes',
          does: `apply the "${stage}" fixes of lint prom3 ${from} -> ${to} to the config, its rule files and the unit's flags (each file backed up first), then check the result with the new promtool and the unit's --enable-feature tokens; a refusal puts every file back and stops before the server is touched`,
          commands: [
            `stackshift lint prom3 --from ${from} --to ${to} --fix --stage ${stage} <config> ${driver.unit().file}`,
            `${promtoolBeside(binary)} --enable-feature=<the unit's> check config <config.file>`,
          ],
        },
    {
      step: 'shadow',
      does: 'with --zero-gap: start a shadow scraper (the old binary, scrape part of the config only) on a free port and wait until it scrapes every target',
      commands: [
        `${driver.unit().binary} --config.file=<config dir>/.stackshift-shadow-<run>.yml --storage.tsdb.path=<state dir>/upgrade-<run>-shadow-data --web.listen-address=127.0.0.1:<free port>`,
      ],
    },
    { step: 'stop', does: 'stop the server and record the time (start of the gap)', commands: driver.commands('stop') },
    {
      step: 'install',
      does: `point the unit at ${binary} (unit backed up first); check it reports ${to}`,
      commands: driver.commands('install', binary),
    },
    { step: 'start', does: "start the new binary with the unit's flags", commands: driver.commands('start') },
    {
      step: 'replay',
      does: 'wait for WAL replay (progress from /api/v1/status/walreplay, the log as fallback) and /-/ready',
      commands: ['curl $URL/api/v1/status/walreplay', 'curl $URL/-/ready'],
    },
    {
      step: 'gates',
      does: 'compare with the baseline: version, targets up, rule health, series per metric name before the stop, no unknown feature flag; a failed gate rolls back',
      commands: ['curl $URL/api/v1/status/buildinfo', 'curl $URL/api/v1/targets', 'curl $URL/api/v1/rules'],
    },
    {
      step: 'fill',
      does: "with --zero-gap: copy the shadow's samples that fall inside each series' gap into the server (remote read -> remote write, out-of-order window), then stop and remove the shadow",
      commands: ['POST $SHADOW/api/v1/read', 'POST $URL/api/v1/write'],
    },
    {
      step: 'gap',
      does: 'measure the scrape gap per target around the restart (in scrape intervals)',
      commands: ['curl $URL/api/v1/query?query=up[<window>]'],
    },
    { step: 'signoff', does: 'record the stage as signed off', commands: [] },
  ];
}

function stageOf(to: string): Exclude<Stage, 'all'> {
  return parseVersion(to)!.major >= 3 ? 'cutover' : '2.55';
}

function promtoolBeside(binary: string): string {
  return resolve(binary, '..', 'promtool');
}

/** The --enable-feature tokens of a command line (`--enable-feature=a,b` or `--enable-feature a`). */
export function enabledFeatures(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--enable-feature(?:=(.*))?$/.exec(args[i]!);
    if (!m) continue;
    const v = m[1] ?? args[++i] ?? '';
    out.push(
      ...v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );
  }
  return [...new Set(out)];
}

/** `promtool check config` of the new release on the config (and its rule files), with the unit's features. */
function checkWithNewPromtool(
  binary: string,
  configFile: string | undefined,
  args: string[],
  to: string,
): { ok: boolean; command: string; output: string } | undefined {
  const promtool = promtoolBeside(binary);
  if (!configFile || !existsSync(configFile) || !existsSync(promtool)) return undefined;
  const features = enabledFeatures(args);
  const argv = [...(features.length ? [`--enable-feature=${features.join(',')}`] : []), 'check', 'config', configFile];
  const r = spawnSync(promtool, argv, { encoding: 'utf8', cwd: dirname(configFile) });
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(SUCCESS|Checking|WARNING: Unknown)/.test(l))
    .slice(0, 8)
    .join(' | ');
  return {
    ok: !r.error && r.status === 0,
    command: `promtool ${to} ${argv.slice(0, -1).join(' ')}`,
    output: r.error ? r.error.message : output,
  };
}

async function waitReady(o: RunOptions, points: Array<{ ms: number; current: number; max: number }>): Promise<number> {
  const t0 = Date.now();
  const deadline = t0 + (o.readyTimeoutMs ?? 30 * 60_000);
  let bar: ReturnType<typeof createProgress> | undefined;
  while (Date.now() < deadline) {
    if (!o.driver.status().running)
      throw new StackshiftError('upgrade-start', 'the new Prometheus exited while starting', {
        hint: `its log: ${o.driver.logWhere()} (last lines: ${o.driver.log().trim().split('\n').slice(-3).join(' | ')})`,
      });
    if (await o.client.healthy().catch(() => false)) {
      try {
        await o.client.ensureReady();
        bar?.finish();
        return Date.now() - t0;
      } catch {
        /* still replaying */
      }
      const w = await o.client.walReplay().catch(() => undefined);
      const fromLog = w ? undefined : replayFromLogLines(o.driver.log());
      const cur = w ?? fromLog;
      if (cur && cur.max > 0) {
        points.push({ ms: Date.now() - t0, current: cur.current, max: cur.max });
        bar ??= createProgress('WAL replay', cur.max - (cur.min ?? 0) + 1, 'segments');
        bar.update(cur.current - (cur.min ?? 0) + 1);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  bar?.finish();
  throw new StackshiftError(
    'upgrade-replay',
    `Prometheus was not ready after ${Math.round((Date.now() - t0) / 1000)} s`,
    {
      hint: 'raise --ready-timeout if the replay is still progressing (see the log); otherwise roll back with stackshift upgrade rollback',
    },
  );
}

/** "WAL segment loaded" segment=N maxSegment=M: the replay position when the API has nothing. */
function replayFromLogLines(text: string): { min?: number; max: number; current: number } | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && i > lines.length - 200; i--) {
    const m = /WAL segment loaded.*segment=(\d+).*maxSegment=(\d+)/.exec(lines[i]!);
    if (m) return { current: Number(m[1]), max: Number(m[2]) };
  }
  return undefined;
}

/**
 * The run under way for this server, else a new one from `from()`. A resumed run keeps the versions it was
 * opened with and never asks the server: after a kill -9 during WAL replay the server answers 503 to every
 * API but /-/healthy and the replay status until it is ready.
 */
async function openRun(o: RunOptions, from: () => Promise<string>): Promise<RunLog> {
  const unit = o.driver.unit();
  const open = o.state
    .prepare(
      "SELECT id, from_version, to_version, old_binary, new_binary, status, unit FROM upgrade_runs WHERE prometheus_url = ? AND status = 'running' ORDER BY id DESC LIMIT 1",
    )
    .get(o.client.url) as RunRow | undefined;
  if (open) {
    if (open.to_version !== o.to)
      throw new UsageError(
        `an upgrade of ${o.client.url} to ${open.to_version} is under way (run ${open.id}): finish it (upgrade run --to ${open.to_version}) or roll it back (upgrade rollback) first`,
      );
    log.info('resuming the upgrade run', { run: open.id, from: open.from_version, to: open.to_version });
    return new RunLog(o.state, open.id);
  }
  const fromVersion = await from();
  checkStage(fromVersion, o.to);
  const info = o.state
    .prepare(
      "INSERT INTO upgrade_runs (prometheus_url, unit, from_version, to_version, old_binary, new_binary, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
    )
    .run(
      o.client.url,
      unit.file,
      fromVersion,
      o.to,
      unit.binary,
      o.driver.remote ? o.binary : resolve(o.binary),
      now(),
    );
  return new RunLog(o.state, Number(info.lastInsertRowid));
}

function runRow(db: StateDb, id: number): RunRow {
  return db
    .prepare('SELECT id, from_version, to_version, old_binary, new_binary, status, unit FROM upgrade_runs WHERE id = ?')
    .get(id) as RunRow;
}

/** The lease module `upgrade run` and `upgrade rollback` share: one of them at a time per state file. */
export const UPGRADE_LEASE = 'upgrade';

/**
 * Runs `fn` holding the state file's upgrade lease: a second `upgrade run` or `upgrade rollback` on the same
 * state is refused at once (exit 2) with the pid, host and start of the holder. A holder that died (kill -9)
 * leaves a lease the next run takes over.
 */
export async function withUpgradeLease<T>(db: StateDb, fn: () => Promise<T>): Promise<T> {
  const lease = new StateLease(db, db.name, UPGRADE_LEASE, {
    hint: 'one upgrade run or rollback per state file: wait for it to finish, or stop that process (a rerun resumes where it stopped); a rerun for a server needs the same --state',
  });
  try {
    return await fn();
  } finally {
    lease.release();
  }
}

/**
 * Test seam: STACKSHIFT_TEST_HOLD_AFTER=<step> makes the run wait, once that step is recorded done, until it
 * is killed. The kill -9 tests use it to stop stackshift exactly between two steps (install and start follow
 * each other within a millisecond, which no poller outside the process can hit).
 */
async function holdAfter(step: RunStep): Promise<void> {
  if (process.env.STACKSHIFT_TEST_HOLD_AFTER !== step) return;
  log.warn(`holding after the ${step} step (STACKSHIFT_TEST_HOLD_AFTER) until killed`);
  await new Promise(() => setInterval(() => undefined, 60_000));
}

export async function runUpgrade(o: RunOptions): Promise<RunReport> {
  return withUpgradeLease(o.state, () => runHeld(o));
}

/** What a remote server (kubernetes) cannot have done from here, refused before anything is recorded. */
function refuseRemote(o: RunOptions): void {
  if (!o.driver.remote) return;
  if (o.fixes !== false)
    throw new UsageError(
      `the ${o.driver.kind} driver does not edit the server's ConfigMap or its manifest's args`,
      `run stackshift lint prom3 --from <version> --to ${o.to} --fix on the manifests and the config, apply them, then rerun with --no-fixes`,
    );
  if (o.zeroGap)
    throw new UsageError(
      `--zero-gap needs the server's config file on this host (the shadow scraper runs here); the ${o.driver.kind} driver has none`,
      'run without --zero-gap: the gap is measured and reported per target',
    );
}

async function runHeld(o: RunOptions): Promise<RunReport> {
  refuseRemote(o);
  const versionOf = (b: string) => (o.driver.versionOf ? o.driver.versionOf(b) : binaryVersion(b));
  const newVersion = versionOf(o.binary);
  if (!newVersion)
    throw new UsageError(
      o.driver.remote
        ? `--binary ${o.binary} is not an image with a release tag (e.g. quay.io/prometheus/prometheus:v2.55.1)`
        : `--binary ${o.binary} does not run (--version failed)`,
    );
  if (newVersion !== parseVersion(o.to)?.raw)
    throw new UsageError(
      `--binary ${o.binary} is ${newVersion}, not ${o.to}`,
      'pass the prometheus binary of the release you upgrade to',
    );
  const run = await openRun(o, async () =>
    o.driver.status().running
      ? (await o.client.buildInfo()).version.replace(/[+-].*$/, '')
      : (versionOf(o.driver.unit().binary) ?? '?'),
  );
  const row = runRow(o.state, run.id);
  const report: RunReport = {
    schemaVersion: 1,
    kind: 'stackshift.upgrade.run',
    runId: run.id,
    prometheus: o.client.url,
    from: row.from_version,
    to: row.to_version,
    status: 'running',
    steps: [],
  };
  const points: Array<{ ms: number; current: number; max: number }> = [];

  const step = async (
    name: RunStep,
    body: (prev?: StepRecord) => Promise<Record<string, unknown> | undefined>,
  ): Promise<Record<string, unknown> | undefined> => {
    const prev = run.get(name);
    if (prev?.status === 'done' || prev?.status === 'skipped') return prev.detail;
    run.begin(name);
    log.info(`upgrade step ${name}`, { run: run.id });
    try {
      const detail = await body(prev);
      run.end(name, detail?.skipped ? 'skipped' : 'done', detail);
      await holdAfter(name);
      return detail;
    } catch (e) {
      run.end(name, 'failed', { error: (e as Error).message });
      throw e;
    }
  };

  try {
    await step('snapshot', async () => {
      const s = await createSnapshot(o.client, { dataDir: o.dataDir });
      // a remote server's snapshot stays on its volume; the copy here is what is verified and kept
      if (o.driver.snapshotCopy)
        s.path = await o.driver.snapshotCopy.fetch(s.name, join(o.workDir, `upgrade-${run.id}-snapshot`));
      if (!s.path)
        throw new StackshiftError(
          'upgrade-snapshot',
          `snapshot ${s.name} was taken but is not under --data-dir ${o.dataDir}`,
          { hint: 'run upgrade run on the Prometheus host with its --data-dir' },
        );
      // a server with nothing persisted yet gives an empty snapshot: nothing to protect, nothing to verify
      if (readdirSync(s.path).length === 0)
        return { path: s.path, blocks: 0, bytes: 0, note: 'empty: the server had no data to snapshot' };
      const v = await verifySnapshot(s.path);
      if (!v.ok)
        throw new StackshiftError('upgrade-snapshot', `snapshot ${s.path} failed verification`, {
          hint: 'take a new one; nothing was changed',
          exitCode: 1,
        });
      return { path: s.path, blocks: v.blocks.length, bytes: v.bytesRead };
    });
    const pre = await step('preflight', async () => {
      const flags = await o.client.flags();
      const runtime = await o.client.runtimeInfo().catch(() => undefined);
      const cfg = flags['config.file'];
      const configFile = cfg && (isAbsolute(cfg) ? cfg : runtime?.CWD ? resolve(runtime.CWD, cfg) : undefined);
      const p = await runPreflight(o.client, {
        dataDir: o.dataDir,
        snapshotPath: o.driver.remote ? String(run.get('snapshot')?.detail?.path ?? '') || undefined : undefined,
        to: o.to,
        promtool: existsSync(promtoolBeside(o.binary)) ? promtoolBeside(o.binary) : undefined,
        configFile,
        state: o.state,
        runs: 1,
      });
      // a failing config check here is what the changes step fixes; every other failed check stops the stage
      // an empty snapshot (nothing persisted yet) was accepted by the snapshot step; preflight cannot verify it
      const emptySnapshot = Number((run.get('snapshot')?.detail as { blocks?: number } | undefined)?.blocks ?? 1) === 0;
      const blocking = p.checks.filter(
        (c) =>
          c.status === 'fail' && !(c.id === 'config' && o.fixes !== false) && !(c.id === 'snapshot' && emptySnapshot),
      );
      if (blocking.length)
        throw new StackshiftError(
          'upgrade-preflight',
          `preflight failed: ${blocking.map((c) => `${c.title}: ${c.detail}`).join('; ')}`,
          {
            hint:
              blocking
                .map((c) => c.advice)
                .filter(Boolean)
                .join('; ') || undefined,
            exitCode: 1,
          },
        );
      const atMs = Date.now() - 60_000;
      return {
        baselineId: p.stateId,
        configFile,
        targetsUp: p.baseline.targets.up,
        unhealthyRules: p.baseline.rules.unhealthyList.map((r) => `${r.group}/${r.name}`),
        seriesAtMs: atMs,
        seriesByName: await seriesByName(o.client, atMs),
        queries: p.baseline.queries,
      };
    });
    await step('changes', async () => {
      if (o.fixes === false) return { applied: false, reason: '--no-fixes' };
      const files = [
        o.driver.unit().file,
        ...(typeof pre?.configFile === 'string' && existsSync(pre.configFile) ? [pre.configFile] : []),
      ];
      const r = await fixFiles(files, { from: row.from_version, to: row.to_version, stage: stageOf(row.to_version) });
      if (r.rejected.length)
        throw new StackshiftError(
          'upgrade-changes',
          `fixed files failed validation: ${r.rejected.map((x) => `${x.file}: ${x.reason}`).join('; ')}`,
          { exitCode: 1 },
        );
      const fixed = r.files
        .filter((f) => f.fixes > 0)
        .map((f) => ({ file: f.file, backup: f.backup, fixes: f.fixes, changes: f.changes.map((c) => c.ruleId) }));
      // the files as they now are must load in the new release: its promtool, with the unit's feature flags,
      // checks them before anything is stopped; a refusal puts every file back as it was
      const checked = checkWithNewPromtool(
        o.binary,
        typeof pre?.configFile === 'string' ? pre.configFile : undefined,
        o.driver.unit().args,
        row.to_version,
      );
      if (checked && !checked.ok) {
        for (const f of fixed) if (f.backup) restoreBackup(f.backup, f.file);
        throw new StackshiftError(
          'upgrade-changes',
          `${checked.command} rejects the config after the ${stageOf(row.to_version)} fixes: ${checked.output}`,
          {
            hint: `nothing was stopped and every fixed file is back as it was; fix what promtool names (stackshift lint prom3 --from ${row.from_version} --to ${row.to_version} --stage ${stageOf(row.to_version)} shows the known changes), then rerun`,
            exitCode: 1,
          },
        );
      }
      return {
        applied: true,
        files: fixed,
        validated: checked ? `${checked.command}: ok` : 'no promtool beside --binary: not checked',
      };
    });
    const shadow = (await step('shadow', async () => {
      if (!o.zeroGap) return { skipped: true, reason: 'no --zero-gap: the gap is measured and reported' };
      await checkZeroGapTarget(o.client);
      if (typeof pre?.configFile !== 'string' || !existsSync(pre.configFile))
        throw new StackshiftError(
          'upgrade-zero-gap',
          "the shadow scraper needs the server's prometheus.yml on this machine",
          { hint: 'run upgrade run on the Prometheus host' },
        );
      const sh = startShadow({
        dir: o.workDir,
        runId: run.id,
        binary: row.old_binary,
        configFile: pre.configFile,
        port: await freePort(),
      });
      const targets = await waitShadowScraping(sh);
      return { ...sh, targets };
    })) as (Shadow & { skipped?: boolean }) | undefined;
    const stopped = await step('stop', async () => {
      const atMs = Date.now();
      await o.driver.stop();
      return { atMs };
    });
    await step('install', async () => {
      const backup = o.driver.install(row.new_binary);
      return { binary: row.new_binary, backup };
    });
    await step('start', async () => {
      await o.driver.start();
      return { pid: o.driver.status().pid };
    });
    const replay = await step('replay', async () => {
      const ms = await waitReady(o, points);
      return { durationMs: ms, readyAtMs: Date.now(), points };
    });
    report.replay = {
      points: (replay?.points as typeof points) ?? points,
      durationMs: Number(replay?.durationMs ?? 0),
    };
    const gates = await step('gates', async () => {
      const g = await postUpgradeGates(o.client, o.driver, { to: row.to_version, baseline: pre ?? {} });
      report.gates = g;
      const failed = g.filter((x) => !x.passed);
      if (failed.length) throw new GateFailure(failed);
      return { gates: g };
    });
    report.gates = gates?.gates as GateResult[] | undefined;
    const fill = await step('fill', async () => {
      if (!shadow || shadow.skipped) return { skipped: true };
      // the same window the gap step measures; the server's own scrapes up to its end must be in first
      const w = gapWindow(Number(stopped?.atMs), Number(replay?.readyAtMs), o.gapMarginMs ?? 120_000);
      await waitPast(w.endMs);
      const f = await fillGap(shadow.url, o.client, w.startMs, w.endMs);
      await stopShadow(shadow);
      return { ...f };
    });
    report.fill = fill?.skipped ? undefined : (fill as RunReport['fill']);
    const gap = await step('gap', async () => {
      const g = await measureGap(o.client, Number(stopped?.atMs), Number(replay?.readyAtMs), o.gapMarginMs ?? 120_000);
      return { gap: g };
    });
    report.gap = gap?.gap as GapReport | undefined;
    await step('signoff', async () => ({ at: now() }));
    run.finish('signed-off');
    report.status = 'signed-off';
  } catch (e) {
    report.steps = run.steps();
    const destructiveDone = run.get('stop') !== undefined;
    if (e instanceof GateFailure || (destructiveDone && (o.autoRollback ?? true) && !(e instanceof UsageError))) {
      if (o.autoRollback ?? true) {
        const restored = await rollbackRun(o.state, run.id, o.driver, o.client, o.readyTimeoutMs);
        report.rollback = { reason: (e as Error).message, restored };
        report.status = 'rolled-back';
        report.steps = run.steps();
        return report;
      }
    }
    if (!destructiveDone) run.finish('failed');
    throw e;
  }
  report.steps = run.steps();
  return report;
}

export class GateFailure extends StackshiftError {
  constructor(readonly failed: GateResult[]) {
    super('upgrade-gate', `post-upgrade gate failed: ${failed.map((g) => `${g.id}: ${g.detail}`).join('; ')}`, {
      exitCode: 1,
    });
  }
}

/**
 * Back to the old binary and the files as they were before the stage (from the backups the run made), then
 * started and waited for. Returns what was restored.
 */
export async function rollbackRun(
  db: StateDb,
  runId: number,
  driver: ServerDriver,
  client: PrometheusClient,
  readyTimeoutMs?: number,
): Promise<string[]> {
  const run = new RunLog(db, runId);
  const row = runRow(db, runId);
  const restored: string[] = [];
  log.warn('rolling back', { run: runId, to: row.from_version });
  const sh = run.get('shadow')?.detail as (Shadow & { skipped?: boolean }) | undefined;
  if (sh && !sh.skipped) await stopShadow(sh);
  await driver.stop();
  const changes = run.get('changes')?.detail as { files?: Array<{ file: string; backup?: string }> } | undefined;
  for (const f of changes?.files ?? []) {
    if (f.backup && f.file !== driver.unit().file) {
      restoreBackup(f.backup, f.file);
      restored.push(f.file);
    }
  }
  const unitBackup = (changes?.files ?? []).find((f) => f.file === driver.unit().file)?.backup;
  if (unitBackup) {
    restoreBackup(unitBackup, driver.unit().file);
    restored.push(driver.unit().file);
  }
  driver.install(row.old_binary);
  restored.push(`binary ${row.old_binary}`);
  await driver.start();
  const deadline = Date.now() + (readyTimeoutMs ?? 30 * 60_000);
  for (;;) {
    try {
      await client.ensureReady();
      break;
    } catch (e) {
      if (Date.now() > deadline || !driver.status().running)
        throw new StackshiftError(
          'upgrade-rollback',
          `the rolled-back Prometheus did not become ready: ${(e as Error).message}`,
          { hint: `see ${driver.logWhere()}` },
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  run.finish('rolled-back');
  return restored;
}

export function latestRun(db: StateDb, url: string): RunRow | undefined {
  return db
    .prepare(
      'SELECT id, from_version, to_version, old_binary, new_binary, status, unit FROM upgrade_runs WHERE prometheus_url = ? ORDER BY id DESC LIMIT 1',
    )
    .get(url) as RunRow | undefined;
}

export const UPGRADE_MIGRATIONS: Migration[] = [PREFLIGHT_MIGRATION, UPGRADE_RUN_MIGRATION];
