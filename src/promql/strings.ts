/**
 * PromQL string literals (Go quoting rules, as promql/parser/lex.go reads them): "..." and '...' with Go
 * escapes, `...` raw. Values are needed decoded (a regex's dots, an `le` value) and written back in the
 * quote style the author used.
 */
const SIMPLE: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** Decodes a literal including its quotes; undefined when it is not a complete, valid literal. */
export function unquotePromQL(literal: string): string | undefined {
  if (literal.length < 2) return undefined;
  const q = literal[0];
  if ((q !== '"' && q !== "'" && q !== '`') || literal[literal.length - 1] !== q) return undefined;
  const body = literal.slice(1, -1);
  if (q === '`') return body.includes('`') ? undefined : body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === q || c === '\n') return undefined;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (e in SIMPLE) {
      out += SIMPLE[e];
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen) {
      const h = body.slice(i + 1, i + 1 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== hexLen) return undefined;
      out += String.fromCodePoint(parseInt(h, 16));
      i += hexLen;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) return undefined;
      out += String.fromCharCode(parseInt(o, 8));
      i += 2;
      continue;
    }
    return undefined;
  }
  return out;
}

/** Quotes a value in the given style; a raw literal falls back to "..." when the value holds a backtick. */
export function quotePromQL(value: string, quote: '"' | "'" | '`' = '"'): string {
  if (quote === '`' && !value.includes('`')) return '`' + value + '`';
  const q = quote === '`' ? '"' : quote;
  let out = q;
  for (const c of value) {
    if (c === '\\') out += '\\\\';
    else if (c === q) out += '\\' + q;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return out + q;
}
