import type { Document, Node as YamlNode, Pair, YAMLMap } from 'yaml';
import type { ParsedPromQL, TextEdit } from '../promql/index.js';
import type { Version } from './versions.js';

/**
 * The shape of a lint rule, ESLint-like: metadata (id, severity, the version ranges where it holds, the
 * phase of its fix, its source) plus small check functions per kind of input. A rule reports findings
 * through its context; a finding may carry a fix (edits applied by --fix in the rule's phase) or a
 * suggestion (shown with the finding, never applied automatically).
 *
 * Phases, after the two-stage upgrade (../shared/research/prometheus-3.md §1 "dual" column):
 *   dual     - the fixed file works on 2.55 and on 3.x: apply now, before the binary swap
 *   cutover  - the fixed file is valid only on 3.x: switch together with the binary
 *   advisory - a behaviour change to check; any suggestion is the author's call
 */
export type Severity = 'error' | 'warning' | 'info';
export type Phase = 'dual' | 'cutover' | 'advisory';

export interface Fix {
  description: string;
  edits: TextEdit[];
  /** First version on which the fixed text still loads (e.g. a key that exists from 2.55 on). */
  validFrom?: string;
}

export interface Report {
  message: string;
  /** PromQL rules: offsets in the expression; config and flag rules: offsets in the file. */
  at: { from: number; to: number };
  fix?: Fix;
  suggestion?: Fix;
  /** Overrides the rule's severity for this finding (e.g. worse on a later target version). */
  severity?: Severity;
}

/** Facts about the whole lint run that cross inputs (a flag decides what a config key means). */
export interface RunFacts {
  /** --enable-feature tokens found in any flag source; undefined when no flags were given. */
  features: ReadonlySet<string> | undefined;
  /** Every flag name found in any flag source (without dashes). */
  flagNames: ReadonlySet<string>;
  /** global.scrape_interval of a prometheus.yml in the run, in ms. */
  scrapeIntervalMs?: number;
  /** PromQL functions/aggregators used anywhere in the run, by name. */
  functionsUsed: ReadonlySet<string>;
}

interface BaseContext {
  from: Version;
  to: Version;
  run: RunFacts;
  report(r: Report): void;
}

export interface PromQLContext extends BaseContext {
  expr: ParsedPromQL;
  /** Where the expression lives: a rule file, a dashboard, or an expression handed to the library. */
  origin: 'rule' | 'dashboard' | 'inline';
}

/** Edits on a prometheus.yml that keep comments and formatting (see src/lint/yaml-edit.ts). */
export interface YamlEditor {
  /** The key/value pair for `key` in a block map, if present. */
  pair(map: unknown, key: string): Pair<YamlNode, YamlNode | null> | undefined;
  /** The map under `key`, if it is one. */
  map(map: unknown, key: string): YAMLMap | undefined;
  /** Items of the sequence under `key` that are maps. */
  mapItems(map: unknown, key: string): YAMLMap[];
  /** Scalar value as a string (undefined for non-scalars). */
  scalar(node: unknown): string | undefined;
  range(node: unknown): { from: number; to: number };
  renameKey(pair: Pair, newKey: string): TextEdit[];
  /** Replaces a node's source text with `text` verbatim. */
  replaceNode(node: unknown, text: string): TextEdit[];
  /** Sets a scalar's value, keeping its quoting style where the value allows it. */
  setScalar(node: unknown, value: string): TextEdit[];
  /** Inserts `key: value` as a new entry of a block map (undefined when the map is written in flow style). */
  insertKey(map: YAMLMap, key: string, valueText: string): TextEdit[] | undefined;
  /** Inserts `key: value` under the top-level section `section` (created when missing). */
  insertInSection(section: string, key: string, valueText: string): TextEdit[] | undefined;
}

export interface ConfigContext extends BaseContext {
  file: string;
  text: string;
  doc: Document.Parsed;
  root: YAMLMap | undefined;
  yaml: YamlEditor;
}

export interface FeatureToken {
  name: string;
  from: number;
  to: number;
}

export interface FlagArg {
  /** Name without leading dashes, e.g. "storage.tsdb.retention". */
  name: string;
  value?: string;
  /** The whole argument (both words when the value is a separate word). */
  from: number;
  to: number;
  nameFrom: number;
  nameTo: number;
  valueFrom?: number;
  valueTo?: number;
  /** --enable-feature tokens with their ranges. */
  features?: FeatureToken[];
}

export interface FlagEditor {
  /** False for a live server: findings only, nothing to edit. */
  editable: boolean;
  removeArg(arg: FlagArg): TextEdit[];
  /** Renames the flag, keeping its value. */
  renameArg(arg: FlagArg, newName: string): TextEdit[];
  removeFeature(arg: FlagArg, token: FeatureToken): TextEdit[];
  /** Replaces the whole argument (name and value) with `text`, e.g. "--agent". */
  replaceArg(arg: FlagArg, text: string): TextEdit[];
  /** Adds an argument such as "--agent" or "--enable-feature=x". */
  addArg(text: string): TextEdit[] | undefined;
  /** Adds a token to an existing --enable-feature argument. */
  addFeature(arg: FlagArg, token: string): TextEdit[];
}

export interface FlagsContext extends BaseContext {
  /** systemd, args, kubernetes, compose, operator or live. */
  kind: string;
  args: FlagArg[];
  edit: FlagEditor;
}

export interface LintRule {
  id: string;
  title: string;
  severity: Severity;
  phase: Phase;
  /** semver ranges of the running (from) and target (to) versions where the rule holds. */
  versions: { from?: string; to?: string };
  /** Where the fact comes from. */
  source: string;
  /** What changes in 3.x, one or two sentences. */
  description: string;
  checkPromQL?(ctx: PromQLContext): void;
  checkConfig?(ctx: ConfigContext): void;
  checkFlags?(ctx: FlagsContext): void;
}

/** Identity helper for type checking rule files. */
export function defineRule(rule: LintRule): LintRule {
  return rule;
}
