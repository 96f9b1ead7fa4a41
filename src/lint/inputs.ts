// Why one file of about 470 lines: a path is classified by trying the readers (config, rule file, dashboard, flag
// file) in one fixed order; each reader is a short function here and the order lives in loadFile, so adding a kind
// means reading one file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import {
  findNodeAtLocation,
  parseTree,
  printParseErrorCode,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import { dashboardQueries, isDashboard } from './dashboards.js';
import { jsonStringEmbedding, yamlScalarEmbedding, type Embedding } from './embedded.js';
import {
  argsFileFlagSource,
  looksLikeManifest,
  systemdFlagSources,
  yamlFlagSources,
  type FlagSource,
} from './flags.js';
import { LineIndex } from './text.js';

/**
 * Reading and classifying lint inputs. A path may be a prometheus.yml (its rule_files are followed), a
 * rule file (plain, Mimir ruler namespace, PrometheusRule CRD), a Grafana dashboard, or a file with
 * Prometheus flags (systemd unit, args file, Kubernetes or docker-compose manifest). Directories are
 * walked. A file that does not parse becomes a problem with its location, never an exception.
 */
export type InputKind = 'config' | 'rules' | 'dashboard' | 'flags' | 'unknown';

export interface FileInput {
  file: string;
  text: string;
  lines: LineIndex;
  format: 'yaml' | 'json' | 'text';
  kinds: Set<InputKind>;
}

export interface ExprSite {
  file: FileInput;
  emb: Embedding;
  origin: 'rule' | 'dashboard';
  context: string;
  variable: boolean;
}

export interface ConfigInput {
  file: FileInput;
  doc: Document.Parsed;
  root: YAMLMap | undefined;
}
export interface FlagInput {
  file?: FileInput;
  url?: string;
  source: FlagSource;
}
export interface Problem {
  file: string;
  from: number;
  to: number;
  message: string;
  severity?: 'error' | 'warning' | 'info';
  missing?: boolean;
  unknownKind?: boolean;
}

export interface Loaded {
  files: Map<string, FileInput>;
  exprs: ExprSite[];
  configs: ConfigInput[];
  flags: FlagInput[];
  problems: Problem[];
}

const WALK_EXTENSIONS = new Set(['.yml', '.yaml', '.json', '.service', '.args', '.flags']);
const CONFIG_KEYS = [
  'scrape_configs',
  'global',
  'rule_files',
  'remote_write',
  'remote_read',
  'alerting',
  'scrape_config_files',
  'storage',
  'otlp',
  'tracing',
  'runtime',
];

export type ReadFile = (file: string) => string;
export const readUtf8: ReadFile = (f) => readFileSync(f, 'utf8');

/** Files under `path` that lint reads: walked for directories, as given for files. */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push(p); // reported as unreadable by the loader
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        walk(join(p, name), false);
      }
    } else if (explicit || (WALK_EXTENSIONS.has(extname(p).toLowerCase()) && !/\.stackshift-[0-9TZ-]+\.bak$/.test(p))) {
      out.push(p);
    }
  };
  for (const p of paths) walk(resolve(p), true);
  return out;
}

/** Go's filepath.Match for one path element: * and ? do not cross "/", [...] classes, \ escapes. */
function goGlobToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^\^/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+(){}|$^]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** rule_files entries resolved like Prometheus does: relative to the config file, glob in the last element(s). */
export function resolveRuleFiles(configFile: string, patterns: string[]): string[] {
  const out: string[] = [];
  for (const pat of patterns) {
    const full = isAbsolute(pat) ? pat : join(dirname(configFile), pat);
    if (!/[*?[]/.test(full)) {
      out.push(full);
      continue;
    }
    const parts = full.split('/');
    let dirs = [parts[0] === '' ? '/' : parts[0]];
    for (let i = 1; i < parts.length; i++) {
      const part = parts[i];
      const last = i === parts.length - 1;
      const next: string[] = [];
      for (const d of dirs) {
        if (!/[*?[]/.test(part)) {
          next.push(join(d, part));
          continue;
        }
        const re = goGlobToRegExp(part);
        let names: string[] = [];
        try {
          names = readdirSync(d).sort();
        } catch {
          /* no such directory: no match, as in Go */
        }
        for (const n of names) {
          if (!re.test(n)) continue;
          const p = join(d, n);
          try {
            if (last ? statSync(p).isFile() : statSync(p).isDirectory()) next.push(p);
          } catch {
            /* vanished */
          }
        }
      }
      dirs = next;
    }
    out.push(...dirs);
  }
  return out;
}

export function loadInputs(paths: string[], read: ReadFile = readUtf8): Loaded {
  const loaded: Loaded = { files: new Map(), exprs: [], configs: [], flags: [], problems: [] };
  const queue = expandPaths(paths);
  const ruleFiles = new Set<string>();
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    if (loaded.files.has(file)) continue;
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      loaded.problems.push({
        file,
        from: 0,
        to: 0,
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        missing: true,
      });
      continue;
    }
    for (const r of loadFile(loaded, file, text, ruleFiles.has(file) ? 'rules' : undefined)) {
      ruleFiles.add(r);
      if (!loaded.files.has(r)) queue.push(r);
    }
  }
  // a file lint cannot classify is said so: named on the command line it is an error (nothing in it was
  // checked, exit 1), found while walking a directory a warning
  const named = new Set(paths.map((p) => resolve(p)));
  for (const f of loaded.files.values()) {
    if (f.kinds.size !== 1 || !f.kinds.has('unknown') || loaded.problems.some((p) => p.file === f.file)) continue;
    const what =
      f.format === 'json'
        ? 'JSON that is not a Grafana dashboard'
        : f.format === 'yaml'
          ? 'YAML that is neither a prometheus.yml, a rule file (groups:), a PrometheusRule nor a manifest with Prometheus flags'
          : 'neither YAML nor JSON nor Prometheus flags (systemd unit, args file)';
    loaded.problems.push({
      file: f.file,
      from: 0,
      to: 0,
      message: `not checked: ${what}`,
      severity: named.has(f.file) ? 'error' : 'warning',
      unknownKind: true,
    });
  }
  return loaded;
}

