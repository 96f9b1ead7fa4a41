import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { promtoolBinary } from '../../src/lab/index.js';
import { MigrationEngine, parseMigrationText, requireStepKind, type MigrationPlan } from '../../src/migrate/index.js';
import { runCli, startServer, tempDir } from '../harness/index.js';
import { rulerUnderTest } from '../ruler/ruler-target.js';

/*
 * The two step kinds that change configuration, through the migrate engine: rules-sync on the Mimir ruler
 * (the contract double, or a real Mimir with STACKSHIFT_TEST_MIMIR_URL) and lgtm-config on a real
 * Prometheus's prometheus.yml (checked by its promtool). Each: the change is in place, a second run of the
 * step changes nothing, and rollback puts back exactly what was there (API objects equal, files byte-equal).
 */

async function runStepAgain(plan: MigrationPlan, state: string, dir: string, id: string) {
  const engine = new MigrationEngine({ plan, loaded: { config: {}, baseDir: dir }, statePath: state });
  try {
    const s = plan.steps.find((x) => x.id === id)!;
    const step = requireStepKind(s.kind).create({ id: s.id, title: s.title, params: s.params });
    const ctx = engine.context(s, engine.state.step(id));
    const res = await step.run(ctx);
    return { res, verify: await step.verify(ctx, res) };
  } finally {
    engine.close();
  }
}

async function withEngine<T>(plan: MigrationPlan, state: string, dir: string, fn: (e: MigrationEngine) => Promise<T>) {
  const e = new MigrationEngine({ plan, loaded: { config: {}, baseDir: dir }, statePath: state });
  try {
    return await fn(e);
  } finally {
    e.close();
  }
}

test('rules-sync: groups in place, a second run writes nothing, rollback restores the ruler namespaces exactly', async (t) => {
  const ruler = await rulerUnderTest(t);
  const ns = `${ruler.id}-alerts`;
  const other = `${ruler.id}-other`;
  // the ruler before the step: a group the files change, one the prune removes, and a namespace nobody owns
  assert.equal(
    await ruler.post(
      ns,
      'name: api\ninterval: 1m\nrules:\n  - alert: ApiDown\n    expr: up{job="api"} == 0\n    for: 5m\n',
    ),
    202,
  );
  assert.equal(await ruler.post(ns, 'name: stale\nrules:\n  - record: job:old:sum\n    expr: sum(up)\n'), 202);
  assert.equal(await ruler.post(other, 'name: keep\nrules:\n  - record: job:keep:sum\n    expr: sum(up)\n'), 202);
  const before = await ruler.get();
  assert.equal(before.status, 200);

  const dir = tempDir(t, 'stackshift-migrate-rules-');
  writeFileSync(
    join(dir, `${ns}.yaml`),
    `groups:
  - name: api
    interval: 30s
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 10m
        labels: { severity: page }
  - name: slo
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
`,
  );
  const plan = parseMigrationText(
    `version: 1
name: rules
endpoints:
  mimir: { url: "${ruler.url}", tenant: "${ruler.tenant}", type: mimir }
phases:
  - name: Cut-over
    steps:
      - id: rules
        kind: rules-sync
        params: { ruler: mimir, rules: ["${ns}.yaml"], prune: true, force: true }
`,
    join(dir, 'm.yaml'),
    [],
    {},
  );
  const state = join(dir, 'state.db');
  const r = await withEngine(plan, state, dir, (e) => e.run());
  assert.equal(r.outcome, 'complete', r.error);
  const row = r.steps.find((s) => s.id === 'rules')!;
  assert.equal(row.figures!.in_place, 1);
  assert.equal(row.figures!.groups_differing, 0);
  assert.equal(row.figures!.created, 1, 'slo');
  assert.equal(row.figures!.removed, 1, 'stale');
  const after = parseYaml((await ruler.get()).text) as Record<string, Array<{ name: string }>>;
  assert.deepEqual(
    after[ns]!.map((g) => g.name),
    ['api', 'slo'],
  );

  const writes = ruler.writes().length;
  const again = await runStepAgain(plan, state, dir, 'rules');
  assert.equal(again.res.figures!.written, 0, 'the second run writes nothing');
  assert.equal(again.res.figures!.unchanged, 2);
  assert.equal(again.verify.in_place, 1);
  assert.equal(ruler.writes().length, writes, 'no POST or DELETE reached the ruler');

  const rb = await withEngine(plan, state, dir, (e) => e.rollback());
  assert.deepEqual(rb.rolledBack, ['rules']);
  const restored = await ruler.get();
  assert.deepEqual(parseYaml(restored.text), parseYaml(before.text), 'the ruler holds what it held before the step');
  assert.equal(restored.text, before.text, 'the listing is the same text');
  // rollback is idempotent: a second one finds the step rolled back and writes nothing
  const rbWrites = ruler.writes().length;
  const rb2 = await withEngine(plan, state, dir, (e) => e.rollback());
  assert.deepEqual(rb2.rolledBack, []);
  assert.equal(ruler.writes().length, rbWrites, 'a second rollback writes nothing');
  assert.equal((await ruler.get()).text, before.text);
});

