import { mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseTree, type ParseError } from 'jsonc-parser';
import {
  atLeast,
  inSemverRange,
  parseVersion,
  RELEASE_FACTS,
  REMOVED_CLI_FLAGS,
  RULES,
  type Fix,
  type LintRule,
  type Phase,
  type Report,
  type RunFacts,
  type Severity,
  type Version,
} from '../compat/index.js';
import { aggregations, functionCalls, parsePromQL, type ParsedPromQL, type TextEdit } from '../promql/index.js';
import { applyEdits, editsOverlap } from '../promql/index.js';
import { backupFile, copyAccessOf, writeFileAtomic } from '../fsutil/index.js';
import { UsageError } from '../errors/index.js';
import { liveFlagSource } from './flags.js';
import { loadInputs, loadFile, readUtf8, type ExprSite, type FileInput, type Loaded, type ReadFile } from './inputs.js';
import { yamlEditor } from './yaml-edit.js';
import { runPromtool } from './promtool.js';

/**
 * The lint engine: loads inputs, runs every rule that holds for the from/to versions, and turns reports
 * into findings with file:line:column. Fixing re-lints the edited text in memory until no applicable fix
 * is left (ESLint-style passes), validates that every edited file still parses, and only then writes,
 * each file backed up first and replaced atomically.
 *
 * Why one file of ~500 lines: lint and fix are one loop over the same loaded inputs (fix re-runs lint on the
 * edited text until it settles); the loaders, flag parsing, YAML editing and rules already live elsewhere.
 */
export type Stage = 'all' | 'dual' | '2.55' | 'cutover';
export const STAGES: Stage[] = ['all', 'dual', '2.55', 'cutover'];

export interface LintOptions {
  /** Running version (default 2.55.1, the bridge). */
  from?: string;
  /** Target version (default the latest LTS). */
  to?: string;
  /** Which findings to report and which fixes apply: dual (valid on --from and 3.x), 2.55, cutover, or all. */
  stage?: Stage;
  /** Flag sources: files (systemd unit, args file, manifest) or http(s):// URLs of live servers. */
  flagsFrom?: string[];
  /** Only these rule ids. */
  rules?: string[];
  /** Reads a file; fixing passes read their in-memory results through it. */
  read?: ReadFile;
  /**
   * --enable-feature tokens the server runs with, overriding what the flag sources say. Fixing pins the
   * features of the first pass: a cutover fix that drops a flag must not change what the config means.
   */
  features?: string[];
  /** A promtool binary (of the target version): its `check config` / `check rules` verdicts become findings. */
  promtool?: string;
  /** Fetches /api/v1/status/flags of a live server. */
  fetchFlags?: (url: string) => Promise<Record<string, string>>;
}

export interface FixInfo {
  description: string;
  validFrom?: string;
  /** Applied by --fix in the requested stage. */
  applies: boolean;
  /** Edits on the file's text (offsets). */
  edits: TextEdit[];
}

export interface Finding {
  ruleId: string;
  title: string;
  severity: Severity;
  phase: Phase;
  message: string;
  /** File path, or the URL of a live server. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Where inside the file: rule group and name, dashboard panel and target, flag source. */
  context?: string;
  /** The PromQL expression the finding is about. */
  expr?: string;
  source: string;
  fix?: FixInfo;
  suggestion?: Omit<FixInfo, 'applies'>;
}

export interface LintResult {
  from: string;
  to: string;
  stage: Stage;
  /** --enable-feature tokens in force for this run (null: no flags known). */
  features: string[] | null;
  findings: Finding[];
  files: Array<{ file: string; kinds: string[] }>;
  counts: {
    error: number;
    warning: number;
    info: number;
    dual: number;
    cutover: number;
    advisory: number;
    fixable: number;
    expressions: number;
  };
  /** The promtool run (--promtool): its version and the files it checked. */
  promtool?: { path: string; version: string; checked: string[] };
}

export const PARSE_ERROR_RULE: LintRule = {
  id: 'input-parse-error',
  title: 'file does not parse',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: 'YAML 1.2 / JSON (RFC 8259)',
  description:
    'The file is not valid YAML or JSON, so nothing in it could be checked; Prometheus or Grafana would reject it as well.',
};

