/**
 * Config, flag and PromQL changes an upgrade requires, as data (R§1, R§3 of shared/research/prometheus-3.md,
 * which quotes docs/migration.md, CHANGELOG.md and cmd/prometheus/main.go per tag).
 *
 * phase:
 *   dual     - the fix loads and behaves the same on the old and the new release: apply it before the swap
 *   cutover  - no single config/flag set is valid on both: change it together with the binary
 *   preview  - enable on 2.55 first to see the 3.x behaviour while a rollback is still trivial
 *
 * This is the fallback source of the "required changes" in `upgrade plan`; the lint engine replaces it when
 * it exists (see src/upgrade/changes.ts, RequiredChangesProvider).
 */
export type ChangePhase = 'dual' | 'cutover' | 'preview';
export type ChangeKind = 'feature-flag' | 'flag' | 'config' | 'promql';

export interface ChangeFact {
  id: string;
  kind: ChangeKind;
  /** The thing to look for: a feature-flag token, a flag name, a config key, a PromQL function. */
  subject: string;
  /** The release that changes it; the change applies to a stage whose `to` is at or above it and `from` below. */
  since: string;
  phase: ChangePhase;
  /** What happens on the new release if nothing is done. */
  outcome: string;
  fix: string;
  /** Only from this version on is the fix itself valid (e.g. a key that does not exist before). */
  fixValidFrom?: string;
  /** How severe it is left unfixed: 'fatal' = does not start or rejects config; 'silent' = starts but behaves differently. */
  severity: 'fatal' | 'silent' | 'warning';
  source: string;
}

