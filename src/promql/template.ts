/**
 * Grafana template syntax inside dashboard queries ($var, ${var:fmt}, [[var]], $__rate_interval) is not
 * PromQL, so the grammar cannot parse it. Each variable is replaced by a placeholder of exactly the same
 * length that the grammar accepts in that position: a duration inside [...] or after `offset`, an
 * identifier elsewhere. Offsets therefore stay those of the original text, and findings and fixes map
 * back to it one to one. Variables inside string literals are valid PromQL and are left alone.
 */
export interface MaskedRange {
  from: number;
  to: number;
  original: string;
  kind: 'template' | 'function';
}

const VARIABLE = /\$\{[^}\n]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_:.\- ]+\]\]/y;

export function maskTemplateVariables(text: string): { text: string; masked: MaskedRange[] } {
  if (!text.includes('$') && !text.includes('[[')) return { text, masked: [] };
  const masked: MaskedRange[] = [];
  let out = '';
  let copied = 0; // text[copied, i) is pending, unchanged
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      i = stringEnd(text, i);
      continue;
    }
    if (c === '#') {
      // a PromQL comment runs to the end of the line
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '$' || (c === '[' && text[i + 1] === '[')) {
      VARIABLE.lastIndex = i;
      const m = VARIABLE.exec(text);
      if (m) {
        const v = m[0];
        out += text.slice(copied, i);
        out += placeholder(v, inDurationContext(out));
        masked.push({ from: i, to: i + v.length, original: v, kind: 'template' });
        i += v.length;
        copied = i;
        continue;
      }
    }
    i++;
  }
  out += text.slice(copied);
  return { text: out, masked };
}

function stringEnd(text: string, start: number): number {
  const q = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\' && q !== '`') {
      i++;
      continue;
    }
    if (text[i] === q) return i + 1;
    if (text[i] === '\n' && q !== '`') return i;
  }
  return text.length;
}

/** Duration context: right after "[" or a subquery ":" inside brackets, or after the keyword `offset`. */
function inDurationContext(before: string): boolean {
  const t = before.trimEnd();
  if (t.endsWith('[')) return true;
  if (t.endsWith(':') && t.lastIndexOf('[') > t.lastIndexOf(']')) return true;
  return /(^|[^A-Za-z0-9_:])offset$/i.test(t);
}

function placeholder(v: string, duration: boolean): string {
  if (duration) return '1m' + ' '.repeat(v.length - 2);
  // identifier characters only; the first must not be a digit
  return v.replace(/[^A-Za-z0-9_]/g, '_');
}
