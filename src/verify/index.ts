export { verifyMetrics, CONSISTENCY_DEFINITION, type VerifyMetricsOptions, type VerifySide, type MetricsReport, type Discrepancy } from './metrics.js';
export { renderMetricsText, renderMetricsMarkdown, formatPercent, describeDiscrepancy } from './render.js';
export { SeriesComparator, STALE_NAN_HI, STALE_NAN_LO, isStaleNaN, staleMarkerArray, type SeriesComparison, type SampleDifference, type Gap } from './compare.js';
export { digestSeries, planWindows, differingWindows, type SeriesDigest } from './digest.js';
export { compareMetric, type MetricParity } from './samples.js';
export { inSample, wilson, ratioInterval, type Interval } from './sampling.js';
export { NO_MAPPING, type LabelMapping, type ValueEquality, type SeriesReader } from './types.js';
