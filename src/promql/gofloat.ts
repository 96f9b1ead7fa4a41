/**
 * Go's float formatting and parsing, as Prometheus 3 uses them to normalise `le` and `quantile` label values
 * at ingestion (`normalizeFloatsInLabelValues` / `formatOpenMetricsFloat`, P@v3.0.0:model/textparse/).
 * JavaScript's Number#toString switches to exponent form at other thresholds (1e21, 1e-7), so a query
 * rewritten with it would match nothing.
 */

/** strconv.FormatFloat(f, 'g', -1, 64): shortest round-trip digits; %e when exponent < -4 or >= 6. */
export function formatFloatG(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const neg = f < 0;
  // toExponential() without an argument yields the shortest digits that round-trip, like Go's shortest mode.
  const [mant, expText] = Math.abs(f).toExponential().split('e');
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  let out: string;
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    out = `${frac}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${out}` : out;
}

/**
 * strconv.ParseFloat(s, 64) for the inputs a label value can hold: decimal and exponent forms, an optional
 * sign, underscores only between digits (Go accepts them only with a base prefix, so they are rejected
 * here), "Inf"/"+Inf"/"-Inf"/"Infinity" and "NaN" in any case, and hex floats. Returns undefined when Go
 * would return an error, i.e. when Prometheus leaves the value untouched.
 */
export function parseGoFloat(s: string): number | undefined {
  const t = s;
  if (t.length === 0) return undefined;
  const lower = t.toLowerCase();
  const unsigned = lower.startsWith('+') || lower.startsWith('-') ? lower.slice(1) : lower;
  const sign = lower.startsWith('-') ? -1 : 1;
  if (unsigned === 'inf' || unsigned === 'infinity') return sign * Infinity;
  if (unsigned === 'nan') return lower === unsigned ? NaN : undefined;
  if (/^0x/.test(unsigned)) {
    // Go requires a 'p' exponent for hex floats; a plain hex integer is an error for ParseFloat.
    const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/.exec(unsigned);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const mant = parseInt((m[1] || '0') + (m[2] ?? ''), 16) / Math.pow(16, (m[2] ?? '').length);
    return sign * mant * Math.pow(2, Number(m[3]));
  }
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(unsigned)) return undefined;
  return sign * Number(unsigned);
}

/**
 * The value Prometheus 3 stores for an `le`/`quantile` label: 1 -> "1.0", 0 -> "0.0", -1 -> "-1.0",
 * +Inf/-Inf/NaN spelled so, otherwise Go %g plus ".0" when the result has neither '.' nor 'e'.
 * Returns the input unchanged when it does not parse as a float (Prometheus keeps it as is).
 */
export function normaliseLabelFloat(value: string): string {
  const f = parseGoFloat(value);
  if (f === undefined) return value;
  if (Number.isNaN(f)) return 'NaN';
  if (f === 0) return '0.0'; // Go's f == 0 is also true for -0
  const g = formatFloatG(f);
  if (g.includes('.') || g.includes('e') || g.includes('Inf') || g.includes('NaN')) return g;
  return `${g}.0`;
}
