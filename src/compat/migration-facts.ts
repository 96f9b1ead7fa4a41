// Why one file of about 430 lines: it is a table of facts, each with its source; the lint rules and `upgrade plan`
// look them up by id, and one file keeps every 2.x -> 3.x fact one search away.
/**
 * Prometheus 2.x -> 3.x facts as data, each with its source. Everything here comes from
 * ../shared/research/prometheus-3.md (§1 migration-guide table, §3 3.1-3.14 changes); "P@<tag>:<path>"
 * names the file read at that tag, "CHANGELOG x.y" the release section, "guide" docs/migration.md.
 */
import semver from 'semver';
import { AGGREGATORS, FUNCTION_SIGNATURES, FUNCTION_SIGNATURES_SOURCE } from './promql-functions.js';

/**
 * How an upgrade stage must treat a change (the "dual" column of R§1):
 *   dual     - the fix loads and behaves the same on the old and the new release: apply it before the swap
 *   cutover  - no single config/flag set is valid on both: change it together with the binary
 *   preview  - enable on 2.55 first to see the 3.x behaviour while a rollback is still trivial
 */
export type ChangePhase = 'dual' | 'cutover' | 'preview';
/** How severe a change is left unfixed: 'fatal' = does not start or rejects config; 'silent' = starts but behaves differently. */
export type ChangeSeverity = 'fatal' | 'silent' | 'warning';

/** The lint rule that reports a feature flag; each rule file selects its flags by this id. */
export type FeatureFlagRuleId =
  | 'feature-flag-now-default'
  | 'feature-flag-behaviour-default'
  | 'feature-flag-replaced-3x'
  | 'feature-flag-deprecated-3x'
  | 'remote-write-receiver-flag'
  | 'native-histograms-flag';

/**
 * The one place a feature-flag fact is written: `upgrade plan` (CHANGE_FACTS in changes.ts) and the lint
 * rules (rules/feature-flag-*.ts, remote-write-receiver-flag.ts, native-histograms-flag.ts) both read it.
 */
export interface FeatureFlagFact {
  name: string;
  /** Version from which passing it only logs "Unknown option" / a no-op warning. */
  removedIn?: string;
  deprecatedIn?: string;
  phase: ChangePhase;
  severity: ChangeSeverity;
  /** What 3.x does when it is still passed. */
  outcome: string;
  fix: string;
  /** Only from this version on is the fix itself valid (a flag or key the old release does not know). */
  fixValidFrom?: string;
  /** A replacement flag, when there is one, and the first version that has it. */
  replacementFlag?: { flag: string; since: string };
  /** A config key that replaces it. */
  replacementConfig?: { key: string; since: string };
  rule: FeatureFlagRuleId;
  source: string;
}

/** The first release on which passing the flag changes something: deprecated, or else removed. */
export function featureFlagSince(f: FeatureFlagFact): string {
  return (f.deprecatedIn ?? f.removedIn)!;
}

