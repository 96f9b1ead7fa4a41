// Why one file of about 560 lines: query files, compliance suites, rule files and dashboards all yield the one
// QueryCase shape and share the syntax check and the origin (file, line, panel) rules.
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { isAlias, LineCounter, parseAllDocuments, parseDocument, type Node } from 'yaml';
import { InputError } from '../../errors/index.js';

/**
 * Where the queries of a parity run come from: plain query files, Prometheus rule files and Grafana
 * dashboards. Dashboards are third-party files full of Grafana macros and non-Prometheus panels: what
 * cannot be run is listed with the reason, never a crash. Query and rule files are the user's own: a
 * syntax error there is an input error naming the file and line.
 */
export interface QueryOrigin {
  file: string;
  line?: number;
  /** Human pointer inside the file: 'panel "CPU" (A)', 'rule "HighLoad"'. */
  where?: string;
  kind: 'query-file' | 'rule-file' | 'dashboard';
}

export interface QueryCase {
  id: number;
  expr: string;
  /** The text before template variables were resolved, when it differs. */
  template?: string;
  origin: QueryOrigin;
  /** The compliance tester's should_fail: the query is expected to fail on both sides. */
  shouldFail?: boolean;
  /** The compliance tester's skip_comparison: both sides must answer, their results are not compared. */
  skipComparison?: boolean;
}

export interface Unsupported {
  origin: QueryOrigin;
  expr: string;
  reason: string;
}

export interface QuerySet {
  queries: QueryCase[];
  unsupported: Unsupported[];
  /** Panel targets not for Prometheus (Loki, InfluxDB, ...), by datasource type. */
  skipped: Record<string, number>;
  sources: Array<{ file: string; kind: QueryOrigin['kind']; queries: number; unsupported: number }>;
}

export interface ResolveOptions {
  stepMs: number;
  rangeMs: number;
  rateInterval: string;
  timeMs: number;
  /** Values given with --var, winning over the dashboard's own. */
  vars: Record<string, string>;
}

/** Offset of the first syntax error in a PromQL expression, or undefined when it parses. */
export function promqlSyntaxError(expr: string): number | undefined {
  if (expr.trim() === '') return 0;
  let at: number | undefined;
  parser.parse(expr).iterate({
    enter(n) {
      if (n.type.isError && at === undefined) at = n.from;
    },
  });
  return at;
}

function describeError(expr: string, at: number): string {
  const near = expr.slice(Math.max(0, at - 10), at + 10).replace(/\s+/g, ' ');
  return `PromQL syntax error at column ${at + 1} near "${near}"`;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file }, 'check the path');
  }
}

/**
 * One query per line; blank lines and lines starting with # are skipped. A YAML document with a
 * `test_cases:` list is read as a PromQL compliance tester suite instead (see loadComplianceSuite).
 */
export function loadQueryFile(file: string): QueryCase[] {
  const text = readText(file);
  if (/^test_cases\s*:/m.test(text)) return loadComplianceSuite(file, text);
  const out: QueryCase[] = [];
  text.split('\n').forEach((raw, i) => {
    const expr = raw.trim();
    if (expr === '' || expr.startsWith('#')) return;
    const err = promqlSyntaxError(expr);
    if (err !== undefined) {
      throw new InputError(
        describeError(expr, err),
        { file, line: i + 1, column: raw.indexOf(expr) + err + 1 },
        'fix the query, or comment the line out with #',
      );
    }
    out.push({ id: 0, expr, origin: { file, line: i + 1, kind: 'query-file' } });
  });
  return out;
}

/**
 * groups[].rules[].expr of a Prometheus rule file, each with its line. Values come from the resolved
 * document (anchors, aliases and `<<` merge keys expanded, as Prometheus reads it); lines from the node
 * that holds the text (the anchor's, for an alias).
 */
