import { touchesTemplate, typeErrors } from '../../promql/index.js';
import { AGGREGATORS, functionSignature, FUNCTION_SIGNATURES_SOURCE } from '../promql-functions.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'promql-type-error',
  title: 'expression has a type error',
  severity: 'error',
  phase: 'advisory',
  versions: {},
  source: `P@v3.14.0:promql/parser/parse.go checkAST; ${FUNCTION_SIGNATURES_SOURCE} (signatures unchanged across these tags)`,
  description:
    'The expression parses but Prometheus refuses it after parsing: an argument of the wrong type (an instant vector where a range vector is needed, as in rate(x)), a wrong number of arguments, a range on something that is not a selector, or a comparison of two scalars without bool.',
  checkPromQL(ctx) {
    if (ctx.expr.errors.length) return; // the syntax rule reports it
    for (const e of typeErrors(ctx.expr, {
      signature: functionSignature,
      aggregatorParam: (name) => AGGREGATORS.find((a) => a.name === name)?.param,
    })) {
      if (touchesTemplate(ctx.expr, e.at.from, e.at.to)) continue;
      ctx.report({ message: e.message, at: e.at, severity: ctx.origin === 'dashboard' ? 'warning' : 'error' });
    }
  },
});