// 3.0 logs "Unknown option for --enable-feature" for a removed token and starts anyway (R§1a), so a removed
// token that enabled something leaves it silently off.
export const FEATURE_FLAGS: FeatureFlagFact[] = [
  {
    name: 'promql-at-modifier',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'warning',
    outcome: 'a warning only: the @ modifier has been permanently enabled for a long time',
    fix: 'drop the token from --enable-feature',
    rule: 'feature-flag-now-default',
    source: 'guide; P@v3.0.0:cmd/prometheus/main.go setFeatureListOptions (R§1a)',
  },
  {
    name: 'promql-negative-offset',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'warning',
    outcome: 'a warning only: negative offsets are permanently enabled',
    fix: 'drop the token from --enable-feature',
    rule: 'feature-flag-now-default',
    source: 'guide; P@v3.0.0:cmd/prometheus/main.go setFeatureListOptions (R§1a)',
  },
  {
    name: 'new-service-discovery-manager',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'warning',
    outcome: 'a warning; the new service-discovery manager is the default',
    fix: 'drop the token from --enable-feature',
    rule: 'feature-flag-now-default',
    source: 'guide (feature flags) (R§1a)',
  },
  {
    name: 'auto-gomemlimit',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'warning',
    outcome: 'a warning; GOMEMLIMIT is set automatically by default (--no-auto-gomemlimit disables it)',
    fix: 'drop the token from --enable-feature',
    rule: 'feature-flag-now-default',
    source: 'guide; CHANGELOG 3.0.0 (R§1a)',
  },
  {
    name: 'auto-gomaxprocs',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'warning',
    outcome: 'a warning; GOMAXPROCS follows the CPU quota by default (--no-auto-gomaxprocs disables it)',
    fix: 'drop the token from --enable-feature',
    rule: 'feature-flag-now-default',
    source: 'guide; CHANGELOG 3.0.0 (R§1a)',
  },
  {
    name: 'utf8-names',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'warning',
    outcome: 'a warning; UTF-8 metric and label names are the default (metric_name_validation_scheme)',
    fix: 'drop the token; set metric_name_validation_scheme: legacy only to keep 2.x validation',
    rule: 'feature-flag-now-default',
    source: 'CHANGELOG 3.0.0 #14705 (R§1a, R§1c)',
  },
  {
    name: 'expand-external-labels',
    removedIn: '3.0.0',
    phase: 'preview',
    severity: 'silent',
    outcome: 'a warning; ${var} in global.external_labels values is always expanded (an undefined variable becomes "")',
    fix: 'keep the flag on 2.55 to preview; escape literal $ as $$ and drop the token together with the 3.x binary',
    fixValidFrom: '3.0.0',
    rule: 'feature-flag-behaviour-default',
    source: 'guide; P@v3.0.0:config/config.go Load (os.Expand) (R§1a)',
  },
  {
    name: 'no-default-scrape-port',
    removedIn: '3.0.0',
    phase: 'preview',
    severity: 'silent',
    outcome: 'a warning; :80/:443 are never appended to port-less targets any more, so their instance label changes',
    fix: 'keep the flag on 2.55 to preview (write explicit ports into port-less targets: valid on both); drop the token with the 3.x binary',
    fixValidFrom: '3.0.0',
    rule: 'feature-flag-behaviour-default',
    source: 'guide; P@v2.55.1:scrape/target.go addPort (R§0, R§1a)',
  },
  {
    name: 'agent',
    removedIn: '3.0.0',
    phase: 'cutover',
    severity: 'fatal',
    outcome: 'a warning, and Prometheus runs in SERVER mode; with --storage.agent.* flags it exits with code 3',
    fix: 'replace with --agent (the flag does not exist in 2.55)',
    fixValidFrom: '3.0.0',
    replacementFlag: { flag: '--agent', since: '3.0.0' },
    rule: 'feature-flag-replaced-3x',
    source: 'guide; P@v3.0.0:cmd/prometheus/main.go ~L567 (R§1a)',
  },
  {
    name: 'remote-write-receiver',
    removedIn: '3.0.0',
    phase: 'dual',
    severity: 'silent',
    outcome: 'a warning, and the remote-write receiver is OFF: POST /api/v1/write answers 404',
    fix: 'replace with --web.enable-remote-write-receiver (exists since 2.33.0)',
    fixValidFrom: '2.33.0',
    replacementFlag: { flag: '--web.enable-remote-write-receiver', since: '2.33.0' },
    rule: 'remote-write-receiver-flag',
    source: 'guide; CHANGELOG 2.33.0 #10119 (R§1a)',
  },
  {
    name: 'otlp-write-receiver',
    removedIn: '3.0.0',
    phase: 'cutover',
    severity: 'silent',
    outcome: 'a warning, and the OTLP receiver is OFF: /api/v1/otlp/v1/metrics answers 404',
    fix: 'replace with --web.enable-otlp-receiver (3.0+ only)',
    fixValidFrom: '3.0.0',
    replacementFlag: { flag: '--web.enable-otlp-receiver', since: '3.0.0' },
    rule: 'feature-flag-replaced-3x',
    source: 'CHANGELOG 3.0.0 #14894 (R§1a)',
  },
  {
    name: 'native-histograms',
    deprecatedIn: '3.8.0',
    removedIn: '3.9.0',
    phase: 'cutover',
    severity: 'silent',
    outcome:
      'from 3.8 it only sets the default of scrape_native_histograms; from 3.9 it is a no-op, so native histograms are NOT scraped unless scrape_native_histograms: true is set',
    fix: 'add scrape_native_histograms: true (global or per job); the key does not exist before 3.8',
    fixValidFrom: '3.8.0',
    replacementConfig: { key: 'scrape_native_histograms', since: '3.8.0' },
    rule: 'native-histograms-flag',
    source: 'CHANGELOG 3.8.0 (ad7d1ae), 3.9.0 #17528 (R§1a, R§3a)',
  },
  {
    name: 'ooo-native-histograms',
    removedIn: '3.4.0',
    phase: 'cutover',
    severity: 'warning',
    outcome: 'a no-op: out-of-order native histograms are always on when out_of_order_time_window > 0',
    fix: 'drop the token with the 3.4+ binary (before 3.4 it still enables out-of-order native histograms)',
    fixValidFrom: '3.4.0',
    rule: 'feature-flag-deprecated-3x',
    source: 'CHANGELOG 3.4.0 (R§3a)',
  },
  {
    name: 'extra-scrape-metrics',
    deprecatedIn: '3.10.0',
    phase: 'cutover',
    severity: 'warning',
    outcome: 'deprecated in favour of the extra_scrape_metrics config setting',
    fix: 'set extra_scrape_metrics in prometheus.yml (a 3.10+ key) and drop the token',
    fixValidFrom: '3.10.0',
    replacementConfig: { key: 'extra_scrape_metrics', since: '3.10.0' },
    rule: 'feature-flag-deprecated-3x',
    source: 'P@v3.10.0:cmd/prometheus/main.go (R§3a)',
  },
  {
    name: 'auto-reload-config',
    deprecatedIn: '3.12.0',
    phase: 'cutover',
    severity: 'warning',
    outcome: 'deprecated in favour of --config.auto-reload',
    fix: 'replace with --config.auto-reload (3.12+)',
    fixValidFrom: '3.12.0',
    replacementFlag: { flag: '--config.auto-reload', since: '3.12.0' },
    rule: 'feature-flag-deprecated-3x',
    source: 'CHANGELOG 3.12.0 (R§3a)',
  },
  {
    name: 'xor2-encoding',
    deprecatedIn: '3.13.0',
    phase: 'cutover',
    severity: 'warning',
    outcome: 'phased out in favour of storage.tsdb.chunk_encoding.floats: xor2',
    fix: 'set storage.tsdb.chunk_encoding.floats: xor2 in prometheus.yml (a 3.13+ key) and drop the token',
    fixValidFrom: '3.13.0',
    replacementConfig: { key: 'storage.tsdb.chunk_encoding.floats', since: '3.13.0' },
    rule: 'feature-flag-deprecated-3x',
    source: 'CHANGELOG 3.11.0, 3.13.0 (R§3a)',
  },
  {
    name: 'promql-duration-expr',
    removedIn: '3.14.0',
    phase: 'cutover',
    severity: 'warning',
    outcome: 'a no-op: duration expressions are enabled',
    fix: 'drop the token with the 3.14+ binary (before 3.14 it still enables duration expressions)',
    fixValidFrom: '3.14.0',
    rule: 'feature-flag-deprecated-3x',
    source: 'CHANGELOG 3.14.0 (R§3a)',
  },
];

