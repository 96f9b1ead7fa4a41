import { defineRule } from '../rule.js';

export default defineRule({
  id: 'scrape-classic-histograms-renamed',
  title: 'scrape_classic_histograms is now always_scrape_classic_histograms',
  severity: 'error',
  phase: 'cutover',
  versions: { to: '>=3.0.0' },
  source: 'guide; P@v3.0.0:config/config.go (only the new yaml tag exists)',
  description:
    'The key was renamed without an alias. Both versions parse prometheus.yml strictly, so the old key stops 3.x and the new key stops 2.55: rename it together with the binary.',
  checkConfig(ctx) {
    const scopes = [
      ...(ctx.root ? [ctx.yaml.map(ctx.root, 'global')] : []),
      ...(ctx.root ? ctx.yaml.mapItems(ctx.root, 'scrape_configs') : []),
    ];
    for (const scope of scopes) {
      const pair = scope && ctx.yaml.pair(scope, 'scrape_classic_histograms');
      if (!pair) continue;
      ctx.report({
        message:
          'scrape_classic_histograms is unknown to 3.x (config fails to load); it is now always_scrape_classic_histograms',
        at: ctx.yaml.range(pair.key),
        fix: {
          description: 'rename to always_scrape_classic_histograms',
          edits: ctx.yaml.renameKey(pair, 'always_scrape_classic_histograms'),
          validFrom: '3.0.0',
        },
      });
    }
  },
});
