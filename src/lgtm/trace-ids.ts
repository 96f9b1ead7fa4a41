/**
 * Trace IDs in log lines: which spelling a fleet's logs use (logfmt `trace_id=...`, JSON `"traceId":"..."`),
 * turned into the one-capture-group regex Grafana's Loki derived field takes (matcherType regex, applied
 * in the browser with JavaScript RegExp semantics), and applied the same way here.
 */
export interface TraceIdFormat {
  /** The regex for derivedFields[].matcherRegex: exactly one capture group, the trace ID. */
  regex: string;
  key: string;
  style: 'logfmt' | 'json';
  /** Lengths of the IDs seen (16 and/or 32 hex digits). */
  lengths: number[];
  /** Lines of the sample the regex matches, of the lines scanned. */
  matched: number;
  scanned: number;
  example?: string;
}

const FIND = /(?:^|[^A-Za-z0-9_])("?)(trace[_-]?id)\1(=|\s*:\s*)("?)([0-9a-fA-F]{16,32})\4(?![0-9a-zA-Z])/i;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The most common trace-ID spelling in the lines; undefined when none of them holds one. */
export function detectTraceIdFormat(lines: string[]): TraceIdFormat | undefined {
  const counts = new Map<
    string,
    { key: string; style: 'logfmt' | 'json'; lengths: Set<number>; n: number; example: string }
  >();
  for (const line of lines) {
    const m = FIND.exec(line);
    if (!m) continue;
    const style = m[1] === '"' && m[3]!.trim() === ':' ? 'json' : m[3] === '=' ? 'logfmt' : undefined;
    if (!style) continue;
    const k = `${style}\u0000${m[2]}`;
    const c = counts.get(k) ?? { key: m[2]!, style, lengths: new Set<number>(), n: 0, example: line };
    c.n++;
    c.lengths.add(m[5]!.length);
    counts.set(k, c);
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n)[0];
  if (!best) return undefined;
  const lengths = [...best.lengths].sort((a, b) => a - b);
  const min = lengths[0]!;
  const max = lengths[lengths.length - 1]!;
  const hex = min === max ? `[0-9a-fA-F]{${min}}` : `[0-9a-fA-F]{${min},${max}}`;
  const regex =
    best.style === 'json' ? `"${escapeRe(best.key)}"\\s*:\\s*"(${hex})"` : `\\b${escapeRe(best.key)}=(${hex})\\b`;
  const re = new RegExp(regex);
  const matched = lines.filter((l) => re.test(l)).length;
  return { regex, key: best.key, style: best.style, lengths, matched, scanned: lines.length, example: best.example };
}

/** Compiles a derived-field regex, checking it has exactly one capture group as Grafana requires. */
export function compileDerivedFieldRegex(source: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (e) {
    throw new Error(`"${source}" is not a regular expression: ${(e as Error).message}`);
  }
  const groups = new RegExp(`${source}|`).exec('')!.length - 1;
  if (groups !== 1)
    throw new Error(
      `"${source}" has ${groups} capture groups; a Grafana derived field takes exactly one (the trace ID)`,
    );
  return re;
}

/** A trace ID as Tempo and Jaeger take it: 1-32 hex digits, not all zero. */
export function validTraceIdHex(s: string): boolean {
  return /^[0-9a-fA-F]{1,32}$/.test(s) && !/^0+$/.test(s);
}
