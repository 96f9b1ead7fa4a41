import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atLeast, parseVersion, SYNTAX_CONSTRUCTS, constructAvailability } from '../../src/compat/index.js';
import { lintPromQL } from '../../src/lint/index.js';
import { tempDir } from '../harness/index.js';
import { byRule, lintTree } from './helpers.js';
import { CORPUS } from './helpers.js';
import { corpusRuleExpressions, VERSIONED_EXPRESSIONS } from './promql-corpus.js';
import { labPromtool, PROMTOOL_VERSIONS, runPromtool } from './promtool.js';

const rules = (exprs: string[]) =>
  `groups:\n${exprs.map((e, i) => `  - name: e${i}\n    rules:\n      - record: r${i}\n        expr: ${JSON.stringify(e)}\n`).join('')}`;

test('issue 12 item 5: syntax newer than both 2.55.1 and 3.5.0, and a type error, are errors with their location', async (t) => {
  const exprs = ['rate(up[1m] anchored)', 'x + fill(0) y', 'rate(up[1m * 2])', 'rate(hi)'];
  const { result } = await lintTree(t, { 'app.rules.yml': rules(exprs) }, { from: '2.55.1', to: '3.5.0' });
  const found = [...byRule(result, 'promql-syntax-version'), ...byRule(result, 'promql-type-error')].filter(
    (f) => f.severity === 'error',
  );
  assert.deepEqual(
    found.map((f) => `${f.line}:${f.column} ${f.ruleId}`),
    [
      '5:28 promql-syntax-version',
      '9:20 promql-syntax-version',
      '13:24 promql-syntax-version',
      '17:21 promql-type-error',
    ],
  );
  assert.match(
    found[0].message,
    /anchored range modifier "anchored": neither the running 2\.55\.1 nor the target 3\.5\.0 parses it \(it exists from 3\.7\.0\)/,
  );
  assert.match(found[1].message, /fill\(\).*exists from 3\.10\.0/);
  assert.match(
    found[2].message,
    /running 2\.55\.1 does not parse it \(it exists from 3\.4\.0\); the target 3\.5\.0 parses it only with --enable-feature=promql-duration-expr/,
  );
  assert.match(found[3].message, /expected type range vector in call to function "rate", got instant vector/);
});

test('each construct: refused one minor before its release, accepted from it (with its flag while it needs one)', () => {
  for (const fact of SYNTAX_CONSTRUCTS) {
    const since = parseVersion(fact.since)!;
    const before = parseVersion(
      since.patch > 0
        ? `${since.major}.${since.minor}.0`
        : since.minor > 0
          ? `${since.major}.${since.minor - 1}.0`
          : '2.55.1',
    )!;
    const flags = new Set(fact.flag ? [fact.flag] : []);
    assert.equal(constructAvailability(fact, before, flags), 'too-old', `${fact.id} on ${before.raw}`);
    assert.equal(constructAvailability(fact, since, flags), 'yes', `${fact.id} on ${since.raw}`);
    if (fact.flag) {
      const gated = fact.defaultFrom ? (atLeast(since, fact.defaultFrom) ? undefined : since) : since;
      if (gated)
        assert.equal(constructAvailability(fact, gated, new Set()), 'needs-flag', `${fact.id} without ${fact.flag}`);
    }
  }
  // and the examples of each row are found in the tree as that construct
  for (const fact of SYNTAX_CONSTRUCTS) {
    const example = fact.example.split(/, (?=[a-z{(])/)[0];
    const f = lintPromQL(example, { from: '2.0.0', to: '2.0.0' }).filter((x) => x.ruleId === 'promql-syntax-version');
    assert.ok(
      f.some((x) => x.message.startsWith(fact.what)),
      `${fact.id}: ${example} -> ${f.map((x) => x.message).join('; ')}`,
    );
  }
});

test(
  'plain expressions from the corpus raise no version or type finding for 2.42 -> 3.16',
  { skip: existsSync(CORPUS) ? false : 'no corpus' },
  () => {
    const exprs = corpusRuleExpressions(CORPUS);
    assert.ok(exprs.length > 100, `${exprs.length} expressions`);
    const noisy = exprs.flatMap((e) =>
      lintPromQL(e, { from: '2.42.0', to: '3.16.0' })
        .filter((f) => f.ruleId === 'promql-syntax-version' || f.ruleId === 'promql-type-error')
        .map((f) => `${e}: ${f.message}`),
    );
    assert.deepEqual(noisy, []);
  },
);

/** --enable-feature tokens a promtool of version v takes for PromQL (P@<tag>:cmd/promtool/main.go). */
function promtoolFeatures(v: string): string[] {
  const flags = new Set<string>();
  for (const f of SYNTAX_CONSTRUCTS)
    if (f.flag && f.promtoolFlagFrom && atLeast(v, f.promtoolFlagFrom)) flags.add(f.flag);
  if (atLeast(v, '3.4.0')) flags.add('promql-experimental-functions');
  return [...flags].sort();
}

const REJECTING = new Set([
  'promql-syntax',
  'promql-syntax-version',
  'promql-type-error',
  'function-too-new',
  'holt-winters-removed',
  'experimental-function',
]);

/** What stackshift predicts promtool `v` says of each expression: refused (true) or loaded (false). */
function predicted(expr: string, v: string, features: string[]): boolean {
  return lintPromQL(expr, { from: v, to: v, features }).some(
    (f) => REJECTING.has(f.ruleId) && (f.ruleId !== 'promql-syntax-version' || f.severity === 'error'),
  );
}

for (const version of PROMTOOL_VERSIONS) {
  test(`promtool ${version} (real) refuses exactly the expressions stackshift says it refuses`, (t) => {
    const bin = labPromtool(version);
    const exprs = [...VERSIONED_EXPRESSIONS, ...(existsSync(CORPUS) ? corpusRuleExpressions(CORPUS) : [])];
    const file = join(tempDir(t, 'stackshift-promql-'), 'exprs.yml');
    writeFileSync(file, rules(exprs));
    const features = promtoolFeatures(version);
    const r = runPromtool(bin, [
      'check',
      'rules',
      ...(features.length ? [`--enable-feature=${features.join(',')}`] : []),
      file,
    ]);
    const refused = new Set([...r.out.matchAll(/group "e(\d+)", rule \d+/g)].map((m) => Number(m[1])));
    assert.ok(r.ok || refused.size > 0, `promtool failed without naming a rule:\n${r.out}`);
    const mismatches = exprs.flatMap((e, i) => {
      const says = refused.has(i);
      const we = predicted(e, version, features);
      if (says === we) return [];
      const line = r.out.split('\n').find((l) => l.includes(`group "e${i}",`)) ?? '(accepted)';
      return [
        `${we ? 'we refuse, promtool loads' : 'promtool refuses, we load'}: ${e}  -- ${line.replace(/^.*could not parse expression: /, '')}`,
      ];
    });
    assert.deepEqual(mismatches, []);
    // the corpus discriminates: it holds expressions this version refuses and ones it loads
    assert.ok(refused.size >= 15 && refused.size < exprs.length - 100, `${refused.size} refused of ${exprs.length}`);
  });
}
