/**
 * Migrations as data: a stackshift-migration.yaml of phases and steps, each step a kind that wraps one
 * capability (backfill, verify, dashboards, traces, logs, wait, gate) through its public surface, run by an
 * engine with durable SQLite state, one writer, gates that stop a phase, and rollback in reverse order.
 */
export type {
  MigrationStep,
  StepKind,
  StepContext,
  StepPlan,
  StepRunResult,
  StepRollbackResult,
  StepStatus,
  Gate,
  GateResult,
} from './types.js';
export { parseGate, evaluateGate, GATE_SYNTAX, DEFAULT_CONSISTENCY_GATE } from './gates.js';
export { registerStepKind, stepKind, stepKindNames, requireStepKind } from './registry.js';
export {
  parseMigrationText,
  loadMigrationFile,
  MigrationFileSchema,
  DEFAULT_MIGRATION_FILE,
  type MigrationPlan,
  type PlannedStep,
} from './file.js';
export {
  MigrationEngine,
  stepWorkDir,
  type EngineOptions,
  type RunSummary,
  type RunOutcome,
  type RollbackSummary,
} from './engine.js';
export { MigrateState, MIGRATE_MIGRATION, type StepRow, type EventRow } from './state.js';
export {
  buildReport,
  renderReportHtml,
  renderReportMarkdown,
  renderStatusText,
  phaseTimelineSvg,
  consistencySvg,
  gatesSvg,
  phaseStatus,
  REPORT_CSS,
  type MigrationReportDoc,
  type PhaseStatus,
} from './report.js';
export { initMigrationText, type InitOptions, type InitEndpoint } from './init.js';
export { timeText, durationText, endpointName, range as stepRange } from './kinds/common.js';