export function loadRuleFile(file: string): QueryCase[] {
  const text = readText(file);
  const lc = new LineCounter();
  const out: QueryCase[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lc, merge: true })) {
    const e = doc.errors[0];
    if (e) {
      const pos = lc.linePos(e.pos[0]);
      throw new InputError(
        `invalid YAML: ${e.message.split('\n')[0]}`,
        { file, line: pos.line, column: pos.col },
        'fix the YAML syntax',
      );
    }
    if (doc.contents === null) continue;
    const js = doc.toJS({ maxAliasCount: 1000 }) as {
      groups?: Array<{ rules?: Array<Record<string, unknown>> }>;
    } | null;
    if (!js || typeof js !== 'object' || !Array.isArray(js.groups)) {
      throw new InputError(
        'expected a rule file with a "groups" list',
        { file, line: lineOf(doc.contents as Node, lc), key: 'groups' },
        'see https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/',
      );
    }
    js.groups.forEach((g, gi) => {
      (g?.rules ?? []).forEach((r, ri) => {
        if (!r || typeof r !== 'object') return;
        const name = String(r.record ?? r.alert ?? `#${ri + 1}`);
        const key = `groups[${gi}].rules[${ri}].expr`;
        let node = doc.getIn(['groups', gi, 'rules', ri, 'expr'], true) as Node | undefined;
        if (isAlias(node)) node = node.resolve(doc) as Node | undefined;
        const line = node ? lineOf(node, lc) : lineOf(doc.getIn(['groups', gi, 'rules', ri], true) as Node, lc);
        const raw = r.expr;
        if (raw === undefined || raw === null || String(raw).trim() === '')
          throw new InputError(`rule "${name}" has no expr`, { file, line, key }, 'every rule needs an expr');
        const expr = String(raw).trim();
        const err = promqlSyntaxError(expr);
        if (err !== undefined)
          throw new InputError(
            `rule "${name}": ${describeError(expr, err)}`,
            { file, line, key },
            'fix the expression (promtool check rules shows the same error)',
          );
        out.push({ id: 0, expr, origin: { file, line, kind: 'rule-file', where: `rule "${name}"` } });
      });
    });
  }
  return out;
}

/**
 * Values of the compliance tester's `variant_args` (prometheus/compliance, promql/testcases/expand.go,
 * testVariantArgs): a test case is run once per combination, the first argument varying slowest.
 */
export const COMPLIANCE_VARIANT_ARGS: Readonly<Record<string, readonly string[]>> = {
  range: ['1s', '15s', '1m', '5m', '15m', '1h'],
  offset: ['1m', '5m', '10m'],
  simpleAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar'],
  simpleTimeAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'absent', 'last'],
  topBottomOp: ['topk', 'bottomk'],
  quantile: ['-0.5', '0.1', '0.5', '0.75', '0.95', '0.90', '0.99', '1', '1.5'],
  arithBinOp: ['+', '-', '*', '/', '%', '^'],
  compBinOp: ['==', '!=', '<', '>', '<=', '>='],
  binOp: ['+', '-', '*', '/', '%', '^', '==', '!=', '<', '>', '<=', '>='],
  simpleMathFunc: ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'round'],
  extrapolatedRateFunc: ['delta', 'rate', 'increase'],
  clampFunc: ['clamp_min', 'clamp_max'],
  instantRateFunc: ['idelta', 'irate'],
  dateFunc: ['day_of_month', 'day_of_week', 'days_in_month', 'hour', 'minute', 'month', 'year'],
  smoothingFactor: ['0.1', '0.5', '0.8'],
  trendFactor: ['0.1', '0.5', '0.8'],
};

function expandVariants(template: string, args: string[], bound: Record<string, string> = {}): string[] {
  if (args.length === 0) return [template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (m, n: string) => bound[n] ?? m)];
  const [first, ...rest] = args;
  return COMPLIANCE_VARIANT_ARGS[first].flatMap((v) =>
    expandVariants(
      template,
      rest.filter((a) => a !== first),
      { ...bound, [first]: v },
    ),
  );
}

/**
 * A PromQL compliance tester suite (`test_cases: [{query, variant_args, should_fail, skip_comparison}]`, as in
 * its promql-test-queries.yml): each case expanded over its variant arguments. A should_fail case is sent to
 * both sides even when it does not parse here, since failing is what it tests.
 */
