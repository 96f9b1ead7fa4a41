import type { SyntaxConstructId } from '../promql/index.js';
import { atLeast } from './ranges.js';
import type { Version } from './versions.js';

/**
 * The release that introduced each version-dependent PromQL construct, and the feature flag that gates it
 * until it became the default. Sources: CHANGELOG.md at main d15adb9 (release sections named per row) and
 * promql/parser/{generated_parser.y,lex.go,parse.go} at the tags named; cmd/promtool/main.go per tag for
 * the flags promtool accepts (promtool cannot enable a gated construct before `promtoolFlagFrom`).
 */
export interface SyntaxConstructFact {
  id: SyntaxConstructId;
  what: string;
  example: string;
  since: string;
  /** --enable-feature token required from `since` until `defaultFrom` (absent: still required). */
  flag?: string;
  defaultFrom?: string;
  /** First promtool that accepts --enable-feature=<flag>; absent with a flag: no promtool before `defaultFrom` can. */
  promtoolFlagFrom?: string;
  source: string;
}

export const SYNTAX_CONSTRUCTS: SyntaxConstructFact[] = [
  {
    id: 'subquery',
    what: 'subquery',
    example: 'max_over_time(rate(x[5m])[1h:1m])',
    since: '2.7.0',
    source: 'CHANGELOG 2.7.0 #4831',
  },
  {
    id: 'at-modifier',
    what: '@ modifier',
    example: 'x @ 1700000000, x @ end()',
    since: '2.25.0',
    flag: 'promql-at-modifier',
    defaultFrom: '2.33.0',
    source: 'CHANGELOG 2.25.0 #8121, 2.33.0 #10121 (stable)',
  },
  {
    id: 'negative-offset',
    what: 'negative offset',
    example: 'x offset -5m',
    since: '2.26.0',
    flag: 'promql-negative-offset',
    defaultFrom: '2.33.0',
    source: 'CHANGELOG 2.26.0 #8487, 2.33.0 #10121 (stable)',
  },
  {
    id: 'quoted-name',
    what: 'quoted metric or label name in a selector',
    example: '{"up"}, {"job"="x"}',
    since: '2.51.0',
    source: 'P@v2.51.0:promql/parser/generated_parser.y string_identifier (absent in v2.50.0); commit a28d786',
  },
  {
    id: 'quoted-grouping-label',
    what: 'quoted label name in by/without/on/ignoring',
    example: 'sum by ("job") (x)',
    since: '2.55.0',
    source: 'P@v2.55.0:promql/parser/generated_parser.y grouping_label: STRING (absent in v2.54.0)',
  },
  // In a selector a quoted name is never validated (P@v2.55.1:generated_parser.y label_matcher: string_identifier), so
  // {"http.server.duration"} parses from 2.51 on (promtool 2.55.1 loads it, test/lint/promql-versions.test.ts);
  // a grouping label is checked with model.LabelName.IsValid, legacy unless utf8-names is on.
  {
    id: 'utf8-name',
    what: 'UTF-8 label name in by/without/on/ignoring (outside [a-zA-Z_][a-zA-Z0-9_]*)',
    example: 'sum by ("service.name") (x)',
    since: '2.55.0',
    flag: 'utf8-names',
    defaultFrom: '3.0.0',
    source:
      'P@v2.55.0:promql/parser/generated_parser.y grouping_label (IsValid); CHANGELOG 2.55.0 #14482 (utf8-names), 3.0.0 #14705 (default); promtool 2.55 has no utf8-names option (P@v2.55.1:cmd/promtool/main.go)',
  },
  {
    id: 'number-underscore',
    what: 'underscores in a number literal',
    example: '1_000_000',
    since: '2.54.0',
    source: 'CHANGELOG 2.54.0 #12821; P@v2.54.0:promql/parser/lex.go',
  },
  {
    id: 'duration-as-number',
    what: 'duration literal used as a number',
    example: 'time() - x > 10m',
    since: '2.54.0',
    source: 'CHANGELOG 2.54.0 #9138, 3.0.0 #15111 (stable); P@v2.54.0:generated_parser.y number_duration_literal',
  },
  {
    id: 'number-as-duration',
    what: 'number used as a duration (seconds)',
    example: 'x[300], x offset 60',
    since: '2.54.0',
    source:
      'CHANGELOG 2.54.0 #9138; P@v2.54.0:generated_parser.y matrix_selector/offset_expr take number_duration_literal (v2.53.0: duration only)',
  },
  {
    id: 'duration-expr',
    what: 'duration expression (arithmetic in a range, offset or step)',
    example: 'rate(x[1m * 2]), x offset (5m + 1m)',
    since: '3.4.0',
    flag: 'promql-duration-expr',
    defaultFrom: '3.14.0',
    promtoolFlagFrom: '3.10.0',
    source: 'CHANGELOG 3.4.0 #16249, 3.14.0 #19033 (default), 3.10.0 #17926 (promtool)',
  },
  {
    id: 'duration-step',
    what: 'step() in a duration',
    example: 'x[step() * 2]',
    since: '3.6.0',
    flag: 'promql-duration-expr',
    defaultFrom: '3.14.0',
    promtoolFlagFrom: '3.10.0',
    source: 'CHANGELOG 3.6.0 #16777; P@v3.6.0:promql/parser/lex.go',
  },
  {
    id: 'duration-range',
    what: 'range() in a duration',
    example: 'x[range()]',
    since: '3.10.0',
    flag: 'promql-duration-expr',
    defaultFrom: '3.14.0',
    promtoolFlagFrom: '3.10.0',
    source: 'P@v3.10.0:promql/parser/lex.go ("range": RANGE; absent in v3.9.0); CHANGELOG 3.12.0 #18623',
  },
  {
    id: 'duration-min-max-of',
    what: 'min_of()/max_of() in a duration',
    example: 'x[max_of(5m, step())]',
    since: '3.13.0',
    flag: 'promql-duration-expr',
    defaultFrom: '3.14.0',
    promtoolFlagFrom: '3.10.0',
    source: 'P@v3.13.0:promql/parser/lex.go (min_of/max_of replace the min()/max() of 3.6-3.12)',
  },
  {
    id: 'anchored',
    what: 'anchored range modifier',
    example: 'rate(x[5m] anchored)',
    since: '3.7.0',
    flag: 'promql-extended-range-selectors',
    defaultFrom: '3.16.0',
    promtoolFlagFrom: '3.10.0',
    source: 'CHANGELOG 3.7.0 #16457, 3.10.0 #17926 (promtool), 3.16.0 #19697 (stable, always on)',
  },
  {
    id: 'smoothed',
    what: 'smoothed range modifier',
    example: 'rate(x[5m] smoothed)',
    since: '3.7.0',
    flag: 'promql-extended-range-selectors',
    defaultFrom: '3.16.0',
    promtoolFlagFrom: '3.10.0',
    source: 'CHANGELOG 3.7.0 #16457, 3.10.0 #17926 (promtool), 3.16.0 #19697 (stable, always on)',
  },
  {
    id: 'fill-modifier',
    what: 'fill()/fill_left()/fill_right() binary modifier',
    example: 'x + fill(0) y',
    since: '3.10.0',
    flag: 'promql-binop-fill-modifiers',
    promtoolFlagFrom: '3.14.0',
    source: 'CHANGELOG 3.10.0 #17644, 3.14.0 #19153 (promtool accepts the flag)',
  },
];

