import { aggregations, functionCalls } from '../../promql/index.js';
import { FUNCTIONS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'function-too-new',
  title: 'PromQL function unknown to the running version',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source:
    'P@<tag>:promql/parser/functions.go per version (src/compat/promql-functions.ts, extracted from every minor tag)',
  description:
    'A function that only exists in a later version makes the rule file fail to load on the running (or target) version: keep it out until the binary that has it runs.',
  checkPromQL(ctx) {
    const used = [
      ...functionCalls(ctx.expr).map((f) => ({ name: f.name, at: f.nameRange })),
      ...aggregations(ctx.expr).map((a) => ({ name: a.op, at: a.opRange })),
    ];
    for (const u of used) {
      const fact = FUNCTIONS.find((f) => f.name === u.name && f.since);
      if (!fact?.since) continue;
      const onFrom = atLeast(ctx.from, fact.since);
      const onTarget = atLeast(ctx.to, fact.since);
      if (onFrom && onTarget) continue;
      ctx.report({
        message: !onFrom
          ? `${u.name}() exists only from ${fact.since}: ${ctx.from.raw} rejects it${onTarget ? '' : `, and so does the target ${ctx.to.raw}`}`
          : `${u.name}() exists only from ${fact.since}: the target ${ctx.to.raw} rejects it`,
        at: u.at,
      });
    }
  },
});
