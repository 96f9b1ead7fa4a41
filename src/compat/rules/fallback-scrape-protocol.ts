import { defineRule } from '../rule.js';

export default defineRule({
  id: 'fallback-scrape-protocol',
  title: 'scrapes fail on a missing or unsupported Content-Type',
  severity: 'info',
  phase: 'advisory',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide ("scrape protocols"); P@v3.0.0:model/textparse/interface.go',
  description:
    '3.x fails a scrape whose Content-Type is missing, unparsable or unsupported unless the job sets fallback_scrape_protocol (a 3.x-only key). Not decidable from files: after the upgrade, look for "no fallback_scrape_protocol" in /api/v1/targets lastError, or probe the targets first.',
  checkConfig(ctx) {
    if (!ctx.root) return;
    const jobs = ctx.yaml
      .mapItems(ctx.root, 'scrape_configs')
      .filter((j) => !ctx.yaml.pair(j, 'fallback_scrape_protocol'));
    const pair = ctx.yaml.pair(ctx.root, 'scrape_configs');
    if (!pair || jobs.length === 0) return;
    ctx.report({
      message: `${jobs.length} job(s) without fallback_scrape_protocol: in 3.x a target sending no or an unsupported Content-Type fails to scrape; add fallback_scrape_protocol: PrometheusText0.0.4 to such jobs at cutover`,
      at: ctx.yaml.range(pair.key),
    });
  },
});
