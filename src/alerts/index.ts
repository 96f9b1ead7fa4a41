/**
 * Alert parity during the parallel run (the CLI is `stackshift alerts verify`).
 *
 *   alertsSide(name, endpoint, prefix)  GET <prefix>/api/v1/alerts of a Prometheus or the Mimir ruler
 *   verifyAlerts({ source, target, windowMs, intervalMs, graceMs?, minConsistency?, ignoreLabels? })
 *       -> AlertsVerifyReport: per poll, every alert by labels and state (firing / pending / inactive);
 *          the differing alerts with how long they differed, a consistency figure and the gate
 *   checkAlertmanagerConfig / routesFor   the real amtool of the lab: check-config and routing resolution
 *   migrateAlertmanager(params)          alertmanager.yml + templates -> Mimir's Alertmanager (/api/v1/alerts),
 *                                        checked by amtool first, never over a config changed in Mimir without force
 */
export {
  alertsSide,
  verifyAlerts,
  type ActiveAlert,
  type AlertState,
  type AlertsSide,
  type AlertDifference,
  type AlertsVerifyReport,
  type AlertsVerifyParams,
} from './verify.js';
export { renderAlertsVerifyText, renderAlertsVerifyMarkdown } from './render.js';
export {
  checkAlertmanager,
  checkConfig,
  routeLabels,
  parseLabelSet,
  amtoolVersion,
  renderAlertmanagerCheckText,
  type AlertmanagerCheckReport,
  type ConfigCheck,
  type RouteResult,
} from './alertmanager.js';
export {
  migrateAlertmanager,
  renderAlertmanagerMigrateText,
  MimirAlertmanagerClient,
  AlertmanagerRecords,
  alertmanagerTargetKey,
  buildUpload,
  checkUpload,
  configHash,
  ALERTMANAGER_MIGRATION,
  type AlertmanagerMigrateReport,
  type AlertmanagerMigrateParams,
  type MimirAlertmanagerConfig,
} from './migrate.js';
