import { defineRule } from '../rule.js';

export default defineRule({
  id: 'metric-name-validation-default',
  title: 'UTF-8 metric and label names are accepted by default',
  severity: 'info',
  phase: 'advisory',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source:
    'guide ("UTF-8 names"); P@v2.55.1 vs P@v3.0.0:config/config.go (metric_name_validation_scheme default legacy -> utf8)',
  description:
    'The default of metric_name_validation_scheme changes from legacy to utf8. To keep 2.x validation set it to legacy; the key exists from 2.55.',
  checkConfig(ctx) {
    if (!ctx.root) return;
    const global = ctx.yaml.map(ctx.root, 'global');
    if (global && ctx.yaml.pair(global, 'metric_name_validation_scheme')) return;
    const edits = ctx.yaml.insertInSection('global', 'metric_name_validation_scheme', 'legacy');
    const globalPair = ctx.yaml.pair(ctx.root, 'global');
    ctx.report({
      message: '3.x accepts UTF-8 metric and label names unless metric_name_validation_scheme: legacy is set',
      at: globalPair ? ctx.yaml.range(globalPair.key) : { from: 0, to: 0 },
      suggestion: edits
        ? { description: 'global.metric_name_validation_scheme: legacy (loads on 2.55+)', edits, validFrom: '2.55.0' }
        : undefined,
    });
  },
});
