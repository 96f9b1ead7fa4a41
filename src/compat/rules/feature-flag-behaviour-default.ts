import { FEATURE_FLAGS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'feature-flag-behaviour-default',
  title: 'feature flag removed: 3.x always behaves as if it were set',
  severity: 'info',
  phase: 'cutover',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide (expand-external-labels, no-default-scrape-port)',
  description: 'expand-external-labels and no-default-scrape-port change behaviour on 2.55 and are the only behaviour of 3.x. Keep them on 2.55 (they preview 3.x) and drop them with the binary swap; 3.x merely warns about them.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      for (const tok of arg.features ?? []) {
        const f = FEATURE_FLAGS.find((x) => x.name === tok.name && !x.dropIsDual && !x.disablesFeature && x.removedIn === '3.0.0');
        if (!f || !atLeast(ctx.to, f.removedIn!)) continue;
        ctx.report({
          message: `--enable-feature=${tok.name}: ${f.outcome}; keep it on 2.55, drop it with the 3.x binary`,
          at: tok,
          fix: ctx.edit.editable ? { description: `drop ${tok.name}`, edits: ctx.edit.removeFeature(arg, tok), validFrom: '3.0.0' } : undefined,
        });
      }
    }
  },
});
