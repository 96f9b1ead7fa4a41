import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { InputError, UsageError } from '../../src/errors/index.js';
import {
  initMigrationText,
  MigrationEngine,
  parseGate,
  evaluateGate,
  parseMigrationText,
  type InitOptions,
} from '../../src/migrate/index.js';
import { runCli, tempDir } from '../harness/index.js';

const BASE = `version: 1
name: t
endpoints:
  prometheus: { url: "http://127.0.0.1:9" }
  mimir: { url: "http://127.0.0.1:9" }
phases:
  - name: one
    steps:
`;

function err(text: string, known: string[] = [], env: Record<string, string> = {}): InputError | UsageError {
  try {
    parseMigrationText(text, '/x/stackshift-migration.yaml', known, env);
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) return e;
    throw e;
  }
  assert.fail('no error');
}

test('migration file: errors name file, line and key', () => {
  const cases: Array<[string, string, number | undefined, RegExp]> = [
    ['unknown kind', `${BASE}      - id: a\n        kind: rules-sinc\n`, 10, /unknown step kind "rules-sinc"/],
    [
      'bad param',
      `${BASE}      - id: a\n        kind: backfill-metrics\n        params:\n          start: yesterday\n`,
      12,
      /phases\.0\.steps\.0\.params\.start: expected a time/,
    ],
    [
      'unknown param',
      `${BASE}      - id: a\n        kind: verify-metrics\n        params:\n          tolerence: 0.1\n`,
      12,
      /unknown key "tolerence"/,
    ],
    [
      'gate on a figure the kind lacks',
      `${BASE}      - id: a\n        kind: verify-metrics\n        gates: ["consistancy >= 99"]\n`,
      11,
      /reports no figure "consistancy"/,
    ],
    [
      'gate syntax',
      `${BASE}      - id: a\n        kind: verify-metrics\n        gates: ["consistency at least 99"]\n`,
      11,
      /not understood/,
    ],
    [
      'gate naming a later step',
      `${BASE}      - id: g\n        kind: gate\n        gates: ["v.consistency >= 99"]\n      - id: v\n        kind: verify-metrics\n`,
      11,
      /not an earlier step/,
    ],
    ['gate step without gates', `${BASE}      - id: g\n        kind: gate\n`, 9, /needs at least 1 gate/],
    [
      'duplicate id',
      `${BASE}      - id: a\n        kind: verify-metrics\n      - id: a\n        kind: verify-metrics\n`,
      11,
      /used twice/,
    ],
    [
      'undefined endpoint',
      `${BASE}      - id: a\n        kind: verify-metrics\n        params:\n          to: nowhere\n`,
      12,
      /endpoint "nowhere" is not defined/,
    ],
    [
      'missing env',
      `${BASE}      - id: a\n        kind: wait\n        params:\n          duration: \${WAIT_FOR}\n`,
      12,
      /WAIT_FOR is not set/,
    ],
  ];
  for (const [name, text, line, re] of cases) {
    const e = err(text);
    assert.match(e.message, re, name);
    if (e instanceof InputError) {
      assert.equal(e.location?.file, '/x/stackshift-migration.yaml', name);
      assert.equal(e.location?.line, line, `${name}: line`);
    } else {
      assert.match(e.message, new RegExp(`stackshift-migration.yaml:${line}`), `${name}: line in the message`);
    }
    assert.equal(e.exitCode, 2, name);
  }
  // ${ENV} expansion, endpoint names from stackshift.yaml
  const ok = parseMigrationText(
    `version: 1\nphases:\n  - name: one\n    steps:\n      - id: w\n        kind: wait\n        params: { duration: "\${WAIT_FOR:-2h}" }\n      - id: v\n        kind: verify-metrics\n        params: { from: prom, to: mimir }\n`,
    '/x/m.yaml',
    ['prom', 'mimir'],
    {},
  );
  assert.deepEqual(
    ok.steps.map((s) => s.id),
    ['w', 'v'],
  );
  assert.equal((ok.steps[0].params as { duration: string }).duration, '2h');
  assert.deepEqual(
    ok.steps[1].gates.map((g) => g.text),
    ['consistency >= 99.9', 'evidence == 1'],
    'default gates of the kind',
  );
});

test('gates: data evaluated against figures; a missing figure fails', () => {
  const g = parseGate('consistency >= 99.9')!;
  assert.equal(evaluateGate(g, { consistency: 99.95 }).passed, true);
  assert.equal(evaluateGate(g, { consistency: 99.89 }).passed, false);
  assert.equal(evaluateGate(g, {}).passed, false);
  assert.equal(evaluateGate(parseGate('failed == 0')!, { failed: 0 }).passed, true);
  assert.equal(parseGate('x.consistency > 1')!.step, 'x');
  assert.equal(parseGate('consistency >= abc'), undefined);
});

