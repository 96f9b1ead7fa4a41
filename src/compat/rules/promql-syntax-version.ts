import { syntaxConstructs, touchesTemplate } from '../../promql/index.js';
import { constructAvailability, syntaxConstructFact, SYNTAX_CONSTRUCTS } from '../promql-syntax-facts.js';
import { defineRule, type Severity } from '../rule.js';
import type { Version } from '../versions.js';

export default defineRule({
  id: 'promql-syntax-version',
  title: 'PromQL syntax unknown to the running or target version',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: `src/compat/promql-syntax-facts.ts: ${[...new Set(SYNTAX_CONSTRUCTS.map((f) => f.source.split(';')[0]))].slice(0, 4).join('; ')}; ...`,
  description:
    'The grammar stackshift parses with follows Prometheus HEAD; a construct that the running or the target release does not parse (or parses only behind an --enable-feature flag) makes its rule file fail to load there.',
  checkPromQL(ctx) {
    const seen = new Set<string>();
    for (const use of syntaxConstructs(ctx.expr)) {
      if (touchesTemplate(ctx.expr, use.at.from, use.at.to)) continue;
      const fact = syntaxConstructFact(use.id);
      const problems: string[] = [];
      let severity: Severity = 'warning';
      const judge = (v: Version, role: string) => {
        const a = constructAvailability(fact, v, ctx.run.features);
        if (a === 'yes') return;
        if (a === 'too-old') {
          severity = 'error';
          problems.push(`the ${role} ${v.raw} does not parse it (it exists from ${fact.since})`);
          return;
        }
        if (a === 'needs-flag') severity = 'error';
        problems.push(
          `the ${role} ${v.raw} parses it only with --enable-feature=${fact.flag}${a === 'flag-unknown' ? ' (no flag source says whether it is set)' : ', which is not set'}`,
        );
      };
      const both =
        ctx.to.raw !== ctx.from.raw &&
        constructAvailability(fact, ctx.from, ctx.run.features) === 'too-old' &&
        constructAvailability(fact, ctx.to, ctx.run.features) === 'too-old';
      if (both) {
        severity = 'error';
        problems.push(
          `neither the running ${ctx.from.raw} nor the target ${ctx.to.raw} parses it (it exists from ${fact.since})`,
        );
      } else {
        judge(ctx.from, 'running');
        if (ctx.to.raw !== ctx.from.raw) judge(ctx.to, 'target');
      }
      if (problems.length === 0) continue;
      const key = `${use.id}:${use.at.from}`;
      if (seen.has(key)) continue;
      seen.add(key);
      ctx.report({
        message: `${fact.what} "${use.text.length > 40 ? `${use.text.slice(0, 37)}...` : use.text}": ${problems.join('; ')}`,
        at: use.at,
        severity,
      });
    }
  },
});
