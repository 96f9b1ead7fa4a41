import { featureFlagsOf } from '../migration-facts.js';
import { eachFeatureToken } from '../flag-fixes.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

const ID = 'native-histograms-flag';
const [FACT] = featureFlagsOf(ID);
const KEY = FACT.replacementConfig!.key;

export default defineRule({
  id: ID,
  title: `native-histograms feature flag replaced by ${KEY}`,
  severity: 'warning',
  phase: 'cutover',
  versions: { to: `>=${FACT.deprecatedIn}` },
  source: FACT.source,
  description: `From ${FACT.deprecatedIn} --enable-feature=native-histograms only sets the default of ${KEY}; from ${FACT.removedIn} it does nothing, so native histograms silently stop being scraped. Set ${KEY}: true (${FACT.fixValidFrom}+ only) instead.`,
  checkFlags(ctx) {
    eachFeatureToken(ctx, ID, (arg, tok) => {
      const noop = atLeast(ctx.to, FACT.removedIn!);
      ctx.report({
        message: noop
          ? `native-histograms is a no-op on ${ctx.to.raw}: native histograms are NOT scraped unless prometheus.yml sets ${KEY}: true`
          : `native-histograms is deprecated on ${ctx.to.raw}: it only sets the default of ${KEY}`,
        at: tok,
        severity: noop ? 'error' : 'warning',
        fix: ctx.edit.editable
          ? {
              description: `drop native-histograms (set ${KEY}: true in prometheus.yml)`,
              edits: ctx.edit.removeFeature(arg, tok),
              validFrom: FACT.fixValidFrom,
            }
          : undefined,
      });
    });
  },
  checkConfig(ctx) {
    if (!ctx.run.features?.has(FACT.name) || !ctx.root) return;
    const global = ctx.yaml.map(ctx.root, 'global');
    if (global && ctx.yaml.pair(global, KEY)) return;
    const edits = ctx.yaml.insertInSection('global', KEY, 'true');
    const globalPair = ctx.yaml.pair(ctx.root, 'global');
    ctx.report({
      message: `the flags enable native-histograms, which ${atLeast(ctx.to, FACT.removedIn!) ? 'does nothing' : 'is deprecated'} on ${ctx.to.raw}: set global.${KEY}: true to keep scraping native histograms`,
      at: globalPair ? ctx.yaml.range(globalPair.key) : { from: 0, to: 0 },
      fix: edits ? { description: `global.${KEY}: true`, edits, validFrom: FACT.fixValidFrom } : undefined,
    });
  },
});