test('migrate init: the runbook plan for the endpoints given, valid, phases in order', () => {
  const o: InitOptions = {
    name: 'm',
    endpoints: {
      prometheus: { url: 'http://p:9090' },
      mimir: { url: 'http://m:8080', tenant: 't1' },
      grafana: { url: 'http://g:3000' },
      loki: { url: 'http://l:3100' },
      'new-loki': { url: 'http://l2:3100', type: 'loki' },
    },
    configured: [],
    fromDatasource: 'Prometheus',
    toDatasource: 'Mimir',
    metricsHistory: '30d',
    tracesHistory: '7d',
    logsHistory: '14d',
    parallelRun: '7d',
  };
  const plan = parseMigrationText(initMigrationText(o), '/x/m.yaml', [], {});
  assert.deepEqual(
    plan.phases.map((p) => p.name),
    [
      'Foundation and dual collection',
      'Mimir and backfill',
      'Grafana, dashboards and correlations',
      'Cut-over',
      'Decommission',
    ],
  );
  assert.deepEqual(
    plan.steps.map((s) => s.kind),
    [
      'logs-copy',
      'logs-verify',
      'backfill-metrics',
      'verify-metrics',
      'dashboards-migrate',
      'gate',
      'wait',
      'verify-metrics',
      'gate',
    ],
  );
  assert.equal(plan.endpoints.mimir.tenant, 't1');
  assert.deepEqual(
    plan.steps.find((s) => s.id === 'cutover-gate')!.gates.map((g) => g.text),
    ['verify-metrics.consistency >= 99.9', 'logs-verify.consistency >= 99.9'],
  );
  // without Grafana and logs: those phases are left out; without Mimir: refused
  const small = parseMigrationText(
    initMigrationText({ ...o, endpoints: {}, configured: ['prometheus', 'mimir'] }),
    '/x/m.yaml',
    ['prometheus', 'mimir'],
    {},
  );
  assert.deepEqual(
    small.phases.map((p) => p.name),
    ['Mimir and backfill', 'Cut-over', 'Decommission'],
  );
  assert.throws(
    () => initMigrationText({ ...o, endpoints: { prometheus: { url: 'http://p:9090' } } }),
    /needs the Prometheus and the Mimir/,
  );
});

