import { createHash } from 'node:crypto';
import { formatDuration, parseDuration } from '../promql/index.js';

/**
 * A rule group as the Mimir ruler stores it (Prometheus rulefmt plus Mimir's group keys), and its canonical
 * form: what two groups are compared by. Formatting, key order, quoting, block scalars, durations written
 * differently ("300s" and "5m"), an explicit zero ("for: 0s") and whitespace inside PromQL are not
 * differences; the order of rules is (a recording rule feeds the next one within the same evaluation).
 */
export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  query_offset?: string;
  evaluation_delay?: string;
  limit?: number;
  source_tenants?: string[];
  align_evaluation_time_on_interval?: boolean;
  labels?: Record<string, string>;
  rules: Rule[];
}

export const GROUP_KEYS = [
  'name',
  'interval',
  'query_offset',
  'evaluation_delay',
  'limit',
  'source_tenants',
  'align_evaluation_time_on_interval',
  'labels',
  'rules',
] as const;
export const RULE_KEYS = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'] as const;

function durationMs(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  return parseDuration(v) ?? NaN;
}

function sortedMap(m: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!m || Object.keys(m).length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

/**
 * PromQL with whitespace and comments dropped outside string literals, except one space between two word
 * characters (`sum by`, `a and b`, `x offset 5m`): the same expression however it is wrapped, indented or
 * spaced around brackets and operators.
 */
export function normaliseExpr(expr: string): string {
  let out = '';
  let pendingSpace = false;
  const word = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_:.]/.test(c);
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += c !== '`' && expr[j] === '\\' ? 2 : 1;
      pendingSpace = false;
      out += expr.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      pendingSpace = true;
      continue;
    }
    if (/\s/.test(c)) {
      pendingSpace = true;
      continue;
    }
    if (pendingSpace && word(out[out.length - 1]) && word(c)) out += ' ';
    pendingSpace = false;
    out += c;
  }
  return out;
}

/** The canonical form of a group as a plain object (stable key order). */
export function canonicalGroup(g: RuleGroup): Record<string, unknown> {
  return {
    name: g.name,
    interval: durationMs(g.interval),
    query_offset: durationMs(g.query_offset ?? g.evaluation_delay),
    limit: g.limit ?? 0,
    source_tenants: [...(g.source_tenants ?? [])].sort(),
    align_evaluation_time_on_interval: g.align_evaluation_time_on_interval ?? false,
    labels: sortedMap(g.labels) ?? {},
    rules: g.rules.map((r) => ({
      kind: r.alert !== undefined ? 'alert' : 'record',
      name: r.alert ?? r.record ?? '',
      expr: normaliseExpr(r.expr),
      for: durationMs(r.for),
      keep_firing_for: durationMs(r.keep_firing_for),
      labels: sortedMap(r.labels) ?? {},
      annotations: sortedMap(r.annotations) ?? {},
    })),
  };
}

export function canonicalJson(g: RuleGroup): string {
  return JSON.stringify(canonicalGroup(g));
}

/** Short hash of the canonical form: what the state remembers of a group stackshift wrote. */
export function groupHash(g: RuleGroup): string {
  return createHash('sha256').update(canonicalJson(g)).digest('hex').slice(0, 32);
}

export function sameGroup(a: RuleGroup, b: RuleGroup): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The group as the body of POST /config/v1/rules/{namespace}: only the keys that are set, in rulefmt order. */
export function groupDocument(g: RuleGroup): Record<string, unknown> {
  const out: Record<string, unknown> = { name: g.name };
  if (g.interval) out.interval = g.interval;
  if (g.query_offset) out.query_offset = g.query_offset;
  if (g.evaluation_delay) out.evaluation_delay = g.evaluation_delay;
  if (g.limit) out.limit = g.limit;
  if (g.source_tenants?.length) out.source_tenants = g.source_tenants;
  if (g.align_evaluation_time_on_interval) out.align_evaluation_time_on_interval = true;
  if (g.labels && Object.keys(g.labels).length) out.labels = sortedMap(g.labels);
  out.rules = g.rules.map((r) => {
    const o: Record<string, unknown> = {};
    if (r.record !== undefined) o.record = r.record;
    if (r.alert !== undefined) o.alert = r.alert;
    o.expr = r.expr;
    if (r.for) o.for = r.for;
    if (r.keep_firing_for) o.keep_firing_for = r.keep_firing_for;
    if (r.labels && Object.keys(r.labels).length) o.labels = sortedMap(r.labels);
    if (r.annotations && Object.keys(r.annotations).length) o.annotations = sortedMap(r.annotations);
    return o;
  });
  return out;
}

/** An expression on one line, as written. */
function shown(expr: string): string {
  return expr.replace(/\s+/g, ' ').trim();
}

/** Rule-level differences between two versions of a group, one line each (for the diff). */
export function describeChanges(from: RuleGroup, to: RuleGroup): string[] {
  const a = canonicalGroup(from);
  const b = canonicalGroup(to);
  const out: string[] = [];
  for (const k of [
    'interval',
    'query_offset',
    'limit',
    'source_tenants',
    'align_evaluation_time_on_interval',
    'labels',
  ] as const) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
      out.push(`group ${k}: ${JSON.stringify(a[k])} -> ${JSON.stringify(b[k])}`);
  }
  type R = {
    kind: string;
    name: string;
    expr: string;
    for: number;
    keep_firing_for: number;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  const ra = a.rules as R[];
  const rb = b.rules as R[];
  const n = Math.max(ra.length, rb.length);
  for (let i = 0; i < n; i++) {
    const x = ra[i];
    const y = rb[i];
    if (!x) {
      out.push(`+ rule ${i + 1} ${y!.kind} ${y!.name}: ${shown(to.rules[i]!.expr)}`);
      continue;
    }
    if (!y) {
      out.push(`- rule ${i + 1} ${x.kind} ${x.name}: ${shown(from.rules[i]!.expr)}`);
      continue;
    }
    const label = `rule ${i + 1} ${y.kind} ${y.name}`;
    if (x.kind !== y.kind || x.name !== y.name) out.push(`~ rule ${i + 1}: ${x.kind} ${x.name} -> ${y.kind} ${y.name}`);
    if (x.expr !== y.expr) out.push(`~ ${label} expr: ${shown(from.rules[i]!.expr)}  ->  ${shown(to.rules[i]!.expr)}`);
    if (x.for !== y.for) out.push(`~ ${label} for: ${formatDuration(x.for)} -> ${formatDuration(y.for)}`);
    if (x.keep_firing_for !== y.keep_firing_for)
      out.push(
        `~ ${label} keep_firing_for: ${formatDuration(x.keep_firing_for)} -> ${formatDuration(y.keep_firing_for)}`,
      );
    for (const k of ['labels', 'annotations'] as const) {
      const keys = [...new Set([...Object.keys(x[k]), ...Object.keys(y[k])])].sort();
      for (const key of keys) {
        if (x[k][key] === y[k][key]) continue;
        out.push(
          `~ ${label} ${k}.${key}: ${x[k][key] === undefined ? '(none)' : JSON.stringify(x[k][key])} -> ${y[k][key] === undefined ? '(none)' : JSON.stringify(y[k][key])}`,
        );
      }
    }
  }
  return out;
}
