import type { SyntaxNode } from '@lezer/common';
import type { ParsedPromQL } from './parse.js';
import type { Range } from './analyse.js';

/**
 * PromQL's type rules, as promql/parser/parse.go checkAST applies them after parsing: the lezer grammar
 * only knows the syntax, so `rate(up)` (an instant vector where a range vector is needed) parses there
 * but Prometheus refuses it. Function signatures are passed in (they are version facts, src/compat).
 */
export type ValueType = 'vector' | 'matrix' | 'scalar' | 'string';

export interface Signature {
  args: ValueType[];
  variadic?: number;
  returns: ValueType;
}

export interface TypeErrorInfo {
  message: string;
  at: Range;
}

export interface TypeCheckOptions {
  /** Signature of a function by name; undefined for a name the caller does not know (no check). */
  signature(name: string): Signature | undefined;
  /** Type of an aggregator's parameter (topk: scalar, count_values: string), undefined when it takes none. */
  aggregatorParam(name: string): ValueType | undefined;
}

const NAMES: Record<ValueType, string> = {
  vector: 'instant vector',
  matrix: 'range vector',
  scalar: 'scalar',
  string: 'string',
};
const COMPARISON = new Set(['Eql', 'Neq', 'Gtr', 'Lss', 'Gte', 'Lte']);
const SET_OPS = new Set(['And', 'Or', 'Unless']);
const BIN_OPS = new Set([
  'Pow',
  'Mul',
  'Div',
  'Mod',
  'Add',
  'Sub',
  'Atan2',
  'TrimUpper',
  'TrimLower',
  ...COMPARISON,
  ...SET_OPS,
]);
const SKIP = new Set(['LineComment', '(', ')', ',']);

function kids(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) if (!SKIP.has(c.name) && !c.type.isError) out.push(c);
  return out;
}

/**
 * The type errors Prometheus would report, first one per subtree (as Go's checkAST stops descending into a
 * node whose type is already wrong). Expressions with syntax errors are left to the syntax rule.
 */
