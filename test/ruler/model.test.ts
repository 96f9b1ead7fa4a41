import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../harness/index.js';
import {
  backfillExclusion,
  describeChanges,
  memoryRecords,
  openRulesRecords,
  normaliseExpr,
  parseListing,
  planSync,
  sameGroup,
  groupHash,
  type RuleGroup,
  type SourceGroup,
} from '../../src/ruler/index.js';

/** The canonical comparison and the plan, without a server. */
const g = (over: Partial<RuleGroup> = {}, rule: Partial<RuleGroup['rules'][number]> = {}): RuleGroup => ({
  name: 'g',
  rules: [
    { alert: 'A', expr: 'sum by (job) (rate(x{a="b  c"}[5m])) > 1', for: '5m', labels: { severity: 'page' }, ...rule },
  ],
  ...over,
});

test('formatting is no difference: whitespace and comments in PromQL, 300s vs 5m, for: 0s vs none, empty maps, label order', () => {
  assert.ok(sameGroup(g(), g({}, { expr: 'sum by(job)(\n  rate( x{a="b  c"}[5m] ) # errors\n) > 1', for: '300s' })));
  assert.ok(sameGroup(g({ interval: '1m' }), g({ interval: '60s' })));
  assert.ok(sameGroup(g({}, { for: undefined }), g({}, { for: '0s' })));
  assert.ok(sameGroup(g({}, { annotations: {} }), g({}, { annotations: undefined })));
  assert.ok(sameGroup(g({}, { labels: { a: '1', b: '2' } }), g({}, { labels: { b: '2', a: '1' } })));
});

test('meaning is a difference: whitespace inside a string literal, a threshold, rule order, a label value', () => {
  assert.ok(!sameGroup(g(), g({}, { expr: 'sum by (job) (rate(x{a="b c"}[5m])) > 1' })));
  assert.ok(!sameGroup(g(), g({}, { expr: 'sum by (job) (rate(x{a="b  c"}[5m])) > 2' })));
  assert.ok(!sameGroup(g(), g({}, { labels: { severity: 'ticket' } })));
  const two = g({
    rules: [
      { record: 'a:b', expr: 'up' },
      { record: 'c:d', expr: 'a:b' },
    ],
  });
  assert.ok(!sameGroup(two, { ...two, rules: [...two.rules].reverse() }));
  assert.deepEqual(describeChanges(g(), g({}, { labels: { severity: 'ticket' } })), [
    '~ rule 1 alert A labels.severity: "page" -> "ticket"',
  ]);
  assert.equal(normaliseExpr('sum  by (job)\n (a + b) # c\n'), 'sum by(job)(a+b)');
});

test('the plan: create, unchanged, update (Mimir holds what we wrote), conflicts (edited, deleted, never written), remove', () => {
  const src = (name: string, expr = 'up'): SourceGroup => ({
    namespace: 'ns',
    file: 'f.yaml',
    line: 1,
    group: { name, rules: [{ record: `r:${name}`, expr }] },
  });
  const desired = [
    src('new'),
    src('same'),
    src('changed', 'up + 1'),
    src('edited', 'up * 2'),
    src('gone'),
    src('foreign', 'up - 1'),
  ];
  const remote = parseListing(`ns:
  - {name: same, rules: [{record: "r:same", expr: up}]}
  - {name: changed, rules: [{record: "r:changed", expr: up}]}
  - {name: edited, rules: [{record: "r:edited", expr: up * 3}]}
  - {name: foreign, rules: [{record: "r:foreign", expr: up}]}
  - {name: stale, rules: [{record: "r:stale", expr: up}]}
other:
  - {name: x, rules: [{record: "r:x", expr: up}]}
`);
  const records = memoryRecords();
  records.put('ns', 'changed', groupHash({ name: 'changed', rules: [{ record: 'r:changed', expr: 'up' }] }));
  records.put('ns', 'edited', groupHash({ name: 'edited', rules: [{ record: 'r:edited', expr: 'up * 2' }] }));
  records.put('ns', 'gone', groupHash({ name: 'gone', rules: [{ record: 'r:gone', expr: 'up' }] }));
  const plan = Object.fromEntries(
    planSync(desired, remote, records).map((i) => [
      `${i.namespace}/${i.group}`,
      `${i.action}${i.reason ? `:${i.reason}` : ''}`,
    ]),
  );
  assert.deepEqual(plan, {
    'ns/new': 'create',
    'ns/same': 'unchanged',
    'ns/changed': 'update',
    'ns/edited': 'conflict:edited-in-mimir',
    'ns/gone': 'conflict:deleted-in-mimir',
    'ns/foreign': 'conflict:not-written-by-stackshift',
    'ns/stale': 'remove',
  });
});

test("backfill advice: a selector that keeps every series but the recording rules' output", () => {
  assert.equal(
    backfillExclusion(['job:b:rate5m', 'job:a:rate5m', 'job:a:rate5m']),
    `--match '{__name__=~".+",__name__!~"job:a:rate5m|job:b:rate5m"}'`,
  );
});

test('one writer per state file: a sync is refused while another process holds the state; a dry run only reads', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'rules.db');
  const seed = openRulesRecords(file, 'http://m/prometheus tenant=a', false);
  seed.put('ns', 'g', 'h1');
  seed.close();
  // another process takes the lease and keeps it
  const mod = new URL('../../src/ruler/index.js', import.meta.url).href;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { openRulesRecords } = await import(${JSON.stringify(mod)}); openRulesRecords(${JSON.stringify(file)}, 'x', false); console.log('held'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d) => String(d).includes('held') && res());
    child.on('exit', (c) => rej(new Error(`child exited ${c}`)));
  });
  assert.throws(
    () => openRulesRecords(file, 'http://m/prometheus tenant=a', false),
    /in use by another rules \(pid \d+/,
  );
  const reader = openRulesRecords(file, 'http://m/prometheus tenant=a', true);
  assert.equal(reader.get('ns', 'g')?.hash, 'h1', 'a dry run reads the records without the lease');
  reader.close();
  const other = openRulesRecords(file, 'http://m/prometheus tenant=b', true);
  assert.equal(other.get('ns', 'g'), undefined, 'records are per ruler and tenant');
  other.close();
  openRulesRecords(join(dir, 'never.db'), 'x', true).close();
  assert.equal(existsSync(join(dir, 'never.db')), false, 'a dry run creates no state file');
});