export function syntaxConstructFact(id: SyntaxConstructId): SyntaxConstructFact {
  return SYNTAX_CONSTRUCTS.find((f) => f.id === id)!;
}

export type ConstructAvailability = 'yes' | 'too-old' | 'needs-flag' | 'flag-unknown';

/** Whether a release parses the construct; `features` are the --enable-feature tokens (undefined: not known). */
export function constructAvailability(
  fact: SyntaxConstructFact,
  v: Version,
  features: ReadonlySet<string> | undefined,
): ConstructAvailability {
  if (!atLeast(v, fact.since)) return 'too-old';
  if (!fact.flag || (fact.defaultFrom && atLeast(v, fact.defaultFrom))) return 'yes';
  if (features?.has(fact.flag)) return 'yes';
  return features ? 'needs-flag' : 'flag-unknown';
}

/** Whether that release's `promtool check rules` accepts the construct (with the flag passed when it can be). */
export function promtoolAccepts(fact: SyntaxConstructFact, v: Version): boolean {
  if (!atLeast(v, fact.since)) return false;
  if (!fact.flag || (fact.defaultFrom && atLeast(v, fact.defaultFrom))) return true;
  return Boolean(fact.promtoolFlagFrom && atLeast(v, fact.promtoolFlagFrom));
}