export function typeErrors(p: ParsedPromQL, opts: TypeCheckOptions): TypeErrorInfo[] {
  const errors: TypeErrorInfo[] = [];
  const fail = (at: Range, message: string) => {
    errors.push({ message, at: { from: at.from, to: at.to } });
  };
  const name = (n: SyntaxNode) => p.parsed.slice(n.from, n.to);

  const expect = (n: SyntaxNode, want: ValueType, context: string): void => {
    const got = typeOf(n);
    if (got !== undefined && got !== want) fail(n, `expected type ${NAMES[want]} in ${context}, got ${NAMES[got]}`);
  };

  function typeOf(n: SyntaxNode): ValueType | undefined {
    switch (n.name) {
      case 'NumberDurationLiteral':
        return 'scalar';
      case 'StringLiteral':
        return 'string';
      case 'VectorSelector':
        return 'vector';
      case 'ParenExpr': {
        const inner = kids(n)[0];
        return inner ? typeOf(inner) : undefined;
      }
      case 'MatrixSelector': {
        const inner = kids(n)[0];
        if (inner && inner.name !== 'VectorSelector') {
          fail(inner, `ranges are only allowed for vector selectors, not for ${describe(inner)}`);
          return undefined;
        }
        return 'matrix';
      }
      case 'SubqueryExpr': {
        const inner = kids(n)[0];
        if (!inner) return undefined;
        const t = typeOf(inner);
        if (t !== undefined && t !== 'vector') {
          fail(inner, `subquery is only allowed on an instant vector, got ${NAMES[t]}`);
          return undefined;
        }
        return 'matrix';
      }
      case 'OffsetExpr':
      case 'StepInvariantExpr':
      case 'AnchoredExpr':
      case 'SmoothedExpr': {
        const inner = kids(n)[0];
        if (!inner) return undefined;
        const modifier =
          n.name === 'OffsetExpr'
            ? 'offset'
            : n.name === 'StepInvariantExpr'
              ? '@'
              : n.name === 'AnchoredExpr'
                ? 'anchored'
                : 'smoothed';
        const base = modifierTarget(inner);
        const ok =
          base.name === 'VectorSelector' ||
          base.name === 'MatrixSelector' ||
          (base.name === 'SubqueryExpr' && (modifier === 'offset' || modifier === '@'));
        if (!ok) {
          fail(
            inner,
            `the ${modifier} modifier must follow a vector selector, a range vector selector${modifier === 'offset' || modifier === '@' ? ' or a subquery' : ''}, not ${describe(base)}`,
          );
          return undefined;
        }
        if (modifier === 'anchored' && base.name !== 'MatrixSelector') {
          fail(inner, 'anchored applies to range vector selectors only');
          return undefined;
        }
        return typeOf(inner);
      }
      case 'UnaryExpr': {
        const inner = kids(n).find((k) => k.name !== 'UnaryOp');
        if (!inner) return undefined;
        const t = typeOf(inner);
        if (t === 'matrix' || t === 'string') {
          fail(inner, `unary expression only allowed on expressions of type scalar or instant vector, got ${NAMES[t]}`);
          return undefined;
        }
        return t;
      }
      case 'FunctionCall':
        return functionCall(n);
      case 'AggregateExpr':
        return aggregate(n);
      case 'BinaryExpr':
        return binary(n);
      default:
        return undefined;
    }
  }

  function functionCall(n: SyntaxNode): ValueType | undefined {
    const id = n.getChild('FunctionIdentifier');
    const body = n.getChild('FunctionCallBody');
    if (!id) return undefined;
    const mask = p.masked.find((m) => m.kind === 'function' && m.from === id.from);
    const fname = mask ? mask.original : name(id);
    const sig = opts.signature(fname);
    const args = body ? kids(body) : [];
    if (!sig) {
      args.forEach(typeOf);
      return undefined;
    }
    const fixed = sig.args.length;
    const v = sig.variadic ?? 0;
    const min = v === 0 ? fixed : fixed - 1;
    const max = v === 0 ? fixed : v < 0 ? Infinity : fixed - 1 + v;
    if (args.length < min || args.length > max) {
      fail(
        n,
        `expected ${min === max ? min : args.length < min ? `at least ${min}` : `at most ${max}`} argument(s) in call to function "${fname}", got ${args.length}`,
      );
      return sig.returns;
    }
    args.forEach((a, i) => expect(a, sig.args[Math.min(i, fixed - 1)], `call to function "${fname}"`));
    return sig.returns;
  }

  function aggregate(n: SyntaxNode): ValueType | undefined {
    const op = n.getChild('AggregateOp');
    const body = n.getChild('FunctionCallBody');
    if (!op || !body) return 'vector';
    const opName = name(op);
    const args = kids(body);
    const param = opts.aggregatorParam(opName);
    const want = param ? 2 : 1;
    if (args.length !== want) {
      fail(n, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
      return 'vector';
    }
    if (param) expect(args[0], param, 'aggregation parameter');
    expect(args[args.length - 1], 'vector', 'aggregation expression');
    return 'vector';
  }

  function binary(n: SyntaxNode): ValueType | undefined {
    const parts = kids(n);
    const opNode = parts.find((k) => BIN_OPS.has(k.name));
    const lhs = parts[0];
    const rhs = parts[parts.length - 1];
    if (!opNode || !lhs || !rhs || lhs === rhs) return undefined;
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    const op = opNode.name;
    const bool = parts.some((k) => k.name === 'BoolModifier');
    const matching = parts.some((k) => k.name === 'MatchingModifierClause' || k.name === 'FillModifier');
    for (const [side, t] of [
      [lhs, lt],
      [rhs, rt],
    ] as const) {
      if (t === 'matrix' || t === 'string') {
        fail(side, `binary expression must contain only scalar and instant vector types, got ${NAMES[t]}`);
        return undefined;
      }
    }
    if (lt === undefined || rt === undefined) return lt === 'vector' || rt === 'vector' ? 'vector' : undefined;
    if (bool && !COMPARISON.has(op)) fail(n, 'bool modifier can only be used on comparison operators');
    if (COMPARISON.has(op) && !bool && lt === 'scalar' && rt === 'scalar')
      fail(n, 'comparisons between scalars must use BOOL modifier');
    if (SET_OPS.has(op) && (lt === 'scalar' || rt === 'scalar'))
      fail(n, `set operator "${p.parsed.slice(opNode.from, opNode.to)}" not allowed in binary scalar expression`);
    if (matching && (lt === 'scalar' || rt === 'scalar'))
      fail(n, 'vector matching only allowed between instant vectors');
    return lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
  }

  const top = kids(p.tree.topNode)[0];
  if (top) typeOf(top);
  return errors;
}

/**
 * The node a modifier applies to. The lezer grammar gives `offset` and `@` a lower precedence than Go's
 * yacc grammar does: `a - b offset 5m` comes out as (a - b) offset 5m, where Prometheus reads
 * a - (b offset 5m). So the target is the rightmost operand of a binary or unary expression, then
 * through any other modifiers.
 */
function modifierTarget(n: SyntaxNode): SyntaxNode {
  let cur = n;
  for (;;) {
    const parts = kids(cur);
    if (cur.name === 'BinaryExpr' || cur.name === 'UnaryExpr') {
      const last = parts[parts.length - 1];
      if (!last || last === cur) break;
      cur = last;
    } else if (['OffsetExpr', 'StepInvariantExpr', 'AnchoredExpr', 'SmoothedExpr'].includes(cur.name) && parts[0]) {
      cur = parts[0];
    } else break;
  }
  return cur;
}

function describe(n: SyntaxNode): string {
  return (
    (
      {
        ParenExpr: 'a parenthesised expression',
        FunctionCall: 'a function call',
        AggregateExpr: 'an aggregation',
        BinaryExpr: 'a binary expression',
        NumberDurationLiteral: 'a number',
        StringLiteral: 'a string',
        SubqueryExpr: 'a subquery',
        MatrixSelector: 'a range vector selector',
        VectorSelector: 'a vector selector',
        UnaryExpr: 'a unary expression',
      } as Record<string, string>
    )[n.name] ?? n.name
  );
}
