import { featureFlagsOf } from '../migration-facts.js';
import { eachFeatureToken, swapFeatureForFlag } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const ID = 'remote-write-receiver-flag';
const [FACT] = featureFlagsOf(ID);
const REPLACEMENT = FACT.replacementFlag!;

export default defineRule({
  id: ID,
  title: 'remote-write-receiver feature flag no longer enables the receiver',
  severity: 'error',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: FACT.source,
  description: `In 3.x --enable-feature=remote-write-receiver only logs a warning and the receiver stays OFF (POST /api/v1/write answers 404). ${REPLACEMENT.flag} exists since ${REPLACEMENT.since} and works on both.`,
  checkFlags(ctx) {
    eachFeatureToken(ctx, ID, (arg, tok, f) => {
      const edits = swapFeatureForFlag(ctx.edit, ctx.args, arg, tok, REPLACEMENT.flag);
      ctx.report({
        message: `--enable-feature=${tok.name}: ${f.outcome}`,
        at: tok,
        fix: edits.length
          ? { description: `replace with ${REPLACEMENT.flag}`, edits, validFrom: f.fixValidFrom }
          : undefined,
      });
    });
  },
});