/** Adds one file; returns rule files a prometheus.yml names. */
export function loadFile(loaded: Loaded, file: string, text: string, hint?: InputKind): string[] {
  const ext = extname(file).toLowerCase();
  const lines = new LineIndex(text);
  const trimmed = text.trimStart();
  const format: FileInput['format'] =
    ext === '.json' || (ext !== '.yml' && ext !== '.yaml' && trimmed.startsWith('{'))
      ? 'json'
      : ext === '.yml' || ext === '.yaml'
        ? 'yaml'
        : 'text';
  const input: FileInput = { file, text, lines, format, kinds: new Set() };
  loaded.files.set(file, input);
  if (format === 'json') {
    loadJson(loaded, input);
    return [];
  }
  if (format === 'text' && hint !== 'rules' && hint !== 'config') {
    // the kind comes from the content, not the name: `alerts.rules` holding `groups:` is a rule file
    const isUnit = ext === '.service' || /^\s*\[(Service|Unit)\]/m.test(text);
    if (!isUnit && isYamlMapping(text)) {
      input.format = 'yaml';
      return loadYaml(loaded, input, hint);
    }
    const sources = isUnit
      ? systemdFlagSources(text, lines)
      : looksLikeArgs(text)
        ? [argsFileFlagSource(text, lines)]
        : [];
    for (const s of sources) if (s.args.length) loaded.flags.push({ file: input, source: s });
    input.kinds.add(sources.some((s) => s.args.length) ? 'flags' : 'unknown');
    return [];
  }
  return loadYaml(loaded, input, hint);
}

