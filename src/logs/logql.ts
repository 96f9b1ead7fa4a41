/**
 * LogQL on the official grammar (@grafana/lezer-logql): `--selector` parsed into matchers, and every query
 * stackshift sends built from matchers and then parsed back, so a query that Loki would refuse never leaves
 * the process. No regular expression ever reads LogQL text.
 */
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';
import { StackshiftError, UsageError } from '../errors/index.js';

export type LogMatchOp = '=' | '!=' | '=~' | '!~';
export interface LogMatcher {
  name: string;
  op: LogMatchOp;
  value: string;
}

const HINT =
  'use a LogQL stream selector such as \'{job="api"}\' or \'{namespace=~"prod|staging"}\' (no line filters or parsers)';

function syntaxError(src: string): number | undefined {
  let at: number | undefined;
  parser.parse(src).iterate({
    enter(n) {
      if (n.type.isError && at === undefined) at = n.from;
    },
  });
  return at;
}

function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  return JSON.parse(s) as string;
}

/** A stream selector given by the user. Throws UsageError naming the flag and the column. */
export function parseStreamSelector(text: string, flag = '--selector'): LogMatcher[] {
  const src = text.trim();
  if (src === '') throw new UsageError(`${flag} is empty`, HINT);
  const err = syntaxError(src);
  if (err !== undefined)
    throw new UsageError(`${flag} ${JSON.stringify(text)}: LogQL syntax error at column ${err + 1}`, HINT);
  const expr = parser.parse(src).topNode.firstChild?.firstChild;
  if (expr?.name !== 'LogExpr' || expr.firstChild?.name !== 'Selector' || expr.firstChild.nextSibling) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a plain stream selector`, HINT);
  }
  const at = (n: SyntaxNode) => src.slice(n.from, n.to);
  const out: LogMatcher[] = [];
  const walk = (n: SyntaxNode) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.name === 'Matchers') walk(c);
      else if (c.name === 'Matcher') {
        const id = c.getChild('Identifier')!;
        out.push({ name: at(id), op: at(id.nextSibling!) as LogMatchOp, value: unquote(at(c.getChild('String')!)) });
      }
    }
  };
  walk(expr.firstChild);
  for (const m of out) {
    if (m.op === '=~' || m.op === '!~') {
      try {
        new RegExp(m.value);
      } catch {
        throw new UsageError(
          `${flag} ${JSON.stringify(text)}: ${m.name}${m.op}${JSON.stringify(m.value)} is not a valid regular expression`,
          HINT,
        );
      }
    }
  }
  if (!out.some((m) => !matchesValue(m, ''))) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} matches the empty value with every matcher; Loki refuses such queries`,
      'add a matcher such as job=~".+"',
    );
  }
  return out;
}

/** Renders matchers as a selector; values are JSON-quoted, which LogQL's Go-style strings accept. */
export function renderStreamSelector(ms: LogMatcher[]): string {
  return `{${ms.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(', ')}}`;
}

/** The selector of exactly one stream (also matching streams with more labels, which callers filter out). */
export function exactSelector(labels: Record<string, string>): string {
  return renderStreamSelector(
    Object.keys(labels)
      .sort()
      .map((name) => ({ name, op: '=' as const, value: labels[name]! })),
  );
}

/** Go duration text of whole seconds: 3600000 -> "1h", 90000 -> "1m30s". */
export function logqlDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  let out = '';
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return out || '0s';
}

/** `sum by (names) (count_over_time(selector[range]))`: lines per stream and window, checked by the grammar. */
export function countByStreamQuery(selector: LogMatcher[], byLabels: string[], rangeMs: number): string {
  const names = [...new Set(byLabels)].sort();
  for (const n of names)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      throw new StackshiftError('logql', `label name ${JSON.stringify(n)} cannot be grouped on in LogQL`);
  const inner = `count_over_time(${renderStreamSelector(selector)}[${logqlDuration(rangeMs)}])`;
  const q = names.length ? `sum by (${names.join(', ')}) (${inner})` : `sum(${inner})`;
  return checked(q);
}

/** A log query for one selector, checked by the grammar. */
export function logQuery(selector: LogMatcher[]): string {
  return checked(renderStreamSelector(selector));
}

function checked(q: string): string {
  const err = syntaxError(q);
  if (err !== undefined)
    throw new StackshiftError(
      'logql',
      `internal error: built LogQL ${JSON.stringify(q)} does not parse (column ${err + 1})`,
    );
  return q;
}

/** Escapes a value for use inside an RE2 alternation. */
export function regexEscape(v: string): string {
  return v.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

function matchesValue(m: LogMatcher, v: string): boolean {
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`, 's').test(v);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`, 's').test(v);
  }
}
