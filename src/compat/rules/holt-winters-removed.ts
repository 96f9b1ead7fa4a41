import { functionCalls } from '../../promql/index.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'holt-winters-removed',
  title: 'holt_winters was renamed double_exponential_smoothing',
  severity: 'error',
  phase: 'cutover',
  versions: { to: '>=3.0.0' },
  source: 'guide ("holt_winters renamed"); P@v3.0.0:promql/parser/functions.go',
  description:
    '3.x does not know holt_winters; its replacement double_exponential_smoothing exists only in 3.x and is experimental (needs --enable-feature=promql-experimental-functions on Prometheus and promtool).',
  checkPromQL(ctx) {
    for (const f of functionCalls(ctx.expr)) {
      if (f.name !== 'holt_winters') continue;
      ctx.report({
        message:
          'holt_winters() does not exist in 3.x: a rule file using it fails to load. Rename it to double_exponential_smoothing() at cutover and enable promql-experimental-functions',
        at: f.nameRange,
        fix: {
          description: 'rename to double_exponential_smoothing',
          edits: [{ ...f.nameRange, insert: 'double_exponential_smoothing' }],
          validFrom: '3.0.0',
        },
      });
    }
  },
});