export function loadComplianceSuite(file: string, text = readText(file)): QueryCase[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const e = doc.errors[0];
  if (e) {
    const pos = lc.linePos(e.pos[0]);
    throw new InputError(
      `invalid YAML: ${e.message.split('\n')[0]}`,
      { file, line: pos.line, column: pos.col },
      'fix the YAML syntax',
    );
  }
  const js = doc.toJS({ maxAliasCount: 1000 }) as { test_cases?: unknown } | null;
  if (!js || !Array.isArray(js.test_cases))
    throw new InputError(
      'expected a "test_cases" list',
      { file, key: 'test_cases' },
      'a compliance suite is test_cases: [{query: ..., should_fail: true}]',
    );
  const out: QueryCase[] = [];
  js.test_cases.forEach((tc: unknown, i: number) => {
    const key = `test_cases[${i}]`;
    const line = lineOf(doc.getIn(['test_cases', i], true) as Node | undefined, lc);
    const c = tc as {
      query?: unknown;
      variant_args?: unknown;
      should_fail?: unknown;
      skip_comparison?: unknown;
    } | null;
    if (!c || typeof c !== 'object' || typeof c.query !== 'string' || c.query.trim() === '') {
      throw new InputError(
        `${key} has no query`,
        { file, line, key: `${key}.query` },
        'every test case needs query: <PromQL>',
      );
    }
    const args = c.variant_args ?? [];
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string' || !(a in COMPLIANCE_VARIANT_ARGS))) {
      throw new InputError(
        `${key}.variant_args must list known variant arguments (got ${JSON.stringify(args)})`,
        { file, line, key: `${key}.variant_args` },
        `known: ${Object.keys(COMPLIANCE_VARIANT_ARGS).join(', ')}`,
      );
    }
    for (const [flag, v] of [
      ['should_fail', c.should_fail],
      ['skip_comparison', c.skip_comparison],
    ] as const) {
      if (v !== undefined && typeof v !== 'boolean')
        throw new InputError(`${key}.${flag} must be true or false (got ${JSON.stringify(v)})`, {
          file,
          line,
          key: `${key}.${flag}`,
        });
    }
    for (const expr of expandVariants(c.query.trim(), args as string[])) {
      const err = promqlSyntaxError(expr);
      if (err !== undefined && c.should_fail !== true) {
        throw new InputError(
          describeError(expr, err),
          { file, line, key: `${key}.query` },
          'fix the query, or mark the case should_fail: true',
        );
      }
      out.push({
        id: 0,
        expr,
        template: expr !== c.query.trim() ? c.query.trim() : undefined,
        origin: { file, line, kind: 'query-file' },
        shouldFail: c.should_fail === true || undefined,
        skipComparison: c.skip_comparison === true || undefined,
      });
    }
  });
  return out;
}

function lineOf(n: Node | undefined, lc: LineCounter): number | undefined {
  const r = n?.range;
  return r ? lc.linePos(r[0]).line : undefined;
}

// ---- Grafana dashboards ----

interface GVar {
  name: string;
  type?: string;
  query?: unknown;
  current?: { value?: unknown; text?: unknown };
  options?: Array<{ value?: unknown; selected?: boolean }>;
  includeAll?: boolean;
  allValue?: string | null;
  multi?: boolean;
}
interface GTarget {
  expr?: unknown;
  datasource?: unknown;
  refId?: string;
  hide?: boolean;
}
interface GPanel {
  title?: string;
  type?: string;
  datasource?: unknown;
  targets?: GTarget[];
  panels?: GPanel[];
  collapsed?: boolean;
}

