import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEndpoint, type LoadedConfig, type ResolvedEndpoint } from '../config/index.js';
import { StackshiftError, UsageError, isStackshiftError } from '../errors/index.js';
import { log } from '../log/index.js';
import { openState, StateLease, type StateDb } from '../state/index.js';
import { evaluateGate } from './gates.js';
import type { MigrationPlan, PlannedStep } from './file.js';
import { requireStepKind } from './registry.js';
import { MIGRATE_MIGRATION, MigrateState, type StepRow } from './state.js';
import type { GateResult, MigrationStep, StepContext, StepPlan } from './types.js';

export interface EngineOptions {
  plan: MigrationPlan;
  /** stackshift.yaml (endpoints the migration file does not define come from it). */
  loaded: LoadedConfig;
  statePath: string;
  now?: () => number;
}

export type RunOutcome = 'complete' | 'until' | 'waiting' | 'gate-failed' | 'error';

export interface RunSummary {
  outcome: RunOutcome;
  ran: string[];
  skipped: string[];
  failedStep?: string;
  gates?: GateResult[];
  error?: string;
  waitingUntil?: number;
  rolledBack: string[];
  steps: StepRow[];
}

export interface RollbackSummary {
  rolledBack: string[];
  steps: StepRow[];
}

/** Test hook: after run() of this step returns, hold (so a test can kill -9 between the work and its record). */
const HOLD_ENV = 'STACKSHIFT_TEST_MIGRATE_HOLD_AFTER_RUN';

/**
 * Runs a migration plan against its durable state: steps in order, each recorded before and after it runs,
 * done steps never run again, a failed gate stops the phase (and with autoRollback undoes the phase's steps
 * in reverse order). One writer per state file (StateLease): a second run is refused at once.
 */
export class MigrationEngine {
  readonly state: MigrateState;
  private readonly db: StateDb;
  private readonly now: () => number;

  constructor(private readonly o: EngineOptions) {
    this.db = openState(o.statePath, [MIGRATE_MIGRATION]);
    this.state = new MigrateState(this.db);
    this.now = o.now ?? Date.now;
  }

  get plan(): MigrationPlan {
    return this.o.plan;
  }

  get statePath(): string {
    return this.o.statePath;
  }

  close(): void {
    this.db.close();
  }

  private lease(): StateLease {
    try {
      return new StateLease(this.db, this.o.statePath, 'migrate');
    } catch (e) {
      if (isStackshiftError(e))
        throw new StackshiftError('migrate-busy', e.message, {
          hint: 'one migrate run, rollback at a time per state file: wait for the other one or stop it',
          exitCode: 2,
        });
      throw e;
    }
  }

  /** Brings the state in line with the plan; refuses a plan that changed a step that already ran. */
  sync(): void {
    const plan = this.o.plan;
    const prevName = this.state.meta('name');
    if (prevName && prevName !== plan.name) {
      throw new UsageError(
        `state file ${this.o.statePath} belongs to migration "${prevName}", not "${plan.name}"`,
        'pass the state file of this migration with --state, or a new one',
      );
    }
    const rows = new Map(this.state.steps().map((r) => [r.id, r]));
    const tx = this.db.transaction(() => {
      for (const s of plan.steps) {
        const row = rows.get(s.id);
        if (
          row &&
          row.hash !== s.hash &&
          (row.status === 'done' || row.status === 'running' || row.status === 'failed')
        ) {
          throw new UsageError(
            `step "${s.id}" changed in ${plan.file} since it ran (status ${row.status})`,
            `roll it back first (stackshift migrate rollback --to ${s.phase - 1}), put the file back as it was, or use a new --state`,
          );
        }
        this.state.upsertDefinition({
          id: s.id,
          phase: s.phase,
          ord: s.order,
          kind: s.kind,
          title: s.title,
          hash: s.hash,
        });
      }
      for (const row of rows.values()) {
        if (plan.steps.some((s) => s.id === row.id)) continue;
        if (row.status === 'pending' || row.status === 'rolled-back') this.state.delete(row.id);
        else
          throw new UsageError(
            `step "${row.id}" (status ${row.status}) is in the state but no longer in ${plan.file}`,
            'put it back in the file, or roll it back first',
          );
      }
      this.state.setMeta('name', plan.name);
      this.state.setMeta('file', plan.file);
      if (!this.state.meta('created_at')) this.state.setMeta('created_at', new Date(this.now()).toISOString());
    });
    tx.immediate();
  }

  private instance(s: PlannedStep): MigrationStep {
    return requireStepKind(s.kind).create({ id: s.id, title: s.title, params: s.params });
  }

