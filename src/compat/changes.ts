/**
 * Config, flag and PromQL changes an upgrade requires, as rows for `upgrade plan` (R§1, R§3 of
 * shared/research/prometheus-3.md, which quotes docs/migration.md, CHANGELOG.md and cmd/prometheus/main.go per
 * tag). Feature flags, removed and deprecated flags, new config keys and removed functions are written once in
 * migration-facts.ts, which the lint rules read too; this file only turns them into rows. The config and
 * PromQL behaviour changes below have no table there: their lint rules carry the fact in their own metadata.
 *
 * This is the fallback source of the "required changes" in `upgrade plan`; the lint engine replaces it when
 * it exists (see src/upgrade/changes.ts, RequiredChangesProvider).
 */
import {
  CONFIG_KEYS_SINCE,
  DEPRECATED_CLI_FLAGS,
  EXPERIMENTAL_FUNCTIONS_FLAG,
  FEATURE_FLAGS,
  FUNCTIONS,
  REMOVED_CLI_FLAGS,
  configKeySince,
  featureFlagSince,
  type ChangePhase,
  type ChangeSeverity,
} from './migration-facts.js';

export type { ChangePhase, ChangeSeverity } from './migration-facts.js';
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
  severity: ChangeSeverity;
  source: string;
}

const featureFlagChanges: ChangeFact[] = FEATURE_FLAGS.map((f) => ({
  id: `ff-${f.name}`,
  kind: 'feature-flag',
  subject: f.name,
  since: featureFlagSince(f),
  phase: f.phase,
  severity: f.severity,
  outcome: f.outcome,
  fix: f.fix,
  fixValidFrom: f.fixValidFrom,
  source: f.source,
}));

const removedFlagChanges: ChangeFact[] = REMOVED_CLI_FLAGS.map((f) => ({
  id: `flag-${f.flag}`,
  kind: 'flag',
  subject: f.flag,
  since: f.removedIn,
  phase: 'dual',
  severity: 'fatal',
  outcome: '"Error parsing command line arguments": Prometheus does not start',
  fix: f.renameTo ? `use --${f.renameTo}: ${f.note}` : `delete it: ${f.note}`,
  fixValidFrom: f.fixValidFrom,
  source: f.source,
}));

const deprecatedFlagChanges: ChangeFact[] = DEPRECATED_CLI_FLAGS.map((f) => ({
  id: `flag-${f.flag}-deprecated`,
  kind: 'flag',
  subject: f.flag,
  since: f.deprecatedIn,
  phase: 'cutover',
  severity: 'warning',
  outcome: `deprecated in favour of ${f.replacement}`,
  fix: `move it to ${f.replacement} (a ${f.deprecatedIn}+ key); keep the flag while a rollback to < ${f.deprecatedIn} must stay possible`,
  fixValidFrom: f.deprecatedIn,
  source: f.source,
}));

/** Removed functions: rule files that still call one do not load. */
const functionChanges: ChangeFact[] = FUNCTIONS.filter((f) => f.removedIn).map((f) => {
  const next = FUNCTIONS.find((r) => r.name === f.renamedTo);
  const flag = next?.experimental ? ` and add --enable-feature=${EXPERIMENTAL_FUNCTIONS_FLAG} (to promtool too)` : '';
  return {
    id: `promql-${f.name}`,
    kind: 'promql',
    subject: f.name,
    since: f.removedIn!,
    // the replacement exists only from the removal on: no rule file loads on both sides
    phase: next?.since === f.removedIn ? 'cutover' : 'dual',
    severity: 'fatal',
    outcome: 'rule files fail to load: unknown function',
    fix: f.renamedTo ? `rename to ${f.renamedTo}${flag}` : 'remove the call',
    fixValidFrom: next?.since,
    source: `${f.source} (R§1d)`,
  };
});

