import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { InputError, UsageError } from '../errors/index.js';
import { log } from '../log/index.js';
import { parsePromQL } from '../promql/index.js';
import { tryParseDuration } from '../timeutil/index.js';
import { GROUP_KEYS, RULE_KEYS, type Rule, type RuleGroup } from './model.js';

/**
 * Reading the rules to sync: Prometheus rule files (`groups:`), mimirtool namespace files (`namespace:` plus
 * `groups:`) and PrometheusRule resources (`kind: PrometheusRule`, `spec.groups`, several per file as YAML
 * documents or in a `kind: List`). Each group is checked as strictly as promtool does (unknown keys, a rule
 * with both or neither of record/alert, an expression that does not parse, a bad duration), and every
 * problem names file, line and key.
 */
export type NamespaceFrom = { kind: 'file' } | { kind: 'dir' } | { kind: 'fixed'; name: string };

export interface SourceGroup {
  namespace: string;
  group: RuleGroup;
  file: string;
  line: number;
}

export function parseNamespaceFrom(v: string | undefined): NamespaceFrom {
  if (v === undefined || v === 'file') return { kind: 'file' };
  if (v === 'dir') return { kind: 'dir' };
  const m = /^fixed:(.+)$/.exec(v);
  if (m && m[1]!.trim()) return { kind: 'fixed', name: m[1]!.trim() };
  throw new UsageError(
    `--namespace-from "${v}": expected file, dir or fixed:NAME`,
    'file: the file name (or the namespace: key of a mimirtool file, or <namespace>/<name> of a PrometheusRule); dir: the directory name; fixed:NAME: one namespace for everything',
  );
}