/** The feature flags one lint rule reports. */
export function featureFlagsOf(rule: FeatureFlagRuleId): FeatureFlagFact[] {
  return FEATURE_FLAGS.filter((f) => f.rule === rule);
}

export interface RemovedCliFlagFact {
  flag: string;
  removedIn: string;
  /** Rename target (same value), or undefined to delete. */
  renameTo?: string;
  /** The first version that has the rename target. */
  fixValidFrom?: string;
  /** Default values as /api/v1/status/flags shows them on 2.x: a live server's value equal to one of these was most likely not set. */
  defaults: string[];
  note: string;
  source: string;
}

// Kingpin rejects unknown flags: 3.x prints "Error parsing command line arguments" and does not start (R§1b).
export const REMOVED_CLI_FLAGS: RemovedCliFlagFact[] = [
  {
    flag: 'storage.tsdb.retention',
    removedIn: '3.0.0',
    renameTo: 'storage.tsdb.retention.time',
    fixValidFrom: '2.8.0',
    defaults: ['0s'],
    note: 'a deprecated alias on 2.x; --storage.tsdb.retention.time takes the same value and exists since 2.8',
    source: 'P@v2.55.1 vs P@v3.0.0:cmd/prometheus/main.go; guide (R§1b)',
  },
  {
    flag: 'alertmanager.timeout',
    removedIn: '3.0.0',
    defaults: ['', '10s'],
    note: 'hidden on 2.x and has no effect',
    source: 'P@v2.55.1 vs P@v3.0.0:cmd/prometheus/main.go; guide (R§1b)',
  },
  {
    flag: 'storage.tsdb.allow-overlapping-blocks',
    removedIn: '3.0.0',
    defaults: ['true', 'false'],
    note: 'hidden on 2.x and has no effect (overlapping blocks are always allowed)',
    source: 'P@v2.55.1 vs P@v3.0.0:cmd/prometheus/main.go; guide (R§1b)',
  },
  {
    flag: 'scrape.name-escaping-scheme',
    removedIn: '3.0.0',
    defaults: ['values', ''],
    note: 'escaping is negotiated per scrape in 3.x (config metric_name_escaping_scheme from 3.4)',
    source: 'diff of flag names P@v2.55.1 vs P@v3.0.0:cmd/prometheus/main.go (not in the guide) (R§1b)',
  },
];

