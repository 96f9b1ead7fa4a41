export { parseVersion, compareVersions, upgradePath, RELEASE_FACTS, type Version, type UpgradeStage } from './versions.js';
export { inRange, atLeast } from './ranges.js';
export { FEATURE_FLAGS, REMOVED_CLI_FLAGS, DEPRECATED_CLI_FLAGS, CONFIG_KEYS_SINCE, SCRAPE_PROTOCOLS, FUNCTIONS, EXPERIMENTAL_FUNCTIONS_FLAG, NORMALISED_LABELS, type FeatureFlagFact, type RemovedCliFlagFact, type ConfigKeyFact, type FunctionFact } from './facts.js';
export { anyCharDots, isMatchAll, withoutNewlineDots } from './regex.js';
export { RULES } from './rules/index.js';
export { defineRule, type LintRule, type Severity, type Phase, type Fix, type Report, type RunFacts, type PromQLContext, type ConfigContext, type FlagsContext, type FlagArg, type FeatureToken, type FlagEditor, type YamlEditor } from './rule.js';
