import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode, Tree } from '@lezer/common';
import { maskTemplateVariables, type MaskedRange } from './template.js';

/**
 * A PromQL expression parsed with the official lezer grammar (@prometheus-io/lezer-promql, the one the
 * Prometheus UI uses). The grammar follows Prometheus HEAD, so functions that 3.x removed are unknown to
 * it; they, and Grafana's query-variable functions, are swapped for a real function name of the same
 * length before parsing so the rest of the expression gets a proper tree and every offset stays that of
 * the original text.
 */
export interface ParsedPromQL {
  /** The text as written. */
  source: string;
  /** What the grammar parsed: `source` with same-length placeholders. */
  parsed: string;
  tree: Tree;
  masked: MaskedRange[];
  /** Syntax errors the grammar reported, as ranges in `source`. */
  errors: Array<{ from: number; to: number }>;
  /** Views computed from the tree (analyse.ts), kept with it so rules share them. */
  views: Map<unknown, unknown>;
}

export interface ParseOptions {
  /** Mask Grafana template variables ($var, ${var}, [[var]]). */
  templates?: boolean;
  /** Extra function names to mask (e.g. Grafana's label_values). */
  maskFunctions?: readonly string[];
}

/** Functions Prometheus 2.x had and 3.x removed; each maps to a real function of the same length. */
export const REMOVED_FUNCTION_PLACEHOLDERS: Record<string, string> = { holt_winters: 'day_of_month' };
/** Grafana query-variable functions whose argument is PromQL. */
export const GRAFANA_FUNCTION_PLACEHOLDERS: Record<string, string> = {
  label_values: 'day_of_month',
  query_result: 'day_of_month',
};

export function parsePromQL(source: string, opts: ParseOptions = {}): ParsedPromQL {
  let parsed = source;
  let masked: MaskedRange[] = [];
  if (opts.templates) ({ text: parsed, masked } = maskTemplateVariables(source));
  // Grafana's query-variable functions wrap the whole query; masking them up front spares the grammar an
  // error recovery (they are Grafana syntax, matched as Grafana matches them)
  for (const f of opts.maskFunctions ?? []) {
    const m = new RegExp(`^(\\s*)(${f})(\\s*\\()`).exec(parsed);
    if (m && GRAFANA_FUNCTION_PLACEHOLDERS[f]) {
      const from = m[1].length;
      parsed = parsed.slice(0, from) + GRAFANA_FUNCTION_PLACEHOLDERS[f] + parsed.slice(from + f.length);
      masked = [...masked, { from, to: from + f.length, original: f, kind: 'function' as const }].sort(
        (a, b) => a.from - b.from,
      );
    }
  }
  let tree = parser.parse(parsed);
  let errors = errorRanges(tree);
  if (errors.length) {
    const names: Record<string, string> = { ...REMOVED_FUNCTION_PLACEHOLDERS };
    for (const f of opts.maskFunctions ?? [])
      if (GRAFANA_FUNCTION_PLACEHOLDERS[f]) names[f] = GRAFANA_FUNCTION_PLACEHOLDERS[f];
    const fnMasks = unknownFunctionCalls(tree, parsed, names);
    if (fnMasks.length) {
      let chars = parsed;
      for (const m of fnMasks) chars = chars.slice(0, m.from) + names[m.original] + chars.slice(m.to);
      parsed = chars;
      masked = [...masked, ...fnMasks].sort((a, b) => a.from - b.from);
      tree = parser.parse(parsed);
      errors = errorRanges(tree);
    }
  }
  return { source, parsed, tree, masked, errors, views: new Map() };
}

function errorRanges(tree: Tree): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) out.push({ from: cursor.from, to: cursor.to });
  } while (cursor.next());
  return out;
}

/** Identifier tokens named like a masked function and directly followed by "(". */
function unknownFunctionCalls(tree: Tree, text: string, names: Record<string, string>): MaskedRange[] {
  const out: MaskedRange[] = [];
  tree.iterate({
    enter(n) {
      if (n.name !== 'Identifier') return;
      const name = text.slice(n.from, n.to);
      if (!(name in names)) return;
      let i = n.to;
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] === '(') out.push({ from: n.from, to: n.to, original: name, kind: 'function' });
    },
  });
  return out;
}

/** Text of a node in the original source. */
export function nodeText(p: ParsedPromQL, n: { from: number; to: number }): string {
  return p.source.slice(n.from, n.to);
}

/** True when [from, to) overlaps a template placeholder: such text is not what the user wrote. */
export function touchesTemplate(p: ParsedPromQL, from: number, to: number): boolean {
  return p.masked.some((m) => m.kind === 'template' && m.from < to && from < m.to);
}

export type { SyntaxNode, Tree };
