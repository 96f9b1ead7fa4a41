import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors/index.js';
import { parseMigrationText, type MigrationReportDoc } from '../../src/migrate/index.js';
import { idHex, syntheticTraces, type Trace } from '../../src/traces/index.js';
import { runCli, startServers, tempDir, waitUntil } from '../harness/index.js';
import { startSignals, TENANT } from '../lgtm/helpers.js';
import { NO_JAEGER, pushTraces, startJaegers, waitForTraces } from '../traces/helpers.js';

/*
 * The wiring kinds of the migration engine: `alerts-verify` run by `migrate run` between two real Prometheus
 * servers (Debian 2.42) evaluating the same rule every second; `verify-correlations` params refused with
 * file, line and key.
 */

const RULES = `groups:
  - name: queue
    interval: 1s
    rules:
      - alert: QueueDeep
        expr: app_queue_depth > 10
        labels: { severity: page }
`;

const CONFIG = (port: number) => `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ['127.0.0.1:${port}']
`;

async function metricsTarget(t: import('node:test').TestContext): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# TYPE app_queue_depth gauge\napp_queue_depth{queue="a"} 5\napp_queue_depth{queue="b"} 12\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function firing(url: string): Promise<boolean> {
  const res = await fetch(`${url}/api/v1/alerts`);
  const alerts = ((await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } })
    .data.alerts;
  return alerts.some((a) => a.labels.alertname === 'QueueDeep' && a.state === 'firing');
}

