import type { SyntaxNode } from '@lezer/common';
import type { ParsedPromQL } from './parse.js';
import type { Range } from './analyse.js';
import { unquotePromQL } from './strings.js';

/**
 * The syntax constructs whose availability depends on the Prometheus version, found in the lezer tree.
 * The grammar (@prometheus-io/lezer-promql) follows Prometheus HEAD, so it accepts all of them; which
 * release knows which construct is a fact kept in src/compat (promql-syntax-facts.ts).
 */
export type SyntaxConstructId =
  | 'subquery'
  | 'at-modifier'
  | 'negative-offset'
  | 'quoted-name'
  | 'quoted-grouping-label'
  | 'utf8-name'
  | 'number-underscore'
  | 'duration-as-number'
  | 'number-as-duration'
  | 'duration-expr'
  | 'duration-step'
  | 'duration-range'
  | 'duration-min-max-of'
  | 'anchored'
  | 'smoothed'
  | 'fill-modifier';

export interface SyntaxConstructUse {
  id: SyntaxConstructId;
  at: Range;
  text: string;
}

const DURATION_LITERAL = /^(\d+(ms|s|m|h|d|w|y))+$/;
const PLAIN_NUMBER = /^([+-]?)(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?$|^0[xX][0-9a-fA-F_]+$/;
const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DURATION_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Mod', 'Pow']);
const DURATION_NODES = new Set(['DurationExpr', 'OffsetDurationExpr']);

const memoKey = {};

/** Every version-dependent construct in the expression, in source order. */
export function syntaxConstructs(p: ParsedPromQL): SyntaxConstructUse[] {
  const cached = p.views.get(memoKey) as SyntaxConstructUse[] | undefined;
  if (cached) return cached;
  const out: SyntaxConstructUse[] = [];
  const add = (id: SyntaxConstructId, n: { from: number; to: number }) =>
    out.push({ id, at: { from: n.from, to: n.to }, text: p.source.slice(n.from, n.to) });
  const cursor = p.tree.cursor();
  do {
    const n = cursor.node;
    switch (n.name) {
      case 'SubqueryExpr':
        add('subquery', bracketOf(p, n));
        break;
      case 'StepInvariantExpr':
        add('at-modifier', n.getChild('At') ?? n);
        break;
      case 'AnchoredExpr':
        add('anchored', n.getChild('Anchored') ?? n);
        break;
      case 'SmoothedExpr':
        add('smoothed', n.getChild('Smoothed') ?? n);
        break;
      case 'FillModifier':
        add('fill-modifier', n);
        break;
      case 'DurationStep':
        add('duration-step', n);
        break;
      case 'DurationRange':
        add('duration-range', n);
        break;
      case 'DurationMinOf':
      case 'DurationMaxOf':
        add('duration-min-max-of', n);
        break;
      case 'NumberDurationLiteral': {
        const t = p.parsed.slice(n.from, n.to);
        if (t.includes('_') && !isMasked(p, n)) add('number-underscore', n);
        if (DURATION_LITERAL.test(t)) add('duration-as-number', n);
        break;
      }
      case 'NumberDurationLiteralInDurationContext': {
        const t = p.parsed.slice(n.from, n.to);
        if (isMasked(p, n)) break;
        if (t.includes('_')) add('number-underscore', n);
        if (PLAIN_NUMBER.test(t)) add('number-as-duration', n);
        break;
      }
      case 'DurationExpr':
      case 'OffsetDurationExpr':
        if (!DURATION_NODES.has(n.parent?.name ?? '') && isDurationExpression(n))
          add(isNegativeOffset(n) ? 'negative-offset' : 'duration-expr', n);
        break;
      case 'QuotedLabelName': {
        const name = unquotePromQL(p.source.slice(n.from, n.to)) ?? '';
        const inGrouping = n.parent?.name === 'GroupingLabels';
        add(inGrouping ? 'quoted-grouping-label' : 'quoted-name', n);
        if (inGrouping && !LEGACY_LABEL.test(name)) add('utf8-name', n);
        break;
      }
    }
  } while (cursor.next());
  out.sort((a, b) => a.at.from - b.at.from);
  p.views.set(memoKey, out);
  return out;
}

/** The `[range:step]` part of a subquery, so a finding points at what makes it one. */
function bracketOf(p: ParsedPromQL, n: SyntaxNode): Range {
  const first = n.getChild('DurationExpr');
  if (!first) return n;
  const open = p.source.lastIndexOf('[', first.from);
  return { from: open >= n.from ? open : first.from, to: n.to };
}

function isMasked(p: ParsedPromQL, n: { from: number; to: number }): boolean {
  return p.masked.some((m) => m.from < n.to && n.from < m.to);
}

/** A duration written as more than one literal: arithmetic, parentheses, a sign, or a duration function. */
function isDurationExpression(n: SyntaxNode): boolean {
  let kids = 0;
  for (let c = n.firstChild; c; c = c.nextSibling) {
    if (c.name === 'LineComment') continue;
    kids++;
    if (DURATION_NODES.has(c.name) || DURATION_OPS.has(c.name) || c.name === 'UnaryOp' || c.name.startsWith('Duration'))
      return true;
  }
  return kids > 1;
}

/** `offset -5m`: a sign on one literal after `offset`, which 2.26+ parse without duration expressions. */
function isNegativeOffset(n: SyntaxNode): boolean {
  if (n.name !== 'OffsetDurationExpr') return false;
  const first = n.firstChild;
  const inner = first?.nextSibling;
  return (
    first?.name === 'UnaryOp' &&
    inner?.name === 'OffsetDurationExpr' &&
    !inner.nextSibling &&
    inner.firstChild?.name === 'NumberDurationLiteralInDurationContext' &&
    !inner.firstChild.nextSibling
  );
}
