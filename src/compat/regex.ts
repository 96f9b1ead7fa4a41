/**
 * Positions of "." in a Go RE2 pattern that match any character: not escaped, not inside a [...] class.
 * 3.x compiles label matchers, relabel regexes and label_replace with the (?s) flag, so exactly these
 * dots start matching "\n" (P@v3.0.0:model/labels/regexp.go, model/relabel/relabel.go).
 */
export function anyCharDots(re: string): number[] {
  const out: number[] = [];
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && re[i + 1] === ':') {
        const end = re.indexOf(':]', i + 2);
        if (end > 0) {
          i = end + 1;
          continue;
        }
      }
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (re[i + 1] === '^') i++;
      if (re[i + 1] === ']') i++; // a leading ] is literal
      continue;
    }
    if (c === '.') out.push(i);
  }
  return out;
}

/** Patterns whose dots are meant to match anything, newlines included: ".*", ".+", "(.*)" and the like. */
export function isMatchAll(re: string): boolean {
  return /^\(?\.[*+]\)?$/.test(re);
}

/** The pattern with each any-char dot replaced by [^\n], which keeps the 2.x meaning on 3.x. */
export function withoutNewlineDots(re: string): string {
  const dots = new Set(anyCharDots(re));
  let out = '';
  for (let i = 0; i < re.length; i++) out += dots.has(i) ? '[^\\n]' : re[i];
  return out;
}
