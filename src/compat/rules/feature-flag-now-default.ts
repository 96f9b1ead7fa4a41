import { eachFeatureToken, featureNames } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const ID = 'feature-flag-now-default';

export default defineRule({
  id: ID,
  title: 'feature flag removed: its behaviour is the default',
  severity: 'warning',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: 'guide (feature flags); P@v3.0.0:cmd/prometheus/main.go setFeatureListOptions',
  description: `3.x logs "Unknown option for --enable-feature" for ${featureNames(ID)} and carries on; what they enabled is the default (or was already a no-op on 2.55). Dropping them changes nothing on 2.55 or 3.x.`,
  checkFlags(ctx) {
    eachFeatureToken(ctx, ID, (arg, tok, f) =>
      ctx.report({
        message: `--enable-feature=${tok.name} is gone in ${f.removedIn}: ${f.outcome}`,
        at: tok,
        fix: ctx.edit.editable
          ? { description: `drop ${tok.name}`, edits: ctx.edit.removeFeature(arg, tok), validFrom: f.fixValidFrom }
          : undefined,
      }),
    );
  },
});
