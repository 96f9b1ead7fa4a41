import type { z } from 'zod';
import type { LoadedConfig, ResolvedEndpoint } from '../config/index.js';

/** Where a step stands in the state database. */
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'rolled-back';

/** A gate as data: `<figure> <op> <value>`, evaluated against the figures a step's verify() measured. */
export interface Gate {
  figure: string;
  op: '>=' | '>' | '<=' | '<' | '==' | '!=';
  value: number;
  /** The text it was written as (`consistency >= 99.9`), for reports. */
  text: string;
  /** `<step id>.<figure>` gates of a gate step read another step's figure. */
  step?: string;
}

export interface GateResult {
  gate: string;
  figure: string;
  /** The measured value; undefined when the step did not measure it (the gate then fails). */
  actual?: number;
  expected: string;
  passed: boolean;
  step?: string;
}

/** What a step would do, without doing it. */
export interface StepPlan {
  /** One line: what it does. */
  summary: string;
  /** The equivalent stackshift command lines (secrets never shown: endpoint names and URLs only). */
  commands: string[];
  gates: string[];
  /** How its rollback undoes it, or why nothing needs undoing. */
  rollback: string;
}

/** What run() hands back: a JSON-safe result stored with the step, and figures the gates read. */
export interface StepRunResult {
  /** Stored as the step's result and shown in reports (the capability's own report). */
  result?: unknown;
  /** Numbers the gates and the report read, e.g. { consistency: 99.95, rejected_samples: 0 }. */
  figures?: Record<string, number>;
  /** A wait step that has not reached its deadline: the run stops here and a later run carries on. */
  waitingUntil?: number;
  /** One line for the console. */
  note?: string;
}

export interface StepRollbackResult {
  action: 'restored' | 'none' | 'reset';
  detail: string;
  result?: unknown;
}

/**
 * What a step can use. `data` is the step's own durable scratch space in the state database: whatever it
 * saves there (a deadline, a backup directory) is committed before `save` returns and survives kill -9.
 */
export interface StepContext {
  migrationId: string;
  stepId: string;
  /** A directory for this step's files (its own state files, backups), stable across runs. */
  workDir: string;
  /** The time relative times in params ("30d", "now") are read against: fixed at the step's first run. */
  anchorMs: number;
  now(): number;
  endpoint(name: string, defaultType?: ResolvedEndpoint['type']): ResolvedEndpoint;
  /** The endpoint's URL as written (for plans): never a secret. */
  endpointUrl(name: string): string | undefined;
  loaded: LoadedConfig;
  data: Record<string, unknown>;
  save(data: Record<string, unknown>): void;
  /** Figures recorded by other steps of this migration (gate steps read them). */
  figuresOf(stepId: string): Record<string, number> | undefined;
  log(msg: string): void;
  /**
   * Rollback only: `migrate rollback --force`. A rollback that finds what the step changed edited by someone
   * else since (a rule group edited in Mimir) refuses unless this is set, so nobody's later edit is lost unasked.
   */
  force: boolean;
}

/** One step of a migration: plan, run (idempotent), verify (gate figures), rollback (idempotent). */
export interface MigrationStep {
  id: string;
  title: string;
  kind: string;
  plan(ctx: StepContext): StepPlan;
  run(ctx: StepContext): Promise<StepRunResult>;
  /** Figures for the gates, measured from what run() stored or by asking the systems again. */
  verify(ctx: StepContext, run: StepRunResult): Promise<Record<string, number>>;
  rollback(ctx: StepContext): Promise<StepRollbackResult>;
}

/**
 * A kind of step: the params it takes (validated with line numbers), the figures its verify() reports and
 * the gates applied when the file names none. Registering one is all a capability needs to join plans.
 */
export interface StepKind<P = unknown> {
  kind: string;
  /** One line for `migrate plan` and the README. */
  description: string;
  params: z.ZodType<P>;
  /** Figures this kind reports; a gate on any other figure is refused when the file is read. */
  figures: readonly string[];
  defaultGates: readonly string[];
  /** Gates a step of this kind must have (a gate step without any checks nothing). */
  minGates?: number;
  /** Endpoint names the params refer to (checked to exist in the file or stackshift.yaml). */
  endpoints?(params: P): string[];
  create(def: { id: string; title: string; params: P }): MigrationStep;
}
