/** A replacement of [from, to) in some text; `insert` may be empty (a deletion) or from === to (an insertion). */
export interface TextEdit {
  from: number;
  to: number;
  insert: string;
}

/**
 * Applies edits that do not overlap, in one pass; overlapping ones are returned in `skipped` so a caller
 * can re-run its analysis on the result and try them again (ESLint's multi-pass fixing), instead of
 * guessing how two edits of the same characters compose.
 */
export function applyEdits(
  text: string,
  edits: readonly TextEdit[],
): { text: string; applied: TextEdit[]; skipped: TextEdit[] } {
  const sorted = [...edits].sort((a, b) => a.from - b.from || a.to - b.to);
  const applied: TextEdit[] = [];
  const skipped: TextEdit[] = [];
  let lastEnd = -1;
  for (const e of sorted) {
    if (e.from < lastEnd || (e.from === lastEnd && applied.length && applied[applied.length - 1].from === e.from)) {
      skipped.push(e);
      continue;
    }
    applied.push(e);
    lastEnd = e.to;
  }
  let out = '';
  let pos = 0;
  for (const e of applied) {
    out += text.slice(pos, e.from) + e.insert;
    pos = e.to;
  }
  out += text.slice(pos);
  return { text: out, applied, skipped };
}

/**
 * Whether two fixes touch the same characters. Touching counts: an insertion at the end of another
 * fix's deletion may belong inside what was deleted, so such fixes go to separate passes.
 */
export function editsOverlap(a: readonly TextEdit[], b: readonly TextEdit[]): boolean {
  return a.some((x) => b.some((y) => x.from <= y.to && y.from <= x.to));
}