/** Flags that 3.8+ deprecates in favour of config keys. */
export const DEPRECATED_CLI_FLAGS: Array<{ flag: string; deprecatedIn: string; replacement: string; source: string }> =
  [
    {
      flag: 'storage.tsdb.retention.time',
      deprecatedIn: '3.8.0',
      replacement: 'storage: tsdb: retention: time: in prometheus.yml',
      source: 'CHANGELOG 3.8.0 #17026; P@v3.8.0:config/config.go TSDBRetentionConfig (R§1b)',
    },
    {
      flag: 'storage.tsdb.retention.size',
      deprecatedIn: '3.8.0',
      replacement: 'storage: tsdb: retention: size: in prometheus.yml',
      source: 'CHANGELOG 3.8.0 #17026 (R§1b)',
    },
  ];

/**
 * Config keys that only exist from some version on. Both 2.x and 3.x load prometheus.yml with
 * yaml.UnmarshalStrict (P@v3.0.0:config/config.go), so a key the binary does not know stops it loading.
 * `where` is the section: "global", "scrape" (a scrape_configs entry), "storage.tsdb", "remote_write".
 */
export interface ConfigKeyFact {
  key: string;
  where: 'global' | 'scrape' | 'storage.tsdb' | 'remote_write' | 'otlp';
  since: string;
  source: string;
}

export const CONFIG_KEYS_SINCE: ConfigKeyFact[] = [
  {
    key: 'metric_name_validation_scheme',
    where: 'global',
    since: '2.55.0',
    source: 'P@v2.55.1:config/config.go (absent in 2.54)',
  },
  { key: 'metric_name_validation_scheme', where: 'scrape', since: '2.55.0', source: 'P@v2.55.1:config/config.go' },
  { key: 'always_scrape_classic_histograms', where: 'scrape', since: '3.0.0', source: 'P@v3.0.0:config/config.go' },
  { key: 'always_scrape_classic_histograms', where: 'global', since: '3.5.0', source: 'CHANGELOG 3.5.0 #16452' },
  { key: 'fallback_scrape_protocol', where: 'scrape', since: '3.0.0', source: 'guide; P@v3.0.0:config/config.go' },
  { key: 'convert_classic_histograms_to_nhcb', where: 'scrape', since: '3.0.0', source: 'CHANGELOG 3.0.0' },
  { key: 'convert_classic_histograms_to_nhcb', where: 'global', since: '3.4.0', source: 'CHANGELOG 3.4.0' },
  { key: 'metric_name_escaping_scheme', where: 'global', since: '3.4.0', source: 'CHANGELOG 3.4.0 #16066' },
  { key: 'metric_name_escaping_scheme', where: 'scrape', since: '3.4.0', source: 'CHANGELOG 3.4.0 #16066' },
  { key: 'scrape_native_histograms', where: 'global', since: '3.8.0', source: 'CHANGELOG 3.8.0' },
  { key: 'scrape_native_histograms', where: 'scrape', since: '3.8.0', source: 'CHANGELOG 3.8.0' },
  { key: 'extra_scrape_metrics', where: 'global', since: '3.10.0', source: 'CHANGELOG 3.10.0' },
  { key: 'extra_scrape_metrics', where: 'scrape', since: '3.10.0', source: 'CHANGELOG 3.10.0' },
  { key: 'retention', where: 'storage.tsdb', since: '3.8.0', source: 'CHANGELOG 3.8.0 #17026' },
  { key: 'stale_series_compaction_threshold', where: 'storage.tsdb', since: '3.10.0', source: 'CHANGELOG 3.10.0' },
  { key: 'chunk_encoding', where: 'storage.tsdb', since: '3.13.0', source: 'CHANGELOG 3.13.0' },
  { key: 'translation_strategy', where: 'otlp', since: '3.0.0', source: 'CHANGELOG 3.0.0' },
];

