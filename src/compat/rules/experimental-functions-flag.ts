import { EXPERIMENTAL_FUNCTIONS_FLAG, FUNCTIONS } from '../migration-facts.js';
import { inRange } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'experimental-functions-flag',
  title: 'rules or dashboards need promql-experimental-functions',
  severity: 'error',
  phase: 'cutover',
  versions: { to: '>=3.0.0' },
  source: 'guide (holt_winters); P@v3.0.0:promql/parser/functions.go',
  description:
    'Expressions in this run use functions that are experimental on the target (double_exponential_smoothing, the replacement of holt_winters, among them); the 3.x server needs --enable-feature=promql-experimental-functions or the rule files fail to load.',
  checkFlags(ctx) {
    if (ctx.run.features?.has(EXPERIMENTAL_FUNCTIONS_FLAG)) return;
    const needed = [...ctx.run.functionsUsed].filter((name) => {
      const target = name === 'holt_winters' ? 'double_exponential_smoothing' : name;
      const fact = FUNCTIONS.find((f) => f.name === target && f.experimental);
      return fact && inRange(ctx.to, fact.experimental);
    });
    if (needed.length === 0) return;
    const featureArg = ctx.args.find((a) => a.name === 'enable-feature' && a.features && a.features.length > 0);
    const edits = !ctx.edit.editable
      ? undefined
      : featureArg
        ? ctx.edit.addFeature(featureArg, EXPERIMENTAL_FUNCTIONS_FLAG)
        : ctx.edit.addArg(`--enable-feature=${EXPERIMENTAL_FUNCTIONS_FLAG}`);
    const first = ctx.args[0];
    ctx.report({
      message: `the linted expressions use ${needed.sort().join(', ')}, experimental on ${ctx.to.raw}: add --enable-feature=${EXPERIMENTAL_FUNCTIONS_FLAG} (also to promtool)`,
      at: featureArg
        ? { from: featureArg.from, to: featureArg.to }
        : first
          ? { from: first.from, to: first.to }
          : { from: 0, to: 0 },
      fix: edits ? { description: `enable ${EXPERIMENTAL_FUNCTIONS_FLAG}`, edits } : undefined,
    });
  },
});
