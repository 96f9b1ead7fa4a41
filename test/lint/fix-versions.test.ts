import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixFiles } from '../../src/lint/index.js';
import { tempDir } from '../harness/index.js';
import { CORPUS } from './helpers.js';
import { labPromtool, runPromtool } from './promtool.js';

/**
 * Issue 11: `lint prom3` outputs checked by the promtool of the version they are meant for. Dual fixes must
 * keep loading on the running 2.x (2.48.1, 2.55.1); the cutover set must load on the 3.x target (3.8.1, the
 * newest 3.x), for every corpus file that promtool of the running version accepted before.
 */
function corpusCopy(t: TestContext): { dir: string; configs: string[]; rules: string[] } {
  const dir = tempDir(t, 'stackshift-fixver-');
  cpSync(CORPUS, dir, { recursive: true });
  const configs = readdirSync(join(dir, 'configs')).map((f) => join('configs', f));
  const rules = readdirSync(join(dir, 'rules'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join('rules', f));
  return { dir, configs, rules };
}

const check = (bin: string, kind: 'config' | 'rules', file: string, features: string[] = []) =>
  runPromtool(bin, [
    'check',
    kind,
    ...(kind === 'config' ? ['--syntax-only'] : []),
    ...(features.length ? [`--enable-feature=${features.join(',')}`] : []),
    file,
  ]);

for (const from of ['2.48.1', '2.55.1']) {
  test(
    `dual fixes over the corpus: promtool ${from} (real) still accepts what it accepted, and a second run changes nothing`,
    { skip: existsSync(CORPUS) ? false : 'no corpus' },
    async (t) => {
      const bin = labPromtool(from);
      const { dir, configs, rules } = corpusCopy(t);
      const ok = [...configs.map((f) => ['config', f] as const), ...rules.map((f) => ['rules', f] as const)].filter(
        ([k, f]) => check(bin, k, join(dir, f)).ok,
      );
      assert.ok(ok.length >= 10, `${ok.length} corpus files load on ${from}`);
      const res = await fixFiles([dir], { from, to: '3.8.1', stage: 'dual' });
      assert.deepEqual(res.rejected, []);
      assert.ok(res.files.length > 0, 'the dual stage changed something');
      const broken = ok
        .filter(([k, f]) => !check(bin, k, join(dir, f)).ok)
        .map(([k, f]) => `${f}: ${check(bin, k, join(dir, f)).out.trim().split('\n').slice(-2).join(' ')}`);
      assert.deepEqual(broken, []);
      assert.equal((await fixFiles([dir], { from, to: '3.8.1', stage: 'dual' })).files.length, 0);
    },
  );
}

for (const to of ['3.8.1', '3.16.0']) {
  test(
    `cutover set over the corpus: what promtool 2.55.1 accepted, promtool ${to} (real) accepts after the cutover fixes`,
    { skip: existsSync(CORPUS) ? false : 'no corpus' },
    async (t) => {
      const before = labPromtool('2.55.1');
      const after = labPromtool(to);
      const { dir, configs, rules } = corpusCopy(t);
      const ok = [...configs.map((f) => ['config', f] as const), ...rules.map((f) => ['rules', f] as const)].filter(
        ([k, f]) => check(before, k, join(dir, f)).ok,
      );
      const out = tempDir(t, 'stackshift-cutover-');
      const res = await fixFiles([dir], { from: '2.55.1', to, stage: 'cutover', outDir: out });
      assert.deepEqual(res.rejected, []);
      // holt_winters becomes double_exponential_smoothing, experimental on 3.x: the fixed flags enable it, so does promtool here
      const features = ['promql-experimental-functions'];
      const refused = ok
        .filter(([k, f]) => !check(after, k, join(out, f), features).ok)
        .map(([k, f]) => `${f}: ${check(after, k, join(out, f), features).out.trim().split('\n').slice(-3).join(' ')}`);
      assert.deepEqual(refused, []);
      // and without the cutover fixes 3.x refuses some of them: the test can tell the difference
      const unfixed = ok.filter(([k, f]) => !check(after, k, join(dir, f), features).ok);
      assert.ok(unfixed.length > 0, `promtool ${to} loads every unfixed corpus file: nothing to prove`);
    },
  );
}
