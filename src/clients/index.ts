export { PrometheusClient, NotReadyError } from './prometheus.js';
export type {
  BuildInfo,
  RuntimeInfo,
  TsdbStatus,
  Target,
  TargetsResponse,
  Rule,
  RuleGroup,
  WalReplayStatus,
  QueryResult,
  InstantVector,
  RangeMatrix,
} from './prometheus.js';
export {
  GrafanaClient,
  GrafanaSaveError,
  GrafanaV2DashboardError,
  GRAFANA_MAX_PAGE,
  type GrafanaHealth,
  type GrafanaSearchHit,
  type GrafanaFolder,
  type GrafanaDashboardMeta,
  type GrafanaDashboardEnvelope,
  type SaveDashboardRequest,
  type SaveDashboardResult,
  type GrafanaLibraryElement,
  type DatasourceWrite,
} from './grafana.js';
export { RemoteReadClient, type RemoteReadQuery, type StreamOptions } from './remote-read.js';
export {
  RemoteWriteClient,
  classifyReject,
  appendErrorClass,
  adviceForReject,
  keptOnRefusal,
  type RemoteWriteVersion,
  type RejectClass,
  type WriteResult,
  type ReceiverKind,
  type KeptOnRefusal,
} from './remote-write.js';
export {
  LokiClient,
  LokiPushError,
  encodePushRequest,
  pushJson,
  formatStreamLabels,
  msToNs,
  type LokiEntry,
  type LokiStream,
  type LokiMatrixSeries,
  type LokiIndexStats,
  type PushEncoding,
} from './loki.js';
export { JaegerClient, type JaegerApi, type JaegerProbe, type JaegerSearch } from './jaeger.js';
export { TempoClient, type TempoSearch, type TempoSearchHit } from './tempo.js';
