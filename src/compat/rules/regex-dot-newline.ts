import { functionCalls, labelMatchers, quotePromQL, touchesTemplate, unquotePromQL } from '../../promql/index.js';
import { anyCharDots, isMatchAll, withoutNewlineDots } from '../regex.js';
import { defineRule } from '../rule.js';

const RELABEL_LISTS = ['relabel_configs', 'metric_relabel_configs', 'write_relabel_configs', 'alert_relabel_configs'];

export default defineRule({
  id: 'regex-dot-newline',
  title: '"." in regexes matches newlines in 3.x',
  severity: 'info',
  phase: 'advisory',
  versions: { to: '>=3.0.0' },
  source:
    'guide ("Regular expressions match newlines"); P@v3.0.0:model/labels/regexp.go, model/relabel/relabel.go, promql/functions.go',
  description:
    '3.x compiles regex matchers, relabel regexes and label_replace with (?s): "." also matches "\\n". Only label values that contain newlines behave differently; [^\\n] keeps the 2.x meaning on both versions.',
  checkPromQL(ctx) {
    const targets: Array<{ value: string; quote: '"' | "'" | '`'; at: { from: number; to: number }; what: string }> =
      [];
    for (const m of labelMatchers(ctx.expr)) {
      if ((m.op === '=~' || m.op === '!~') && m.value !== undefined)
        targets.push({ value: m.value, quote: m.quote, at: m.valueRange, what: `matcher ${m.name}${m.op}` });
    }
    for (const f of functionCalls(ctx.expr)) {
      if (f.name !== 'label_replace' || f.args.length < 5 || f.args[4].name !== 'StringLiteral') continue;
      const raw = ctx.expr.source.slice(f.args[4].from, f.args[4].to);
      const v = unquotePromQL(raw);
      if (v !== undefined)
        targets.push({
          value: v,
          quote: raw[0] as '"',
          at: { from: f.args[4].from, to: f.args[4].to },
          what: 'label_replace regex',
        });
    }
    for (const t of targets) {
      if (
        isMatchAll(t.value) ||
        anyCharDots(t.value).length === 0 ||
        touchesTemplate(ctx.expr, t.at.from, t.at.to) ||
        t.value.includes('$')
      )
        continue;
      const fixed = quotePromQL(withoutNewlineDots(t.value), t.quote);
      ctx.report({
        message: `${t.what} ${JSON.stringify(t.value)}: "." matches newlines in 3.x; write [^\\n] where a newline must not match`,
        at: t.at,
        suggestion: { description: `use ${fixed}`, edits: [{ ...t.at, insert: fixed }] },
      });
    }
  },
  checkConfig(ctx) {
    const root = ctx.root;
    if (!root) return;
    const lists = [
      ...ctx.yaml.mapItems(root, 'scrape_configs').flatMap((job) => RELABEL_LISTS.map((k) => ({ owner: job, key: k }))),
      ...ctx.yaml.mapItems(root, 'remote_write').map((rw) => ({ owner: rw, key: 'write_relabel_configs' })),
      ...(ctx.yaml.map(root, 'alerting')
        ? [{ owner: ctx.yaml.map(root, 'alerting')!, key: 'alert_relabel_configs' }]
        : []),
      ...(ctx.yaml.map(root, 'alerting')
        ? ctx.yaml
            .mapItems(ctx.yaml.map(root, 'alerting'), 'alertmanagers')
            .map((am) => ({ owner: am, key: 'relabel_configs' }))
        : []),
    ];
    for (const { owner, key } of lists) {
      for (const rc of ctx.yaml.mapItems(owner, key)) {
        const pair = ctx.yaml.pair(rc, 'regex');
        const value = pair ? ctx.yaml.scalar(pair.value) : undefined;
        if (!pair || value === undefined || isMatchAll(value) || anyCharDots(value).length === 0) continue;
        ctx.report({
          message: `${key} regex ${JSON.stringify(value)}: "." matches newlines in 3.x; write [^\\n] where a newline must not match`,
          at: ctx.yaml.range(pair.value),
          suggestion: {
            description: `regex: ${JSON.stringify(withoutNewlineDots(value))}`,
            edits: ctx.yaml.setScalar(pair.value, withoutNewlineDots(value)),
          },
        });
      }
    }
  },
});