export const CHANGE_FACTS: ChangeFact[] = [
  // --- feature flags removed or turned default in 3.0 (R§1a): 3.0 logs "Unknown option for --enable-feature" and goes on
  { id: 'ff-promql-at-modifier', kind: 'feature-flag', subject: 'promql-at-modifier', since: '3.0.0', phase: 'dual', severity: 'warning', outcome: 'warning only; the behaviour is the default', fix: 'drop the token from --enable-feature', source: 'docs/migration.md; P@v3.0.0:cmd/prometheus/main.go setFeatureListOptions (R§1a)' },
  { id: 'ff-promql-negative-offset', kind: 'feature-flag', subject: 'promql-negative-offset', since: '3.0.0', phase: 'dual', severity: 'warning', outcome: 'warning only; the behaviour is the default', fix: 'drop the token from --enable-feature', source: 'docs/migration.md (R§1a)' },
  { id: 'ff-new-service-discovery-manager', kind: 'feature-flag', subject: 'new-service-discovery-manager', since: '3.0.0', phase: 'dual', severity: 'warning', outcome: 'warning; the new SD manager is the default', fix: 'drop the token', source: 'docs/migration.md (R§1a)' },
  { id: 'ff-expand-external-labels', kind: 'feature-flag', subject: 'expand-external-labels', since: '3.0.0', phase: 'preview', severity: 'silent', outcome: '${var} in global.external_labels values is always expanded; an undefined variable becomes ""', fix: 'on 2.55 enable the flag to preview; escape literal $ as $$ only at cutover', source: 'docs/migration.md; P@v3.0.0:config/config.go Load (R§1a)' },
  { id: 'ff-no-default-scrape-port', kind: 'feature-flag', subject: 'no-default-scrape-port', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: ':80/:443 is no longer appended to port-less targets, so the instance label changes', fix: 'write explicit ports into targets (preview with the flag on 2.55)', source: 'docs/migration.md; P@v2.55.1:scrape/target.go addPort (R§1a)' },
  { id: 'ff-agent', kind: 'feature-flag', subject: 'agent', since: '3.0.0', phase: 'cutover', severity: 'fatal', outcome: 'runs in server mode; with --storage.agent.* flags it exits with code 3', fix: 'replace with --agent (the flag does not exist in 2.55)', source: 'P@v3.0.0:cmd/prometheus/main.go ~L567 (R§1a)' },
  { id: 'ff-remote-write-receiver', kind: 'feature-flag', subject: 'remote-write-receiver', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: 'receiver disabled: POST /api/v1/write answers 404', fix: '--web.enable-remote-write-receiver (exists since 2.33.0)', source: 'docs/migration.md (R§1a)' },
  { id: 'ff-auto-gomemlimit', kind: 'feature-flag', subject: 'auto-gomemlimit', since: '3.0.0', phase: 'dual', severity: 'warning', outcome: 'on by default; --no-auto-gomemlimit disables it', fix: 'drop the token', source: 'docs/migration.md (R§1a)' },
  { id: 'ff-auto-gomaxprocs', kind: 'feature-flag', subject: 'auto-gomaxprocs', since: '3.0.0', phase: 'dual', severity: 'warning', outcome: 'on by default; --no-auto-gomaxprocs disables it', fix: 'drop the token', source: 'docs/migration.md (R§1a)' },
  { id: 'ff-otlp-write-receiver', kind: 'feature-flag', subject: 'otlp-write-receiver', since: '3.0.0', phase: 'cutover', severity: 'silent', outcome: 'OTLP endpoint disabled (404)', fix: '--web.enable-otlp-receiver (3.0+ only)', source: 'CHANGELOG 3.0.0 #14894 (R§1a)' },
  { id: 'ff-utf8-names', kind: 'feature-flag', subject: 'utf8-names', since: '3.0.0', phase: 'dual', severity: 'warning', outcome: 'UTF-8 names are the default', fix: 'drop the token; set metric_name_validation_scheme: legacy to keep 2.x validation', source: 'CHANGELOG 3.0.0 #14705 (R§1a)' },
  { id: 'ff-native-histograms-3.8', kind: 'feature-flag', subject: 'native-histograms', since: '3.8.0', phase: 'cutover', severity: 'silent', outcome: '3.8: deprecated (only sets the default of scrape_native_histograms); 3.9+: no-op, native histograms are not scraped', fix: 'add scrape_native_histograms: true (global or per job); the key does not exist before 3.8', fixValidFrom: '3.8.0', source: 'CHANGELOG 3.8/3.9 #17528 (R§1a, R§3a)' },
  { id: 'ff-ooo-native-histograms', kind: 'feature-flag', subject: 'ooo-native-histograms', since: '3.4.0', phase: 'dual', severity: 'warning', outcome: 'no-op: always on when out_of_order_time_window > 0', fix: 'drop the token', source: 'CHANGELOG 3.4 (R§3a)' },
  { id: 'ff-extra-scrape-metrics', kind: 'feature-flag', subject: 'extra-scrape-metrics', since: '3.10.0', phase: 'cutover', severity: 'warning', outcome: 'deprecated in favour of config extra_scrape_metrics', fix: 'set extra_scrape_metrics in the config (3.10+ key)', fixValidFrom: '3.10.0', source: 'P@v3.10.0:cmd/prometheus/main.go (R§3a)' },
  { id: 'ff-auto-reload-config', kind: 'feature-flag', subject: 'auto-reload-config', since: '3.12.0', phase: 'cutover', severity: 'warning', outcome: 'deprecated in favour of --config.auto-reload', fix: '--config.auto-reload (3.12+)', fixValidFrom: '3.12.0', source: 'CHANGELOG 3.12 (R§3a)' },
  { id: 'ff-promql-duration-expr', kind: 'feature-flag', subject: 'promql-duration-expr', since: '3.14.0', phase: 'dual', severity: 'warning', outcome: 'no-op: enabled', fix: 'drop the token', source: 'CHANGELOG 3.14 (R§3a)' },

  // --- command-line flags removed in 3.0 (R§1b): kingpin rejects unknown flags, Prometheus does not start
  { id: 'flag-storage.tsdb.retention', kind: 'flag', subject: 'storage.tsdb.retention', since: '3.0.0', phase: 'dual', severity: 'fatal', outcome: '"Error parsing command line arguments": Prometheus does not start', fix: 'use --storage.tsdb.retention.time', source: 'diff of cmd/prometheus/main.go P@v2.55.1..P@v3.0.0 (R§1b)' },
  { id: 'flag-alertmanager.timeout', kind: 'flag', subject: 'alertmanager.timeout', since: '3.0.0', phase: 'dual', severity: 'fatal', outcome: 'Prometheus does not start', fix: 'delete it (no effect since long before 2.55)', source: 'R§1b' },
  { id: 'flag-storage.tsdb.allow-overlapping-blocks', kind: 'flag', subject: 'storage.tsdb.allow-overlapping-blocks', since: '3.0.0', phase: 'dual', severity: 'fatal', outcome: 'Prometheus does not start', fix: 'delete it (no effect on 2.55)', source: 'R§1b' },
  { id: 'flag-scrape.name-escaping-scheme', kind: 'flag', subject: 'scrape.name-escaping-scheme', since: '3.0.0', phase: 'dual', severity: 'fatal', outcome: 'Prometheus does not start', fix: 'delete it; escaping is negotiated per scrape', source: 'flag diff P@v2.55.1..P@v3.0.0 (not in the guide) (R§1b)' },
  { id: 'flag-retention-deprecated-3.8', kind: 'flag', subject: 'storage.tsdb.retention.time', since: '3.8.0', phase: 'cutover', severity: 'warning', outcome: 'deprecated in favour of config storage.tsdb.retention.{time,size}', fix: 'move retention into the config file (3.8+ keys); keep the flag while a rollback to < 3.8 must stay possible', fixValidFrom: '3.8.0', source: '#17026; P@v3.8.0:config/config.go TSDBRetentionConfig (R§1b)' },

  // --- prometheus.yml (R§1c); 2.55 and 3.x load YAML strictly, an unknown key is fatal
  { id: 'cfg-scrape_classic_histograms', kind: 'config', subject: 'scrape_classic_histograms', since: '3.0.0', phase: 'cutover', severity: 'fatal', outcome: 'strict-YAML error on 3.x', fix: 'rename to always_scrape_classic_histograms at cutover (the new key is an error on 2.55)', source: 'P@v3.0.0:config/config.go (R§1c)' },
  { id: 'cfg-fallback_scrape_protocol', kind: 'config', subject: 'fallback_scrape_protocol', since: '3.0.0', phase: 'cutover', severity: 'silent', outcome: 'scrapes of targets with a missing or wrong Content-Type fail', fix: 'add fallback_scrape_protocol: PrometheusText0.0.4 to affected jobs at cutover (3.x-only key)', fixValidFrom: '3.0.0', source: 'P@v3.0.0:model/textparse/interface.go (R§1c)' },
  { id: 'cfg-alertmanager-api-v1', kind: 'config', subject: 'api_version: v1', since: '3.0.0', phase: 'dual', severity: 'fatal', outcome: 'config rejected: "expected Alertmanager api version to be one of [v2]"', fix: 'api_version: v2 (Alertmanager >= 0.16.0)', source: 'docs/migration.md (R§1c)' },
  { id: 'cfg-enable_http2', kind: 'config', subject: 'remote_write enable_http2', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: 'remote_write defaults to HTTP/1.1', fix: 'set enable_http2: true to keep 2.x behaviour', source: 'P@v3.0.0:config/config.go DefaultRemoteWriteHTTPClientConfig (R§1c)' },
  { id: 'cfg-metric_name_validation_scheme', kind: 'config', subject: 'metric_name_validation_scheme', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: 'default becomes utf8', fix: 'set metric_name_validation_scheme: legacy to keep 2.x validation (the key exists from 2.55 only: apply it after stage 1)', fixValidFrom: '2.55.0', source: 'P@v2.55.1 vs P@v3.0.0:config/config.go (R§1c)' },
  { id: 'cfg-external-labels-dollar', kind: 'config', subject: 'external_labels $', since: '3.0.0', phase: 'preview', severity: 'silent', outcome: '$ in external label values is expanded', fix: 'escape as $$ at cutover, or make sure the variable exists', source: 'R§1a, R§1c' },

  // --- PromQL (R§1d)
  { id: 'promql-holt_winters', kind: 'promql', subject: 'holt_winters', since: '3.0.0', phase: 'cutover', severity: 'fatal', outcome: 'rule files fail to load: unknown function', fix: 'rename to double_exponential_smoothing and add --enable-feature=promql-experimental-functions (to promtool too)', fixValidFrom: '3.0.0', source: 'P@v3.0.0:promql/parser/functions.go (R§1d)' },
  { id: 'promql-regex-dot-newline', kind: 'promql', subject: '. in regex', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: '. matches \\n in matchers, relabel regex and label_replace', fix: 'only if label values carry newlines: replace . with [^\\n]', source: 'P@v3.0.0:model/labels/regexp.go (R§1d)' },
  { id: 'promql-left-open-ranges', kind: 'promql', subject: 'range selectors', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: 'a sample exactly at t - range is excluded (subqueries from 3.0.1)', fix: 'widen windows such as foo[1m:1m] -> foo[2m:1m]', source: '#13904, #15431 (R§1d)' },
  { id: 'promql-le-quantile', kind: 'promql', subject: 'le/quantile literals', since: '3.0.0', phase: 'dual', severity: 'silent', outcome: 'le="1" / quantile="1" no longer match (values are normalised to "1.0")', fix: 'match both forms, e.g. le=~"1(\\\\.0)?", across the transition', source: 'P@v3.0.0:model/textparse (R§1d)' },
];

