import { configKeyUses, nearKeys, sectionLabel } from '../config-keys.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'config-key-unknown',
  title: 'config key unknown to both the running and the target version',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source:
    'yaml.UnmarshalStrict (P@v2.55.1 and P@v3.0.0:config/config.go: "field X not found in type Y"); keys per release in src/compat/config-keys-data.ts',
  description:
    'Prometheus refuses a prometheus.yml with a key it does not know ("field ... not found"), on 2.x and 3.x alike: a misspelt key (scrape_intervall, consult_sd_configs) stops the config from loading.',
  checkConfig(ctx) {
    if (!ctx.root) return;
    for (const use of configKeyUses(ctx.root)) {
      if (use.spec) continue; // a key of some release: config-key-version says which
      const near = nearKeys(use.section, use.key, [ctx.from, ctx.to]);
      const versions = ctx.from.raw === ctx.to.raw ? ctx.to.raw : `${ctx.from.raw} nor ${ctx.to.raw}`;
      ctx.report({
        message: `${use.path}: ${use.key} is not a key of ${sectionLabel(use.section)}; neither ${versions} loads this config${near.length ? ` (did you mean ${near.map((k) => `"${k}"`).join(' or ')}?)` : ''}`,
        at: ctx.yaml.range(use.pair.key),
      });
    }
  },
});
