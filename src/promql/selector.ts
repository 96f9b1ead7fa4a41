/**
 * `--match` selectors (`{job=~"api|db"}`, `up{job="x"}`, `{"utf8.name"="v"}`) parsed with the official
 * Prometheus grammar (@prometheus-io/lezer-promql) into remote-read matchers. Only plain vector selectors are
 * accepted: a range, offset, function or operator has no meaning for a copy and is refused with a clear error.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { UsageError } from '../errors/index.js';
import type { Matcher, MatchType } from '../wire/index.js';

const OPS: Record<string, MatchType> = { EqlSingle: 'EQ', Neq: 'NEQ', EqlRegex: 'RE', NeqRegex: 'NRE' };

const HINT = 'use a PromQL series selector such as up{job="api"} or {job=~"api|db"}';

export function parseSelector(text: string): Matcher[] {
  const src = text.trim();
  if (src === '') throw new UsageError('empty --match selector', HINT);
  const tree = parser.parse(src);
  let error: number | undefined;
  tree.iterate({
    enter(n) {
      if (n.type.isError && error === undefined) error = n.from;
    },
  });
  if (error !== undefined)
    throw new UsageError(`invalid selector ${JSON.stringify(text)}: syntax error at column ${error + 1}`, HINT);
  const top = tree.topNode.firstChild;
  if (!top || top.name !== 'VectorSelector' || top.nextSibling) {
    throw new UsageError(
      `invalid selector ${JSON.stringify(text)}: expected a plain series selector, got ${describe(top?.name)}`,
      HINT,
    );
  }
  const at = (n: SyntaxNode) => src.slice(n.from, n.to);
  const matchers: Matcher[] = [];
  for (let c = top.firstChild; c; c = c.nextSibling) {
    if (c.name === 'Identifier') matchers.push({ type: 'EQ', name: '__name__', value: at(c) });
    else if (c.name === 'LabelMatchers') {
      for (let m = c.firstChild; m; m = m.nextSibling) {
        if (m.name === 'UnquotedLabelMatcher' || m.name === 'QuotedLabelMatcher') {
          const nameNode = m.firstChild!;
          const name =
            nameNode.name === 'QuotedLabelName' ? unquote(at(nameNode.firstChild ?? nameNode)) : at(nameNode);
          const opNode = nameNode.nextSibling;
          const valueNode = opNode?.nextSibling;
          if (!opNode || !valueNode)
            throw new UsageError(`invalid selector ${JSON.stringify(text)}: incomplete matcher "${at(m)}"`, HINT);
          const type = OPS[opNode.firstChild?.name ?? ''];
          if (!type)
            throw new UsageError(`invalid selector ${JSON.stringify(text)}: unknown operator "${at(opNode)}"`, HINT);
          matchers.push({ type, name, value: unquote(at(valueNode)) });
        } else if (m.name === 'QuotedLabelName' || m.name === 'StringLiteral') {
          // {"metric.name"}: a quoted metric name (Prometheus 3 UTF-8 names)
          matchers.push({ type: 'EQ', name: '__name__', value: unquote(at(m.firstChild ?? m)) });
        }
      }
    }
  }
  for (const m of matchers) {
    if ((m.type === 'RE' || m.type === 'NRE') && !regexCompiles(m.value)) {
      throw new UsageError(
        `invalid selector ${JSON.stringify(text)}: ${m.name}${m.type === 'RE' ? '=~' : '!~'}${JSON.stringify(m.value)} is not a valid regular expression`,
        HINT,
      );
    }
  }
  if (matchers.length === 0 || matchers.every(matchesEmpty)) {
    throw new UsageError(
      `selector ${JSON.stringify(text)} matches every series: it needs at least one matcher that does not match the empty string`,
      'for everything use {__name__=~".+"}',
    );
  }
  return matchers;
}

function describe(name: string | undefined): string {
  if (!name) return 'nothing';
  return (
    {
      MatrixSelector: 'a range selector',
      OffsetExpr: 'an offset',
      FunctionCall: 'a function call',
      BinaryExpr: 'an expression',
      AggregateExpr: 'an aggregation',
      NumberDurationLiteral: 'a number',
      StringLiteral: 'a string',
      SubqueryExpr: 'a subquery',
      StepInvariantExpr: 'an @ modifier',
    }[name] ?? name
  );
}

// Go regexps are RE2; JS has no inline flags like (?i) but is otherwise close enough to judge "matches empty".
function jsRegex(re: string): RegExp | undefined {
  let src = re;
  let flags = 'u';
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    src = src.slice(m[0].length);
    if (m[1].includes('i')) flags += 'i';
    if (m[1].includes('s')) flags += 's';
  }
  try {
    return new RegExp(`^(?:${src})$`, flags);
  } catch {
    return undefined;
  }
}

function regexCompiles(re: string): boolean {
  if (jsRegex(re)) return true;
  // RE2 syntax JS lacks (\pL, \z, ...) is left for the server to judge
  return /\\[pPzQE]|\[\[:/.test(re);
}

/** Prometheus refuses selectors whose every matcher matches the empty label value (they would select everything). */
function matchesEmpty(m: Matcher): boolean {
  switch (m.type) {
    case 'EQ':
      return m.value === '';
    case 'NEQ':
      return m.value !== '';
    case 'RE':
      return jsRegex(m.value)?.test('') ?? false;
    case 'NRE':
      return !(jsRegex(m.value)?.test('') ?? true);
  }
}

/** PromQL string literal: "..." and '...' with Go escapes, `...` raw. */
export function unquote(lit: string): string {
  const q = lit[0];
  if (q === '`') return lit.slice(1, -1);
  if (q !== '"' && q !== "'") return lit;
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case 'u':
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case 'U':
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (e >= '0' && e <= '7') {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else out += e;
    }
  }
  return out;
}

/** Renders matchers back as a selector, e.g. for logs and the state file. */
export function formatMatchers(ms: Matcher[]): string {
  const op = { EQ: '=', NEQ: '!=', RE: '=~', NRE: '!~' } as const;
  return (
    '{' +
    ms
      .map(
        (m) =>
          `${/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name) ? m.name : JSON.stringify(m.name)}${op[m.type]}${JSON.stringify(m.value)}`,
      )
      .join(', ') +
    '}'
  );
}
