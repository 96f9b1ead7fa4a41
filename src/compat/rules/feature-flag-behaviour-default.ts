import { eachFeatureToken, featureNames } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const ID = 'feature-flag-behaviour-default';

export default defineRule({
  id: ID,
  title: 'feature flag removed: 3.x always behaves as if it were set',
  severity: 'info',
  phase: 'cutover',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide (expand-external-labels, no-default-scrape-port)',
  description: `${featureNames(ID)} change behaviour on 2.55 and are the only behaviour of 3.x. Keep them on 2.55 (they preview 3.x) and drop them with the binary swap; 3.x merely warns about them.`,
  checkFlags(ctx) {
    eachFeatureToken(ctx, ID, (arg, tok, f) =>
      ctx.report({
        message: `--enable-feature=${tok.name}: ${f.outcome}; keep it on 2.55, drop it with the 3.x binary`,
        at: tok,
        fix: ctx.edit.editable
          ? { description: `drop ${tok.name}`, edits: ctx.edit.removeFeature(arg, tok), validFrom: f.fixValidFrom }
          : undefined,
      }),
    );
  },
});