/** Config keys a release introduced: any of them makes the config unloadable on an older release (strict YAML). */
export const CONFIG_KEYS_INTRODUCED: Array<{ key: string; since: string; source: string }> = [
  { key: 'metric_name_validation_scheme', since: '2.55.0', source: 'R§1c' },
  { key: 'always_scrape_classic_histograms', since: '3.0.0', source: 'R§1c' },
  { key: 'fallback_scrape_protocol', since: '3.0.0', source: 'R§1c' },
  { key: 'convert_classic_histograms_to_nhcb', since: '3.0.0', source: 'R§1c (scrape level 3.0, global 3.4)' },
  { key: 'metric_name_escaping_scheme', since: '3.4.0', source: 'CHANGELOG 3.4.0 #16066 (R§1b)' },
  { key: 'scrape_native_histograms', since: '3.8.0', source: 'R§1c' },
  { key: 'retention', since: '3.8.0', source: 'storage.tsdb.retention.* (R§1c)' },
  { key: 'extra_scrape_metrics', since: '3.10.0', source: 'R§1c' },
  { key: 'stale_series_compaction_threshold', since: '3.10.0', source: 'R§1c' },
  { key: 'chunk_encoding', since: '3.13.0', source: 'storage.tsdb.chunk_encoding.floats (R§1c)' },
];

