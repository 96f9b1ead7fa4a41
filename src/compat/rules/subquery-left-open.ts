import { formatDuration, parseDuration, subqueries, touchesTemplate } from '../../promql/index.js';
import { LEFT_OPEN_SOURCE, TWO_SAMPLE_FUNCTIONS } from '../migration-facts.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'subquery-left-open',
  title: 'subqueries are left-open in 3.0.1+',
  severity: 'warning',
  phase: 'advisory',
  versions: { to: '>=3.0.1' },
  source: LEFT_OPEN_SOURCE,
  description:
    'From 3.0.1 a subquery excludes the step exactly at its start, so [1m:1m] yields one point instead of two and rate()/increase()/delta()/deriv() over it return nothing.',
  checkPromQL(ctx) {
    for (const s of subqueries(ctx.expr)) {
      if (
        !s.outerFunction ||
        !TWO_SAMPLE_FUNCTIONS.includes(s.outerFunction) ||
        !s.stepText ||
        touchesTemplate(ctx.expr, s.rangeNode.from, s.stepNode!.to)
      )
        continue;
      const range = parseDuration(s.rangeText);
      const step = parseDuration(s.stepText);
      if (range === undefined || step === undefined || step === 0 || range >= 2 * step) continue;
      const wider = formatDuration(2 * step);
      ctx.report({
        message: `${s.outerFunction}() over [${s.rangeText}:${s.stepText}] sees ${Math.floor(range / step)} point(s) in 3.x instead of ${Math.floor(range / step) + 1}; widen the range to at least twice the step`,
        at: { from: s.rangeNode.from, to: s.stepNode!.to },
        suggestion: {
          description: `[${wider}:${s.stepText}]`,
          edits: [{ from: s.rangeNode.from, to: s.rangeNode.to, insert: wider }],
        },
      });
    }
  },
});
