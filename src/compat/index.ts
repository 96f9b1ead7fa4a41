export {
  parseVersion,
  compareVersions,
  upgradePath,
  RELEASE_FACTS,
  type Version,
  type UpgradeStage,
} from './versions.js';
export {
  RELEASE_LINES,
  LATEST,
  FACTS_AS_OF,
  releaseLine,
  resolveTarget,
  supportStatus,
  inRange,
  inAnyRange,
  INDEX_VERSIONS,
  META_VERSIONS,
  CHUNK_ENCODINGS,
  WAL_RECORD_TYPES,
  WAL_COMPRESSION,
  BLOCK_CHUNK_SEGMENT,
  HEAD_CHUNK_SEGMENT,
  INDEX_MAGIC,
  TOMBSTONES_MAGIC,
  DOWNGRADE_POLICY,
  DOWNGRADE_LOSSY_FEATURES,
  REPLAY_LOG_FACTS,
  type ReleaseLine,
  type VersionRange,
  type FormatFact,
} from './facts.js';
export {
  CHANGE_FACTS,
  CONFIG_KEYS_INTRODUCED,
  type ChangeFact,
  type ChangePhase,
  type ChangeSeverity,
  type ChangeKind,
} from './changes.js';
export { RUNBOOK_CORRECTIONS, type RunbookCorrection } from './runbook.js';
export {
  dataDirCompatibility,
  versionVerdict,
  REFERENCE_VERSIONS,
  type FormatSummary,
  type VersionVerdict,
  type Claim,
} from './tsdb-compat.js';
export { inRange as inSemverRange, atLeast } from './ranges.js';
export {
  FEATURE_FLAGS,
  featureFlagSince,
  featureFlagsOf,
  configKeySince,
  REMOVED_CLI_FLAGS,
  DEPRECATED_CLI_FLAGS,
  CONFIG_KEYS_SINCE,
  SCRAPE_PROTOCOLS,
  FUNCTIONS,
  EXPERIMENTAL_FUNCTIONS_FLAG,
  NORMALISED_LABELS,
  type FeatureFlagFact,
  type FeatureFlagRuleId,
  type RemovedCliFlagFact,
  type ConfigKeyFact,
  type FunctionFact,
} from './migration-facts.js';
export { anyCharDots, isMatchAll, withoutNewlineDots } from './regex.js';
export { RULES } from './rules/index.js';
export {
  defineRule,
  type LintRule,
  type Severity,
  type Phase,
  type Fix,
  type Report,
  type RunFacts,
  type PromQLContext,
  type ConfigContext,
  type FlagsContext,
  type FlagArg,
  type FeatureToken,
  type FlagEditor,
  type YamlEditor,
} from './rule.js';
export {
  SYNTAX_CONSTRUCTS,
  syntaxConstructFact,
  constructAvailability,
  promtoolAccepts,
  type SyntaxConstructFact,
  type ConstructAvailability,
} from './promql-syntax-facts.js';
export {
  FUNCTION_SIGNATURES,
  AGGREGATORS,
  functionSignature,
  type FunctionSignature,
  type AggregatorFact,
  type PromQLType,
} from './promql-functions.js';
export {
  CONFIG_ROOT,
  CONFIG_KEY_TABLE,
  CONFIG_KEY_TABLE_READ_UP_TO,
  sectionKeys,
  keyKnown,
  configKeyUses,
  nearKeys,
  editDistance,
  sectionLabel,
  type ConfigKeySpec,
  type ConfigKeyUse,
} from './config-keys.js';
export { OOO_RESTART_LOSS, oooRestartLoss, type OooRestartLoss } from './ooo-restart-loss.js';
