import type { YAMLMap } from 'yaml';
import { CONFIG_KEYS_SINCE, type ConfigKeyFact } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule, type ConfigContext } from '../rule.js';

function scopes(ctx: ConfigContext): Array<{ where: ConfigKeyFact['where']; map: YAMLMap; label: string }> {
  const out: Array<{ where: ConfigKeyFact['where']; map: YAMLMap; label: string }> = [];
  const root = ctx.root;
  if (!root) return out;
  const global = ctx.yaml.map(root, 'global');
  if (global) out.push({ where: 'global', map: global, label: 'global' });
  for (const job of ctx.yaml.mapItems(root, 'scrape_configs')) out.push({ where: 'scrape', map: job, label: `job ${ctx.yaml.scalar(ctx.yaml.pair(job, 'job_name')?.value) ?? '?'}` });
  const tsdb = ctx.yaml.map(ctx.yaml.map(root, 'storage'), 'tsdb');
  if (tsdb) out.push({ where: 'storage.tsdb', map: tsdb, label: 'storage.tsdb' });
  for (const rw of ctx.yaml.mapItems(root, 'remote_write')) out.push({ where: 'remote_write', map: rw, label: 'remote_write' });
  const otlp = ctx.yaml.map(root, 'otlp');
  if (otlp) out.push({ where: 'otlp', map: otlp, label: 'otlp' });
  return out;
}

export default defineRule({
  id: 'config-key-version',
  title: 'config key unknown to the running or target version',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: 'P@v3.0.0:config/config.go (yaml.UnmarshalStrict); key introductions per CHANGELOG (src/compat/migration-facts.ts CONFIG_KEYS_SINCE)',
  description: 'prometheus.yml is parsed strictly: a key that a version does not know stops it from loading the config. Keys that only exist from some 3.x minor must stay out of any config that a downgrade target or the running binary loads.',
  checkConfig(ctx) {
    for (const s of scopes(ctx)) {
      for (const item of s.map.items) {
        const key = ctx.yaml.scalar(item.key);
        const fact = CONFIG_KEYS_SINCE.find((f) => f.key === key && f.where === s.where);
        if (!fact) continue;
        const onFrom = atLeast(ctx.from, fact.since);
        const onTo = atLeast(ctx.to, fact.since);
        if (onFrom && onTo) continue;
        ctx.report({
          message: !onTo
            ? `${s.label}: ${key} exists only from ${fact.since}; the target ${ctx.to.raw} refuses this config`
            : `${s.label}: ${key} exists only from ${fact.since}; the running ${ctx.from.raw} refuses this config, and so does a rollback to 2.55 (keep it for the cutover config)`,
          at: ctx.yaml.range(item.key),
          severity: onTo ? 'warning' : 'error',
        });
      }
    }
  },
});
