import type { LintRule } from '../rule.js';
import alertmanagerApiV1 from './alertmanager-api-v1.js';
import configKeyUnknown from './config-key-unknown.js';
import configKeyVersion from './config-key-version.js';
import experimentalFunction from './experimental-function.js';
import experimentalFunctionsFlag from './experimental-functions-flag.js';
import externalLabelsDollar from './external-labels-dollar.js';
import fallbackScrapeProtocol from './fallback-scrape-protocol.js';
import featureFlagBehaviourDefault from './feature-flag-behaviour-default.js';
import featureFlagDeprecated3x from './feature-flag-deprecated-3x.js';
import featureFlagNowDefault from './feature-flag-now-default.js';
import featureFlagReplaced3x from './feature-flag-replaced-3x.js';
import functionTooNew from './function-too-new.js';
import holtWintersRemoved from './holt-winters-removed.js';
import kubernetesSdV1beta1 from './kubernetes-sd-v1beta1.js';
import leQuantileNormalisation from './le-quantile-normalisation.js';
import logFormatChanged from './log-format-changed.js';
import metricNameValidationDefault from './metric-name-validation-default.js';
import nativeHistogramsFlag from './native-histograms-flag.js';
import promqlSyntax from './promql-syntax.js';
import promqlSyntaxVersion from './promql-syntax-version.js';
import promqlTypeError from './promql-type-error.js';
import rangeLeftOpen from './range-left-open.js';
import regexDotNewline from './regex-dot-newline.js';
import remoteWriteHttp2Default from './remote-write-http2-default.js';
import remoteWriteReceiverFlag from './remote-write-receiver-flag.js';
import removedCliFlag from './removed-cli-flag.js';
import retentionFlagDeprecated from './retention-flag-deprecated.js';
import scrapeClassicHistogramsRenamed from './scrape-classic-histograms-renamed.js';
import scrapeProtocolsVersion from './scrape-protocols-version.js';
import staticTargetDefaultPort from './static-target-default-port.js';
import subqueryLeftOpen from './subquery-left-open.js';

/** Every rule, one per file in this folder. */
export const RULES: readonly LintRule[] = [
  // PromQL (rule files and dashboards)
  promqlSyntax,
  promqlSyntaxVersion,
  promqlTypeError,
  holtWintersRemoved,
  leQuantileNormalisation,
  experimentalFunction,
  functionTooNew,
  subqueryLeftOpen,
  rangeLeftOpen,
  regexDotNewline,
  // prometheus.yml
  scrapeClassicHistogramsRenamed,
  remoteWriteHttp2Default,
  alertmanagerApiV1,
  metricNameValidationDefault,
  externalLabelsDollar,
  staticTargetDefaultPort,
  configKeyUnknown,
  configKeyVersion,
  scrapeProtocolsVersion,
  fallbackScrapeProtocol,
  kubernetesSdV1beta1,
  nativeHistogramsFlag,
  // command-line flags
  removedCliFlag,
  featureFlagNowDefault,
  featureFlagBehaviourDefault,
  remoteWriteReceiverFlag,
  featureFlagReplaced3x,
  featureFlagDeprecated3x,
  retentionFlagDeprecated,
  experimentalFunctionsFlag,
  logFormatChanged,
];
