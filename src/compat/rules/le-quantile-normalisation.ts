import { labelMatchers, normaliseLabelFloat, parseGoFloat, quotePromQL, touchesTemplate } from '../../promql/index.js';
import { NORMALISATION_SOURCE, NORMALISED_LABELS } from '../migration-facts.js';
import { defineRule } from '../rule.js';

/** Regex escaping of the characters a float literal can contain. */
const escapeRegex = (s: string) => s.replace(/[.+]/g, (c) => `\\${c}`);
const unescapeRegex = (s: string) => s.replace(/\\([.+])/g, '$1');

/**
 * The alternatives of a regex that is only a "|"-list of float literals (with \. and \+ escaped or not);
 * undefined for any other regex, whose meaning this rule does not try to rewrite.
 */
function literalAlternatives(re: string): string[] | undefined {
  const alts = re.split('|');
  const plain = alts.map(unescapeRegex);
  if (alts.some((a, i) => !/^[0-9A-Za-z.+\-\\]+$/.test(a) || parseGoFloat(plain[i]) === undefined)) return undefined;
  return plain;
}

export default defineRule({
  id: 'le-quantile-normalisation',
  title: 'le/quantile label values are normalised at ingestion',
  severity: 'warning',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: NORMALISATION_SOURCE,
  description:
    '3.x stores le and quantile values in Go float format (le="1" becomes le="1.0", 1e6 becomes 1e+06). A selector on the old spelling stops matching new samples; a regex with both spellings matches old and new data on 2.55 and 3.x.',
  checkPromQL(ctx) {
    for (const m of labelMatchers(ctx.expr)) {
      if (!(NORMALISED_LABELS as readonly string[]).includes(m.name) || m.value === undefined) continue;
      if (m.value.includes('$') || touchesTemplate(ctx.expr, m.valueRange.from, m.valueRange.to)) continue;
      if (m.op === '=' || m.op === '!=') {
        if (parseGoFloat(m.value) === undefined) continue;
        const norm = normaliseLabelFloat(m.value);
        if (norm === m.value) continue;
        const regex = `${escapeRegex(m.value)}|${escapeRegex(norm)}`;
        const op = m.op === '=' ? '=~' : '!~';
        ctx.report({
          message: `${m.name}${m.op}${JSON.stringify(m.value)} stops matching in 3.x, which stores ${m.name}=${JSON.stringify(norm)}; match both spellings across the transition`,
          at: { from: m.nameRange.from, to: m.valueRange.to },
          fix: {
            description: `${m.name}${op}${quotePromQL(regex, m.quote)}`,
            edits: [
              { ...m.opRange, insert: op },
              { ...m.valueRange, insert: quotePromQL(regex, m.quote) },
            ],
          },
        });
        continue;
      }
      const alts = literalAlternatives(m.value);
      if (!alts) continue;
      const present = new Set(alts);
      const missing = alts.filter((a) => parseGoFloat(a) !== undefined && !present.has(normaliseLabelFloat(a)));
      if (missing.length === 0) continue;
      const raw = m.value.split('|');
      const out: string[] = [];
      raw.forEach((r, i) => {
        out.push(r);
        if (missing.includes(alts[i])) out.push(escapeRegex(normaliseLabelFloat(alts[i])));
      });
      const regex = out.join('|');
      ctx.report({
        message: `${m.name}${m.op}${JSON.stringify(m.value)} misses the 3.x spelling of ${missing.map((a) => `${a} (${normaliseLabelFloat(a)})`).join(', ')}`,
        at: { from: m.nameRange.from, to: m.valueRange.to },
        fix: {
          description: `${m.name}${m.op}${quotePromQL(regex, m.quote)}`,
          edits: [{ ...m.valueRange, insert: quotePromQL(regex, m.quote) }],
        },
      });
    }
  },
});