export const INPUT_MISSING_RULE: LintRule = {
  id: 'input-missing',
  title: 'input file missing or unreadable',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: 'Prometheus rule_files semantics (filepath.Glob per entry)',
  description: 'A named file could not be read, so nothing in it was checked.',
};

export const PROMTOOL_RULE: LintRule = {
  id: 'promtool',
  title: 'the real promtool refuses it',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: 'promtool check config / check rules of the binary given with --promtool',
  description:
    'What the promtool named with --promtool (that of the target version) reports when it checks the config and rule files: relabel rules, regexes, duplicate jobs, files that do not exist, anything that version would refuse to load.',
};

export const INPUT_UNKNOWN_RULE: LintRule = {
  id: 'input-unknown-kind',
  title: 'input is none of the kinds lint reads',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: 'stackshift lint inputs (src/lint/inputs.ts): kinds are decided by content',
  description:
    'The file is not a prometheus.yml, a rule file, a PrometheusRule, a Grafana dashboard nor a source of Prometheus flags, so nothing in it was checked.',
};

export function resolveVersions(opts: { from?: string; to?: string }): { from: Version; to: Version } {
  const from = parseVersion(opts.from ?? RELEASE_FACTS.bridge.version);
  const to = parseVersion(opts.to ?? RELEASE_FACTS.lts[1].latest);
  if (!from) throw new UsageError(`--from "${opts.from}" is not a version such as 2.55.1`);
  if (!to) throw new UsageError(`--to "${opts.to}" is not a version such as 3.5.0`);
  return { from, to };
}

export function rulesApplying(from: Version, to: Version, only?: string[]): LintRule[] {
  return RULES.filter(
    (r) => inSemverRange(from, r.versions.from) && inSemverRange(to, r.versions.to) && (!only || only.includes(r.id)),
  );
}

/** Whether a fix belongs to a stage: dual fixes valid on the running (or bridge) version, cutover fixes valid on the target. */
export function fixApplies(rule: LintRule, fix: Fix, stage: Stage, from: Version, to: Version): boolean {
  const valid = (v: Version) => !fix.validFrom || atLeast(v, fix.validFrom);
  switch (stage) {
    case 'dual':
      return rule.phase === 'dual' && valid(from);
    case '2.55': {
      const bridge = parseVersion(RELEASE_FACTS.bridge.version)!;
      return rule.phase === 'dual' && valid(atLeast(from, bridge.raw) ? from : bridge);
    }
    case 'cutover':
      return (rule.phase === 'dual' || rule.phase === 'cutover') && valid(to);
    default:
      return false;
  }
}

function phaseShown(phase: Phase, stage: Stage): boolean {
  if (stage === 'all') return true;
  if (stage === 'cutover') return phase !== 'advisory';
  return phase === 'dual';
}

async function liveFlags(opts: LintOptions, url: string): Promise<Record<string, string>> {
  if (opts.fetchFlags) return opts.fetchFlags(url);
  const { PrometheusClient } = await import('../clients/index.js');
  const { endpointFromUrl } = await import('../config/index.js');
  const client = new PrometheusClient(endpointFromUrl(url));
  try {
    return await client.flags();
  } finally {
    await client.close();
  }
}

