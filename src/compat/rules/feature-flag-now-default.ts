import { FEATURE_FLAGS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'feature-flag-now-default',
  title: 'feature flag removed: its behaviour is the default',
  severity: 'warning',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: 'guide (feature flags); P@v3.0.0:cmd/prometheus/main.go setFeatureListOptions',
  description: '3.x logs "Unknown option for --enable-feature" for these and carries on; what they enabled is the default (or was already a no-op on 2.55). Dropping them changes nothing on 2.55 or 3.x.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      for (const tok of arg.features ?? []) {
        const f = FEATURE_FLAGS.find((x) => x.name === tok.name && x.dropIsDual && x.removedIn && !x.disablesFeature);
        if (!f || !atLeast(ctx.to, f.removedIn!)) continue;
        ctx.report({
          message: `--enable-feature=${tok.name} is gone in ${f.removedIn}: ${f.outcome}`,
          at: tok,
          fix: ctx.edit.editable ? { description: `drop ${tok.name}`, edits: ctx.edit.removeFeature(arg, tok) } : undefined,
        });
      }
    }
  },
});