test('migrate init: verify-correlations follows the dashboards when Grafana and Tempo are known; no "# slot" left', () => {
  const o: InitOptions = {
    name: 'm',
    endpoints: {
      prometheus: { url: 'http://p:9090' },
      mimir: { url: 'http://m:8080', tenant: 't1', type: 'mimir' },
      grafana: { url: 'http://g:3000' },
      jaeger: { url: 'http://j:16686', type: 'jaeger' },
      tempo: { url: 'http://t:3200', type: 'tempo' },
      loki: { url: 'http://l:3100' },
      'new-loki': { url: 'http://l2:3100', type: 'loki' },
    },
    configured: [],
    fromDatasource: 'Prometheus',
    toDatasource: 'Mimir',
    metricsHistory: '30d',
    tracesHistory: '7d',
    logsHistory: '14d',
    parallelRun: '7d',
  };
  const text = initMigrationText(o);
  assert.doesNotMatch(text, /# slot/);
  const plan = parseMigrationText(text, '/x/m.yaml', [], {});
  const grafanaPhase = plan.phases.find((p) => p.name === 'Grafana, dashboards and correlations')!;
  assert.deepEqual(
    plan.steps.filter((s) => s.phase === grafanaPhase.index).map((s) => s.id),
    ['dashboards-migrate', 'verify-correlations'],
  );
  const step = plan.steps.find((s) => s.id === 'verify-correlations')!;
  const p = step.params as Record<string, unknown>;
  assert.deepEqual(
    { metrics: p.metrics, traces: p.traces, loki: p.loki, start: p.start, min_linked: p.min_linked },
    { metrics: 'mimir', traces: 'tempo', loki: 'new-loki', start: '7d', min_linked: 100 },
  );
  assert.deepEqual(
    step.gates.map((g) => g.text),
    ['exemplars_linked >= 100', 'logs_linked >= 100', 'traces_to_logs_linked >= 100', 'evidence == 1'],
  );
  // no rules and no ruler: no alerts to compare; without the new Loki only the exemplars; opted out: none
  assert.equal(
    plan.steps.some((s) => s.kind === 'alerts-verify'),
    false,
  );
  const { 'new-loki': _n, loki: _l, ...noLoki } = o.endpoints;
  const exemplarsOnly = parseMigrationText(initMigrationText({ ...o, endpoints: noLoki }), '/x/m.yaml', [], {});
  assert.equal(
    (exemplarsOnly.steps.find((s) => s.id === 'verify-correlations')!.params as Record<string, unknown>).loki,
    undefined,
  );
  const { tempo: _t, ...noTempo } = o.endpoints;
  for (const opts of [
    { ...o, correlations: false },
    { ...o, endpoints: noTempo },
  ])
    assert.equal(
      parseMigrationText(initMigrationText(opts), '/x/m.yaml', [], {}).steps.some(
        (s) => s.kind === 'verify-correlations',
      ),
      false,
    );
  // the ruler alone (rules synced by other means) is enough for alerts-verify
  const rulerOnly = parseMigrationText(
    initMigrationText({
      ...o,
      endpoints: { ...o.endpoints, 'mimir-ruler': { url: 'http://r:8080', type: 'mimir' } },
    }),
    '/x/m.yaml',
    [],
    {},
  );
  const cutover = rulerOnly.phases.find((ph) => ph.name === 'Cut-over')!;
  assert.deepEqual(
    rulerOnly.steps.filter((s) => s.phase === cutover.index).map((s) => s.id),
    ['alerts-verify', 'cutover-gate', 'parallel-run'],
  );
});

test('migrate init: lgtm-config opens the foundation phase and rules-sync the cut-over when their files are given', () => {
  const o: InitOptions = {
    name: 'm',
    endpoints: {
      prometheus: { url: 'http://p:9090' },
      mimir: { url: 'http://m:8080/prometheus', tenant: 't1', type: 'mimir' },
      'mimir-push': { url: 'http://m:8080/prometheus/api/v1/write', tenant: 't1', type: 'mimir' },
      'mimir-ruler': { url: 'http://r:8080', tenant: 't1', type: 'mimir' },
      'tempo-otlp': { url: 'http://t:4318', type: 'tempo' },
      'jaeger-otlp': { url: 'http://j:4318', type: 'jaeger' },
    },
    configured: [],
    fromDatasource: 'Prometheus',
    toDatasource: 'Mimir',
    metricsHistory: '30d',
    tracesHistory: '7d',
    logsHistory: '14d',
    parallelRun: '7d',
    metricsMatch: ['{job="api"}'],
    prometheusConfig: 'prometheus.yml',
    collectorConfig: 'otel/collector.yaml',
    reload: true,
    rules: ['rules/'],
  };
  const plan = parseMigrationText(initMigrationText(o), '/x/m.yaml', [], {});
  assert.deepEqual(
    plan.steps.map((s) => s.id),
    [
      'dual-collection',
      'backfill-metrics',
      'verify-metrics',
      'rules-sync',
      'alerts-verify',
      'cutover-gate',
      'parallel-run',
      'final-verify-metrics',
      'decommission-gate',
    ],
  );
  const params = (id: string) => plan.steps.find((s) => s.id === id)!.params as Record<string, unknown>;
  assert.deepEqual(
    {
      mimir: params('dual-collection').mimir,
      mode: params('dual-collection').collector_mode,
      jaeger: params('dual-collection').jaeger_otlp,
      reload: params('dual-collection').reload,
    },
    { mimir: 'mimir-push', mode: 'dual', jaeger: 'jaeger-otlp', reload: true },
  );
  assert.equal(params('backfill-metrics').to, 'mimir-push', 'the writes go to the distributor');
  assert.equal(params('verify-metrics').to, 'mimir', 'the reads to the query path');
  assert.deepEqual(params('verify-metrics').match, ['{job="api"}']);
  assert.equal(params('rules-sync').ruler, 'mimir-ruler');
  assert.equal(params('final-verify-metrics').start, '5w2d', 'history and parallel run: 30d + 7d');
  // the alerts of the ruler the rules went to, against the source's, before the parallel run
  assert.deepEqual(
    { ...params('alerts-verify') },
    {
      from: 'prometheus',
      to: 'mimir-ruler',
      window: '10m',
      interval: '15s',
      min_consistency: 99,
    },
  );
  assert.deepEqual(
    plan.steps.find((s) => s.id === 'alerts-verify')!.gates.map((g) => g.text),
    ['consistency >= 99', 'evidence == 1'],
  );
  const short = parseMigrationText(initMigrationText({ ...o, alertsWindow: '3s' }), '/x/m.yaml', [], {});
  assert.deepEqual(
    [short.steps.find((s) => s.id === 'alerts-verify')!.params].map((p) => {
      const x = p as Record<string, unknown>;
      return [x.window, x.interval];
    }),
    [['3s', '1s']],
    'a short window polls every second',
  );
  const noAlerts = parseMigrationText(initMigrationText({ ...o, alertsVerify: false }), '/x/m.yaml', [], {});
  assert.equal(
    noAlerts.steps.some((s) => s.kind === 'alerts-verify'),
    false,
  );
  // without the files, neither step (and no foundation phase without logs or traces)
  const bare = parseMigrationText(
    initMigrationText({ ...o, prometheusConfig: undefined, collectorConfig: undefined, rules: undefined }),
    '/x/m.yaml',
    [],
    {},
  );
  assert.deepEqual(
    bare.steps.filter((s) => s.kind === 'lgtm-config' || s.kind === 'rules-sync'),
    [],
  );
  assert.equal(bare.phases[0].name, 'Mimir and backfill');
});

test('wait step: the deadline is stored in the state and survives restarts', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'm.yaml');
  writeFileSync(
    file,
    'version: 1\nname: w\nphases:\n  - name: p\n    steps:\n      - id: soak\n        kind: wait\n        params: { duration: 2h }\n      - id: after\n        kind: wait\n        params: { duration: 0s }\n',
  );
  const plan = parseMigrationText((await import('node:fs')).readFileSync(file, 'utf8'), file, [], {});
  const state = join(dir, 'state.db');
  let now = Date.UTC(2026, 0, 1);
  const engine = () =>
    new MigrationEngine({ plan, loaded: { config: {}, baseDir: dir }, statePath: state, now: () => now });
  const e1 = engine();
  const r1 = await e1.run();
  e1.close();
  assert.equal(r1.outcome, 'waiting');
  assert.equal(r1.waitingUntil, Date.UTC(2026, 0, 1, 2));
  now += 3_600_000; // a restart an hour later: same deadline, still waiting
  const e2 = engine();
  const r2 = await e2.run();
  assert.equal(r2.outcome, 'waiting');
  assert.equal(r2.waitingUntil, Date.UTC(2026, 0, 1, 2), 'the deadline is not moved by a restart');
  assert.equal(e2.state.step('after')!.status, 'pending');
  e2.close();
  now = Date.UTC(2026, 0, 1, 2);
  const e3 = engine();
  const r3 = await e3.run();
  assert.equal(r3.outcome, 'complete');
  assert.deepEqual(
    e3.state.steps().map((s) => s.status),
    ['done', 'done'],
  );
  assert.equal(e3.state.step('soak')!.figures!.waited_hours, 2);
  // a changed definition of a done step is refused
  e3.close();
  const changed = parseMigrationText(
    'version: 1\nname: w\nphases:\n  - name: p\n    steps:\n      - id: soak\n        kind: wait\n        params: { duration: 3h }\n',
    file,
    [],
    {},
  );
  const e4 = new MigrationEngine({ plan: changed, loaded: { config: {}, baseDir: dir }, statePath: state });
  await assert.rejects(e4.run(), /step "soak" changed/);
  e4.close();
});

