import { DEPRECATED_CLI_FLAGS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'retention-flag-deprecated',
  title: 'retention flags deprecated in favour of prometheus.yml',
  severity: 'info',
  phase: 'advisory',
  versions: { to: '>=3.8.0' },
  source: DEPRECATED_CLI_FLAGS[0].source,
  description:
    'From 3.8 --storage.tsdb.retention.time/.size are deprecated in favour of storage.tsdb.retention in prometheus.yml (a key 2.55 does not know: move it after the rollback window closes).',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      const f = DEPRECATED_CLI_FLAGS.find(
        (x) =>
          x.flag === arg.name || (arg.name === 'storage.tsdb.retention' && x.flag === 'storage.tsdb.retention.time'),
      );
      if (!f || !atLeast(ctx.to, f.deprecatedIn)) continue;
      ctx.report({
        message: `--${arg.name} is deprecated from ${f.deprecatedIn}: use ${f.replacement}`,
        at: { from: arg.nameFrom, to: arg.nameTo },
      });
    }
  },
});
