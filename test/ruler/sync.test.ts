import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { labHas, promtoolBinary } from '../../src/lab/index.js';
import { runCli, STACK_LINE, tempDir } from '../harness/index.js';
import { rulerUnderTest, type RulerUnderTest } from './ruler-target.js';

/**
 * `rules sync` against the Mimir ruler contract double (or a real Mimir: STACKSHIFT_TEST_MIMIR_URL), run as
 * a user runs it: the built CLI in a child process, every request it makes recorded by a proxy.
 */

/** A rule file written the way people write them: 300s for 5m, a folded expression, quoted keys. */
function alertsFile(threshold = '0.05'): string {
  return `groups:
  - name: api-alerts
    interval: 60s
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
            /
          sum by (job) (rate(http_requests_total[5m])) > ${threshold}
        for: 300s
        labels: { severity: page, "team": api }
        annotations:
          summary: "High error rate on {{ $labels.job }}"
  - name: api-recording
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - record: job:http_errors:rate5m
        expr: sum by (job)(rate(http_requests_total{code=~"5.."}[5m]))
        labels: {}
`;
}

interface Setup {
  work: string;
  rulesDir: string;
  ns: string;
  state: string;
  r: RulerUnderTest;
}

async function setup(t: import('node:test').TestContext, ruler?: RulerUnderTest): Promise<Setup> {
  const r = ruler ?? (await rulerUnderTest(t));
  const work = tempDir(t);
  const rulesDir = join(work, 'rules');
  mkdirSync(rulesDir);
  const ns = `${r.id}-api`;
  writeFileSync(join(rulesDir, `${ns}.yaml`), alertsFile());
  return { work, rulesDir, ns, state: join(work, 'rules.db'), r };
}

function sync(s: Setup, extra: string[] = []) {
  return runCli(
    [
      'rules',
      'sync',
      '--rules',
      s.rulesDir,
      '--mimir-url',
      s.r.url,
      '--tenant',
      s.r.tenant,
      '--state',
      s.state,
      '--backup-dir',
      join(s.work, 'backup'),
      ...extra,
    ],
    { cwd: s.work },
  );
}

async function remoteGroups(s: Setup, ns: string): Promise<Record<string, unknown>[]> {
  const res = await s.r.get(`/${encodeURIComponent(ns)}`);
  if (res.status === 404) return [];
  assert.equal(res.status, 200, res.text);
  const doc = parseYaml(res.text) as Record<string, Record<string, unknown>[]> | null;
  return doc?.[ns] ?? [];
}

test('first sync creates every group; the second changes nothing (no POST, no DELETE) although Mimir reformats what it stores', async (t) => {
  const s = await setup(t);
  const first = await sync(s);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, new RegExp(`\\+ ${s.ns}/api-alerts  create .*-> applied`));
  assert.match(first.stdout, new RegExp(`\\+ ${s.ns}/api-recording  create .*-> applied`));
  assert.match(
    first.stdout,
    /summary: 2 to create, 0 to update, 0 unchanged, 0 to remove, 0 conflict\(s\); sent 2 set\(s\), 0 delete\(s\)/,
  );
  assert.deepEqual(
    s.r.writes().map((c) => c.replace(s.ns, 'NS')),
    ['POST /prometheus/config/v1/rules/NS', 'POST /prometheus/config/v1/rules/NS'],
  );
  const stored = await remoteGroups(s, s.ns);
  assert.deepEqual(stored.map((g) => g.name).sort(), ['api-alerts', 'api-recording']);
  const alert = (stored.find((g) => g.name === 'api-alerts')!.rules as Record<string, unknown>[])[0]!;
  assert.equal(alert.for, '5m', 'the ruler stores 300s as 5m: the texts differ from the file');

  s.r.calls.length = 0;
  const second = await sync(s);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.deepEqual(s.r.writes(), [], `second sync sent changes: ${s.r.writes().join(', ')}`);
  assert.ok(s.r.calls.length > 0, 'the second sync read the ruler');
  assert.match(
    second.stdout,
    /summary: 0 to create, 0 to update, 2 unchanged, 0 to remove, 0 conflict\(s\); sent 0 set\(s\), 0 delete\(s\)/,
  );
});