/** Loads every input, including flag sources and live servers. */
export async function loadAll(paths: string[], opts: LintOptions): Promise<Loaded> {
  const read = opts.read ?? readUtf8;
  const loaded = loadInputs(paths, read);
  const removedDefaults = Object.fromEntries(REMOVED_CLI_FLAGS.map((f) => [f.flag, f.defaults]));
  for (const src of opts.flagsFrom ?? []) {
    if (/^https?:\/\//.test(src)) {
      const flags = await liveFlags(opts, src);
      loaded.flags.push({ url: src, source: liveFlagSource(src, flags, removedDefaults) });
      continue;
    }
    const file = resolve(src);
    if (loaded.files.has(file)) continue;
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      throw new UsageError(
        `--flags-from ${src}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    loadFile(loaded, file, text);
  }
  return loaded;
}

interface Raw {
  rule: LintRule;
  report: Report;
  file?: FileInput;
  url?: string;
  from: number;
  to: number;
  context?: string;
  site?: ExprSite;
}

function parseSite(site: ExprSite): ParsedPromQL {
  return parsePromQL(site.emb.value, {
    templates: site.origin === 'dashboard',
    maskFunctions: site.variable ? ['label_values', 'query_result'] : undefined,
  });
}

/** Lints what loadAll found. */
export function lintLoaded(loaded: Loaded, opts: LintOptions): LintResult {
  const { from, to } = resolveVersions(opts);
  const stage = opts.stage ?? 'all';
  const rules = rulesApplying(from, to, opts.rules);
  const raws: Raw[] = [];

  const found = loaded.flags.flatMap((f) => f.source.args.flatMap((a) => (a.features ?? []).map((t) => t.name)));
  const features = opts.features || loaded.flags.length ? new Set([...(opts.features ?? []), ...found]) : undefined;
  const flagNames = new Set(loaded.flags.flatMap((f) => f.source.args.map((a) => a.name)));
  let scrapeIntervalMs: number | undefined;
  for (const c of loaded.configs) {
    if (scrapeIntervalMs !== undefined) break;
    const si = c.root?.getIn(['global', 'scrape_interval']);
    scrapeIntervalMs = typeof si === 'string' ? durationMs(si) : 60_000;
  }
  const functionsUsed = new Set<string>();
  const run: RunFacts = { features, flagNames, scrapeIntervalMs, functionsUsed };

  for (const p of loaded.problems) {
    raws.push({
      rule: p.missing ? INPUT_MISSING_RULE : p.unknownKind ? INPUT_UNKNOWN_RULE : PARSE_ERROR_RULE,
      report: { message: p.message, at: { from: p.from, to: p.to }, severity: p.severity },
      file: loaded.files.get(p.file),
      url: loaded.files.has(p.file) ? undefined : p.file,
      from: p.from,
      to: p.to,
    });
  }

  let promtool: LintResult['promtool'];
  if (opts.promtool) {
    const rep = runPromtool(opts.promtool, loaded, features ? [...features] : []);
    promtool = { path: opts.promtool, version: rep.version, checked: rep.checked };
    for (const f of rep.findings) {
      if (opts.rules && !opts.rules.includes(PROMTOOL_RULE.id)) break;
      raws.push({
        rule: PROMTOOL_RULE,
        report: { message: `promtool ${rep.version}: ${f.message}`, at: { from: f.from, to: f.to } },
        file: f.file,
        url: f.file ? undefined : f.path,
        from: f.from,
        to: f.to,
      });
    }
  }

  const promqlRules = rules.filter((r) => r.checkPromQL);
  // one tree at a time: parse, run every PromQL rule, keep only the findings (memory stays flat)
  loaded.exprs.forEach((site) => {
    const expr = parseSite(site);
    for (const f of functionCalls(expr)) functionsUsed.add(f.name);
    for (const a of aggregations(expr)) functionsUsed.add(a.op);
    for (const rule of promqlRules) {
      rule.checkPromQL!({
        from,
        to,
        run,
        expr,
        origin: site.origin,
        report: (r) =>
          raws.push({
            rule,
            report: r,
            file: site.file,
            from: site.emb.offsetOf(r.at.from),
            to: site.emb.offsetOf(r.at.to),
            context: site.context,
            site,
          }),
      });
    }
  });

  const configRules = rules.filter((r) => r.checkConfig);
  for (const c of loaded.configs) {
    const yaml = yamlEditor(c.file.text, c.file.lines, c.root);
    for (const rule of configRules) {
      rule.checkConfig!({
        from,
        to,
        run,
        file: c.file.file,
        text: c.file.text,
        doc: c.doc,
        root: c.root,
        yaml,
        report: (r) => raws.push({ rule, report: r, file: c.file, from: r.at.from, to: r.at.to }),
      });
    }
  }

  const flagRules = rules.filter((r) => r.checkFlags);
  for (const f of loaded.flags) {
    for (const rule of flagRules) {
      rule.checkFlags!({
        from,
        to,
        run,
        kind: f.source.kind,
        args: f.source.args,
        edit: f.source.edit,
        report: (r) =>
          raws.push({
            rule,
            report: r,
            file: f.file,
            url: f.url,
            from: r.at.from,
            to: r.at.to,
            context: f.source.label,
          }),
      });
    }
  }

  const findings: Finding[] = [];
  for (const r of raws) {
    if (!phaseShown(r.rule.phase, stage)) continue;
    const toFile = (fix: Fix | undefined) => (fix ? (r.site ? r.site.emb.translate(fix.edits) : fix.edits) : undefined);
    const start = r.file ? r.file.lines.position(r.from) : { line: 0, column: 0 };
    const end = r.file ? r.file.lines.position(Math.max(r.from, r.to)) : { line: 0, column: 0 };
    const fixEdits = r.report.fix && r.file ? toFile(r.report.fix) : undefined;
    const sugEdits = r.report.suggestion && r.file ? toFile(r.report.suggestion) : undefined;
    findings.push({
      ruleId: r.rule.id,
      title: r.rule.title,
      severity: r.report.severity ?? r.rule.severity,
      phase: r.rule.phase,
      message: r.report.message,
      file: r.file?.file ?? r.url ?? '',
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      context: r.context,
      expr: r.site?.emb.value,
      source: r.rule.source,
      fix:
        r.report.fix && fixEdits
          ? {
              description: r.report.fix.description,
              validFrom: r.report.fix.validFrom,
              applies:
                fixApplies(r.rule, r.report.fix, stage === 'all' ? 'cutover' : stage, from, to) && stage !== 'all',
              edits: fixEdits,
            }
          : undefined,
      suggestion:
        r.report.suggestion && sugEdits
          ? { description: r.report.suggestion.description, validFrom: r.report.suggestion.validFrom, edits: sugEdits }
          : undefined,
    });
  }
  findings.sort((a, b) =>
    a.file < b.file
      ? -1
      : a.file > b.file
        ? 1
        : a.line - b.line || a.column - b.column || (a.ruleId < b.ruleId ? -1 : 1),
  );
  const counts = {
    error: 0,
    warning: 0,
    info: 0,
    dual: 0,
    cutover: 0,
    advisory: 0,
    fixable: 0,
    expressions: loaded.exprs.length,
  };
  for (const f of findings) {
    counts[f.severity]++;
    counts[f.phase]++;
    if (f.fix) counts.fixable++;
  }
  return {
    from: from.raw,
    to: to.raw,
    stage,
    features: features ? [...features].sort() : null,
    findings,
    files: [...loaded.files.values()].map((f) => ({ file: f.file, kinds: [...f.kinds] })),
    counts,
    ...(promtool ? { promtool } : {}),
  };
}

export async function lintFiles(paths: string[], opts: LintOptions = {}): Promise<LintResult> {
  return lintLoaded(await loadAll(paths, opts), opts);
}

function durationMs(text: string): number | undefined {
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
    y: 31_536_000_000,
  };
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(m[1]) * units[m[2]];
  return ms;
}

// ------------------------------------------------------------------------------------------ fixing

export interface FixOptions extends LintOptions {
  stage: Exclude<Stage, 'all'>;
  /** Write fixed copies under this directory (mirroring paths) instead of editing in place. */
  outDir?: string;
  /** Compute and validate, write nothing. */
  dryRun?: boolean;
  maxPasses?: number;
}

export interface FixedFile {
  file: string;
  /** Where the result went (the file itself, or its copy under outDir). */
  written?: string;
  backup?: string;
  fixes: number;
  /** What was applied, in pass order: rule id, line of the finding (in the text of its pass), description. */
  changes: Array<{ ruleId: string; line: number; description: string }>;
  before: string;
  after: string;
}

export interface FixResult {
  files: FixedFile[];
  /** Files whose fixed text failed validation; they were not written. */
  rejected: Array<{ file: string; reason: string }>;
  passes: number;
  /** Lint of the fixed text. */
  after: LintResult;
  before: LintResult;
}

/** Applies the fixes of a stage to every input, validates, then writes with a backup of each file. */
export async function fixFiles(paths: string[], opts: FixOptions): Promise<FixResult> {
  const baseRead = opts.read ?? readUtf8;
  const texts = new Map<string, string>();
  const fixCount = new Map<string, number>();
  const changes = new Map<string, FixedFile['changes']>();
  const read: ReadFile = (f) => texts.get(f) ?? baseRead(f);
  // live flags are fetched once, not per pass
  const cache = new Map<string, Record<string, string>>();
  const fetchFlags = async (url: string) => {
    if (!cache.has(url)) cache.set(url, await liveFlags({ ...opts, fetchFlags: opts.fetchFlags }, url));
    return cache.get(url)!;
  };
  // promtool reads the files on disk, not the texts of the passes: lint the written result with it instead
  const passOpts: LintOptions = { ...opts, read, fetchFlags, promtool: undefined };
  const before = await lintFiles(paths, passOpts);
  if (before.features && !passOpts.features) passOpts.features = before.features;
  let current = before;
  let passes = 0;
  const maxPasses = opts.maxPasses ?? 10;
  while (passes < maxPasses) {
    const byFile = new Map<string, Finding[]>();
    for (const f of current.findings) {
      if (!f.fix?.applies || f.fix.edits.length === 0 || /^https?:/.test(f.file)) continue;
      const list = byFile.get(f.file) ?? [];
      list.push(f);
      byFile.set(f.file, list);
    }
    if (byFile.size === 0) break;
    passes++;
    for (const [file, list] of byFile) {
      const text = read(file);
      // whole fixes only: a fix whose edits collide with an earlier one waits for the next pass
      const chosen: TextEdit[] = [];
      let n = 0;
      for (const f of list) {
        const edits = f.fix!.edits;
        if (chosen.length && editsOverlap(edits, chosen)) continue;
        chosen.push(...edits);
        n++;
        const list2 = changes.get(file) ?? [];
        list2.push({ ruleId: f.ruleId, line: f.line, description: f.fix!.description });
        changes.set(file, list2);
      }
      const { text: next } = applyEdits(text, chosen);
      if (next !== text) {
        texts.set(file, next);
        fixCount.set(file, (fixCount.get(file) ?? 0) + n);
      }
    }
    current = await lintFiles(paths, passOpts);
  }

  const files: FixedFile[] = [];
  const rejected: Array<{ file: string; reason: string }> = [];
  const changed = [...texts.entries()].filter(([f, t]) => t !== baseRead(f));
  const yamlFiles = new Set(
    before.files
      .filter((f) => f.kinds.some((k) => k === 'rules' || k === 'config') && !/\.json$/i.test(f.file))
      .map((f) => f.file),
  );
  const inputs = current.files.filter((f) => f.kinds.length > 0 && !f.kinds.includes('unknown')).map((f) => f.file);
  const base = commonDir(opts.outDir ? inputs : changed.map(([f]) => f));
  for (const [file, after] of changed) {
    const reason = validate(file, after, yamlFiles.has(file));
    if (reason) {
      rejected.push({ file, reason });
      continue;
    }
    const entry: FixedFile = {
      file,
      fixes: fixCount.get(file) ?? 0,
      changes: changes.get(file) ?? [],
      before: baseRead(file),
      after,
    };
    if (!opts.dryRun) {
      if (opts.outDir) {
        const target = join(resolve(opts.outDir), relative(base, file));
        mkdirSync(dirname(target), { recursive: true });
        writeFileAtomic(target, after, copyAccessOf(file));
        entry.written = target;
      } else {
        entry.backup = backupFile(file);
        writeFileAtomic(file, after);
        entry.written = file;
      }
    }
    files.push(entry);
  }
  if (opts.outDir && !opts.dryRun) {
    // the out-dir holds the complete set (rule_files globs resolve inside it), unchanged files included
    for (const file of inputs) {
      if (texts.has(file) && texts.get(file) !== baseRead(file)) continue;
      const target = join(resolve(opts.outDir), relative(base, file));
      mkdirSync(dirname(target), { recursive: true });
      writeFileAtomic(target, baseRead(file), copyAccessOf(file));
    }
  }
  return { files, rejected, passes, before, after: current };
}

/** The fixed text must still parse as what it was; otherwise nothing is written. */
function validate(file: string, text: string, yaml: boolean): string | undefined {
  if (/\.json$/i.test(file) || text.trimStart().startsWith('{')) {
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true });
    return errors.length ? `fixed JSON does not parse (offset ${errors[0].offset})` : undefined;
  }
  if (yaml || /\.ya?ml$/i.test(file)) {
    const docs = parseAllDocuments(text);
    const bad = Array.isArray(docs) ? docs.find((d) => d.errors.length) : undefined;
    return bad ? `fixed YAML does not parse: ${bad.errors[0].message.split('\n')[0]}` : undefined;
  }
  return undefined;
}

function commonDir(files: string[]): string {
  if (files.length === 0) return process.cwd();
  let parts = dirname(files[0]).split(sep);
  for (const f of files.slice(1)) {
    const p = dirname(f).split(sep);
    let i = 0;
    while (i < parts.length && i < p.length && parts[i] === p[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}
