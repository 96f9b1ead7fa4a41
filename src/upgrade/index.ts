export { planUpgrade, rollbackFor, writerFormats, type UpgradePlan, type PlanStage, type PlanInput, type PlanEvidence, type Rollback, type ChecklistItem } from './plan.js';
export { factsChangesProvider, type RequiredChange, type RequiredChangesProvider, type ServerFacts, type StageRef } from './changes.js';
export { replayFromLog, estimateDowntime, parseGoDuration, parseLogLine, ASSUMED_BYTES_PER_SECOND, type ReplayMeasurement, type DowntimeEstimate } from './downtime.js';
export { buildRisks, heatMap, heatMapMarkdown, heatMapHtml, cellBand, type Risk } from './risks.js';
export { renderPlanText, renderPlanMarkdown, renderPlanHtml } from './render.js';
export { runPreflight, diskCheck, tsdbSize, saveBaseline, latestBaseline, PREFLIGHT_MIGRATION, type PreflightReport, type PreflightCheck, type PreflightOptions, type Baseline, type QueryLatency, type StatfsLike, type CheckStatus } from './preflight.js';
export { renderPreflightText, renderPreflightMarkdown } from './render.js';
export { lintChangesProvider } from './lint-changes.js';
export { readServerFacts } from './server.js';