test('a group edited in Mimir after the sync is shown in the diff and not overwritten without --force (exit 1); --force overwrites it', async (t) => {
  const s = await setup(t);
  assert.equal((await sync(s)).code, 0);
  // someone edits the group in Mimir: another threshold
  const status = await s.r.post(
    s.ns,
    `name: api-alerts
interval: 1m
rules:
  - alert: HighErrorRate
    expr: sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.5
    for: 5m
    labels: { severity: page, team: api }
    annotations: { summary: "High error rate on {{ $labels.job }}" }
`,
  );
  assert.equal(status, 202);
  s.r.calls.length = 0;
  const blocked = await sync(s);
  assert.equal(blocked.code, 1, blocked.stdout + blocked.stderr);
  assert.match(
    blocked.stdout,
    new RegExp(
      `! ${s.ns}/api-alerts  conflict \\(edited in Mimir after stackshift last wrote it\\).*not overwritten: pass --force`,
    ),
  );
  assert.match(blocked.stdout, /~ rule 1 alert HighErrorRate expr: .*> 0\.5 {2}-> {2}.*> 0\.05/);
  assert.deepEqual(s.r.writes(), [], 'nothing is written while a conflict blocks');
  const still = (await remoteGroups(s, s.ns)).find((g) => g.name === 'api-alerts')!;
  assert.match(String((still.rules as Record<string, unknown>[])[0]!.expr), /> 0\.5$/);

  const forced = await sync(s, ['--force']);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  assert.match(forced.stdout, /overwritten \(--force\)/);
  const after = (await remoteGroups(s, s.ns)).find((g) => g.name === 'api-alerts')!;
  assert.match(String((after.rules as Record<string, unknown>[])[0]!.expr), /> 0\.05\s*$/);
  const backups = readdirSync(join(s.work, 'backup'));
  assert.equal(backups.length, 1, 'the edited group was saved before it was overwritten');
  assert.match(readFileSync(join(s.work, 'backup', backups[0]!), 'utf8'), /> 0\.5/);
});

test('a change in the files is an update; a group removed from the files is deleted only with --prune', async (t) => {
  const s = await setup(t);
  assert.equal((await sync(s)).code, 0);
  // the recording group leaves the file, the alert threshold changes
  writeFileSync(join(s.rulesDir, `${s.ns}.yaml`), alertsFile('0.1').split('  - name: api-recording')[0]!);
  s.r.calls.length = 0;
  const kept = await sync(s);
  assert.equal(kept.code, 0, kept.stdout + kept.stderr);
  assert.match(kept.stdout, new RegExp(`~ ${s.ns}/api-alerts  update .*-> applied`));
  assert.match(kept.stdout, new RegExp(`- ${s.ns}/api-recording  remove  -> kept: pass --prune to delete`));
  assert.deepEqual(
    s.r.writes().filter((c) => c.startsWith('DELETE')),
    [],
    'no DELETE without --prune',
  );
  assert.equal(s.r.writes().length, 1, 'one POST for the update');
  assert.deepEqual((await remoteGroups(s, s.ns)).map((g) => g.name).sort(), ['api-alerts', 'api-recording']);

  s.r.calls.length = 0;
  const pruned = await sync(s, ['--prune']);
  assert.equal(pruned.code, 0, pruned.stdout + pruned.stderr);
  assert.deepEqual(
    s.r.writes().map((c) => c.replace(s.ns, 'NS')),
    ['DELETE /prometheus/config/v1/rules/NS/api-recording'],
  );
  assert.deepEqual(
    (await remoteGroups(s, s.ns)).map((g) => g.name),
    ['api-alerts'],
  );
});

test('--dry-run shows the diff and changes nothing: no write request, no state file', async (t) => {
  const s = await setup(t);
  const r = await sync(s, ['--dry-run']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[dry run: nothing is changed\]/);
  assert.match(r.stdout, new RegExp(`\\+ ${s.ns}/api-alerts  create .*-> would apply \\(dry run\\)`));
  assert.deepEqual(s.r.writes(), []);
  assert.deepEqual(await remoteGroups(s, s.ns), []);
  assert.equal(existsSync(s.state), false, 'a dry run creates no state file');
  // and with a real state and an edit pending, still nothing
  assert.equal((await sync(s)).code, 0);
  writeFileSync(join(s.rulesDir, `${s.ns}.yaml`), alertsFile('0.2'));
  s.r.calls.length = 0;
  const again = await sync(s, ['--dry-run', '--prune', '--force']);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /~ .*api-alerts  update/);
  assert.deepEqual(s.r.writes(), []);
});

test('holt_winters: refused by a Prometheus-3 ruler as written; --to-version 3.8.1 sends double_exponential_smoothing', async (t) => {
  const s = await setup(t);
  writeFileSync(
    join(s.rulesDir, `${s.ns}.yaml`),
    `groups:
  - name: forecast
    rules:
      - record: job:load:smoothed
        expr: holt_winters(node_load1[10m], 0.3, 0.3)
`,
  );
  const refused = await sync(s);
  if (!s.r.real) {
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stdout + refused.stderr, /unknown function with name "holt_winters".*pass --to-version/);
  }
  const fixed = await sync(s, ['--to-version', '3.8.1']);
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.match(
    fixed.stdout,
    /Prometheus 3\.8\.1 fixes applied[^\n]*\n.*holt_winters\(node_load1\[10m\], 0\.3, 0\.3\) {2}-> {2}double_exponential_smoothing\(node_load1\[10m\], 0\.3, 0\.3\)/,
  );
  assert.match(fixed.stdout, /experimental on 3\.8\.1: double_exponential_smoothing/);
  const stored = await remoteGroups(s, s.ns);
  assert.equal(
    (stored[0]!.rules as Record<string, unknown>[])[0]!.expr,
    'double_exponential_smoothing(node_load1[10m], 0.3, 0.3)',
  );
});

