import { FEATURE_FLAGS } from '../migration-facts.js';
import { swapFeatureForFlag } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const FACT = FEATURE_FLAGS.find((f) => f.name === 'remote-write-receiver')!;

export default defineRule({
  id: 'remote-write-receiver-flag',
  title: 'remote-write-receiver feature flag no longer enables the receiver',
  severity: 'error',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: FACT.source,
  description: 'In 3.x --enable-feature=remote-write-receiver only logs a warning and the receiver stays OFF (POST /api/v1/write answers 404). --web.enable-remote-write-receiver exists since 2.33 and works on both.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      for (const tok of arg.features ?? []) {
        if (tok.name !== 'remote-write-receiver') continue;
        const edits = swapFeatureForFlag(ctx.edit, ctx.args, arg, tok, '--web.enable-remote-write-receiver');
        ctx.report({
          message: `--enable-feature=remote-write-receiver: ${FACT.outcome}`,
          at: tok,
          fix: edits.length ? { description: 'replace with --web.enable-remote-write-receiver', edits, validFrom: FACT.replacementFlag!.since } : undefined,
        });
      }
    }
  },
});