/** A YAML stream that parses and holds at least one mapping (a rule file, a config, a manifest). */
function isYamlMapping(text: string): boolean {
  if (!/^\s*[A-Za-z_"'][^\n]*:(\s|$)/m.test(text)) return false;
  const docs = parseAllDocuments(text, { prettyErrors: false });
  return Array.isArray(docs) && docs.every((d) => d.errors.length === 0) && docs.some((d) => isMap(d.contents));
}

/** Prometheus arguments: words starting with a dash, or KEY=VALUE environment lines (an args/env file). */
function looksLikeArgs(text: string): boolean {
  return /(^|\s)--?[A-Za-z]/m.test(text) || /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*=/m.test(text);
}

/**
 * JSON.parse is an order of magnitude faster than building a positioned tree, and most queries have no
 * finding: the positioned tree (jsonc-parser) is built only when a finding or fix needs an offset
 * (bench/lint.bench.ts measures the difference).
 */
function loadJson(loaded: Loaded, input: FileInput): void {
  let root: unknown;
  try {
    root = JSON.parse(input.text);
  } catch {
    const errors: ParseError[] = [];
    parseTree(input.text, errors, { disallowComments: true, allowTrailingComma: false });
    const e = errors[0];
    loaded.problems.push({
      file: input.file,
      from: e?.offset ?? 0,
      to: (e?.offset ?? 0) + (e?.length ?? 0),
      message: `invalid JSON: ${e ? printParseErrorCode(e.error) : 'not JSON'}`,
    });
    return;
  }
  if (!isDashboard(root)) {
    input.kinds.add('unknown');
    return;
  }
  input.kinds.add('dashboard');
  let tree: JsonNode | undefined;
  for (const q of dashboardQueries(root)) {
    let emb: Embedding | undefined;
    const resolveEmb = (): Embedding => {
      if (emb) return emb;
      tree ??= parseTree(input.text, [], { disallowComments: true });
      const node = tree && findNodeAtLocation(tree, q.path);
      if (!node || node.type !== 'string')
        throw new Error(`dashboard query at ${q.path.join('.')} not found in ${input.file}`);
      return (emb = jsonStringEmbedding(input.text, node.offset, node.length, q.value));
    };
    loaded.exprs.push({
      file: input,
      emb: lazyEmbedding(q.value, resolveEmb),
      origin: 'dashboard',
      context: q.context,
      variable: q.variable,
    });
  }
}

/** An embedding whose file positions are computed on first use. */
function lazyEmbedding(value: string, resolve: () => Embedding): Embedding {
  return {
    value,
    get from() {
      return resolve().from;
    },
    get to() {
      return resolve().to;
    },
    offsetOf: (i) => resolve().offsetOf(i),
    translate: (edits) => resolve().translate(edits),
  };
}

function loadYaml(loaded: Loaded, input: FileInput, hint?: InputKind): string[] {
  const docs = parseAllDocuments(input.text, { prettyErrors: false, uniqueKeys: true }) as
    Document.Parsed[] | { errors: unknown[] };
  if (!Array.isArray(docs)) {
    loaded.problems.push({ file: input.file, from: 0, to: 0, message: 'not a YAML stream' });
    return [];
  }
  for (const d of docs) {
    if (d.errors.length) {
      const e = d.errors[0];
      loaded.problems.push({
        file: input.file,
        from: e.pos[0],
        to: e.pos[1],
        message: `invalid YAML: ${e.message.split('\n')[0]}`,
      });
      return [];
    }
  }
  const ruleFiles: string[] = [];
  const manifests = docs.filter((d) => looksLikeManifest(d.contents));
  if (manifests.length) {
    const sources = yamlFlagSources(input.text, input.lines, manifests);
    for (const s of sources) loaded.flags.push({ file: input, source: s });
    if (sources.length) input.kinds.add('flags');
  }
  docs.forEach((d, di) => {
    if (!isMap(d.contents)) return;
    const root = d.contents as YAMLMap<unknown, unknown>;
    const kind = root.get('kind') as unknown;
    if (kind === 'PrometheusRule') {
      collectRules(
        loaded,
        input,
        d,
        (root.get('spec', true) as YAMLMap | undefined)?.get?.('groups', true),
        `doc ${di + 1} spec.`,
      );
      return;
    }
    if (kind === 'List') {
      const items = root.get('items', true);
      if (isSeq(items))
        for (const it of items.items)
          if (isMap(it) && (it as YAMLMap<unknown, unknown>).get('kind') === 'PrometheusRule')
            collectRules(
              loaded,
              input,
              d,
              (it.get('spec', true) as YAMLMap | undefined)?.get?.('groups', true),
              'spec.',
            );
      return;
    }
    if (kind !== undefined && root.has('apiVersion')) return;
    if (hint !== 'config' && root.has('groups')) {
      collectRules(loaded, input, d, root.get('groups', true), '');
      return;
    }
    if (hint === 'config' || CONFIG_KEYS.some((k) => root.has(k))) {
      input.kinds.add('config');
      loaded.configs.push({ file: input, doc: d, root: root as YAMLMap });
      const rf = root.get('rule_files', true);
      if (isSeq(rf)) {
        for (const x of rf.items) {
          if (!isScalar(x) || typeof x.value !== 'string' || !x.range) continue;
          const found = resolveRuleFiles(input.file, [x.value]);
          // Prometheus globs every entry, so a missing file matches nothing and is skipped silently
          const missing = !/[*?[]/.test(x.value) && !existsSync(found[0]);
          if (missing)
            loaded.problems.push({
              file: input.file,
              from: x.range[0],
              to: x.range[1],
              message: `rule file ${x.value} does not exist (Prometheus skips it silently)`,
              severity: 'warning',
              missing: true,
            });
          else ruleFiles.push(...found);
        }
      }
    }
  });
  if (input.kinds.size === 0) input.kinds.add('unknown');
  return ruleFiles;
}

function collectRules(loaded: Loaded, input: FileInput, doc: Document.Parsed, groups: unknown, prefix: string): void {
  input.kinds.add('rules');
  if (!isSeq(groups)) return;
  const seen = new Set<number>();
  groups.items.forEach((g, gi) => {
    if (!isMap(g)) return;
    const gname = g.get('name');
    const rules = g.get('rules', true);
    if (!isSeq(rules)) return;
    rules.items.forEach((r, ri) => {
      if (!isMap(r)) return;
      let expr = r.get('expr', true) as YamlNode | undefined;
      if (isAlias(expr)) expr = expr.resolve(doc) as YamlNode | undefined;
      if (!isScalar(expr) || !expr.range || seen.has(expr.range[0])) return;
      seen.add(expr.range[0]);
      const name = r.get('alert') ?? r.get('record');
      const what = r.has('alert') ? 'alert' : 'record';
      loaded.exprs.push({
        file: input,
        emb: yamlScalarEmbedding(input.text, expr as Scalar),
        origin: 'rule',
        context:
          `${prefix}groups[${gi}] ${gname !== undefined ? JSON.stringify(String(gname)) : ''} rules[${ri}]${name !== undefined ? ` (${what} ${String(name)})` : ''}`.replace(
            /\s+/g,
            ' ',
          ),
        variable: false,
      });
    });
  });
}
