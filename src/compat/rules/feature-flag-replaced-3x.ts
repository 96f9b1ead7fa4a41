import { eachFeatureToken, featureNames, swapFeatureForFlag } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const ID = 'feature-flag-replaced-3x';

export default defineRule({
  id: ID,
  title: 'feature flag replaced by a 3.x-only flag',
  severity: 'error',
  phase: 'cutover',
  versions: { to: '>=3.0.0' },
  source: 'guide; CHANGELOG 3.0.0 #14894; P@v3.0.0:cmd/prometheus/main.go',
  description: `3.x ignores ${featureNames(ID)}: the server runs in server mode (exit code 3 with --storage.agent.* flags) or the OTLP endpoint is off. Their replacements --agent and --web.enable-otlp-receiver exist only in 3.x.`,
  checkFlags(ctx) {
    eachFeatureToken(ctx, ID, (arg, tok, fact) => {
      const replacement = fact.replacementFlag!.flag;
      const agentFlags = tok.name === 'agent' ? ctx.args.filter((a) => a.name.startsWith('storage.agent.')).length : 0;
      const edits = swapFeatureForFlag(ctx.edit, ctx.args, arg, tok, replacement);
      ctx.report({
        message: `--enable-feature=${tok.name}: ${fact.outcome}${agentFlags ? ` (${agentFlags} --storage.agent.* flag(s) here)` : ''}; use ${replacement} with the 3.x binary`,
        at: tok,
        fix: edits.length
          ? { description: `replace with ${replacement}`, edits, validFrom: fact.fixValidFrom }
          : undefined,
      });
    });
  },
});