const PROM_YML = `# the lab's prometheus.yml, hand-written: comments and layout must survive
global:
  scrape_interval: 15s   # keep

scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:9090']
`;

test('lgtm-config: remote_write and collector written, second run no-op, rollback byte-equal', async (t) => {
  const prom = await startServer(t, { name: 'lgtm-src' });
  const dir = tempDir(t, 'stackshift-migrate-lgtm-');
  const promFile = join(dir, 'prometheus.yml');
  writeFileSync(promFile, PROM_YML);
  const original = readFileSync(promFile);
  const collectorFile = join(dir, 'otel', 'collector.yaml');
  const plan = parseMigrationText(
    `version: 1
name: lgtm
endpoints:
  prometheus: { url: "${prom.url}" }
  mimir: { url: "http://mimir.example:8080", tenant: team-a, type: mimir }
  jaeger-otlp: { url: "http://jaeger.example:4318", type: jaeger }
  tempo-otlp: { url: "http://tempo.example:4318", type: tempo }
phases:
  - name: Foundation and dual collection
    steps:
      - id: lgtm
        kind: lgtm-config
        params:
          prometheus_config: prometheus.yml
          promtool: ["${promtoolBinary()}"]
          collector_config: otel/collector.yaml
          jaeger_otlp: jaeger-otlp
`,
    join(dir, 'm.yaml'),
    [],
    {},
  );
  const state = join(dir, 'state.db');
  const r = await withEngine(plan, state, dir, (e) => e.run());
  assert.equal(r.outcome, 'complete', r.error);
  const row = r.steps.find((s) => s.id === 'lgtm')!;
  assert.equal(row.figures!.files_changed, 2);
  assert.equal(row.figures!.in_place, 1);
  const merged = readFileSync(promFile, 'utf8');
  assert.match(merged, /remote_write:\n {2}- url: "http:\/\/mimir\.example:8080\/api\/v1\/push"/);
  assert.match(merged, /X-Scope-OrgID: "team-a"/);
  assert.ok(merged.startsWith(PROM_YML), 'the hand-written part is kept byte for byte');
  assert.match(readFileSync(collectorFile, 'utf8'), /jaeger\.example:4318/);
  assert.ok(
    readdirSync(dir).some((f) => /^prometheus\.yml\.stackshift-.*\.bak$/.test(f)),
    'a backup beside the file',
  );

  const mergedBytes = readFileSync(promFile);
  const collectorBytes = readFileSync(collectorFile);
  const again = await runStepAgain(plan, state, dir, 'lgtm');
  assert.equal(again.res.figures!.files_changed, 0, 'a second run changes nothing');
  assert.equal(again.verify.in_place, 1);
  assert.ok(readFileSync(promFile).equals(mergedBytes));
  assert.ok(readFileSync(collectorFile).equals(collectorBytes));

  // an edit of the merged file by hand: verify says the change is no longer in place
  writeFileSync(promFile, PROM_YML);
  const edited = await runStepAgain(plan, state, dir, 'lgtm');
  assert.equal(edited.res.figures!.files_changed, 1, 'the rerun puts the same block back');
  assert.ok(readFileSync(promFile).equals(mergedBytes), 'the same bytes as the first run');

  const rb = await withEngine(plan, state, dir, (e) => e.rollback());
  assert.deepEqual(rb.rolledBack, ['lgtm']);
  assert.ok(readFileSync(promFile).equals(original), 'prometheus.yml byte-equal to the original');
  assert.equal(existsSync(collectorFile), false, 'the collector file did not exist before: removed');
  const rb2 = await withEngine(plan, state, dir, (e) => e.rollback());
  assert.deepEqual(rb2.rolledBack, [], 'nothing left to roll back');
  assert.ok(readFileSync(promFile).equals(original));
});

