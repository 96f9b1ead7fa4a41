import { defineRule } from '../rule.js';

export default defineRule({
  id: 'external-labels-dollar',
  title: '$ in external_labels values is expanded from the environment',
  severity: 'warning',
  phase: 'advisory',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide (expand-external-labels); P@v3.0.0:config/config.go Load (os.Expand)',
  description:
    '3.x always expands ${VAR} and $VAR in global.external_labels values (an unset variable becomes "") and turns $$ into $. Without --enable-feature=expand-external-labels 2.x kept them literally. $$ keeps the literal on 3.x (2.x would keep $$ as two characters, so switch at cutover); whether expansion was intended is the author\'s call.',
  checkConfig(ctx) {
    if (ctx.run.features?.has('expand-external-labels')) return;
    const global = ctx.root && ctx.yaml.map(ctx.root, 'global');
    const labels = global && ctx.yaml.map(global, 'external_labels');
    if (!labels) return;
    for (const item of labels.items) {
      const v = ctx.yaml.scalar(item.value);
      // "$$" is already a literal $ for os.Expand; any other "$" expands
      if (v === undefined || !v.replace(/\$\$/g, '').includes('$')) continue;
      const escaped = v.replace(/\$\$|\$/g, (m) => (m === '$$' ? m : '$$$$'));
      ctx.report({
        message: `external label ${ctx.yaml.scalar(item.key)}=${JSON.stringify(v)} will be expanded from the environment by 3.x; write $$ to keep a literal $ (or enable expand-external-labels on 2.55 to preview)`,
        at: ctx.yaml.range(item.value),
        suggestion: {
          description: `${JSON.stringify(escaped)} at cutover (literal $ on 3.x)`,
          edits: ctx.yaml.setScalar(item.value, escaped),
          validFrom: '3.0.0',
        },
      });
    }
  },
});
