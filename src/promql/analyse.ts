import type { SyntaxNode } from '@lezer/common';
import { unquotePromQL } from './strings.js';
import type { ParsedPromQL } from './parse.js';

/**
 * Typed views over the lezer tree that lint rules need. Everything is located by node ranges in the
 * original text, so a rule's fix is an edit of exactly the characters it is about.
 */
export interface Range {
  from: number;
  to: number;
}

export interface LabelMatcherInfo {
  name: string;
  nameRange: Range;
  op: '=' | '!=' | '=~' | '!~';
  opRange: Range;
  /** Decoded value; undefined when the literal is not valid. */
  value: string | undefined;
  valueRange: Range;
  quote: '"' | "'" | '`';
  /** Metric name of the enclosing selector, when written as an identifier. */
  metric?: string;
  node: SyntaxNode;
}

export interface FunctionCallInfo {
  /** The name as written (holt_winters stays holt_winters even though it was masked for parsing). */
  name: string;
  nameRange: Range;
  args: SyntaxNode[];
  node: SyntaxNode;
  /** The parser only knew it through a placeholder. */
  masked: boolean;
}

export interface SubqueryInfo {
  node: SyntaxNode;
  inner: SyntaxNode;
  rangeText: string;
  rangeNode: SyntaxNode;
  stepText?: string;
  stepNode?: SyntaxNode;
  /** Function whose argument this subquery is, if any. */
  outerFunction?: string;
}

export interface MatrixSelectorInfo {
  node: SyntaxNode;
  rangeText: string;
  rangeNode: SyntaxNode;
  outerFunction?: string;
}