test('migrate run: an alerts-verify step between two real Prometheus servers with the same rule is done, consistency 100, default gates passed', async (t) => {
  const port = await metricsTarget(t);
  const [a, b] = await startServers(t, [
    { name: 'old', config: CONFIG(port), files: { 'rules.yml': RULES } },
    { name: 'new', config: CONFIG(port), files: { 'rules.yml': RULES } },
  ]);
  for (const s of [a!, b!]) await waitUntil(() => firing(s.url), 30_000, `QueueDeep firing on ${s.url}`);
  const dir = tempDir(t, 'stackshift-migrate-wiring-');
  const file = join(dir, 'stackshift-migration.yaml');
  const state = join(dir, 'migrate.db');
  writeFileSync(
    file,
    `version: 1
name: alerts
endpoints:
  old: { url: "${a!.url}", type: prometheus }
  new: { url: "${b!.url}", type: prometheus }
phases:
  - name: cut-over
    steps:
      - id: alerts
        kind: alerts-verify
        params: { from: old, to: new, window: 3s, interval: 1s, min_consistency: 100 }
`,
  );
  const plan = await runCli(['migrate', 'plan', '--file', file, '--state', state], { cwd: dir });
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(
    plan.stdout,
    /stackshift alerts verify --from old --to new --window 3s --interval 1s --min-consistency 100/,
  );
  const r = await runCli(['migrate', 'run', '--file', file, '--state', state], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const st = await runCli(['migrate', 'status', '--file', file, '--state', state, '-o', 'json'], { cwd: dir });
  assert.equal(st.code, 0, st.stderr);
  const doc = JSON.parse(st.stdout) as MigrationReportDoc;
  const step = doc.phases[0]!.steps[0]!;
  assert.equal(step.status, 'done');
  assert.equal(step.figures!.consistency, 100);
  assert.equal(step.figures!.polls, 4, 'a 3s window polled every 1s');
  assert.equal(step.figures!.alerts_seen, 1, 'QueueDeep{queue="b"} firing on both');
  assert.equal(step.figures!.alerts_differing, 0);
  assert.equal(step.figures!.evidence, 1);
  assert.deepEqual(
    step.gates!.map((g) => [g.gate, g.actual, g.passed]),
    [
      ['consistency >= 99', 100, true],
      ['evidence == 1', 1, true],
    ],
  );
  assert.deepEqual(
    doc.consistency.map((c) => [c.signal, c.percent]),
    [['alerts', 100]],
  );
});

const BASE = `version: 1
name: t
endpoints:
  prometheus: { url: "http://127.0.0.1:9" }
  tempo: { url: "http://127.0.0.1:9", type: tempo }
phases:
  - name: one
    steps:
`;

function parseErr(text: string): InputError {
  try {
    parseMigrationText(text, '/x/stackshift-migration.yaml', [], {});
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  assert.fail('no error');
}

test('verify-correlations: bad params are refused with file, line and key (exit 2); good ones get the --min-linked default gates', async (t) => {
  const cases: Array<[string, string, number, RegExp]> = [
    [
      'min_linked above 100',
      `${BASE}      - id: c\n        kind: verify-correlations\n        params:\n          metrics: prometheus\n          start: 1h\n          min_linked: 120\n`,
      14,
      /phases\.0\.steps\.0\.params\.min_linked/,
    ],
    [
      'unknown param',
      `${BASE}      - id: c\n        kind: verify-correlations\n        params:\n          metrics: prometheus\n          start: 1h\n          min_linkd: 99\n`,
      14,
      /unknown key "min_linkd"/,
    ],
    [
      'bad start',
      `${BASE}      - id: c\n        kind: verify-correlations\n        params:\n          metrics: prometheus\n          start: yesterday\n`,
      13,
      /params\.start: expected a time/,
    ],
    [
      'nothing to check',
      `${BASE}      - id: c\n        kind: verify-correlations\n        params:\n          start: 1h\n`,
      12,
      /nothing to check/,
    ],
  ];
  for (const [name, text, line, re] of cases) {
    const e = parseErr(text);
    assert.match(e.message, re, name);
    assert.equal(e.location?.file, '/x/stackshift-migration.yaml', name);
    assert.equal(e.location?.line, line, `${name}: line`);
    assert.equal(e.exitCode, 2, name);
  }
  const ok = parseMigrationText(
    `${BASE}      - id: c\n        kind: verify-correlations\n        params: { metrics: prometheus, start: 1h }\n`,
    '/x/m.yaml',
    [],
    {},
  );
  assert.deepEqual(
    ok.steps[0]!.gates.map((g) => g.text),
    ['exemplars_linked >= 100', 'logs_linked >= 100', 'traces_to_logs_linked >= 100', 'evidence == 1'],
  );
  // through the CLI: exit 2, file:line on stderr, no stack trace
  const dir = tempDir(t, 'stackshift-migrate-wiring-');
  const file = join(dir, 'stackshift-migration.yaml');
  writeFileSync(
    file,
    `${BASE}      - id: c\n        kind: verify-correlations\n        params:\n          metrics: prometheus\n          start: 1h\n          min_linked: 120\n`,
  );
  const r = await runCli(['migrate', 'plan', '--file', file, '--state', join(dir, 'm.db')], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /stackshift-migration\.yaml:14/);
  assert.match(r.stderr, /min_linked/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

const K = 6;
describe(
  'migrate run: a verify-correlations step against exemplars (Prometheus 2.42), log lines (Loki double) and traces in a real Jaeger',
  { skip: NO_JAEGER },
  () => {
    const now = Date.now();
    const traces: Trace[] = [
      ...syntheticTraces({ traces: K, seed: 17, startMs: now - 30 * 60_000, endMs: now - 60_000, services: 2 }),
    ];
    const ids = traces.map((x) => idHex(x.traceId));
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const f of cleanups.reverse()) await f();
    });

    test(
      'every link leads somewhere: the step is done with 100 % linked on every check and the default gates passed',
      { timeout: 240_000 },
      async (t) => {
        const { prom, loki } = await startSignals(ids, cleanups, traces);
        const [jaeger] = await startJaegers((f) => cleanups.push(f), ['full']);
        assert.equal(await pushTraces(jaeger!.otlpUrl, traces), K);
        assert.equal(await waitForTraces(jaeger!.url, BigInt(now - 30 * 60_000) * 1000n, BigInt(now) * 1000n, K), K);
        const dir = tempDir(t, 'stackshift-migrate-wiring-');
        const file = join(dir, 'stackshift-migration.yaml');
        const state = join(dir, 'migrate.db');
        writeFileSync(
          file,
          `version: 1
name: correlations
endpoints:
  prom: { url: "${prom.url}", type: prometheus }
  logs: { url: "${loki.url}", type: loki, tenant: ${TENANT} }
  traces: { url: "${jaeger!.url}", type: jaeger }
phases:
  - name: Grafana, dashboards and correlations
    steps:
      - id: links
        kind: verify-correlations
        params: { metrics: prom, loki: logs, traces: traces, start: 1h, traces_to_logs_tags: { service.name: service_name, host.name: host } }
`,
        );
        const r = await runCli(['migrate', 'run', '--file', file, '--state', state], { cwd: dir, timeoutMs: 120_000 });
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const st = await runCli(['migrate', 'status', '--file', file, '--state', state, '-o', 'json'], { cwd: dir });
        assert.equal(st.code, 0, st.stderr);
        const doc = JSON.parse(st.stdout) as MigrationReportDoc;
        const step = doc.phases[0]!.steps[0]!;
        assert.equal(step.status, 'done');
        assert.deepEqual(step.figures, {
          exemplars_linked: 100,
          logs_linked: 100,
          traces_to_logs_linked: 100,
          exemplar_trace_ids: K,
          log_trace_ids: K,
          traces_followed: K,
          broken: 0,
          passed: 1,
          evidence: 1,
        });
        assert.deepEqual(
          step.gates!.map((g) => g.passed),
          [true, true, true, true],
        );
        assert.deepEqual(
          doc.gates.map((g) => g.gate),
          ['exemplars_linked >= 100', 'logs_linked >= 100', 'traces_to_logs_linked >= 100', 'evidence == 1'],
        );
      },
    );
  },
);