  private endpoint(name: string, defaultType?: ResolvedEndpoint['type']): ResolvedEndpoint {
    const own = this.o.plan.endpoints[name];
    const base = this.o.loaded.config.endpoints?.[name];
    if (!own) return resolveEndpoint(this.o.loaded, name, {}, defaultType);
    const merged = { ...(base ?? {}), ...own };
    const loaded: LoadedConfig = {
      config: { ...this.o.loaded.config, endpoints: { ...(this.o.loaded.config.endpoints ?? {}), [name]: merged } },
      file: this.o.plan.file,
      baseDir: this.o.plan.baseDir,
    };
    return resolveEndpoint(loaded, name, {}, defaultType);
  }

  context(s: PlannedStep, row: StepRow | undefined, opts: { force?: boolean } = {}): StepContext {
    const workDir = stepWorkDir(this.o.statePath, s.id);
    const ctx: StepContext = {
      migrationId: this.o.plan.name,
      stepId: s.id,
      workDir,
      anchorMs: row?.anchorMs ?? this.now(),
      now: this.now,
      endpoint: (name, type) => this.endpoint(name, type),
      endpointUrl: (name) => this.o.plan.endpoints[name]?.url ?? this.o.loaded.config.endpoints?.[name]?.url,
      loaded: { ...this.o.loaded, baseDir: this.o.plan.baseDir },
      data: row?.data ?? {},
      save: (data) => {
        this.state.saveData(s.id, data);
        ctx.data = data;
      },
      figuresOf: (id) => this.state.step(id)?.figures,
      log: (msg) => log.info(`${s.id}: ${msg}`),
      force: opts.force ?? false,
    };
    return ctx;
  }

  /** What every step would do, with its status. */
  describe(): Array<{ step: PlannedStep; plan: StepPlan; row?: StepRow }> {
    const rows = new Map(this.state.steps().map((r) => [r.id, r]));
    return this.o.plan.steps.map((s) => {
      const row = rows.get(s.id);
      const p = this.instance(s).plan(this.context(s, row));
      return { step: s, plan: { ...p, gates: [...p.gates, ...s.gates.map((g) => g.text)] }, row };
    });
  }