/** Prometheus-style duration text for milliseconds: 90000 -> 1m30s. */
export function formatPromDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  let out = '';
  for (const [u, n] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${u}`;
      s %= n;
    }
  }
  return out || '0s';
}

function valuesOf(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = (Array.isArray(v) ? v : [v]).map(String).filter((x) => x !== '');
  return list.length ? list : undefined;
}

const isAll = (vals: string[]) => vals.some((x) => x === '$__all' || x === 'All');

/**
 * One sensible value per dashboard variable, as a dashboard would show on first load: --var wins; then the
 * saved current value; custom and interval variables fall back to their first option, query variables to
 * their "All" value or `.*` (whose values only a live Grafana knows), textbox and constant to their text.
 */
export function dashboardVariables(dash: { templating?: { list?: GVar[] } }, o: ResolveOptions): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of dash.templating?.list ?? []) {
    if (!v?.name) continue;
    let value: string | undefined;
    const cur = valuesOf(v.current?.value);
    const concrete = cur && !isAll(cur) ? cur : undefined;
    switch (v.type) {
      case 'custom':
      case 'interval': {
        const opts = (v.options ?? []).map((x) => String(x.value ?? '')).filter(Boolean);
        const fromQuery =
          typeof v.query === 'string'
            ? v.query
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean)
            : [];
        const first = concrete?.[0] ?? opts[0] ?? fromQuery[0];
        value = first;
        if (v.type === 'interval' && (!value || value === 'auto' || value.startsWith('$__auto')))
          value = formatPromDuration(o.stepMs);
        if (v.type === 'custom' && concrete && concrete.length > 1) value = `(${concrete.join('|')})`;
        break;
      }
      case 'constant':
        value = typeof v.query === 'string' ? v.query : concrete?.[0];
        break;
      case 'textbox':
        value = concrete?.[0] ?? (typeof v.query === 'string' ? v.query : '');
        break;
      case 'datasource':
        value = concrete?.[0] ?? 'prometheus';
        break;
      case 'query':
      default:
        if (concrete) value = concrete.length > 1 ? `(${concrete.join('|')})` : concrete[0];
        else value = v.includeAll && v.allValue ? v.allValue : '.*';
        break;
    }
    if (value !== undefined) out.set(v.name, value);
  }
  for (const [k, v] of Object.entries(o.vars)) out.set(k, v);
  return out;
}

/** Replaces $var, ${var}, ${var:format} and [[var]]; returns the names it could not resolve. */
export function resolveTemplate(
  expr: string,
  vars: Map<string, string>,
  o: ResolveOptions,
): { text: string; unresolved: string[] } {
  const rangeS = Math.round(o.rangeMs / 1000);
  const builtins: Record<string, string> = {
    __rate_interval: o.rateInterval,
    __interval: formatPromDuration(o.stepMs),
    __interval_ms: String(o.stepMs),
    __auto: formatPromDuration(o.stepMs),
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(o.rangeMs),
    __from: String(o.timeMs - o.rangeMs),
    __to: String(o.timeMs),
  };
  const unresolved: string[] = [];
  const lookup = (name: string, format?: string): string | undefined => {
    if (name in builtins) {
      if ((name === '__from' || name === '__to') && format?.includes('seconds'))
        return String(Math.floor(Number(builtins[name]) / 1000));
      return builtins[name];
    }
    const v = vars.get(name);
    if (v === undefined) return undefined;
    if (format === 'pipe' || format === 'regex') return v.replace(/^\((.*)\)$/, '$1');
    if (format === 'csv')
      return v
        .replace(/^\((.*)\)$/, '$1')
        .split('|')
        .join(',');
    return v;
  };
  const sub = (m: string, name: string, format?: string) => {
    const v = lookup(name, format);
    if (v === undefined) {
      if (!unresolved.includes(name)) unresolved.push(name);
      return m;
    }
    return v;
  };
  const text = expr
    .replace(/\$\{([A-Za-z_]\w*)(?::([^}]*))?\}/g, (m, n: string, f?: string) => sub(m, n, f))
    .replace(/\[\[([A-Za-z_]\w*)(?::([^\]]*))?\]\]/g, (m, n: string, f?: string) => sub(m, n, f))
    .replace(/\$([A-Za-z_]\w*)/g, (m, n: string) => sub(m, n));
  return { text, unresolved };
}

function datasourceType(ds: unknown): string | undefined {
  if (ds && typeof ds === 'object') {
    const t = (ds as { type?: unknown }).type;
    return typeof t === 'string' ? t : undefined;
  }
  return undefined;
}

/** Prometheus, a variable, the mixed pseudo-source, or unknown (assumed Prometheus and left to the parser). */
function isPromDatasource(type: string | undefined): boolean {
  return (
    type === undefined ||
    type === 'prometheus' ||
    type === 'datasource' ||
    type.startsWith('$') ||
    type === '-- Mixed --'
  );
}

function* walkPanels(panels: GPanel[] | undefined): Generator<GPanel> {
  for (const p of panels ?? []) {
    if (!p || typeof p !== 'object') continue;
    yield p;
    if (Array.isArray(p.panels)) yield* walkPanels(p.panels);
  }
}

export function loadDashboard(
  file: string,
  o: ResolveOptions,
): { queries: QueryCase[]; unsupported: Unsupported[]; skipped: Record<string, number> } {
  let dash: Record<string, unknown>;
  try {
    dash = JSON.parse(readText(file));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      `not valid JSON: ${(e as Error).message}`,
      { file },
      'export the dashboard from Grafana as JSON (Share > Export)',
    );
  }
  // a dashboard saved through the API wraps it as {dashboard: {...}}
  if (dash && typeof dash === 'object' && 'dashboard' in dash && typeof dash.dashboard === 'object')
    dash = dash.dashboard as Record<string, unknown>;
  if (!dash || typeof dash !== 'object' || (!Array.isArray(dash.panels) && !Array.isArray(dash.rows))) {
    throw new InputError(
      'not a Grafana dashboard: no "panels" or "rows"',
      { file, key: 'panels' },
      'pass a dashboard JSON file',
    );
  }
  const vars = dashboardVariables(dash as { templating?: { list?: GVar[] } }, o);
  const queries: QueryCase[] = [];
  const unsupported: Unsupported[] = [];
  const skipped: Record<string, number> = {};
  const panels: GPanel[] = [...walkPanels(dash.panels as GPanel[] | undefined)];
  for (const row of (dash.rows as Array<{ panels?: GPanel[] }> | undefined) ?? [])
    panels.push(...walkPanels(row.panels));
  const consider = (rawExpr: unknown, ds: unknown, where: string) => {
    const type = datasourceType(ds);
    if (!isPromDatasource(type)) {
      skipped[type!] = (skipped[type!] ?? 0) + 1;
      return;
    }
    if (typeof rawExpr !== 'string' || rawExpr.trim() === '') return;
    const origin: QueryOrigin = { file, kind: 'dashboard', where };
    const template = rawExpr.trim();
    const { text, unresolved } = resolveTemplate(template, vars, o);
    if (unresolved.length) {
      unsupported.push({
        origin,
        expr: template,
        reason: `template variable${unresolved.length > 1 ? 's' : ''} ${unresolved.map((u) => '$' + u).join(', ')} without a value (pass --var ${unresolved[0]}=...)`,
      });
      return;
    }
    const err = promqlSyntaxError(text);
    if (err !== undefined) {
      unsupported.push({ origin, expr: text, reason: describeError(text, err) });
      return;
    }
    queries.push({ id: 0, expr: text, template: text !== template ? template : undefined, origin });
  };
  for (const p of panels) {
    const title = p.title ? `"${p.title}"` : `(${p.type ?? 'panel'})`;
    for (const t of p.targets ?? [])
      consider(t?.expr, t?.datasource ?? p.datasource, `panel ${title}${t?.refId ? ` (${t.refId})` : ''}`);
  }
  const annotations =
    (
      dash.annotations as
        { list?: Array<{ name?: string; expr?: unknown; datasource?: unknown; builtIn?: number }> } | undefined
    )?.list ?? [];
  for (const a of annotations)
    if (a && a.expr !== undefined && !a.builtIn) consider(a.expr, a.datasource, `annotation "${a.name ?? ''}"`);
  return { queries, unsupported, skipped };
}

export function loadQuerySources(o: {
  queryFiles: string[];
  ruleFiles: string[];
  dashboardFiles: string[];
  resolve: ResolveOptions;
}): QuerySet {
  const set: QuerySet = { queries: [], unsupported: [], skipped: {}, sources: [] };
  const add = (file: string, kind: QueryOrigin['kind'], qs: QueryCase[], us: Unsupported[] = []) => {
    set.queries.push(...qs);
    set.unsupported.push(...us);
    set.sources.push({ file, kind, queries: qs.length, unsupported: us.length });
  };
  for (const f of o.queryFiles) add(f, 'query-file', loadQueryFile(f));
  for (const f of o.ruleFiles) add(f, 'rule-file', loadRuleFile(f));
  for (const f of o.dashboardFiles) {
    const d = loadDashboard(f, o.resolve);
    add(f, 'dashboard', d.queries, d.unsupported);
    for (const [k, v] of Object.entries(d.skipped)) set.skipped[k] = (set.skipped[k] ?? 0) + v;
  }
  set.queries.forEach((q, i) => {
    q.id = i + 1;
  });
  return set;
}
