export { runBackfill, BACKFILL_DEFAULTS, sourcePaths, targetPaths, receiverKind, receiverDefaults, checkEndpointUrl, FUTURE_SKEW_MS, PROBE_METRIC, type BackfillParams, type BackfillReport, type RejectSummary, type Shard } from './run.js';
export { BackfillEngine, splitBatch, splitRefused, type EngineOptions, type EngineResult } from './engine.js';
export { BackfillState, BACKFILL_MIGRATION } from './state.js';
export { renderBackfillText, renderBackfillMarkdown } from './report.js';
export { RateLimiter, shardOf } from './limits.js';
export { assertSamePlan, emptyCounts, seriesHash, type GroupRow, type UnitCounts } from './state.js';
export { escapeRegex, Semaphore } from './limits.js';
