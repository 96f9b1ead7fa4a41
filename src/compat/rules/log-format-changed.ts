import { defineRule } from '../rule.js';

export default defineRule({
  id: 'log-format-changed',
  title: 'log lines switch from go-kit to slog',
  severity: 'info',
  phase: 'advisory',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide ("log format"); CHANGELOG 3.0.0',
  description:
    'ts=… caller=… level=info becomes time=… level=INFO source=… (JSON keys likewise). Log pipelines that parse positions or the old keys break; parse key=value pairs.',
  checkFlags(ctx) {
    const fmt = ctx.args.find((a) => a.name === 'log.format');
    const first = fmt ?? ctx.args[0];
    if (!first) return;
    ctx.report({
      message: `Prometheus 3 logs with slog (${fmt?.value === 'json' ? 'JSON keys time, level in upper case, source' : 'time=… level=INFO source=…'}): update log parsing that relies on ts=/caller=`,
      at: { from: first.from, to: first.to },
    });
  },
});
