import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * Expressions whose acceptance depends on the Prometheus version: one or more per construct of
 * src/compat/promql-syntax-facts.ts and per function that appeared or went away, type errors the lezer
 * grammar accepts, and plain expressions every version takes. The promtool cross-check runs all of them
 * (plus the expressions of the shared rule corpus) through each lab promtool.
 */
export const VERSIONED_EXPRESSIONS: string[] = [
  // valid everywhere
  'up',
  'sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))',
  'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))',
  'topk(3, x)',
  'count_values("v", x)',
  'quantile(0.5, x)',
  'x > bool 1',
  '1 + 2',
  '-x',
  'x and on(a) y',
  'x / ignoring(b) group_left(c) y',
  'absent(up{job="a"})',
  'label_replace(x, "a", "$1", "b", "(.*)")',
  'label_join(x, "a", ",", "b", "c")',
  'round(x)',
  'round(x, 0.5)',
  'time() - x',
  'vector(1)',
  'scalar(x) * 2',
  'x offset 5m',
  'x[5m] offset 1h',
  'x @ 1700000000',
  'x @ end()',
  'rate(x[5m] @ start())',
  'x offset -5m',
  'max_over_time(rate(x[5m])[1h:1m])',
  'max_over_time(x[1h:])',
  'day_of_month()',
  'sort_desc(x)',
  'group(x)',
  // number and duration literal forms (2.54)
  '1_000',
  'x > 1_000_000',
  'time() - x > 10m',
  'x[300]',
  'x offset 60',
  'max_over_time(x[600:60])',
  // quoted names (2.51), quoted grouping labels (2.55), UTF-8 names (2.55 with utf8-names, 3.0)
  '{"up"}',
  '{"up", job="a"}',
  'x{"job"="a"}',
  'sum by ("job") (x)',
  '{"http.server.duration"}',
  'x{"service.name"="a"}',
  'sum by ("service.name") (x)',
  // duration expressions (3.4), step() (3.6), range() (3.10), min_of/max_of (3.13)
  'rate(x[1m * 2])',
  'x offset (5m + 1m)',
  'max_over_time(x[1h:30s * 2])',
  'rate(x[step() * 4])',
  'x[range()]',
  'rate(x[max_of(5m, step())])',
  // extended range selectors (3.7), fill modifiers (3.10)
  'rate(x[5m] anchored)',
  'rate(x[5m] smoothed)',
  'x smoothed',
  'x + fill(0) y',
  'x + on(a) fill_left(1) fill_right(2) y',
  // functions by version
  'holt_winters(x[1h], 0.3, 0.3)',
  'double_exponential_smoothing(x[1h], 0.3, 0.3)',
  'histogram_stddev(x)',
  'histogram_avg(x)',
  'mad_over_time(x[5m])',
  'sort_by_label(x, "a")',
  'limitk(2, x)',
  'limit_ratio(0.5, x)',
  'info(x)',
  'ts_of_max_over_time(x[5m])',
  'first_over_time(x[5m])',
  'ts_of_first_over_time(x[5m])',
  'histogram_quantiles(x, "q", 0.5, 0.9)',
  // type errors the grammar accepts
  'rate(x)',
  'abs(x[5m])',
  'rate(x[5m:])[5m]',
  '(x)[5m]',
  'sum(x) offset 5m',
  '1 > 2',
  'topk(x, y)',
  'count_values(1, x)',
  'x and 1',
  'clamp(x, 1)',
  'sum(x[5m])',
  '"a" + 1',
  'label_replace(x, "a", "b", "c")',
  'rate("x")',
  '-x[5m]',
  'x + y[5m]',
  '1 + on(a) 2',
  // syntax errors
  'sum(rate(x[5m])',
  'x{a=}',
  'rate(x[5m] offset)',
];

/** The `expr` of every rule in the shared corpus's plain rule files (PrometheusRule CRDs left out). */
export function corpusRuleExpressions(corpus: string): string[] {
  const out: string[] = [];
  const dir = join(corpus, 'rules');
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.yml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const js = doc.toJS() as { groups?: Array<{ rules?: Array<{ expr?: unknown }> }> } | null;
      for (const g of js?.groups ?? [])
        for (const r of g.rules ?? [])
          if (typeof r.expr === 'string' || typeof r.expr === 'number') out.push(String(r.expr));
    }
  }
  return [...new Set(out)];
}
