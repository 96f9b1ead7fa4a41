export {
  planUpgrade,
  rollbackFor,
  writerFormats,
  type UpgradePlan,
  type PlanStage,
  type PlanInput,
  type PlanEvidence,
  type Rollback,
  type ChecklistItem,
} from './plan.js';
export {
  factsChangesProvider,
  type RequiredChange,
  type RequiredChangesProvider,
  type ServerFacts,
  type StageRef,
} from './changes.js';
export {
  replayFromLog,
  estimateDowntime,
  parseGoDuration,
  parseLogLine,
  ASSUMED_BYTES_PER_SECOND,
  type ReplayMeasurement,
  type DowntimeEstimate,
} from './downtime.js';
export { buildRisks, heatMap, heatMapMarkdown, heatMapHtml, cellBand, type Risk } from './risks.js';
export { renderPlanText, renderPlanMarkdown, renderPlanHtml } from './render.js';
export {
  runPreflight,
  diskCheck,
  tsdbSize,
  saveBaseline,
  latestBaseline,
  PREFLIGHT_MIGRATION,
  type PreflightReport,
  type PreflightCheck,
  type PreflightOptions,
  type Baseline,
  type QueryLatency,
  type StatfsLike,
  type CheckStatus,
} from './preflight.js';
export { renderPreflightText, renderPreflightMarkdown } from './render.js';
export { lintChangesProvider } from './lint-changes.js';
export { readServerFacts } from './server.js';
export { localDriver, binaryVersion, parseArgsUnit, type ServerDriver, type DriverStatus } from './driver.js';
export { systemdDriver, parseExecStart, type ExecStart, type SystemdOptions } from './systemd.js';
export {
  runUpgrade,
  withUpgradeLease,
  UPGRADE_LEASE,
  rollbackRun,
  dryRun,
  checkStage,
  latestRun,
  RUN_STEPS,
  UPGRADE_RUN_MIGRATION,
  UPGRADE_MIGRATIONS,
  GateFailure,
  type RunOptions,
  type RunReport,
  type RunStep,
  type StepRecord,
} from './runner.js';
export { rollbackLastRun, type RollbackOptions, type RollbackReport } from './rollback.js';
export { postUpgradeGates, seriesByName, type GateResult, type BaselineFacts } from './gates.js';
export { measureGap, type GapReport, type TargetGap } from './gap.js';
export { fillGap, type FillResult } from './zero-gap.js';
export {
  kubernetesDriver,
  parseResource,
  imageVersion,
  type KubernetesKind,
  type KubernetesOptions,
} from './kubernetes.js';
export { renderRunHtml } from './run-report.js';