test('rules-sync rollback refuses when groups were edited, added or deleted in the ruler since the sync; --force rolls back anyway', async (t) => {
  const ruler = await rulerUnderTest(t);
  const ns = `${ruler.id}-alerts`;
  assert.equal(await ruler.post(ns, 'name: api\nrules:\n  - alert: ApiDown\n    expr: up{job="api"} == 0\n'), 202);
  const before = await ruler.get();
  const dir = tempDir(t, 'stackshift-migrate-rules-edited-');
  writeFileSync(
    join(dir, `${ns}.yaml`),
    `groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 10m
  - name: slo
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
  - name: batch
    rules:
      - record: job:batch:count
        expr: count(up{job="batch"})
`,
  );
  const file = join(dir, 'stackshift-migration.yaml');
  writeFileSync(
    file,
    `version: 1
name: rules-edited
endpoints:
  mimir: { url: "${ruler.url}", tenant: "${ruler.tenant}", type: mimir }
phases:
  - name: Cut-over
    steps:
      - id: rules
        kind: rules-sync
        params: { ruler: mimir, rules: ["${ns}.yaml"], force: true }
`,
  );
  const state = join(dir, 'migrate.db');
  const cli = (...args: string[]) => runCli(['migrate', ...args, '--file', file, '--state', state], { cwd: dir });
  const run = await cli('run');
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const synced = await ruler.get();

  // three edits made in Mimir after the sync: one group changed, one added, one deleted
  assert.equal(
    await ruler.post(ns, 'name: api\nrules:\n  - alert: ApiDown\n    expr: up{job="api"} == 0\n    for: 15m\n'),
    202,
  );
  assert.equal(await ruler.post(ns, 'name: oncall\nrules:\n  - record: job:oncall:sum\n    expr: sum(up)\n'), 202);
  const del = await fetch(`${ruler.direct}/prometheus/config/v1/rules/${ns}/batch`, {
    method: 'DELETE',
    headers: { 'X-Scope-OrgID': ruler.tenant },
  });
  assert.equal(del.status, 202);
  const edited = await ruler.get();
  assert.notEqual(edited.text, synced.text);

  const writes = ruler.writes().length;
  const refused = await cli('rollback');
  assert.equal(refused.code, 2, `${refused.stdout}\n${refused.stderr}`);
  assert.match(
    refused.stderr,
    new RegExp(
      `rollback refused: 3 rule group\\(s\\) changed in the ruler since the step synced them: ${ns}/api edited, ${ns}/batch deleted, ${ns}/oncall added`,
    ),
  );
  assert.match(refused.stderr, /stackshift migrate rollback --force/);
  assert.match(refused.stderr, /before\.yaml/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(ruler.writes().length, writes, 'nothing written to the ruler');
  assert.equal((await ruler.get()).text, edited.text, "the ruler keeps Mimir's edits");
  const st = await cli('status', '-o', 'json');
  assert.equal(
    (JSON.parse(st.stdout) as { phases: Array<{ steps: Array<{ status: string }> }> }).phases[0]!.steps[0]!.status,
    'done',
    'the step stays done: nothing was rolled back',
  );

  // an edit put back as stackshift left it is no edit: only the two left are named
  assert.equal(
    await ruler.post(ns, 'name: api\nrules:\n  - alert: ApiDown\n    expr: up{job="api"} == 0\n    for: 10m\n'),
    202,
  );
  const still = await cli('rollback');
  assert.equal(still.code, 2);
  assert.match(still.stderr, new RegExp(`2 rule group\\(s\\) changed .*: ${ns}/batch deleted, ${ns}/oncall added`));

  const forced = await cli('rollback', '--force', '-o', 'json');
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual((JSON.parse(forced.stdout) as { rolledBack: string[] }).rolledBack, ['rules']);
  assert.equal((await ruler.get()).text, before.text, 'the ruler holds what it held before the step');
});
