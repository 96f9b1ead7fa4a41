/**
 * Every PromQL function the parser knows, with its signature and the releases that know it, read from
 * promql/parser/functions.go at each minor tag v2.42.0 ... v3.14.0 and at v3.16.0 (Go module cache, 3.15 not
 * read; integral() is CHANGELOG 3.16.0 #14440) (the `Functions` map: ArgTypes,
 * Variadic, ReturnType, Experimental). `since` is the first minor tag that lists the name (absent: already
 * in 2.42.0); `removedIn` the first that no longer does; `experimental` the semver range in which
 * `Experimental: true` gates it behind --enable-feature=promql-experimental-functions.
 * Aggregators come from promql/parser/lex.go (`key`) and parse.go (IsExperimentalAggregator).
 */
export type PromQLType = 'vector' | 'matrix' | 'scalar' | 'string';

export interface FunctionSignature {
  name: string;
  args: PromQLType[];
  /** Go's Variadic: 0 exact, n > 0 up to n optional trailing arguments, -1 any number of the last type. */
  variadic?: number;
  returns: PromQLType;
  since?: string;
  removedIn?: string;
  experimental?: string;
}

export const FUNCTION_SIGNATURES_SOURCE =
  'P@v2.42.0 ... P@v3.14.0:promql/parser/functions.go, every minor tag, and prometheus@v0.316.0 (3.16.0)';