test(
  '--to-version 3.8.1 --promtool: the fixed groups pass the real promtool 3.8.1; the unfixed ones would not',
  {
    skip:
      !labHas('prometheus', '3.8.1', 'promtool') &&
      'promtool 3.8.1 is not built (scripts/build-servers.sh prometheus-3.8.1)',
  },
  async (t) => {
    const s = await setup(t);
    writeFileSync(
      join(s.rulesDir, `${s.ns}.yaml`),
      `groups:
  - name: forecast
    rules:
      - record: job:load:smoothed
        expr: holt_winters(node_load1[10m], 0.3, 0.3)
`,
    );
    const promtool = promtoolBinary('3.8.1');
    const ok = await sync(s, ['--to-version', '3.8.1', '--promtool', promtool]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      /promtool 3\.8\.1 check rules --enable-feature=promql-experimental-functions: SUCCESS on 1 namespace file/,
    );
    // without the fix (a 2.x target keeps holt_winters) the same promtool refuses it, and nothing is sent
    s.r.calls.length = 0;
    const bad = await sync(s, ['--to-version', '2.55.1', '--promtool', promtool]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /promtool 3\.8\.1 check rules: 1 problem\(s\); nothing was sent to Mimir/);
    assert.match(bad.stdout, /holt_winters/);
    assert.deepEqual(s.r.calls, []);
  },
);

test('PrometheusRule resources map to <namespace>/<name> (a %2F in the path); recording rules are named as backfill advice', async (t) => {
  const r = await rulerUnderTest(t);
  const s = await setup(t, r);
  writeFileSync(
    join(s.rulesDir, `${s.ns}.yaml`),
    `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: node-rules
  namespace: ${r.id}-monitoring
spec:
  groups:
    - name: node.rules
      rules:
        - record: instance:node_cpu:rate5m
          expr: sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))
        - alert: NodeDown
          expr: up{job="node"} == 0
          for: 2m
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: other
  namespace: ${r.id}-monitoring
spec:
  groups:
    - name: other.rules
      rules:
        - record: instance:memory:ratio
          expr: 1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes
`,
  );
  const out = await sync(s);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const ns = `${r.id}-monitoring/node-rules`;
  assert.ok(r.writes().includes(`POST /prometheus/config/v1/rules/${encodeURIComponent(ns)}`), r.writes().join(', '));
  assert.deepEqual(
    (await remoteGroups(s, ns)).map((g) => g.name),
    ['node.rules'],
  );
  assert.deepEqual(
    (await remoteGroups(s, `${r.id}-monitoring/other`)).map((g) => g.name),
    ['other.rules'],
  );
  assert.match(
    out.stdout,
    /backfill advice: 2 recording rule\(s\) will be evaluated by the Mimir ruler: instance:memory:ratio, instance:node_cpu:rate5m/,
  );
  assert.match(
    out.stdout,
    /--match '\{__name__=~"\.\+",__name__!~"instance:memory:ratio\|instance:node_cpu:rate5m"\}'/,
  );
});

test('bad input: a rule with both record and alert is refused with file, line and key, exit 2, nothing sent', async (t) => {
  const s = await setup(t);
  writeFileSync(
    join(s.rulesDir, 'bad.yaml'),
    `groups:
  - name: ok
    rules:
      - record: a:b
        expr: up
  - name: broken
    rules:
      - alert: X
        record: y
        expr: up == 0
`,
  );
  const r = await sync(s);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /bad\.yaml:8.*exactly one of record and alert must be set/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  assert.deepEqual(s.r.calls, [], 'nothing is read or sent when the input is bad');
});

test('two files with the same group in one namespace (--namespace-from fixed:) are refused, naming both places', async (t) => {
  const s = await setup(t);
  writeFileSync(join(s.rulesDir, 'second.yaml'), alertsFile());
  const r = await sync(s, ['--namespace-from', `fixed:${s.r.id}-all`]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /rule group "api-alerts" is defined twice for Mimir namespace ".*-all" \(first at .*\.yaml:2\)/,
  );
  assert.deepEqual(s.r.writes(), []);
});

test('an older ruler that answers an empty listing with 404 "no rule groups found" is an empty ruler', async (t) => {
  const ruler = await rulerUnderTest(t, { emptyListing: 404 });
  if (ruler.real) return t.skip('double only: the answer is chosen by the Mimir version');
  const s = await setup(t, ruler);
  const r = await sync(s);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(s.r.writes().length, 2);
});

test('without a tenant a multi-tenant Mimir answers 401; stackshift says to pass --tenant (exit 2, no stack trace)', async (t) => {
  const s = await setup(t);
  const r = await runCli(['rules', 'sync', '--rules', s.rulesDir, '--mimir-url', s.r.url, '--state', s.state], {
    cwd: s.work,
  });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /HTTP 401/);
  assert.match(r.stderr, /--tenant/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});
