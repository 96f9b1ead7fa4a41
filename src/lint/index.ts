/**
 * Prometheus 3 readiness lint, as a library (the CLI is `stackshift lint prom3`).
 *
 *   lintFiles(paths, { from, to, stage, flagsFrom })  -> LintResult
 *       Lints prometheus.yml files (and the rule_files they name), rule files (plain, Mimir ruler
 *       namespace, PrometheusRule CRDs), Grafana dashboards (every PromQL target, query variable and
 *       annotation, collapsed rows and legacy rows[] included) and Prometheus flags (systemd unit, args
 *       file, Kubernetes or docker-compose manifest, Operator resource; `flagsFrom` also takes http(s)
 *       URLs of live servers). Each Finding has rule id, severity, phase, file:line:column, the message
 *       ("what changes in 3.x") and, where mechanical, a fix as edits on the file text.
 *
 *   fixFiles(paths, { from, to, stage: 'dual' | '2.55' | 'cutover', outDir?, dryRun? })  -> FixResult
 *       Applies the stage's fixes until none is left, checks every edited file still parses, then backs
 *       each file up (fsutil backupFile) and replaces it atomically, or writes copies under outDir.
 *       Running it twice changes nothing the second time.
 *
 *   lintPromQL(expr, { from, to, templates?, features? })  -> PromQLFinding[]   (offsets in expr)
 *   applyPromQLFixes(expr, { from, to, stage? })           -> string            (idempotent)
 *       One expression, e.g. a dashboard query being migrated. `templates: true` accepts Grafana
 *       variables ($var, ${var}, [[var]], $__rate_interval).
 *
 *   rulesFor(from, to, phase?)  -> RuleSummary[]
 *       The config/flag/PromQL changes an upgrade needs, per phase: "dual" fixes work on 2.55 and 3.x
 *       (apply before the binary swap), "cutover" ones only on 3.x (switch with the binary), "advisory"
 *       ones are behaviour changes to verify.
 *
 * Stages: "dual" applies dual fixes valid on --from; "2.55" those valid on the 2.55 bridge; "cutover"
 * every dual and cutover fix (the config set for the 3.x binary). Rules live one per file in
 * src/compat/rules/, their facts (with sources) in src/compat/facts.ts.
 */
export {
  lintFiles,
  lintLoaded,
  loadAll,
  fixFiles,
  fixApplies,
  resolveVersions,
  rulesApplying,
  STAGES,
  PARSE_ERROR_RULE,
  INPUT_MISSING_RULE,
  INPUT_UNKNOWN_RULE,
  PROMTOOL_RULE,
  type LintOptions,
  type LintResult,
  type Finding,
  type FixInfo,
  type FixOptions,
  type FixResult,
  type FixedFile,
  type Stage,
} from './engine.js';
export { lintPromQL, applyPromQLFixes, type PromQLFinding, type PromQLLintOptions } from './promql-api.js';
export { rulesFor, type RuleSummary } from './rules-for.js';
export { renderLintText, renderLintMarkdown, renderLintSarif } from './render.js';
export {
  execStartLines,
  systemdFlagSources,
  argsFileFlagSource,
  yamlFlagSources,
  liveFlagSource,
  type FlagSource,
  type FlagSourceKind,
} from './flags.js';
export {
  runPromtool,
  promtoolVersion,
  parseOutput as parsePromtoolOutput,
  type PromtoolFinding,
  type PromtoolReport,
} from './promtool.js';
export { yamlEditor, type TextEdit } from './yaml-edit.js';
export { LineIndex } from './text.js';
