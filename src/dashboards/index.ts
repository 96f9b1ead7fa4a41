/**
 * Grafana dashboards from a Prometheus datasource to Mimir (or any datasource to another): every
 * reference rewritten, in files or through the API, with backups, diffs and an exact restore.
 */
export {
  DatasourceCatalog,
  parseDatasourceList,
  isSpecialDatasource,
  parseVariableRef,
  jsonSyntaxError,
  SPECIAL_DATASOURCE_UIDS,
  type GrafanaDatasource,
} from './datasources.js';
export {
  rewriteDashboard,
  rewriteLibraryModel,
  countReferences,
  resolveInputBindings,
  type Change,
  type ChangeKind,
  type Path,
  type RewriteOptions,
  type RewriteResult,
  type RewriteExpr,
  type ExprSite,
  type MigrateRunOptions,
} from './rewrite.js';
export {
  detectLayout,
  stringifyLike,
  roundTrips,
  canonicalJson,
  serializeMigrated,
  applyChanges,
  type JsonLayout,
} from './format.js';
export { classify, isV2Spec, type DocumentShape } from './document.js';
export { unifiedDiff } from './diff.js';
export { planExemplarLink } from './link.js';
export { migrateFiles, discoverFiles, loadDatasourcesFile, type FilesMigrateOptions } from './files.js';
export {
  exportGrafana,
  migrateGrafana,
  selectDatasources,
  forEachConcurrent,
  type ExportOptions,
  type ApiMigrateOptions,
} from './api.js';
export { restoreBackup, sameDashboard, type RestoreOptions } from './restore.js';
export {
  BackupWriter,
  readBackup,
  defaultBackupDir,
  folderPaths,
  BACKUP_DESCRIPTOR,
  type BackupDescriptor,
  type BackupContents,
} from './backup.js';
export {
  renderMigrationText,
  renderMigrationMarkdown,
  renderExportText,
  renderExportMarkdown,
  renderRestoreText,
  renderRestoreMarkdown,
  incomplete,
  interruptedLine,
  type MigrationReport,
  type ExportReport,
  type RestoreReport,
  type Outcome,
  type OutcomeStatus,
  type DatasourceLink,
  type Totals,
} from './report.js';
