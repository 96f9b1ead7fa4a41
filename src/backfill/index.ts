export {
  runBackfill,
  BACKFILL_DEFAULTS,
  FUTURE_SKEW_MS,
  receiverDefaults,
  type BackfillParams,
  type CopyParams,
  type RunControl,
  type RunProgress,
} from './run.js';
export { sourcePaths, targetPaths, receiverKind, checkEndpointUrl, externalLabels, retriesOf } from './endpoints.js';
export {
  planHash,
  planGroups,
  plannedNames,
  resumedRange,
  runStopped,
  shardKey,
  slices,
  workLeft,
  type Shard,
} from './plan.js';
export { PROBE_METRIC } from './preflight.js';
export { BackfillEngine, type BatchSink, type EngineOptions, type EngineResult, type SeriesSource } from './engine.js';
export { splitBatch, splitRefused } from './batch.js';
export { BackfillState, BACKFILL_MIGRATION } from './state.js';
export {
  renderBackfillText,
  renderBackfillMarkdown,
  peakRss,
  type BackfillReport,
  type RejectSummary,
} from './report.js';
export { RateLimiter, shardOf, adaptWindow } from './limits.js';
export { assertSamePlan, emptyCounts, seriesHash, type GroupRow, type UnitCounts } from './state.js';
export { escapeRegex, Semaphore } from './limits.js';
export { restartRisk, type RestartRisk } from './restart-risk.js';
