import { configKeyUses, keyKnown } from '../config-keys.js';
import { defineRule } from '../rule.js';

/** Keys another rule reports with a fix of its own. */
const HANDLED_ELSEWHERE = new Set(['scrape_classic_histograms']);

export default defineRule({
  id: 'config-key-version',
  title: 'config key unknown to the running or target version',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source:
    'yaml.UnmarshalStrict (P@v2.55.1 and P@v3.0.0:config/config.go); keys per release in src/compat/config-keys-data.ts (yaml tags at every minor tag, checked with each lab promtool)',
  description:
    'prometheus.yml is parsed strictly: a key that a version does not know stops it from loading the config. Keys that exist only from some release (or no longer) must stay out of any config that the running binary, the target or a rollback target loads.',
  checkConfig(ctx) {
    if (!ctx.root) return;
    const reported: string[] = [];
    for (const use of configKeyUses(ctx.root)) {
      if (!use.spec || HANDLED_ELSEWHERE.has(use.key)) continue;
      // the keys inside a section that is itself too new are said with it
      if (reported.some((p) => use.path.startsWith(`${p}.`))) continue;
      const onFrom = keyKnown(use.spec, ctx.from);
      const onTo = keyKnown(use.spec, ctx.to);
      if (onFrom && onTo) continue;
      reported.push(use.path);
      const span = use.spec.removedIn ? `was removed in ${use.spec.removedIn}` : `exists only from ${use.spec.since}`;
      ctx.report({
        message:
          !onTo && !onFrom
            ? `${use.path}: ${use.key} ${span}; neither the running ${ctx.from.raw} nor the target ${ctx.to.raw} loads this config`
            : !onTo
              ? `${use.path}: ${use.key} ${span}; the target ${ctx.to.raw} refuses this config`
              : `${use.path}: ${use.key} ${span}; the running ${ctx.from.raw} refuses this config, and so does a rollback to it (keep it for the cutover config)`,
        at: ctx.yaml.range(use.pair.key),
        severity: onTo ? 'warning' : 'error',
      });
    }
  },
});
