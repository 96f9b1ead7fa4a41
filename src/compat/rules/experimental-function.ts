import { aggregations, functionCalls } from '../../promql/index.js';
import { EXPERIMENTAL_FUNCTIONS_FLAG, FUNCTIONS } from '../migration-facts.js';
import { inRange } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'experimental-function',
  title: 'experimental PromQL function needs promql-experimental-functions',
  severity: 'warning',
  phase: 'advisory',
  versions: { to: '>=2.55.0' },
  source:
    'P@v2.55.1 and P@v3.0.0:promql/parser/functions.go (Experimental: true); P@v3.0.0:promql/parser/parse.go (limitk, limit_ratio)',
  description:
    'Some functions and aggregators are gated by --enable-feature=promql-experimental-functions; without it the expression fails to parse on that version.',
  checkPromQL(ctx) {
    if (ctx.run.features?.has(EXPERIMENTAL_FUNCTIONS_FLAG)) return;
    const used = [
      ...functionCalls(ctx.expr).map((f) => ({ name: f.name, at: f.nameRange })),
      ...aggregations(ctx.expr).map((a) => ({ name: a.op, at: a.opRange })),
    ];
    for (const u of used) {
      const fact = FUNCTIONS.find((f) => f.name === u.name && f.experimental);
      // holt_winters' replacement is reported with the rename
      if (!fact || u.name === 'holt_winters' || !inRange(ctx.to, fact.experimental)) continue;
      ctx.report({
        message: `${u.name}() is experimental on ${ctx.to.raw}: Prometheus and promtool reject it unless started with --enable-feature=${EXPERIMENTAL_FUNCTIONS_FLAG}`,
        at: u.at,
      });
    }
  },
});