  async run(opts: { phase?: number; until?: string; autoRollback?: boolean } = {}): Promise<RunSummary> {
    const plan = this.o.plan;
    if (opts.phase !== undefined && !plan.phases.some((p) => p.index === opts.phase))
      throw new UsageError(`--phase ${opts.phase}: the plan has phases 1 to ${plan.phases.length}`);
    if (opts.until !== undefined && !plan.steps.some((s) => s.id === opts.until))
      throw new UsageError(`--until ${opts.until}: no such step`, `steps: ${plan.steps.map((s) => s.id).join(', ')}`);
    const lease = this.lease();
    try {
      this.sync();
      let steps = plan.steps;
      if (opts.phase !== undefined) {
        const before = this.state.steps().filter((r) => r.phase < opts.phase! && r.status !== 'done');
        if (before.length)
          throw new UsageError(
            `--phase ${opts.phase}: earlier steps are not done (${before.map((r) => `${r.id} ${r.status}`).join(', ')})`,
            'run the earlier phases first (stackshift migrate run)',
          );
        steps = steps.filter((s) => s.phase === opts.phase);
      }
      if (opts.until !== undefined && !steps.some((s) => s.id === opts.until))
        throw new UsageError(`--until ${opts.until} is not in phase ${opts.phase}`);
      const summary: RunSummary = { outcome: 'complete', ran: [], skipped: [], rolledBack: [], steps: [] };
      for (const s of steps) {
        const row = this.state.step(s.id)!;
        if (row.status === 'done') {
          summary.skipped.push(s.id);
          continue;
        }
        const step = this.instance(s);
        this.state.start(s.id, this.now());
        const started = this.state.step(s.id)!;
        this.state.event({ step: s.id, phase: s.phase, event: 'start', detail: `attempt ${started.attempts}` });
        log.info(`phase ${s.phase}, ${s.id}: ${s.title}`);
        const ctx = this.context(s, started);
        ensureDir(ctx.workDir);
        let res;
        let figures: Record<string, number>;
        try {
          res = await step.run(ctx);
          if (process.env[HOLD_ENV] === s.id) {
            this.state.event({ step: s.id, phase: s.phase, event: 'test-hold' });
            await new Promise((r) => setTimeout(r, 600_000));
          }
          if (res.waitingUntil !== undefined) {
            this.state.event({
              step: s.id,
              phase: s.phase,
              event: 'waiting',
              detail: new Date(res.waitingUntil).toISOString(),
            });
            summary.outcome = 'waiting';
            summary.waitingUntil = res.waitingUntil;
            summary.ran.push(s.id);
            break;
          }
          figures = { ...(res.figures ?? {}), ...(await step.verify(ctx, res)) };
        } catch (e) {
          const msg = isStackshiftError(e)
            ? `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}`
            : `internal error: ${(e as Error)?.message ?? String(e)}`;
          this.state.finish(s.id, 'failed', { error: msg });
          this.state.event({ step: s.id, phase: s.phase, event: 'error', detail: msg });
          summary.outcome = 'error';
          summary.failedStep = s.id;
          summary.error = msg;
          summary.ran.push(s.id);
          if (opts.autoRollback) summary.rolledBack = await this.rollbackSteps(this.phaseSteps(s.phase));
          break;
        }
        const gates = s.gates.map((g) => evaluateGate(g, g.step ? this.state.step(g.step)?.figures : figures));
        const passed = gates.every((g) => g.passed);
        this.state.finish(s.id, passed ? 'done' : 'failed', {
          result: res.result,
          figures,
          gates,
          error: passed
            ? undefined
            : `gate failed: ${gates
                .filter((g) => !g.passed)
                .map((g) => `${g.gate} (measured ${g.actual ?? 'nothing'})`)
                .join('; ')}`,
        });
        this.state.event({
          step: s.id,
          phase: s.phase,
          event: passed ? 'done' : 'gate-failed',
          detail: [
            res.note,
            ...gates.map((g) => `${g.passed ? 'pass' : 'FAIL'} ${g.gate}: ${g.actual ?? 'not measured'}`),
          ]
            .filter(Boolean)
            .join('; '),
        });
        summary.ran.push(s.id);
        if (!passed) {
          log.warn(`${s.id}: gate failed, phase ${s.phase} stops`);
          summary.outcome = 'gate-failed';
          summary.failedStep = s.id;
          summary.gates = gates;
          if (opts.autoRollback) summary.rolledBack = await this.rollbackSteps(this.phaseSteps(s.phase));
          break;
        }
        if (opts.until === s.id) {
          summary.outcome = 'until';
          break;
        }
      }
      summary.steps = this.state.steps();
      return summary;
    } finally {
      lease.release();
    }
  }

  private phaseSteps(phase: number): PlannedStep[] {
    return this.o.plan.steps.filter((s) => s.phase === phase);
  }

  /** Rolls back, in reverse order, every step that may have changed something (done, failed or interrupted). */
  private async rollbackSteps(steps: PlannedStep[], force = false): Promise<string[]> {
    const out: string[] = [];
    for (const s of [...steps].reverse()) {
      const row = this.state.step(s.id);
      if (!row || row.status === 'pending' || row.status === 'rolled-back') continue;
      this.state.event({ step: s.id, phase: s.phase, event: 'rollback-start' });
      try {
        const r = await this.instance(s).rollback(this.context(s, row, { force }));
        this.state.rolledBack(s.id, r);
        this.state.event({ step: s.id, phase: s.phase, event: 'rolled-back', detail: `${r.action}: ${r.detail}` });
        out.push(s.id);
      } catch (e) {
        this.state.event({ step: s.id, phase: s.phase, event: 'rollback-failed', detail: (e as Error).message });
        throw e;
      }
    }
    return out;
  }

  /**
   * Rolls back every phase after `toPhase` (0: all of them), last step first. `force`: a step whose changes
   * were edited by someone else since it ran is rolled back anyway (without it, such a step refuses).
   */
  async rollback(toPhase = 0, opts: { force?: boolean } = {}): Promise<RollbackSummary> {
    if (!(toPhase >= 0 && toPhase <= this.o.plan.phases.length))
      throw new UsageError(
        `--to ${toPhase}: the plan has phases 1 to ${this.o.plan.phases.length} (0 rolls back everything)`,
      );
    const lease = this.lease();
    try {
      this.sync();
      const rolledBack = await this.rollbackSteps(
        this.o.plan.steps.filter((s) => s.phase > toPhase),
        opts.force,
      );
      return { rolledBack, steps: this.state.steps() };
    } finally {
      lease.release();
    }
  }
}

/** Where a step keeps its own files (its state file, backups): `<state>.d/<step id>/`, stable across runs. */
export function stepWorkDir(statePath: string, stepId: string): string {
  return join(`${statePath}.d`, stepId);
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