export const FUNCTION_SIGNATURES: FunctionSignature[] = [
  { name: 'abs', args: ['vector'], returns: 'vector' },
  { name: 'absent', args: ['vector'], returns: 'vector' },
  { name: 'absent_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'acos', args: ['vector'], returns: 'vector' },
  { name: 'acosh', args: ['vector'], returns: 'vector' },
  { name: 'asin', args: ['vector'], returns: 'vector' },
  { name: 'asinh', args: ['vector'], returns: 'vector' },
  { name: 'atan', args: ['vector'], returns: 'vector' },
  { name: 'atanh', args: ['vector'], returns: 'vector' },
  { name: 'avg_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'ceil', args: ['vector'], returns: 'vector' },
  { name: 'changes', args: ['matrix'], returns: 'vector' },
  { name: 'clamp', args: ['vector', 'scalar', 'scalar'], returns: 'vector' },
  { name: 'clamp_max', args: ['vector', 'scalar'], returns: 'vector' },
  { name: 'clamp_min', args: ['vector', 'scalar'], returns: 'vector' },
  { name: 'cos', args: ['vector'], returns: 'vector' },
  { name: 'cosh', args: ['vector'], returns: 'vector' },
  { name: 'count_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'day_of_month', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'day_of_week', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'day_of_year', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'days_in_month', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'deg', args: ['vector'], returns: 'vector' },
  { name: 'delta', args: ['matrix'], returns: 'vector' },
  { name: 'deriv', args: ['matrix'], returns: 'vector' },
  {
    name: 'double_exponential_smoothing',
    args: ['matrix', 'scalar', 'scalar'],
    returns: 'vector',
    since: '3.0.0',
    experimental: '>=3.0.0',
  },
  { name: 'end', args: [], returns: 'scalar', since: '3.12.0', experimental: '>=3.12.0' },
  { name: 'exp', args: ['vector'], returns: 'vector' },
  { name: 'first_over_time', args: ['matrix'], returns: 'vector', since: '3.7.0', experimental: '>=3.7.0 <3.14.0' },
  { name: 'floor', args: ['vector'], returns: 'vector' },
  { name: 'histogram_avg', args: ['vector'], returns: 'vector', since: '2.51.0' },
  { name: 'histogram_count', args: ['vector'], returns: 'vector' },
  { name: 'histogram_fraction', args: ['scalar', 'scalar', 'vector'], returns: 'vector' },
  { name: 'histogram_quantile', args: ['scalar', 'vector'], returns: 'vector' },
  {
    name: 'histogram_quantiles',
    args: ['vector', 'string', 'scalar', 'scalar'],
    variadic: 9,
    returns: 'vector',
    since: '3.11.0',
    experimental: '>=3.11.0',
  },
  { name: 'histogram_stddev', args: ['vector'], returns: 'vector', since: '2.47.0' },
  { name: 'histogram_stdvar', args: ['vector'], returns: 'vector', since: '2.47.0' },
  { name: 'histogram_sum', args: ['vector'], returns: 'vector' },
  { name: 'holt_winters', args: ['matrix', 'scalar', 'scalar'], returns: 'vector', removedIn: '3.0.0' },
  { name: 'hour', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'idelta', args: ['matrix'], returns: 'vector' },
  { name: 'increase', args: ['matrix'], returns: 'vector' },
  {
    name: 'info',
    args: ['vector', 'vector'],
    variadic: 1,
    returns: 'vector',
    since: '2.55.0',
    experimental: '>=2.55.0',
  },
  {
    name: 'integral',
    args: ['matrix', 'scalar'],
    variadic: 1,
    returns: 'vector',
    since: '3.16.0',
    experimental: '>=3.16.0',
  },
  { name: 'irate', args: ['matrix'], returns: 'vector' },
  { name: 'label_join', args: ['vector', 'string', 'string', 'string'], variadic: -1, returns: 'vector' },
  { name: 'label_replace', args: ['vector', 'string', 'string', 'string', 'string'], returns: 'vector' },
  { name: 'last_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'ln', args: ['vector'], returns: 'vector' },
  { name: 'log10', args: ['vector'], returns: 'vector' },
  { name: 'log2', args: ['vector'], returns: 'vector' },
  { name: 'mad_over_time', args: ['matrix'], returns: 'vector', since: '2.49.0', experimental: '>=2.49.0' },
  { name: 'max_of', args: ['scalar', 'scalar'], returns: 'scalar', since: '3.13.0', experimental: '>=3.13.0' },
  { name: 'max_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'min_of', args: ['scalar', 'scalar'], returns: 'scalar', since: '3.13.0', experimental: '>=3.13.0' },
  { name: 'min_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'minute', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'month', args: ['vector'], variadic: 1, returns: 'vector' },
  { name: 'pi', args: [], returns: 'scalar' },
  { name: 'predict_linear', args: ['matrix', 'scalar'], returns: 'vector' },
  { name: 'present_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'quantile_over_time', args: ['scalar', 'matrix'], returns: 'vector' },
  { name: 'rad', args: ['vector'], returns: 'vector' },
  { name: 'range', args: [], returns: 'scalar', since: '3.12.0', experimental: '>=3.12.0' },
  { name: 'rate', args: ['matrix'], returns: 'vector' },
  { name: 'resets', args: ['matrix'], returns: 'vector' },
  { name: 'round', args: ['vector', 'scalar'], variadic: 1, returns: 'vector' },
  { name: 'scalar', args: ['vector'], returns: 'scalar' },
  { name: 'sgn', args: ['vector'], returns: 'vector' },
  { name: 'sin', args: ['vector'], returns: 'vector' },
  { name: 'sinh', args: ['vector'], returns: 'vector' },
  { name: 'sort', args: ['vector'], returns: 'vector' },
  {
    name: 'sort_by_label',
    args: ['vector', 'string'],
    variadic: -1,
    returns: 'vector',
    since: '2.49.0',
    experimental: '>=2.49.0',
  },
  {
    name: 'sort_by_label_desc',
    args: ['vector', 'string'],
    variadic: -1,
    returns: 'vector',
    since: '2.49.0',
    experimental: '>=2.49.0',
  },
  { name: 'sort_desc', args: ['vector'], returns: 'vector' },
  { name: 'sqrt', args: ['vector'], returns: 'vector' },
  { name: 'start', args: [], returns: 'scalar', since: '3.12.0', experimental: '>=3.12.0' },
  { name: 'start_timestamp', args: ['vector'], returns: 'vector', since: '3.14.0', experimental: '>=3.14.0' },
  { name: 'stddev_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'stdvar_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'step', args: [], returns: 'scalar', since: '3.12.0', experimental: '>=3.12.0' },
  { name: 'sum_over_time', args: ['matrix'], returns: 'vector' },
  { name: 'tan', args: ['vector'], returns: 'vector' },
  { name: 'tanh', args: ['vector'], returns: 'vector' },
  { name: 'time', args: [], returns: 'scalar' },
  { name: 'timestamp', args: ['vector'], returns: 'vector' },
  { name: 'ts_of_first_over_time', args: ['matrix'], returns: 'vector', since: '3.7.0', experimental: '>=3.7.0' },
  { name: 'ts_of_last_over_time', args: ['matrix'], returns: 'vector', since: '3.5.0', experimental: '>=3.5.0' },
  { name: 'ts_of_max_over_time', args: ['matrix'], returns: 'vector', since: '3.5.0', experimental: '>=3.5.0' },
  { name: 'ts_of_min_over_time', args: ['matrix'], returns: 'vector', since: '3.5.0', experimental: '>=3.5.0' },
  { name: 'vector', args: ['scalar'], returns: 'vector' },
  { name: 'year', args: ['vector'], variadic: 1, returns: 'vector' },
];

export interface AggregatorFact {
  name: string;
  param?: PromQLType;
  since?: string;
  experimental?: string;
  source: string;
}

/** Aggregation operators; `param` is the type of the first argument of those that take one. */
export const AGGREGATORS: AggregatorFact[] = [
  ...['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar'].map((name) => ({
    name,
    source: 'P@v2.42.0:promql/parser/lex.go',
  })),
  { name: 'topk', param: 'scalar', source: 'P@v2.42.0:promql/parser/lex.go' },
  { name: 'bottomk', param: 'scalar', source: 'P@v2.42.0:promql/parser/lex.go' },
  { name: 'quantile', param: 'scalar', source: 'P@v2.42.0:promql/parser/lex.go' },
  { name: 'count_values', param: 'string', source: 'P@v2.42.0:promql/parser/lex.go' },
  {
    name: 'limitk',
    param: 'scalar',
    since: '2.54.0',
    experimental: '>=2.54.0',
    source: 'P@v2.54.0:promql/parser/lex.go, parse.go (EnableExperimentalFunctions); absent in v2.53.0',
  },
  {
    name: 'limit_ratio',
    param: 'scalar',
    since: '2.54.0',
    experimental: '>=2.54.0',
    source: 'P@v2.54.0:promql/parser/lex.go, parse.go (EnableExperimentalFunctions); absent in v2.53.0',
  },
];

const BY_NAME = new Map(FUNCTION_SIGNATURES.map((f) => [f.name, f]));
export function functionSignature(name: string): FunctionSignature | undefined {
  return BY_NAME.get(name);
}
