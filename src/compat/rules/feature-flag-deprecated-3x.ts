import { eachFeatureToken, swapFeatureForFlag } from '../flag-fixes.js';
import { defineRule, type Fix } from '../rule.js';

const ID = 'feature-flag-deprecated-3x';

export default defineRule({
  id: ID,
  title: 'feature flag deprecated or a no-op in a later 3.x',
  severity: 'warning',
  phase: 'cutover',
  versions: { to: '>=3.4.0' },
  source: 'CHANGELOG 3.4.0, 3.10.0, 3.12.0, 3.13.0, 3.14.0 (src/compat/migration-facts.ts FEATURE_FLAGS)',
  description: 'Flags added during 3.x that later minors turned into no-ops or replaced with a flag or config key.',
  checkFlags(ctx) {
    eachFeatureToken(ctx, ID, (arg, tok, f) => {
      let fix: Fix | undefined;
      if (ctx.edit.editable && f.removedIn)
        fix = {
          description: `drop ${tok.name} (a no-op)`,
          edits: ctx.edit.removeFeature(arg, tok),
          validFrom: f.fixValidFrom,
        };
      else if (f.replacementFlag) {
        const edits = swapFeatureForFlag(ctx.edit, ctx.args, arg, tok, f.replacementFlag.flag);
        if (edits.length)
          fix = { description: `replace with ${f.replacementFlag.flag}`, edits, validFrom: f.fixValidFrom };
      }
      ctx.report({
        message: `--enable-feature=${tok.name} on ${ctx.to.raw}: ${f.outcome}${f.replacementConfig ? ` (set ${f.replacementConfig.key} in prometheus.yml, ${f.replacementConfig.since}+)` : ''}`,
        at: tok,
        fix,
      });
    });
  },
});
