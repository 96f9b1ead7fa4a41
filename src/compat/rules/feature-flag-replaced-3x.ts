import { FEATURE_FLAGS } from '../migration-facts.js';
import { swapFeatureForFlag } from '../flag-fixes.js';
import { defineRule } from '../rule.js';

const NAMES = ['agent', 'otlp-write-receiver'];

export default defineRule({
  id: 'feature-flag-replaced-3x',
  title: 'feature flag replaced by a 3.x-only flag',
  severity: 'error',
  phase: 'cutover',
  versions: { to: '>=3.0.0' },
  source: 'guide; CHANGELOG 3.0.0 #14894; P@v3.0.0:cmd/prometheus/main.go',
  description: '--enable-feature=agent and --enable-feature=otlp-write-receiver are ignored by 3.x: the server runs in server mode (exit code 3 with --storage.agent.* flags) or the OTLP endpoint is off. Their replacements --agent and --web.enable-otlp-receiver exist only in 3.x.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      for (const tok of arg.features ?? []) {
        if (!NAMES.includes(tok.name)) continue;
        const fact = FEATURE_FLAGS.find((f) => f.name === tok.name)!;
        const replacement = fact.replacementFlag!.flag;
        const agentFlags = tok.name === 'agent' ? ctx.args.filter((a) => a.name.startsWith('storage.agent.')).length : 0;
        const edits = swapFeatureForFlag(ctx.edit, ctx.args, arg, tok, replacement);
        ctx.report({
          message: `--enable-feature=${tok.name}: ${fact.outcome}${agentFlags ? ` (${agentFlags} --storage.agent.* flag(s) here)` : ''}; use ${replacement} with the 3.x binary`,
          at: tok,
          fix: edits.length ? { description: `replace with ${replacement}`, edits, validFrom: '3.0.0' } : undefined,
        });
      }
    }
  },
});