/** The first release that knows `key` in any section. */
export function configKeySince(key: string): string | undefined {
  const since = CONFIG_KEYS_SINCE.filter((f) => f.key === key).map((f) => f.since);
  return since.sort(semver.compare)[0];
}

/** Values of scrape_protocols / fallback_scrape_protocol and the first version that accepts each. */
export const SCRAPE_PROTOCOLS: Record<string, string> = {
  PrometheusProto: '2.49.0',
  'PrometheusText0.0.4': '2.49.0',
  'OpenMetricsText0.0.1': '2.49.0',
  'OpenMetricsText1.0.0': '2.49.0',
  'PrometheusText1.0.0': '3.0.0',
};
export const SCRAPE_PROTOCOLS_SOURCE = 'guide (scrape_protocols); P@v3.0.0:config/config.go';

/**
 * PromQL functions and aggregators whose availability depends on the version. `experimental` lists the
 * version ranges in which the name is gated by --enable-feature=promql-experimental-functions.
 */
export interface FunctionFact {
  name: string;
  kind: 'function' | 'aggregator';
  since?: string;
  removedIn?: string;
  experimental?: string;
  renamedTo?: string;
  source: string;
}

/**
 * Derived from the per-tag function table (promql-functions.ts). Until this table was extracted from every
 * minor tag, several "since" values were read from HEAD and were wrong: ts_of_{min,max,last}_over_time
 * exist from 3.5 (not 3.14), ts_of_first_over_time and first_over_time from 3.7, histogram_quantiles from
 * 3.11, limitk/limit_ratio from 2.54 (experimental there already), mad_over_time and sort_by_label(_desc)
 * from 2.49, info from 2.55, histogram_avg from 2.51, histogram_stddev/stdvar from 2.47.
 */
export const FUNCTIONS: FunctionFact[] = [
  ...FUNCTION_SIGNATURES.filter((f) => f.since || f.removedIn || f.experimental).map((f): FunctionFact => ({
    name: f.name,
    kind: 'function',
    since: f.since,
    removedIn: f.removedIn,
    experimental: f.experimental,
    renamedTo: f.name === 'holt_winters' ? 'double_exponential_smoothing' : undefined,
    source: f.name === 'holt_winters' ? `guide; ${FUNCTION_SIGNATURES_SOURCE}` : FUNCTION_SIGNATURES_SOURCE,
  })),
  ...AGGREGATORS.filter((a) => a.since || a.experimental).map((a): FunctionFact => ({
    name: a.name,
    kind: 'aggregator',
    since: a.since,
    experimental: a.experimental,
    source: a.source,
  })),
];

export const EXPERIMENTAL_FUNCTIONS_FLAG = 'promql-experimental-functions';

/** Labels whose values 3.x normalises at ingestion for histograms (le) and summaries (quantile). */
export const NORMALISED_LABELS = ['le', 'quantile'] as const;
export const NORMALISATION_SOURCE =
  'guide ("le and quantile label values"); P@v3.0.0:model/textparse/ normalizeFloatsInLabelValues, formatOpenMetricsFloat';

/** Range functions whose result changes when a window holds one sample fewer (left-open ranges in 3.0). */
export const TWO_SAMPLE_FUNCTIONS = [
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'resets',
  'changes',
  'predict_linear',
];
export const LEFT_OPEN_SOURCE =
  'guide ("range selectors and lookback are left-open"); CHANGELOG 3.0.0 #13904, 3.0.1 #15431 (subqueries)';
