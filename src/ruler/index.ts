/**
 * Rule groups -> the Mimir ruler (the CLI is `stackshift rules sync`).
 *
 *   readRuleSources(paths, namespaceFrom)   -> SourceGroup[]   rule files, mimirtool namespace files,
 *                                                              PrometheusRule resources; strict checks, file:line
 *   MimirRulerClient(endpoint, { prefix })  list / set / delete groups (GET/POST/DELETE <prefix>/config/v1/rules)
 *   planSync(desired, remote, records)      -> PlanItem[]      create / update / unchanged / remove / conflict
 *   runRulesSync(params)                    -> RulesSyncReport diff, backup, apply, record
 *   canonicalGroup, sameGroup, groupHash    the comparison: formatting and key order are no difference
 *   backfillExclusion(recordNames)          the backfill --match that leaves recording-rule output out
 */
export { MimirRulerClient, parseListing, groupFromRemote, type RemoteRules } from './client.js';
export {
  canonicalGroup,
  canonicalJson,
  groupHash,
  sameGroup,
  groupDocument,
  describeChanges,
  normaliseExpr,
  type Rule,
  type RuleGroup,
} from './model.js';
export { readRuleSources, expandRulePaths, parseNamespaceFrom, type NamespaceFrom, type SourceGroup } from './read.js';
export {
  planSync,
  runRulesSync,
  applyVersionFixes,
  experimentalFunctionsUsed,
  type PlanItem,
  type RulesSyncReport,
  type RulesSyncParams,
  type Action,
  type ConflictReason,
  type FixedExpr,
} from './sync.js';
export {
  openRulesRecords,
  memoryRecords,
  targetKey,
  RULES_MIGRATION,
  type RulesRecords,
  type WrittenRecord,
} from './state.js';
export { backfillExclusion } from './advice.js';
export { renderRulesSyncText, renderRulesSyncMarkdown } from './render.js';