export const CHANGE_FACTS: ChangeFact[] = [
  ...featureFlagChanges,
  ...removedFlagChanges,
  ...deprecatedFlagChanges,

  // --- prometheus.yml (R§1c); 2.55 and 3.x load YAML strictly, an unknown key is fatal
  {
    id: 'cfg-scrape_classic_histograms',
    kind: 'config',
    subject: 'scrape_classic_histograms',
    since: '3.0.0',
    phase: 'cutover',
    severity: 'fatal',
    outcome: 'strict-YAML error on 3.x',
    fix: 'rename to always_scrape_classic_histograms at cutover (the new key is an error on 2.55)',
    fixValidFrom: configKeySince('always_scrape_classic_histograms'),
    source: 'P@v3.0.0:config/config.go (R§1c)',
  },
  {
    id: 'cfg-fallback_scrape_protocol',
    kind: 'config',
    subject: 'fallback_scrape_protocol',
    since: '3.0.0',
    phase: 'cutover',
    severity: 'silent',
    outcome: 'scrapes of targets with a missing or wrong Content-Type fail',
    fix: 'add fallback_scrape_protocol: PrometheusText0.0.4 to affected jobs at cutover (3.x-only key)',
    fixValidFrom: configKeySince('fallback_scrape_protocol'),
    source: 'P@v3.0.0:model/textparse/interface.go (R§1c)',
  },
  {
    id: 'cfg-alertmanager-api-v1',
    kind: 'config',
    subject: 'api_version: v1',
    since: '3.0.0',
    phase: 'dual',
    severity: 'fatal',
    outcome: 'config rejected: "expected Alertmanager api version to be one of [v2]"',
    fix: 'api_version: v2 (Alertmanager >= 0.16.0)',
    source: 'docs/migration.md (R§1c)',
  },
  {
    id: 'cfg-enable_http2',
    kind: 'config',
    subject: 'remote_write enable_http2',
    since: '3.0.0',
    phase: 'dual',
    severity: 'silent',
    outcome: 'remote_write defaults to HTTP/1.1',
    fix: 'set enable_http2: true to keep 2.x behaviour',
    source: 'P@v3.0.0:config/config.go DefaultRemoteWriteHTTPClientConfig (R§1c)',
  },
  {
    id: 'cfg-metric_name_validation_scheme',
    kind: 'config',
    subject: 'metric_name_validation_scheme',
    since: '3.0.0',
    phase: 'dual',
    severity: 'silent',
    outcome: 'default becomes utf8',
    fix: 'set metric_name_validation_scheme: legacy to keep 2.x validation (the key exists from 2.55 only: apply it after stage 1)',
    fixValidFrom: configKeySince('metric_name_validation_scheme'),
    source: 'P@v2.55.1 vs P@v3.0.0:config/config.go (R§1c)',
  },
  {
    id: 'cfg-external-labels-dollar',
    kind: 'config',
    subject: 'external_labels $',
    since: '3.0.0',
    phase: 'preview',
    severity: 'silent',
    outcome: '$ in external label values is expanded',
    fix: 'escape as $$ at cutover, or make sure the variable exists',
    source: 'R§1a, R§1c',
  },

  // --- PromQL (R§1d)
  ...functionChanges,
  {
    id: 'promql-regex-dot-newline',
    kind: 'promql',
    subject: '. in regex',
    since: '3.0.0',
    phase: 'dual',
    severity: 'silent',
    outcome: '. matches \\n in matchers, relabel regex and label_replace',
    fix: 'only if label values carry newlines: replace . with [^\\n]',
    source: 'P@v3.0.0:model/labels/regexp.go (R§1d)',
  },
  {
    id: 'promql-left-open-ranges',
    kind: 'promql',
    subject: 'range selectors',
    since: '3.0.0',
    phase: 'dual',
    severity: 'silent',
    outcome: 'a sample exactly at t - range is excluded (subqueries from 3.0.1)',
    fix: 'widen windows such as foo[1m:1m] -> foo[2m:1m]',
    source: '#13904, #15431 (R§1d)',
  },
  {
    id: 'promql-le-quantile',
    kind: 'promql',
    subject: 'le/quantile literals',
    since: '3.0.0',
    phase: 'dual',
    severity: 'silent',
    outcome: 'le="1" / quantile="1" no longer match (values are normalised to "1.0")',
    fix: 'match both forms, e.g. le=~"1(\\\\.0)?", across the transition',
    source: 'P@v3.0.0:model/textparse (R§1d)',
  },
];

/** Config keys a release introduced, at the first release that knows them anywhere: any of them makes the config unloadable on an older release (strict YAML). */
export const CONFIG_KEYS_INTRODUCED: Array<{ key: string; since: string; source: string }> = [
  ...new Set(CONFIG_KEYS_SINCE.map((f) => f.key)),
].map((key) => {
  const rows = CONFIG_KEYS_SINCE.filter((f) => f.key === key);
  return { key, since: configKeySince(key)!, source: rows.map((f) => `${f.where} ${f.since}: ${f.source}`).join('; ') };
});
