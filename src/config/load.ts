import { existsSync, readFileSync } from 'node:fs';
import { resolve, dirname, isAbsolute } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ZodError, ZodType, output as zodOutput } from 'zod';
import { InputError, UsageError } from '../errors/index.js';
import { ConfigSchema, type StackshiftConfig } from './schema.js';

export interface LoadedConfig {
  config: StackshiftConfig;
  /** Absolute path of the file, or undefined when no file was used. */
  file?: string;
  /** Directory that relative *_file paths are resolved against. */
  baseDir: string;
}

export const DEFAULT_CONFIG_FILE = 'stackshift.yaml';

/** Alias expansions allowed in a config file (the yaml library's default is 100): enough for any real file. */
const MAX_ALIAS_COUNT = 100;

type Env = Record<string, string | undefined>;

/**
 * `${VAR}` and `${VAR:-default}` in any string value; `$$` is a literal `$`. An unset variable without a
 * default is an error that names the file, line and key, because a silently empty URL or token only fails
 * later and far from the cause.
 */
export function interpolate(text: string, env: Env, where: () => string): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}/g,
    (m, name: string | undefined, _d, def: string | undefined) => {
      if (m === '$$') return '$';
      const v = env[name!];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      throw new UsageError(
        `${where()}: environment variable ${name} is not set`,
        `export ${name}=... or write \${${name}:-default}`,
      );
    },
  );
}

function pathToString(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join('.');
}

/** Finds the deepest YAML node on `path` that exists, for pointing an error at a line. */
function nodeFor(doc: Document, path: ReadonlyArray<PropertyKey>): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      if (!pair) break;
      node = pair.value;
      found = (pair.value as Node) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (!node) break;
      found = node as Node;
    } else break;
  }
  return found;
}

export function parseConfigText(text: string, file: string, env: Env = process.env): StackshiftConfig {
  return parseYamlWithSchema(text, file, ConfigSchema, env).data;
}

/** A YAML document parsed with `${VAR}` expansion, and what is needed to point an error at its line. */
export interface ParsedYaml {
  raw: unknown;
  doc: Document;
  lineCounter: LineCounter;
}

/**
 * Parses YAML text the way stackshift.yaml is read: syntax errors with line and column, `${VAR}` and
 * `${VAR:-default}` expanded in string values (an unset variable names file, line and key), aliases bounded.
 */
export function parseYamlText(text: string, file: string, env: Env = process.env): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined): { line?: number; col?: number } =>
    offset === undefined ? {} : lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = at(e.pos?.[0]);
    throw new InputError(
      `invalid YAML: ${e.message.split('\n')[0]}`,
      { file, line: pos.line, column: pos.col },
      'fix the YAML syntax at that position',
    );
  }
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const keyPath = path
        .filter((p) => isMap(p) || isSeq(p) || (p as { key?: unknown }).key !== undefined)
        .map((p) => {
          const k = (p as { key?: unknown }).key;
          return isScalar(k) ? String(k.value) : undefined;
        })
        .filter((k): k is string => k !== undefined)
        .join('.');
      const pos = at(node.range?.[0]);
      node.value = interpolate(node.value, env, () => `${file}:${pos.line ?? '?'} (${keyPath || 'value'})`);
    },
  });
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    // the yaml library refuses documents whose aliases expand beyond maxAliasCount ("billion laughs")
    if (/alias/i.test((e as Error).message))
      throw new InputError(
        `invalid YAML: aliases expand too far (${(e as Error).message})`,
        { file },
        'a config file needs few anchors; write the values out instead of referencing an anchor many times',
      );
    throw e;
  }
  return { raw, doc, lineCounter };
}

/** parseYamlText, then a zod schema; a schema error names file, line and key (see zodToInputError). */
export function parseYamlWithSchema<S extends ZodType>(
  text: string,
  file: string,
  schema: S,
  env: Env = process.env,
): ParsedYaml & { data: zodOutput<S> } {
  const parsed = parseYamlText(text, file, env);
  const result = schema.safeParse(parsed.raw);
  if (!result.success) throw zodToInputError(result.error, parsed.doc, parsed.lineCounter, file);
  return { ...parsed, data: result.data as zodOutput<S> };
}

export function zodToInputError(
  err: ZodError,
  doc: Document | undefined,
  lineCounter: LineCounter | undefined,
  file: string,
  prefer?: (path: PropertyKey[]) => boolean,
): InputError {
  const issue = (prefer && err.issues.find((i) => prefer(i.path))) || err.issues[0];
  let path: PropertyKey[] = [...issue.path];
  // An unknown key is reported against the key itself, not its parent.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path = [...path, issue.keys[0]];
  const node = doc ? nodeFor(doc, path) : undefined;
  const pos = node?.range && lineCounter ? lineCounter.linePos(node.range[0]) : undefined;
  const key = pathToString(path) || '(top level)';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key "${String(issue.keys[0])}"`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = `missing required key`;
  return new InputError(
    `${key}: ${message}`,
    { file, line: pos?.line, column: pos?.col, key },
    'see the configuration reference in the README',
  );
}

/**
 * Loads stackshift.yaml from --config, $STACKSHIFT_CONFIG or ./stackshift.yaml (in that order). No file is
 * fine: every key can come from flags.
 */
export function loadConfig(explicit?: string, env: Env = process.env, cwd = process.cwd()): LoadedConfig {
  const candidate =
    explicit ??
    env.STACKSHIFT_CONFIG ??
    (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  if (!candidate) return { config: {}, baseDir: cwd };
  const file = isAbsolute(candidate) ? candidate : resolve(cwd, candidate);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read config file ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`,
      'pass an existing file with --config, or omit it and use flags',
    );
  }
  return { config: parseConfigText(text, file, env), file, baseDir: dirname(file) };
}

/**
 * `--set endpoints.mimir.tenant=t1`: any config key from the command line. Values are parsed as YAML
 * scalars so numbers and booleans keep their types.
 */
export function applySetOverrides(config: StackshiftConfig, sets: string[]): StackshiftConfig {
  if (sets.length === 0) return config;
  const raw = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  const setPaths: string[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`--set "${s}" is not key.path=value`, 'for example --set endpoints.mimir.tenant=team-a');
    const path = s.slice(0, eq).split('.');
    setPaths.push(path.join('.'));
    const valueText = s.slice(eq + 1);
    const value = parseDocument(valueText).toJS() ?? valueText;
    let obj = raw;
    for (const k of path.slice(0, -1)) {
      if (typeof obj[k] !== 'object' || obj[k] === null) obj[k] = {};
      obj = obj[k] as Record<string, unknown>;
    }
    obj[path[path.length - 1]] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    // report the problem with a value the user set (retries=abc), not a consequence of it (a new endpoint without url)
    const own = (p: PropertyKey[]) => setPaths.some((sp) => p.join('.') === sp || p.join('.').startsWith(`${sp}.`));
    const e = zodToInputError(parsed.error, undefined, undefined, '--set', own);
    const key = e.location?.key;
    const given = key ? sets.find((s) => s.slice(0, s.indexOf('=')) === key) : undefined;
    const what = key && e.message.startsWith(`${key}: `) ? e.message.slice(key.length + 2) : e.message;
    throw new InputError(given ? what : e.message, { file: given ? `--set ${given}` : '--set' }, e.hint);
  }
  return parsed.data;
}
