import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_FLAGS, LATEST, RULES, featureFlagSince, parseVersion } from '../../src/compat/index.js';
import { factsChangesProvider } from '../../src/upgrade/index.js';
import { lintTree } from '../lint/helpers.js';

/** The release before `v` on its own line, or the last 2.x: a stage to it must not cross `v`. */
function before(v: string): string {
  const p = parseVersion(v)!;
  return p.minor > 0 ? `${p.major}.${p.minor - 1}.0` : LATEST.v2;
}

test('upgrade plan and lint know the same feature flags: a server with every known token enabled gets one detected plan row per fact, and each fact names a lint rule', () => {
  // through the plan's own detection from the server's flags, not a comparison of the table with its own map
  const server = { flags: { 'enable-feature': FEATURE_FLAGS.map((f) => f.name).join(',') } };
  const rows = factsChangesProvider({ from: LATEST.v2, to: LATEST.v3 }, server).filter((c) => c.id.startsWith('ff-'));
  assert.deepEqual(
    rows.map((r) => [r.id, r.detected]).sort(),
    FEATURE_FLAGS.map((f) => [`ff-${f.name}`, 'yes']).sort(),
  );
  const flagRules = new Set(FEATURE_FLAGS.map((f) => f.rule));
  for (const id of flagRules)
    assert.ok(
      RULES.some((r) => r.id === id),
      `${id} is a lint rule`,
    );
});

for (const fact of FEATURE_FLAGS) {
  const since = featureFlagSince(fact);

  test(`--enable-feature=${fact.name}: upgrade plan row from its one fact`, () => {
    const server = { flags: { 'enable-feature': `exemplar-storage,${fact.name}` } };
    const row = factsChangesProvider({ from: LATEST.v2, to: LATEST.v3 }, server).find(
      (c) => c.id === `ff-${fact.name}`,
    );
    assert.ok(row, `a 2.55 -> ${LATEST.v3} stage lists ${fact.name}`);
    assert.deepEqual(
      {
        detected: row.detected,
        phase: row.phase,
        severity: row.severity,
        outcome: row.outcome,
        fix: row.fix,
        source: row.source,
      },
      {
        detected: 'yes',
        phase: fact.phase,
        severity: fact.severity,
        outcome: fact.outcome,
        fix: fact.fix,
        source: fact.source,
      },
    );
    assert.ok(
      !factsChangesProvider({ from: '2.0.0', to: before(since) }, server).some((c) => c.id === `ff-${fact.name}`),
      `no row before ${since}`,
    );
  });

  test(`--enable-feature=${fact.name}: lint rule ${fact.rule} fires, and agrees on the phase`, async (t) => {
    const files = { 'p.args': `--enable-feature=${fact.name}\n` };
    const { result } = await lintTree(t, files, { from: LATEST.v2, to: LATEST.v3 });
    const onToken = result.findings.filter((f) => f.message.includes(fact.name));
    assert.deepEqual(
      onToken.map((f) => f.ruleId),
      [fact.rule],
      JSON.stringify(onToken.map((f) => f.message)),
    );
    const rule = RULES.find((r) => r.id === fact.rule)!;
    assert.equal(
      rule.phase === 'dual',
      fact.phase === 'dual',
      `${fact.rule} is ${rule.phase}, the fact says ${fact.phase}: one of them applies the fix on the wrong side of the swap`,
    );
    // a config-only replacement has no mechanical edit; every edit the rule offers is valid from where the fact says
    if (onToken[0].fix) assert.equal(onToken[0].fix.validFrom, fact.fixValidFrom);
    const early = await lintTree(t, files, { from: LATEST.v2, to: before(since) });
    assert.equal(
      early.result.findings.filter((f) => f.ruleId === fact.rule).length,
      0,
      `${fact.rule} is silent before ${since}`,
    );
  });
}

test('a token FEATURE_FLAGS does not know fires no feature-flag rule', async (t) => {
  const { result } = await lintTree(
    t,
    { 'p.args': '--enable-feature=exemplar-storage,memory-snapshot-on-shutdown\n' },
    { from: LATEST.v2, to: LATEST.v3 },
  );
  const flagRules = new Set<string>(FEATURE_FLAGS.map((f) => f.rule));
  assert.deepEqual(
    result.findings.filter((f) => flagRules.has(f.ruleId)),
    [],
  );
});
