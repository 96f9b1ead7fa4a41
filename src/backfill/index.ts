export { runBackfill, BACKFILL_DEFAULTS, sourcePaths, targetPaths, PROBE_METRIC, type BackfillParams, type BackfillReport, type RejectSummary, type Shard } from './run.js';
export { BackfillEngine, type EngineOptions, type EngineResult } from './engine.js';
export { BackfillState, BACKFILL_MIGRATION } from './state.js';
export { renderBackfillText, renderBackfillMarkdown } from './report.js';
export { RateLimiter, shardOf } from './limits.js';
export { assertSamePlan, emptyCounts, seriesHash, type GroupRow, type UnitCounts } from './state.js';
export { escapeRegex, Semaphore } from './limits.js';
