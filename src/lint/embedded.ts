import { Scalar } from 'yaml';
import { applyEdits, type TextEdit } from '../promql/index.js';

/**
 * A string value embedded in a file (a YAML scalar, a JSON string) with the map from each character of
 * the decoded value to its offset in the file. PromQL findings point at exact file positions through it,
 * and PromQL fixes (edits on the decoded value) become edits of just the characters they change, encoded
 * the way the surrounding quoting needs. When a style cannot be mapped character by character (folded
 * scalars, quoted scalars spanning lines) the whole value is re-rendered instead.
 */
export interface Embedding {
  value: string;
  /** File range of the whole node, quotes and block header included. */
  from: number;
  to: number;
  /** File offset of decoded index i; the node start when the style is not mappable. */
  offsetOf(i: number): number;
  /** File edits for edits on the decoded value. */
  translate(edits: readonly TextEdit[]): TextEdit[];
}

class MappedEmbedding implements Embedding {
  private pos: Int32Array | null | undefined;
  constructor(
    readonly value: string,
    readonly from: number,
    readonly to: number,
    private readonly build: () => Int32Array | null,
    private readonly encode: (s: string) => string | undefined,
    private readonly whole: (s: string) => string,
  ) {}
  private positions(): Int32Array | null {
    if (this.pos === undefined) this.pos = this.build();
    return this.pos;
  }
  offsetOf(i: number): number {
    const p = this.positions();
    return p ? p[Math.max(0, Math.min(i, p.length - 1))] : this.from;
  }
  translate(edits: readonly TextEdit[]): TextEdit[] {
    const p = this.positions();
    if (p) {
      const out: TextEdit[] = [];
      for (const e of edits) {
        const insert = this.encode(e.insert);
        if (insert === undefined) {
          out.length = 0;
          break;
        }
        out.push({ from: p[e.from], to: p[e.to], insert });
      }
      if (out.length === edits.length) return out;
    }
    return [{ from: this.from, to: this.to, insert: this.whole(applyEdits(this.value, edits).text) }];
  }
}

/** A JSON string token (with its quotes) at `from` in `text`. */
export function jsonStringEmbedding(text: string, from: number, length: number, value: string): Embedding {
  const to = from + length;
  return new MappedEmbedding(
    value,
    from,
    to,
    () => {
      const pos = new Int32Array(value.length + 1);
      let k = 0;
      for (let i = from + 1; i < to - 1 && k < value.length;) {
        pos[k++] = i;
        if (text[i] === '\\') i += text[i + 1] === 'u' ? 6 : 2;
        else {
          // a character outside the BMP is two UTF-16 units in both the text and the value
          i++;
        }
      }
      pos[value.length] = to - 1;
      return k === value.length ? pos : null;
    },
    (s) => JSON.stringify(s).slice(1, -1),
    (s) => JSON.stringify(s),
  );
}

const YAML_ESCAPE_LEN: Record<string, number> = { x: 4, u: 6, U: 10 };

/** A YAML scalar node parsed from `text` (node.range set). */
export function yamlScalarEmbedding(text: string, node: Scalar): Embedding {
  const [from, valueEnd] = node.range!;
  const src = text.slice(from, valueEnd);
  // non-string plain scalars (expr: 1, a numeric flag value) are taken as written
  const value =
    typeof node.value === 'string' ? node.value : node.type === Scalar.PLAIN ? src : String(node.value ?? '');
  const whole = (s: string) => {
    const q = JSON.stringify(s);
    // a block scalar's range ends after its last line break; keep the line structure around it
    return node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED
      ? src.endsWith('\n')
        ? `${q}\n`
        : q
      : q;
  };
  switch (node.type) {
    case Scalar.PLAIN:
      return new MappedEmbedding(
        value,
        from,
        valueEnd,
        () => (src === value ? identity(from, value.length) : null),
        (s) => (/[\n#]|: /.test(s) ? undefined : s),
        whole,
      );
    case Scalar.QUOTE_SINGLE:
      return new MappedEmbedding(
        value,
        from,
        valueEnd,
        () => {
          if (src.includes('\n')) return null;
          const pos = new Int32Array(value.length + 1);
          let k = 0;
          for (let i = 1; i < src.length - 1 && k < value.length; i++) {
            pos[k++] = from + i;
            if (src[i] === "'" && src[i + 1] === "'") i++;
          }
          pos[value.length] = valueEnd - 1;
          return k === value.length ? pos : null;
        },
        (s) => (s.includes('\n') ? undefined : s.replace(/'/g, "''")),
        whole,
      );
    case Scalar.QUOTE_DOUBLE:
      return new MappedEmbedding(
        value,
        from,
        valueEnd,
        () => {
          if (src.includes('\n')) return null;
          const pos = new Int32Array(value.length + 1);
          let k = 0;
          for (let i = 1; i < src.length - 1 && k < value.length;) {
            const start = from + i;
            let len = 1;
            let units = 1;
            if (src[i] === '\\') {
              len = YAML_ESCAPE_LEN[src[i + 1]] ?? 2;
              if (src[i + 1] === 'U') units = parseInt(src.slice(i + 2, i + 10), 16) > 0xffff ? 2 : 1;
            } else if (src.codePointAt(i)! > 0xffff) {
              len = 2;
              units = 2;
            }
            for (let u = 0; u < units; u++) pos[k++] = start;
            i += len;
          }
          pos[value.length] = valueEnd - 1;
          return k === value.length ? pos : null;
        },
        (s) => JSON.stringify(s).slice(1, -1),
        whole,
      );
    case Scalar.BLOCK_LITERAL:
      return new MappedEmbedding(
        value,
        from,
        valueEnd,
        () => blockLiteralPositions(text, from, valueEnd, value),
        (s) => (s.includes('\n') ? undefined : s),
        whole,
      );
    default:
      return new MappedEmbedding(
        value,
        from,
        valueEnd,
        () => null,
        () => undefined,
        whole,
      );
  }
}

function identity(from: number, n: number): Int32Array {
  const pos = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) pos[i] = from + i;
  return pos;
}

/** Content lines of a `|` scalar: the indentation of the first non-empty line is stripped from each. */
function blockLiteralPositions(text: string, from: number, end: number, value: string): Int32Array | null {
  const headerEnd = text.indexOf('\n', from);
  if (headerEnd < 0 || headerEnd >= end) return null;
  let indent = -1;
  const pos: number[] = [];
  let decoded = '';
  for (let ls = headerEnd + 1; ls < end;) {
    let le = text.indexOf('\n', ls);
    if (le < 0 || le > end) le = end;
    const line = text.slice(ls, le);
    if (indent < 0 && line.trim() !== '') indent = line.length - line.trimStart().length;
    const skip = indent < 0 ? line.length : Math.min(indent, line.length);
    for (let i = skip; i < line.length; i++) {
      pos.push(ls + i);
      decoded += line[i];
    }
    if (le < end || text[le] === '\n') {
      pos.push(le);
      decoded += '\n';
    }
    ls = le + 1;
  }
  // chomping may have dropped or kept trailing line breaks; the content before them must agree exactly
  const core = value.replace(/\n+$/, '');
  if (!decoded.startsWith(core)) return null;
  const out = new Int32Array(value.length + 1);
  for (let i = 0; i < value.length; i++) out[i] = pos[i] ?? end;
  out[value.length] = pos[value.length] ?? pos[core.length] ?? end;
  return out;
}
