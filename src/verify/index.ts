export { checkVerifyWindow, DEFAULT_EXCLUDED_SERIES, MAX_READ_WINDOWS } from './scope.js';
export {
  verifyMetrics,
  CONSISTENCY_DEFINITION,
  type VerifyMetricsOptions,
  type VerifySide,
  type MetricsReport,
  type Discrepancy,
} from './metrics.js';
export { renderMetricsText, renderMetricsMarkdown, formatPercent, describeDiscrepancy } from './render.js';
export {
  SeriesComparator,
  STALE_NAN_HI,
  STALE_NAN_LO,
  isStaleNaN,
  staleMarkerArray,
  type SeriesComparison,
  type SampleDifference,
  type Gap,
} from './compare.js';
export { histogramDifference, describeHistogram } from './histogram-compare.js';
export { digestSeries, planWindows, differingWindows, type SeriesDigest } from './digest.js';
export { compareMetric, type MetricParity } from './samples.js';
export { inSample, wilson, ratioInterval, type Interval } from './sampling.js';
export { NO_MAPPING, type LabelMapping, type ValueEquality, type SeriesReader } from './types.js';
export { openSide, queryConnections, metricsConnections, type OpenedSide } from './connect.js';
export {
  loadQuerySources,
  loadQueryFile,
  loadComplianceSuite,
  COMPLIANCE_VARIANT_ARGS,
  loadRuleFile,
  loadDashboard,
  resolveTemplate,
  dashboardVariables,
  promqlSyntaxError,
  type QuerySet,
  type QueryCase,
  type Unsupported,
  type ResolveOptions,
} from './queries/extract.js';
export {
  verifyQueries,
  compareResults,
  percentile,
  type QueriesReport,
  type VerifyQueriesOptions,
  type QueryMismatch,
  type ExecutionOutcome,
  type ExecutionResult,
} from './queries/run.js';
export { renderQueriesText, renderQueriesMarkdown } from './queries/render.js';
export { labelKey as seriesKey, formatLabels } from './labels.js';
export { RawChunkReader, type ChunkSource, type ChunkItem } from './chunks.js';
export { metricsReportSchema, queriesReportSchema } from './schema.js';
