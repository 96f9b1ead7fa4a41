export { PrometheusClient, NotReadyError } from './prometheus.js';
export type { BuildInfo, RuntimeInfo, TsdbStatus, Target, TargetsResponse, Rule, RuleGroup, WalReplayStatus, QueryResult, InstantVector, RangeMatrix } from './prometheus.js';
export { GrafanaClient, GrafanaSaveError, GRAFANA_MAX_PAGE, type GrafanaHealth, type GrafanaSearchHit, type GrafanaFolder, type GrafanaDashboardMeta, type GrafanaDashboardEnvelope, type SaveDashboardRequest, type SaveDashboardResult, type GrafanaLibraryElement } from './grafana.js';
export { RemoteReadClient, type RemoteReadQuery, type StreamOptions } from './remote-read.js';
export { RemoteWriteClient, classifyReject, appendErrorClass, adviceForReject, keptOnRefusal, type RemoteWriteVersion, type RejectClass, type WriteResult, type ReceiverKind, type KeptOnRefusal } from './remote-write.js';