test('CLI: a bad migration file is one line with file:line (key), exit 2, no stack trace', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'stackshift-migration.yaml');
  writeFileSync(file, `${BASE}      - id: a\n        kind: verify-metrics\n        gates: ["consistancy >= 99"]\n`);
  const r = await runCli(['migrate', 'plan', '--file', file, '--state', join(dir, 's.db')], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:11:\\d+ \\(phases\\.0\\.steps\\.0\\.gates\\.0\\)`),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
});

test('engine: --phase needs earlier phases done, --until stops after a step, rollback --to keeps earlier phases, gate steps read other steps', async (t) => {
  const dir = tempDir(t);
  const text = `version: 1
name: phases
endpoints:
  dead: { url: "http://127.0.0.1:1", type: prometheus, retries: 0 }
phases:
  - name: one
    steps:
      - { id: a, kind: wait, params: { duration: 0s } }
      - { id: b, kind: wait, params: { duration: 0s } }
  - name: two
    steps:
      - { id: c, kind: wait, params: { duration: 0s } }
      - { id: g, kind: gate, gates: ["a.waited_hours >= 1"] }
  - name: three
    steps:
      - { id: v, kind: verify-metrics, params: { from: dead, to: dead, start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z" } }
`;
  const plan = parseMigrationText(text, join(dir, 'm.yaml'), [], {});
  const state = join(dir, 'state.db');
  const withEngine = async <T>(fn: (e: MigrationEngine) => Promise<T>): Promise<T> => {
    const e = new MigrationEngine({ plan, loaded: { config: {}, baseDir: dir }, statePath: state });
    try {
      return await fn(e);
    } finally {
      e.close();
    }
  };
  await withEngine(async (e) => {
    await assert.rejects(e.run({ phase: 2 }), /--phase 2: earlier steps are not done \(a pending, b pending\)/);
    const r = await e.run({ until: 'a' });
    assert.equal(r.outcome, 'until');
    assert.deepEqual(r.ran, ['a']);
    assert.deepEqual(
      e.state.steps().map((s) => s.status),
      ['done', 'pending', 'pending', 'pending', 'pending'],
    );
  });
  await withEngine(async (e) => {
    const r = await e.run({ phase: 1 });
    assert.equal(r.outcome, 'complete');
    assert.deepEqual(r.skipped, ['a']);
    const r2 = await e.run({ phase: 2 });
    assert.equal(r2.outcome, 'gate-failed', 'a waited 0 hours: the gate on its figure fails');
    assert.equal(r2.failedStep, 'g');
    assert.deepEqual(
      r2.gates!.map((g) => [g.figure, g.passed]),
      [['a.waited_hours', false]],
    );
    assert.ok(r2.gates![0].actual! >= 0 && r2.gates![0].actual! < 0.01, `measured ${r2.gates![0].actual}`);
    assert.equal(e.state.step('g')!.status, 'failed');
    assert.equal(e.state.step('v')!.status, 'pending', 'the phase stopped; later phases did not run');
    const rb = await e.rollback(1);
    assert.deepEqual(rb.rolledBack, ['g', 'c'], 'phase 2 only, last step first');
    assert.deepEqual(
      e.state.steps().map((s) => s.status),
      ['done', 'done', 'rolled-back', 'rolled-back', 'pending'],
    );
  });
  // a step that errs: failed with the reason, outcome error (exit 2 in the CLI)
  const plan3 = parseMigrationText(
    text.replace('["a.waited_hours >= 1"]', '["a.waited_hours >= 0"]'),
    join(dir, 'm.yaml'),
    [],
    {},
  );
  const e3 = new MigrationEngine({
    plan: plan3,
    loaded: { config: {}, baseDir: dir },
    statePath: join(dir, 'state3.db'),
  });
  try {
    const r = await e3.run();
    assert.equal(r.outcome, 'error');
    assert.equal(r.failedStep, 'v');
    assert.match(r.error!, /127\.0\.0\.1:1|refused|ECONNREFUSED/);
    assert.equal(e3.state.step('v')!.status, 'failed');
    assert.deepEqual(
      e3.state
        .steps()
        .slice(0, 4)
        .map((s) => s.status),
      ['done', 'done', 'done', 'done'],
    );
  } finally {
    e3.close();
  }
});

test('CLI migrate init: writes a plan that loads, never over an existing file, never with credentials', async (t) => {
  const dir = tempDir(t);
  const args = [
    'migrate',
    'init',
    '--prometheus-url',
    'http://prom:9090',
    '--mimir-url',
    'http://mimir:8080',
    '--mimir-tenant',
    't1',
    '--grafana-url',
    'http://grafana:3000',
  ];
  const r = await runCli(args, { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const plan = await runCli(['migrate', 'plan', '-o', 'json', '--state', join(dir, 's.db')], { cwd: dir });
  assert.equal(plan.code, 0, plan.stderr);
  const doc = JSON.parse(plan.stdout) as { steps: Array<{ id: string; phase: number; gates: string[] }> };
  assert.deepEqual(
    doc.steps.map((s) => `${s.phase}:${s.id}`),
    [
      '1:backfill-metrics',
      '1:verify-metrics',
      '2:dashboards-migrate',
      '3:cutover-gate',
      '3:parallel-run',
      '4:final-verify-metrics',
      '4:decommission-gate',
    ],
  );
  assert.deepEqual(doc.steps[1].gates, ['consistency >= 99.9', 'evidence == 1']);
  const again = await runCli(args, { cwd: dir });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists[\s\S]*--force/);
  const creds = await runCli([...args, '--force', '--grafana-url', 'http://admin:secret@grafana:3000'], { cwd: dir });
  assert.equal(creds.code, 2);
  assert.match(creds.stderr, /--grafana-url carries credentials/);
  assert.doesNotMatch(creds.stderr, /secret/);
});