const RULE_EXT = new Set(['.yml', '.yaml']);

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      re += `[${glob
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (RULE_EXT.has(extname(name).toLowerCase())) out.push(p);
  }
}

/** Files, directories (walked for .yml/.yaml) and globs (`rules/**\/*.yaml`), each at least one file. */
export function expandRulePaths(args: string[]): Array<{ file: string; explicit: boolean }> {
  const out: Array<{ file: string; explicit: boolean }> = [];
  const seen = new Set<string>();
  const add = (f: string, explicit: boolean) => {
    const r = resolve(f);
    if (!seen.has(r)) {
      seen.add(r);
      out.push({ file: r, explicit });
    }
  };
  for (const arg of args) {
    if (/[*?[]/.test(arg)) {
      const abs = resolve(arg).split(sep).join('/');
      const first = abs.search(/[*?[]/);
      const base = abs.slice(0, abs.lastIndexOf('/', first)) || '/';
      const re = globToRegExp(abs);
      const files: string[] = [];
      try {
        walk(base, files);
      } catch {
        /* reported below */
      }
      const hits = files.filter((f) => re.test(f.split(sep).join('/')));
      if (!hits.length)
        throw new UsageError(
          `--rules ${arg}: no .yml/.yaml file matches`,
          'check the pattern; quote it so the shell does not expand it first',
        );
      for (const h of hits) add(h, false);
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch {
      throw new UsageError(`--rules ${arg}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const files: string[] = [];
      walk(arg, files);
      if (!files.length) throw new UsageError(`--rules ${arg}: the directory holds no .yml/.yaml file`);
      for (const f of files) add(f, false);
    } else add(arg, true);
  }
  return out;
}

interface Locator {
  file: string;
  lines: LineCounter;
  doc: Document.Parsed;
}

function lineOf(loc: Locator, path: Array<string | number>): number {
  let node: unknown = loc.doc.contents;
  let best = 1;
  const at = (n: unknown) => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    if (r) best = loc.lines.linePos(r[0]).line;
  };
  at(node);
  for (const k of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === k);
      if (!pair) break;
      at(pair.key);
      node = pair.value;
      if (node) at(node);
    } else if (isSeq(node) && typeof k === 'number') {
      node = node.items[k];
      if (!node) break;
      at(node);
    } else break;
  }
  return best;
}

function fail(loc: Locator, path: Array<string | number>, message: string, hint?: string): never {
  throw new InputError(message, { file: loc.file, line: lineOf(loc, path), key: path.join('.') || undefined }, hint);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(loc: Locator, path: Array<string | number>, v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(loc, path, `${what} must be a string`);
}

function duration(loc: Locator, path: Array<string | number>, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = str(loc, path, v, path[path.length - 1] as string);
  if (s.trim() !== '0' && tryParseDuration(s) === undefined)
    fail(loc, path, `"${s}" is not a duration`, 'use a Prometheus duration such as 30s, 5m or 1h');
  return s;
}

function stringMap(loc: Locator, path: Array<string | number>, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(loc, path, `${path[path.length - 1]} must be a map of names to strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = str(loc, [...path, k], val, `${path[path.length - 1]}.${k}`);
  return out;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** One group from a parsed rule file, checked as promtool checks it; `path` locates it in the document. */
function readGroup(loc: Locator, path: Array<string | number>, v: unknown): RuleGroup {
  if (!isObj(v)) fail(loc, path, 'a rule group must be a map with name and rules');
  for (const k of Object.keys(v)) {
    if (!(GROUP_KEYS as readonly string[]).includes(k))
      fail(loc, [...path, k], `unknown key "${k}" in rule group`, `a group has ${GROUP_KEYS.join(', ')}`);
  }
  const name = v.name === undefined || v.name === null ? '' : str(loc, [...path, 'name'], v.name, 'name');
  if (!name.trim()) fail(loc, [...path, 'name'], 'rule group name must not be empty');
  if (!Array.isArray(v.rules) || v.rules.length === 0)
    fail(loc, [...path, 'rules'], `rule group "${name}" has no rules`, 'Mimir refuses a group without rules');
  const g: RuleGroup = {
    name,
    interval: duration(loc, [...path, 'interval'], v.interval),
    query_offset: duration(loc, [...path, 'query_offset'], v.query_offset),
    evaluation_delay: duration(loc, [...path, 'evaluation_delay'], v.evaluation_delay),
    labels: stringMap(loc, [...path, 'labels'], v.labels),
    rules: [],
  };
  if (v.limit !== undefined && v.limit !== null) {
    if (typeof v.limit !== 'number' || !Number.isInteger(v.limit) || v.limit < 0)
      fail(loc, [...path, 'limit'], 'limit must be a whole number >= 0');
    g.limit = v.limit;
  }
  if (v.source_tenants !== undefined && v.source_tenants !== null) {
    if (!Array.isArray(v.source_tenants))
      fail(loc, [...path, 'source_tenants'], 'source_tenants must be a list of tenant ids');
    g.source_tenants = v.source_tenants.map((t, i) => str(loc, [...path, 'source_tenants', i], t, 'source tenant'));
  }
  if (v.align_evaluation_time_on_interval !== undefined)
    g.align_evaluation_time_on_interval = Boolean(v.align_evaluation_time_on_interval);
  const seen = new Map<string, number>();
  (v.rules as unknown[]).forEach((r, i) => {
    const rp = [...path, 'rules', i];
    if (!isObj(r)) fail(loc, rp, `rule ${i + 1} of group "${name}" must be a map`);
    for (const k of Object.keys(r)) {
      if (!(RULE_KEYS as readonly string[]).includes(k))
        fail(
          loc,
          [...rp, k],
          `unknown key "${k}" in rule ${i + 1} of group "${name}"`,
          `a rule has ${RULE_KEYS.join(', ')}`,
        );
    }
    const rule: Rule = { expr: '' };
    const hasRecord = r.record !== undefined && r.record !== null && r.record !== '';
    const hasAlert = r.alert !== undefined && r.alert !== null && r.alert !== '';
    if (hasRecord === hasAlert)
      fail(loc, rp, `rule ${i + 1} of group "${name}": exactly one of record and alert must be set`);
    if (hasRecord) {
      rule.record = str(loc, [...rp, 'record'], r.record, 'record');
      if (!METRIC_NAME.test(rule.record))
        fail(
          loc,
          [...rp, 'record'],
          `invalid recording rule name "${rule.record}"`,
          'a recording rule name is a metric name: [a-zA-Z_:][a-zA-Z0-9_:]*',
        );
      if (r.for !== undefined) fail(loc, [...rp, 'for'], `recording rule "${rule.record}" cannot have for`);
      if (r.keep_firing_for !== undefined)
        fail(loc, [...rp, 'keep_firing_for'], `recording rule "${rule.record}" cannot have keep_firing_for`);
      if (r.annotations !== undefined)
        fail(loc, [...rp, 'annotations'], `recording rule "${rule.record}" cannot have annotations`);
    } else {
      rule.alert = str(loc, [...rp, 'alert'], r.alert, 'alert');
    }
    if (r.expr === undefined || r.expr === null || r.expr === '')
      fail(loc, rp, `rule ${i + 1} of group "${name}" has no expr`);
    rule.expr = str(loc, [...rp, 'expr'], r.expr, 'expr');
    const parsed = parsePromQL(rule.expr);
    if (parsed.errors.length) {
      const e = parsed.errors[0]!;
      fail(
        loc,
        [...rp, 'expr'],
        `rule ${i + 1} (${rule.record ?? rule.alert}) of group "${name}": the expression does not parse near column ${e.from + 1}: ${JSON.stringify(rule.expr.slice(Math.max(0, e.from - 10), e.to + 10))}`,
      );
    }
    rule.for = duration(loc, [...rp, 'for'], r.for);
    rule.keep_firing_for = duration(loc, [...rp, 'keep_firing_for'], r.keep_firing_for);
    rule.labels = stringMap(loc, [...rp, 'labels'], r.labels);
    rule.annotations = stringMap(loc, [...rp, 'annotations'], r.annotations);
    for (const k of Object.keys(rule.labels ?? {}))
      if (!LABEL_NAME.test(k)) fail(loc, [...rp, 'labels', k], `invalid label name "${k}"`);
    const id = `${rule.record ? 'record' : 'alert'}:${rule.record ?? rule.alert}`;
    if (rule.record && seen.has(id))
      log.debug('recording rule name repeated in a group', { group: name, record: rule.record });
    seen.set(id, i);
    g.rules.push(rule);
  });
  return g;
}

/** Groups found in one YAML document, with the namespace the file-based mapping gives them. */
function groupsOfDocument(
  loc: Locator,
  js: unknown,
  path: Array<string | number>,
  fileNamespace: string,
): Array<{ ns: string; groups: Array<{ g: RuleGroup; line: number }> }> | undefined {
  if (!isObj(js)) return undefined;
  const collect = (groups: unknown, gpath: Array<string | number>, ns: string) => {
    if (!Array.isArray(groups)) fail(loc, gpath, 'groups must be a list of rule groups');
    return {
      ns,
      groups: groups.map((g, i) => ({ g: readGroup(loc, [...gpath, i], g), line: lineOf(loc, [...gpath, i]) })),
    };
  };
  if (js.kind === 'PrometheusRule') {
    const meta = isObj(js.metadata) ? js.metadata : {};
    const name = typeof meta.name === 'string' ? meta.name : undefined;
    if (!name) fail(loc, [...path, 'metadata'], 'a PrometheusRule needs metadata.name');
    const ns = typeof meta.namespace === 'string' && meta.namespace ? `${meta.namespace}/${name}` : name;
    const spec = isObj(js.spec) ? js.spec : undefined;
    if (!spec) fail(loc, [...path, 'spec'], 'a PrometheusRule needs spec.groups');
    return [collect(spec.groups ?? [], [...path, 'spec', 'groups'], ns)];
  }
  if (js.kind === 'List' && Array.isArray(js.items)) {
    const out: Array<{ ns: string; groups: Array<{ g: RuleGroup; line: number }> }> = [];
    js.items.forEach((item, i) => {
      for (const x of groupsOfDocument(loc, item, [...path, 'items', i], fileNamespace) ?? []) out.push(x);
    });
    return out;
  }
  if ('groups' in js && !('kind' in js)) {
    const ns = typeof js.namespace === 'string' && js.namespace ? js.namespace : fileNamespace;
    for (const k of Object.keys(js))
      if (k !== 'groups' && k !== 'namespace')
        fail(
          loc,
          [...path, k],
          `unknown top-level key "${k}" in a rule file`,
          'a rule file has groups: (and, for mimirtool, namespace:)',
        );
    return [collect(js.groups, [...path, 'groups'], ns)];
  }
  return undefined;
}

/** Every group of the inputs with its Mimir namespace; duplicates (namespace, group) are refused. */
export function readRuleSources(args: string[], from: NamespaceFrom = { kind: 'file' }): SourceGroup[] {
  if (!args.length)
    throw new UsageError(
      '--rules names no file',
      'pass rule files, directories or globs, e.g. --rules rules/ --rules "k8s/**/*.yaml"',
    );
  const out: SourceGroup[] = [];
  const where = new Map<string, SourceGroup>();
  for (const { file, explicit } of expandRulePaths(args)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--rules ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    if (!Array.isArray(docs)) continue;
    const fileNs = basename(file, extname(file));
    let found = 0;
    docs.forEach((doc) => {
      const loc: Locator = { file, lines, doc };
      const err = doc.errors[0];
      if (err)
        throw new InputError(
          `YAML does not parse: ${err.message.split('\n')[0]}`,
          { file, line: lines.linePos(err.pos[0]).line },
          'fix the YAML syntax',
        );
      const js = doc.toJS({ maxAliasCount: 1000 }) as unknown;
      if (js === null || js === undefined) return;
      const sets = groupsOfDocument(loc, js, [], fileNs);
      if (!sets) return;
      for (const set of sets) {
        for (const { g, line } of set.groups) {
          found++;
          const ns = from.kind === 'fixed' ? from.name : from.kind === 'dir' ? basename(dirname(file)) : set.ns;
          const sg: SourceGroup = { namespace: ns, group: g, file, line };
          const key = `${ns}\u0000${g.name}`;
          const prev = where.get(key);
          if (prev) {
            throw new InputError(
              `rule group "${g.name}" is defined twice for Mimir namespace "${ns}" (first at ${relative(process.cwd(), prev.file) || prev.file}:${prev.line})`,
              { file, line, key: 'name' },
              'group names must be unique within a namespace: rename one, or map the files to different namespaces (--namespace-from)',
            );
          }
          where.set(key, sg);
          out.push(sg);
        }
      }
    });
    if (found === 0) {
      if (explicit)
        throw new InputError(
          'no rule groups in this file (expected groups:, a mimirtool namespace file or a PrometheusRule)',
          { file, line: 1 },
          'pass rule files only',
        );
      log.warn('skipping a file without rule groups', { file });
    }
  }
  if (!out.length) throw new UsageError('the --rules inputs hold no rule group');
  return out;
}
