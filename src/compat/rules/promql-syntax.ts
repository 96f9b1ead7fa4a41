import { defineRule } from '../rule.js';

export default defineRule({
  id: 'promql-syntax',
  title: 'expression does not parse',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: '@prometheus-io/lezer-promql (the grammar of the Prometheus UI, tracking Prometheus HEAD)',
  description:
    'The expression does not parse with the 3.x PromQL grammar, so Prometheus rejects the rule file (or the dashboard panel shows an error).',
  checkPromQL(ctx) {
    const e = ctx.expr.errors[0];
    if (!e) return;
    const at = e.to > e.from ? e : { from: e.from, to: Math.min(ctx.expr.source.length, e.from + 1) };
    const near = ctx.expr.source.slice(Math.max(0, at.from - 10), at.to + 10).replace(/\s+/g, ' ');
    ctx.report({
      message: `syntax error at offset ${at.from} near ${JSON.stringify(near)}${ctx.expr.errors.length > 1 ? ` (${ctx.expr.errors.length} error nodes)` : ''}`,
      at,
      // Grafana macros and plugins may accept what PromQL does not: a warning there, an error in rule files
      severity: ctx.origin === 'dashboard' ? 'warning' : 'error',
    });
  },
});
