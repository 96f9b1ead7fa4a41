import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHANGE_FACTS,
  CONFIG_KEYS_SINCE,
  FEATURE_FLAGS,
  REMOVED_CLI_FLAGS,
  SCRAPE_PROTOCOLS,
  atLeast,
  sectionKeys,
} from '../../src/compat/index.js';
import { tempDir } from '../harness/index.js';
import { labPrometheusBinary, labPromtool, runPromtool } from '../lint/promtool.js';

/**
 * Issue 11, "facts executed, not only cited": each compatibility claim of src/compat that a real binary can
 * settle, settled by the binaries of the lab (2.55.1 the bridge, 3.8.1 the runbook's target, 3.16.0 the
 * newest 3.x). A version that is not built fails with the command that builds it.
 */
const V2 = '2.55.1';
const V3 = ['3.8.1', '3.16.0'];

function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const rule = (expr: string) =>
  `groups:\n  - name: g\n    rules:\n      - record: r\n        expr: ${JSON.stringify(expr)}\n`;

test('alerting api_version: v1 loads on 2.55.1 and is refused by every 3.x promtool with the message the facts quote', (t) => {
  const fact = CHANGE_FACTS.find((f) => f.id === 'cfg-alertmanager-api-v1')!;
  const file = writeFile(
    tempDir(t),
    'prometheus.yml',
    'alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs: [{targets: ["am:9093"]}]\n',
  );
  assert.ok(
    runPromtool(labPromtool(V2), ['check', 'config', '--syntax-only', file]).ok,
    '2.55.1 loads api_version: v1',
  );
  for (const v of V3) {
    const r = runPromtool(labPromtool(v), ['check', 'config', '--syntax-only', file]);
    assert.equal(r.ok, false, `${v} refuses it`);
    assert.match(r.out, /expected Alertmanager api version to be one of \[v2\] but got v1/);
    assert.match(fact.outcome, /expected Alertmanager api version to be one of \[v2\]/);
  }
});

test('holt_winters: loads on 2.55.1, refused by 3.x; double_exponential_smoothing: refused by 2.55.1, on 3.x only with promql-experimental-functions', (t) => {
  const dir = tempDir(t);
  const hw = writeFile(dir, 'hw.yml', rule('holt_winters(x[1h], 0.3, 0.3)'));
  const des = writeFile(dir, 'des.yml', rule('double_exponential_smoothing(x[1h], 0.3, 0.3)'));
  assert.ok(runPromtool(labPromtool(V2), ['check', 'rules', hw]).ok);
  assert.equal(runPromtool(labPromtool(V2), ['check', 'rules', des]).ok, false);
  for (const v of V3) {
    const bin = labPromtool(v);
    assert.match(runPromtool(bin, ['check', 'rules', hw]).out, /unknown function with name "holt_winters"/, v);
    assert.match(
      runPromtool(bin, ['check', 'rules', des]).out,
      /function "double_exponential_smoothing" is not enabled/,
      v,
    );
    assert.ok(runPromtool(bin, ['check', 'rules', '--enable-feature=promql-experimental-functions', des]).ok, v);
  }
  const change = CHANGE_FACTS.find((f) => f.id === 'promql-holt_winters')!;
  assert.equal(change.phase, 'cutover', 'no rule file loads on both: the rename is a cutover change');
});

test('scrape_classic_histograms <-> always_scrape_classic_histograms is a hard cutover (each refused on the other side)', (t) => {
  const dir = tempDir(t);
  const old = writeFile(dir, 'old.yml', 'scrape_configs:\n  - job_name: a\n    scrape_classic_histograms: true\n');
  const neu = writeFile(
    dir,
    'new.yml',
    'scrape_configs:\n  - job_name: a\n    always_scrape_classic_histograms: true\n',
  );
  const check = (v: string, f: string) => runPromtool(labPromtool(v), ['check', 'config', '--syntax-only', f]);
  assert.ok(check(V2, old).ok);
  assert.match(check(V2, neu).out, /field always_scrape_classic_histograms not found/);
  for (const v of V3) {
    assert.match(check(v, old).out, /field scrape_classic_histograms not found/, v);
    assert.ok(check(v, neu).ok, v);
  }
});