function children(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** Node types the views below read; one walk of the tree collects all of them, shared by every rule. */
const INDEXED = new Set([
  'UnquotedLabelMatcher',
  'QuotedLabelMatcher',
  'FunctionCall',
  'AggregateExpr',
  'SubqueryExpr',
  'MatrixSelector',
]);
const INDEX_KEY = {};

/**
 * Every rule asks for the same views of the same tree: compute each once per parsed expression and
 * keep it on the expression (not in a WeakMap: ephemeron tables made garbage collection the top cost
 * in bench/lint.bench.ts).
 */
function memo<T>(fn: (p: ParsedPromQL) => T): (p: ParsedPromQL) => T {
  const key = {};
  return (p) => {
    let v = p.views.get(key) as T | undefined;
    if (v === undefined) p.views.set(key, (v = fn(p)));
    return v;
  };
}

function eachNode(p: ParsedPromQL, names: ReadonlySet<string>, fn: (n: SyntaxNode) => void): void {
  let index = p.views.get(INDEX_KEY) as Map<string, SyntaxNode[]> | undefined;
  if (!index) {
    index = new Map();
    const cursor = p.tree.cursor();
    do {
      if (INDEXED.has(cursor.name)) {
        const list = index.get(cursor.name);
        if (list) list.push(cursor.node);
        else index.set(cursor.name, [cursor.node]);
      }
    } while (cursor.next());
    p.views.set(INDEX_KEY, index);
  }
  for (const name of names) for (const n of index.get(name) ?? []) fn(n);
}

const MATCHER = new Set(['UnquotedLabelMatcher', 'QuotedLabelMatcher']);
export const labelMatchers: (p: ParsedPromQL) => LabelMatcherInfo[] = memo((p) => {
  const out: LabelMatcherInfo[] = [];
  const nodes: SyntaxNode[] = [];
  eachNode(p, MATCHER, (n) => nodes.push(n));
  nodes.sort((a, b) => a.from - b.from);
  for (const n of nodes) {
    const kids = children(n);
    const nameNode = kids[0];
    const opNode = kids.find((k) => k.name === 'MatchOp');
    const valueNode = kids[kids.length - 1];
    if (!nameNode || !opNode || !valueNode || valueNode.name !== 'StringLiteral' || valueNode === nameNode) continue;
    const rawName = p.source.slice(nameNode.from, nameNode.to);
    const name = nameNode.name === 'QuotedLabelName' ? (unquotePromQL(rawName) ?? rawName) : rawName;
    const raw = p.source.slice(valueNode.from, valueNode.to);
    const selector = n.parent?.parent;
    const ident = selector?.name === 'VectorSelector' ? selector.getChild('Identifier') : null;
    out.push({
      name,
      nameRange: { from: nameNode.from, to: nameNode.to },
      op: p.source.slice(opNode.from, opNode.to) as LabelMatcherInfo['op'],
      opRange: { from: opNode.from, to: opNode.to },
      value: unquotePromQL(raw),
      valueRange: { from: valueNode.from, to: valueNode.to },
      quote: raw[0] as LabelMatcherInfo['quote'],
      metric: ident ? p.source.slice(ident.from, ident.to) : undefined,
      node: n,
    });
  }
  return out;
});

const CALL = new Set(['FunctionCall']);
export const functionCalls: (p: ParsedPromQL) => FunctionCallInfo[] = memo((p) => {
  const out: FunctionCallInfo[] = [];
  eachNode(p, CALL, (n) => {
    const id = n.getChild('FunctionIdentifier');
    const body = n.getChild('FunctionCallBody');
    if (!id) return;
    const mask = p.masked.find((m) => m.kind === 'function' && m.from === id.from);
    out.push({
      name: mask ? mask.original : p.parsed.slice(id.from, id.to),
      nameRange: { from: id.from, to: id.to },
      args: body
        ? children(body).filter((c) => !c.type.isError && c.name !== '(' && c.name !== ')' && c.name !== ',')
        : [],
      node: n,
      masked: Boolean(mask),
    });
  });
  return out;
});

const AGG = new Set(['AggregateExpr']);
export const aggregations: (p: ParsedPromQL) => Array<{ op: string; opRange: Range; node: SyntaxNode }> = memo((p) => {
  const out: Array<{ op: string; opRange: Range; node: SyntaxNode }> = [];
  eachNode(p, AGG, (n) => {
    const op = n.getChild('AggregateOp');
    if (op) out.push({ op: p.parsed.slice(op.from, op.to), opRange: { from: op.from, to: op.to }, node: n });
  });
  return out;
});

function outerFunction(p: ParsedPromQL, n: SyntaxNode): string | undefined {
  let cur = n.parent;
  while (cur && cur.name === 'ParenExpr') cur = cur.parent;
  if (cur?.name !== 'FunctionCallBody') return undefined;
  const call = cur.parent;
  const id = call?.getChild('FunctionIdentifier');
  if (!id) return undefined;
  const mask = p.masked.find((m) => m.kind === 'function' && m.from === id.from);
  return mask ? mask.original : p.parsed.slice(id.from, id.to);
}

const SUBQ = new Set(['SubqueryExpr']);
export const subqueries: (p: ParsedPromQL) => SubqueryInfo[] = memo((p) => {
  const out: SubqueryInfo[] = [];
  eachNode(p, SUBQ, (n) => {
    const kids = children(n);
    const durations = kids.filter((k) => k.name === 'DurationExpr');
    const inner = kids[0];
    if (!inner || durations.length === 0) return;
    out.push({
      node: n,
      inner,
      rangeNode: durations[0],
      rangeText: p.parsed.slice(durations[0].from, durations[0].to),
      stepNode: durations[1],
      stepText: durations[1] ? p.parsed.slice(durations[1].from, durations[1].to) : undefined,
      outerFunction: outerFunction(p, n),
    });
  });
  return out;
});

const MATRIX = new Set(['MatrixSelector']);
export const matrixSelectors: (p: ParsedPromQL) => MatrixSelectorInfo[] = memo((p) => {
  const out: MatrixSelectorInfo[] = [];
  eachNode(p, MATRIX, (n) => {
    const d = n.getChild('DurationExpr');
    if (d)
      out.push({ node: n, rangeNode: d, rangeText: p.parsed.slice(d.from, d.to), outerFunction: outerFunction(p, n) });
  });
  return out;
});

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
/** A PromQL/Prometheus duration literal ("1h30m", "90s") in milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(t)) return /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(m[1]) * UNITS[m[2]];
  return ms;
}

/** The shortest duration literal for a number of milliseconds ("2m", "1h30m"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  for (const [u, v] of [
    ['y', UNITS.y],
    ['w', UNITS.w],
    ['d', UNITS.d],
    ['h', UNITS.h],
    ['m', UNITS.m],
    ['s', UNITS.s],
    ['ms', 1],
  ] as const) {
    if (rest >= v) {
      out += `${Math.floor(rest / v)}${u}`;
      rest %= v;
    }
  }
  return out;
}
