export { startPrometheus, prometheusBinary, prometheusVersion, freePort, waitReady, reapOrphans, type LabServer, type StartOptions } from './prometheus.js';
export { generateHistory, countSamples, writeOpenMetrics, historyBlocks, installBlocks, specHash, resolveSpec, mulberry32, type HistorySpec, type GeneratedSeries } from './history.js';
export { historyWithStaleMarkers, writeHistoryRemote, type HistorySeries, type RemoteWriteHistoryResult } from './remote-write-history.js';
export { waitHeadCompacted } from './settle.js';
export { generateHistogramHistory, writeHistogramHistoryRemote, type HistogramHistorySpec, type HistogramSeries, type HistogramWriteResult } from './histogram-history.js';
export { DEAD_TARGET, BROKEN_RULE_EXPR } from './unhealthy.js';