test('scrape_protocols values: each accepted from the release SCRAPE_PROTOCOLS names, refused before', (t) => {
  const dir = tempDir(t);
  for (const [proto, since] of Object.entries(SCRAPE_PROTOCOLS)) {
    const file = writeFile(dir, `${proto}.yml`, `global:\n  scrape_protocols: [${proto}]\n`);
    for (const v of [V2, ...V3]) {
      const r = runPromtool(labPromtool(v), ['check', 'config', '--syntax-only', file]);
      assert.equal(r.ok, atLeast(v, since), `${proto} on ${v}: ${r.out.trim().split('\n').pop()}`);
    }
  }
});

test('removed command-line flags: 3.x refuses to start with each ("unknown long flag"), 2.55.1 parses them', (t) => {
  const data = tempDir(t);
  for (const f of REMOVED_CLI_FLAGS) {
    const arg =
      f.flag === 'storage.tsdb.allow-overlapping-blocks'
        ? `--${f.flag}`
        : `--${f.flag}=${f.defaults.find((d) => d) ?? 'x'}`;
    // a config that does not exist makes every version exit right after parsing its flags
    const args = [arg, '--config.file=/nonexistent/prometheus.yml', `--storage.tsdb.path=${data}`];
    const old = spawnSync(labPrometheusBinary(V2), args, { encoding: 'utf8', timeout: 60_000 });
    assert.doesNotMatch(`${old.stdout}${old.stderr}`, /unknown long flag/, `${f.flag} on ${V2}`);
    for (const v of V3) {
      if (!atLeast(v, f.removedIn)) continue;
      const r = spawnSync(labPrometheusBinary(v), args, { encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(r.status, 0);
      assert.match(
        `${r.stdout}${r.stderr}`,
        new RegExp(`unknown long flag '--${f.flag.replace(/\./g, '\\.')}'`),
        `${f.flag} on ${v}`,
      );
    }
  }
});

test('feature flags removed in 3.0: 3.x logs "Unknown option for --enable-feature" and goes on', (t) => {
  const data = tempDir(t);
  const removed = FEATURE_FLAGS.filter((f) => f.removedIn === '3.0.0').map((f) => f.name);
  assert.ok(removed.length >= 10);
  for (const v of V3) {
    const r = spawnSync(
      labPrometheusBinary(v),
      [
        `--enable-feature=${removed.join(',')}`,
        '--config.file=/nonexistent/prometheus.yml',
        `--storage.tsdb.path=${data}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const out = `${r.stdout}${r.stderr}`;
    const unknown = [...out.matchAll(/Unknown option for --enable-feature" option=(\S+)/g)].map((m) => m[1]).sort();
    assert.deepEqual(unknown, [...removed].sort(), v);
    assert.match(out, /Error loading config/, `${v} went on to load the config`);
  }
});

test('the hand-written key introductions (CONFIG_KEYS_SINCE, used by upgrade plan) agree with the generated key table', () => {
  const where: Record<string, string> = {
    global: 'prom.GlobalConfig',
    scrape: 'prom.ScrapeConfig',
    'storage.tsdb': 'prom.TSDBConfig',
    remote_write: 'prom.RemoteWriteConfig',
    otlp: 'prom.OTLPConfig',
  };
  const wrong = CONFIG_KEYS_SINCE.flatMap((f) => {
    const spec = sectionKeys(where[f.where]).find((s) => s.key === f.key);
    return spec?.since === f.since
      ? []
      : [`${f.where}.${f.key}: facts say ${f.since}, the table ${spec ? (spec.since ?? '<=2.42.0') : 'never'}`];
  });
  assert.deepEqual(wrong, []);
});
