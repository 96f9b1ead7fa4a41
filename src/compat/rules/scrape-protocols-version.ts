import { SCRAPE_PROTOCOLS, SCRAPE_PROTOCOLS_SOURCE } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'scrape-protocols-version',
  title: 'scrape protocol unknown to the running or target version',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: SCRAPE_PROTOCOLS_SOURCE,
  description:
    'PrometheusText1.0.0 exists only in 3.x; 2.55 rejects a config naming it in scrape_protocols or fallback_scrape_protocol.',
  checkConfig(ctx) {
    if (!ctx.root) return;
    const scopes = [ctx.yaml.map(ctx.root, 'global'), ...ctx.yaml.mapItems(ctx.root, 'scrape_configs')];
    for (const scope of scopes) {
      if (!scope) continue;
      const list = ctx.yaml.pair(scope, 'scrape_protocols')?.value as { items?: unknown[] } | undefined;
      const fallback = ctx.yaml.pair(scope, 'fallback_scrape_protocol')?.value;
      for (const node of [...(list?.items ?? []), ...(fallback ? [fallback] : [])]) {
        const v = ctx.yaml.scalar(node);
        if (!v) continue;
        const since = SCRAPE_PROTOCOLS[v];
        if (!since) {
          ctx.report({
            message: `unknown scrape protocol ${v} (valid: ${Object.keys(SCRAPE_PROTOCOLS).join(', ')})`,
            at: ctx.yaml.range(node),
          });
          continue;
        }
        if (atLeast(ctx.from, since) && atLeast(ctx.to, since)) continue;
        ctx.report({
          message: `${v} exists only from ${since}; ${atLeast(ctx.to, since) ? `the running ${ctx.from.raw}` : `the target ${ctx.to.raw}`} refuses this config`,
          at: ctx.yaml.range(node),
          severity: atLeast(ctx.to, since) ? 'warning' : 'error',
        });
      }
    }
  },
});
