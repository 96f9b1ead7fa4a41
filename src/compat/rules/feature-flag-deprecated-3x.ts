import { FEATURE_FLAGS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { swapFeatureForFlag } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const NAMES = ['ooo-native-histograms', 'auto-reload-config', 'extra-scrape-metrics', 'promql-duration-expr', 'xor2-encoding'];

export default defineRule({
  id: 'feature-flag-deprecated-3x',
  title: 'feature flag deprecated or a no-op in a later 3.x',
  severity: 'warning',
  phase: 'cutover',
  versions: { to: '>=3.4.0' },
  source: 'CHANGELOG 3.4.0, 3.10.0, 3.12.0, 3.13.0, 3.14.0 (src/compat/facts.ts FEATURE_FLAGS)',
  description: 'Flags added during 3.x that later minors turned into no-ops or replaced with a flag or config key.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      for (const tok of arg.features ?? []) {
        if (!NAMES.includes(tok.name)) continue;
        const f = FEATURE_FLAGS.find((x) => x.name === tok.name)!;
        const at = f.removedIn ?? f.deprecatedIn!;
        if (!atLeast(ctx.to, at)) continue;
        let fix;
        if (ctx.edit.editable && f.removedIn) fix = { description: `drop ${tok.name} (a no-op)`, edits: ctx.edit.removeFeature(arg, tok), validFrom: f.removedIn };
        else if (ctx.edit.editable && f.replacementFlag) {
          const edits = swapFeatureForFlag(ctx.edit, ctx.args, arg, tok, f.replacementFlag.flag);
          if (edits.length) fix = { description: `replace with ${f.replacementFlag.flag}`, edits, validFrom: f.replacementFlag.since };
        }
        ctx.report({
          message: `--enable-feature=${tok.name} on ${ctx.to.raw}: ${f.outcome}${f.replacementConfig ? ` (set ${f.replacementConfig.key} in prometheus.yml, ${f.replacementConfig.since}+)` : ''}`,
          at: tok,
          fix,
        });
      }
    }
  },
});
