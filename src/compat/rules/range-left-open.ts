import { formatDuration, matrixSelectors, parseDuration, touchesTemplate } from '../../promql/index.js';
import { LEFT_OPEN_SOURCE, TWO_SAMPLE_FUNCTIONS } from '../migration-facts.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'range-left-open',
  title: 'range selectors are left-open in 3.x',
  severity: 'info',
  phase: 'advisory',
  versions: { to: '>=3.0.0' },
  source: LEFT_OPEN_SOURCE,
  description:
    'A sample exactly at t - range is no longer included, so a range of two scrape intervals or less may hold a single sample and rate() over it returns nothing. Checked against global.scrape_interval of a prometheus.yml in the same run.',
  checkPromQL(ctx) {
    const interval = ctx.run.scrapeIntervalMs;
    if (!interval) return;
    for (const m of matrixSelectors(ctx.expr)) {
      if (
        !m.outerFunction ||
        !TWO_SAMPLE_FUNCTIONS.includes(m.outerFunction) ||
        touchesTemplate(ctx.expr, m.rangeNode.from, m.rangeNode.to)
      )
        continue;
      const range = parseDuration(m.rangeText);
      if (range === undefined || range > 2 * interval) continue;
      ctx.report({
        message: `${m.outerFunction}() over [${m.rangeText}] with a ${formatDuration(interval)} scrape interval may see one sample in 3.x; use at least [${formatDuration(4 * interval)}] (or $__rate_interval in Grafana)`,
        at: { from: m.rangeNode.from, to: m.rangeNode.to },
      });
    }
  },
});