/** 3.x opt-in features whose data 2.55 cannot read back after a rollback (R§2b). */
export const DOWNGRADE_LOSSY_FEATURES: Array<{ id: string; since: string; detect: string; loses: string; source: string }> = [
  { id: 'convert_classic_histograms_to_nhcb', since: '3.2.0', detect: 'config key convert_classic_histograms_to_nhcb: true; WAL record types 9/10', loses: 'NHCB samples still in the WAL (record types 9/10) are dropped by 2.55 on replay', source: 'R§2a, R§2b' },
  { id: 'st-storage', since: '3.11.0', detect: '--enable-feature=st-storage; WAL record types 11-13', loses: 'every sample written in SamplesV2/HistogramSamplesV2 records (types 11-13) is dropped on replay by 2.55', source: 'R§2a, R§2b' },
  { id: 'xor2-encoding', since: '3.11.0', detect: '--enable-feature=xor2-encoding or storage.tsdb.chunk_encoding.floats: xor2; chunk encoding 4', loses: 'block chunks in XOR2 fail to decode on 2.55; head chunks in XOR2 are skipped', source: 'R§2a, R§2b' },
  { id: 'histograms-st-encoding', since: '3.14.0', detect: '--enable-feature=histograms-st-encoding; chunk encodings 5/6', loses: 'histogram chunks in the ST encodings fail to decode on 2.55', source: 'R§2a' },
];
