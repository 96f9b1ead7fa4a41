/**
 * Wiring the LGTM stack (issue 17): configs generated from what the live systems report, checked by the
 * real tool of each system, and the correlations Grafana will offer verified end to end.
 *
 *   generateLgtmConfig(params) -> LgtmConfigReport     (`stackshift lgtm config`)
 *       remote_write for Mimir sized from the measured ingestion and merged into prometheus.yml with its
 *       comments kept (the lint engine's YAML editor); OpenTelemetry Collector dual-export and cut-over
 *       configs (validated by a real collector build); Promtail to both Lokis (schema-checked); Grafana
 *       datasource provisioning with exemplar, traces-to-logs/metrics and derived-field correlations.
 *
 *   applyDatasources / restoreDatasources            (`stackshift lgtm datasources apply|restore`)
 *       the provisioning file's datasources created or updated by uid through Grafana's API, every
 *       datasource saved first; restore puts the saved objects back and deletes the created ones.
 *
 *   verifyCorrelations(params) -> CorrelationReport    (`stackshift verify correlations`)
 *       exemplar trace IDs and log-line trace IDs looked up in the trace store, with percentages and
 *       every broken link named.
 */
export {
  generateLgtmConfig,
  renderLgtmConfigText,
  promtoolCheckConfig,
  type LgtmConfigParams,
  type LgtmConfigReport,
  type WrittenFile,
  type PromtoolCheck,
} from './config.js';
export {
  measureIngestion,
  checkPrometheusYaml,
  sizeQueue,
  remoteWriteBlock,
  mergeRemoteWrite,
  mimirPushUrl,
  type IngestionMeasurement,
  type QueueSizing,
  type QueueSizingOptions,
  type QueueConfig,
  type RemoteWriteOptions,
  type RemoteWriteBlock,
  type MergeResult,
} from './remote-write.js';
export {
  collectorConfig,
  validateCollectorConfig,
  componentsUsed,
  parseComponents,
  exporterFor,
  type CollectorOptions,
  type CollectorMode,
  type CollectorValidation,
} from './collector.js';
export {
  promtailConfig,
  checkPromtailConfig,
  lokiPushUrl,
  PROMTAIL_SCHEMA,
  type PromtailOptions,
  type SchemaProblem,
} from './promtail.js';
export {
  datasourcesDocument,
  datasourcesYaml,
  correlationsFromProvisioning,
  type ProvisionedCorrelations,
  deriveTagMappings,
  mimirQueryUrl,
  DEFAULT_UIDS,
  type DatasourceOptions,
  type TagMapping,
  type DerivedMappings,
} from './datasources.js';
export { detectTraceIdFormat, compileDerivedFieldRegex, validTraceIdHex, type TraceIdFormat } from './trace-ids.js';
export {
  verifyCorrelations,
  renderCorrelationsText,
  renderCorrelationsMarkdown,
  type CorrelationParams,
  type CorrelationReport,
  type LinkCheck,
  type BrokenLink,
  type BrokenReason,
} from './correlations.js';
export {
  applyDatasources,
  restoreDatasources,
  readDesiredDatasources,
  renderDatasourcesText,
  DATASOURCE_BACKUP_FORMAT,
  DATASOURCE_BACKUP_FILE,
  type ApplyDatasourcesParams,
  type RestoreDatasourcesParams,
  type DatasourcesReport,
  type DatasourceItem,
  type DatasourceAction,
  type DesiredDatasource,
} from './grafana-apply.js';
