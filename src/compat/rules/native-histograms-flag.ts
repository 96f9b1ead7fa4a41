import { FEATURE_FLAGS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

const FACT = FEATURE_FLAGS.find((f) => f.name === 'native-histograms')!;

export default defineRule({
  id: 'native-histograms-flag',
  title: 'native-histograms feature flag replaced by scrape_native_histograms',
  severity: 'warning',
  phase: 'cutover',
  versions: { to: '>=3.8.0' },
  source: FACT.source,
  description: 'From 3.8 --enable-feature=native-histograms only sets the default of scrape_native_histograms; from 3.9 it does nothing, so native histograms silently stop being scraped. Set scrape_native_histograms: true (3.8+ only) instead.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      for (const tok of arg.features ?? []) {
        if (tok.name !== 'native-histograms') continue;
        const noop = atLeast(ctx.to, '3.9.0');
        ctx.report({
          message: noop
            ? `native-histograms is a no-op on ${ctx.to.raw}: native histograms are NOT scraped unless prometheus.yml sets scrape_native_histograms: true`
            : `native-histograms is deprecated on ${ctx.to.raw}: it only sets the default of scrape_native_histograms`,
          at: tok,
          severity: noop ? 'error' : 'warning',
          fix: ctx.edit.editable ? { description: 'drop native-histograms (set scrape_native_histograms: true in prometheus.yml)', edits: ctx.edit.removeFeature(arg, tok), validFrom: '3.8.0' } : undefined,
        });
      }
    }
  },
  checkConfig(ctx) {
    if (!ctx.run.features?.has('native-histograms') || !ctx.root) return;
    const global = ctx.yaml.map(ctx.root, 'global');
    if (global && ctx.yaml.pair(global, 'scrape_native_histograms')) return;
    const edits = ctx.yaml.insertInSection('global', 'scrape_native_histograms', 'true');
    const globalPair = ctx.yaml.pair(ctx.root, 'global');
    ctx.report({
      message: `the flags enable native-histograms, which ${atLeast(ctx.to, '3.9.0') ? 'does nothing' : 'is deprecated'} on ${ctx.to.raw}: set global.scrape_native_histograms: true to keep scraping native histograms`,
      at: globalPair ? ctx.yaml.range(globalPair.key) : { from: 0, to: 0 },
      fix: edits ? { description: 'global.scrape_native_histograms: true', edits, validFrom: '3.8.0' } : undefined,
    });
  },
});
