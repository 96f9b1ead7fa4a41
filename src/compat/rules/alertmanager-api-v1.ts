import { defineRule } from '../rule.js';

export default defineRule({
  id: 'alertmanager-api-v1',
  title: 'Alertmanager API v1 is gone',
  severity: 'error',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: 'guide; P@v3.0.0:config/config.go ("expected Alertmanager api version to be one of [v2]")',
  description: '3.x refuses to load a config with api_version: v1. v2 works on 2.x as well (Alertmanager >= 0.16.0).',
  checkConfig(ctx) {
    const alerting = ctx.root && ctx.yaml.map(ctx.root, 'alerting');
    if (!alerting) return;
    for (const am of ctx.yaml.mapItems(alerting, 'alertmanagers')) {
      const pair = ctx.yaml.pair(am, 'api_version');
      if (!pair || ctx.yaml.scalar(pair.value) !== 'v1') continue;
      ctx.report({
        message: 'api_version: v1 makes 3.x refuse the config; use v2 (needs Alertmanager >= 0.16.0)',
        at: ctx.yaml.range(pair.value),
        fix: { description: 'api_version: v2', edits: ctx.yaml.setScalar(pair.value, 'v2') },
      });
    }
  },
});
