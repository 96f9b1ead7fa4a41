export {
  startPrometheus,
  prometheusBinary,
  promtoolBinary,
  prometheusVersion,
  defaultPrometheusVersion,
  waitReady,
  type LabServer,
  type StartOptions,
} from './prometheus.js';
export { freePort, launch, reapOrphans, waitHttpReady, type LabProcess, type LaunchOptions } from './process.js';
export {
  PROMETHEUS,
  PROMETHEUS_VERSIONS,
  DEBIAN_PROMETHEUS,
  labBinary,
  labHas,
  serverTable,
  serverVersion,
  serversCacheDir,
  type ServerName,
  type ServerRow,
} from './servers.js';
export {
  generateHistory,
  countSamples,
  writeOpenMetrics,
  historyBlocks,
  installBlocks,
  specHash,
  resolveSpec,
  mulberry32,
  type HistorySpec,
  type GeneratedSeries,
} from './history.js';
export {
  historyWithStaleMarkers,
  writeHistoryRemote,
  type HistorySeries,
  type RemoteWriteHistoryResult,
} from './remote-write-history.js';
export { waitHeadCompacted } from './settle.js';
export {
  generateHistogramHistory,
  writeHistogramHistoryRemote,
  type HistogramHistorySpec,
  type HistogramSeries,
  type HistogramWriteResult,
} from './histogram-history.js';
export { DEAD_TARGET, BROKEN_RULE_EXPR } from './unhealthy.js';
export { startAlertmanager, amtoolBinary, MINIMAL_ALERTMANAGER_CONFIG, type LabAlertmanager } from './alertmanager.js';
export { startVictoriaLogs, type VictoriaLogsServer } from './victoria-logs.js';
export {
  startVictoriaMetrics,
  vmctlBinary,
  countVictoriaSamples,
  victoriaMetricsVersion,
  type VictoriaMetricsServer,
} from './victoria-metrics.js';
export { startJaeger, jaegerConfig, type LabJaeger, type JaegerStartOptions } from './jaeger.js';
export { writeHeadSeries, type HeadSeriesSpec, type HeadSeriesResult } from './head-series.js';
