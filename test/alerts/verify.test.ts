import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyAlerts, type ActiveAlert, type AlertsSide } from '../../src/alerts/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, labHas, serverVersion } from '../../src/lab/index.js';
import { runCli, startServer, startServers, tempDir, waitUntil } from '../harness/index.js';

/**
 * `alerts verify` on two real Prometheus servers (Debian 2.42) that scrape the same target and evaluate the
 * same rule file every second; then one side's rule gets another threshold.
 */
const RULES = (deepThreshold: number) => `groups:
  - name: queue
    interval: 1s
    rules:
      - alert: QueueDeep
        expr: app_queue_depth > ${deepThreshold}
        labels: { severity: page }
      - alert: QueueBacklog
        expr: app_queue_depth > 3
        for: 1h
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

async function alertsOf(url: string): Promise<Array<{ labels: Record<string, string>; state: string }>> {
  const res = await fetch(`${url}/api/v1/alerts`);
  return ((await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }).data
    .alerts;
}

async function pair(t: import('node:test').TestContext, targetThreshold: number) {
  const port = await metricsTarget(t);
  const [a, b] = await startServers(t, [
    { name: 'old', config: CONFIG(port), files: { 'rules.yml': RULES(10) } },
    { name: 'new', config: CONFIG(port), files: { 'rules.yml': RULES(targetThreshold) } },
  ]);
  // both have evaluated the rules over scraped data
  for (const s of [a!, b!])
    await waitUntil(
      async () =>
        (await alertsOf(s.url)).some((x) => x.labels.alertname === 'QueueDeep' && x.state === 'firing') &&
        (await alertsOf(s.url)).length >= 3,
      30_000,
      `alerts on ${s.url}`,
    );
  return [a!, b!] as const;
}

/**
 * The target behind a Mimir-like front: its Prometheus API under /prometheus, and X-Scope-OrgID required
 * (401 "no org id" without it), as the Mimir ruler's /prometheus/api/v1/alerts.
 */
async function mimirLikeFront(
  t: import('node:test').TestContext,
  upstream: string,
): Promise<{ url: string; tenants: string[] }> {
  const tenants: string[] = [];
  const server = createServer((req, res) => {
    const tenant = req.headers['x-scope-orgid'];
    if (typeof tenant !== 'string' || !tenant) {
      res.writeHead(401);
      res.end('no org id\n');
      return;
    }
    if (!req.url?.startsWith('/prometheus/')) {
      res.writeHead(404);
      res.end('404 page not found\n');
      return;
    }
    tenants.push(tenant);
    void fetch(`${upstream}${req.url.slice('/prometheus'.length)}`).then(async (up) => {
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
      res.end(await up.text());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tenants };
}

test('two Prometheus servers with the same data and rules (the target behind a Mimir-like /prometheus front with a tenant): every alert agrees (exit 0, 100 %)', async (t) => {
  const [a, b] = await pair(t, 10);
  const front = await mimirLikeFront(t, b.url);
  const r = await runCli([
    'alerts',
    'verify',
    '--source-url',
    a.url,
    '--target-url',
    front.url,
    '--target-prefix',
    '/prometheus',
    '--target-tenant',
    'team-a',
    '--window',
    '4s',
    '--interval',
    '1s',
    '--output',
    'json',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.consistency, 100);
  assert.equal(doc.polls, 5);
  assert.equal(doc.alertsSeen, 3, 'QueueDeep{b} firing, QueueBacklog{a} and {b} pending');
  assert.equal(doc.observations, 15);
  assert.deepEqual(doc.differences, []);
  assert.equal(front.tenants.length, 5, 'every poll of the target went through /prometheus with the tenant');
  assert.ok(front.tenants.every((x) => x === 'team-a'));
});

test('a rule with another threshold on one side: the differing alert is named, with states and duration (exit 1)', async (t) => {
  const [a, b] = await pair(t, 4);
  const r = await runCli([
    'alerts',
    'verify',
    '--source-url',
    a.url,
    '--target-url',
    b.url,
    '--window',
    '4s',
    '--interval',
    '1s',
  ]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /! QueueDeep\{instance="127\.0\.0\.1:\d+", job="app", queue="a", severity="page"\} {2}only on the target \(inactive\/firing\) {2}in 5 poll\(s\), longest 5s/,
  );
  assert.match(r.stdout, /consistency: 75% \(15 of 20 alert observations agree; 4 distinct alert\(s\) seen\)/);
  assert.match(r.stdout, /FAIL: 1 alert\(s\) differ for longer than the grace/);
});

/** A side that answers a scripted list per poll. */
function scripted(name: string, polls: ActiveAlert[][]): AlertsSide {
  let i = 0;
  return { name, fetch: async () => polls[Math.min(i++, polls.length - 1)]!, close: async () => undefined };
}

test('a difference shorter than the grace is a transition seen at different moments: reported, not failing', async () => {
  const firing: ActiveAlert = { labels: { alertname: 'X', job: 'a' }, state: 'firing' };
  const pending: ActiveAlert = { labels: { alertname: 'X', job: 'a' }, state: 'pending' };
  const source = scripted('s', [[pending], [firing], [firing], [firing], [firing]]);
  const target = scripted('t', [[pending], [pending], [firing], [firing], [firing]]);
  const r = await verifyAlerts({ source, target, windowMs: 40, intervalMs: 10, minConsistency: 50 });
  assert.equal(r.polls, 5);
  assert.equal(r.differences.length, 1);
  assert.equal(r.differences[0]!.kind, 'state');
  assert.deepEqual(r.differences[0]!.states, ['firing/pending']);
  assert.equal(r.differences[0]!.persistent, false);
  assert.equal(r.consistency, 80);
  assert.equal(r.exitCode, 0);
  // the same lag for three polls is a finding
  const slow = await verifyAlerts({
    source: scripted('s', [[firing]]),
    target: scripted('t', [[pending], [pending], [pending], [firing]]),
    windowMs: 30,
    intervalMs: 10,
    minConsistency: 0,
  });
  assert.equal(slow.differences[0]!.persistent, true);
  assert.equal(slow.exitCode, 1);
});

test("--ignore-label leaves out a label one side adds (e.g. the ruler's), so the alerts match", async () => {
  const a: ActiveAlert = { labels: { alertname: 'X', job: 'a' }, state: 'firing' };
  const b: ActiveAlert = { labels: { alertname: 'X', job: 'a', cluster: 'eu1' }, state: 'firing' };
  const without = await verifyAlerts({
    source: scripted('s', [[a]]),
    target: scripted('t', [[b]]),
    windowMs: 20,
    intervalMs: 10,
  });
  assert.equal(without.exitCode, 1);
  assert.deepEqual(without.differences.map((d) => d.kind).sort(), ['only-source', 'only-target']);
  const withIgnore = await verifyAlerts({
    source: scripted('s', [[a]]),
    target: scripted('t', [[b]]),
    windowMs: 20,
    intervalMs: 10,
    ignoreLabels: ['cluster'],
  });
  assert.equal(withIgnore.exitCode, 0);
  assert.equal(withIgnore.consistency, 100);
});

const AM_BUILT = labHas('alertmanager', serverVersion('alertmanager'), 'amtool');

test(
  'with both Alertmanager configs, every alert seen is routed through each; one that reaches another receiver is a finding',
  { skip: !AM_BUILT && "the lab's Alertmanager (amtool) is not built yet" },
  async (t) => {
    const [a, b] = await pair(t, 10);
    const dir = tempDir(t);
    const am = (page: string) =>
      `route:\n  receiver: default\n  routes:\n    - matchers: ['severity="page"']\n      receiver: ${page}\nreceivers:\n  - name: default\n  - name: pager\n  - name: oncall\n`;
    writeFileSync(join(dir, 'old.yml'), am('pager'));
    writeFileSync(join(dir, 'new.yml'), am('oncall'));
    const r = await runCli([
      'alerts',
      'verify',
      '--source-url',
      a.url,
      '--target-url',
      b.url,
      '--window',
      '2s',
      '--interval',
      '1s',
      '--alertmanager-config',
      join(dir, 'old.yml'),
      '--target-alertmanager-config',
      join(dir, 'new.yml'),
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS: the alerts agree/);
    assert.match(
      r.stdout,
      /! \{alertname="QueueDeep", instance="127\.0\.0\.1:\d+", job="app", queue="b", severity="page"\} -> pager {2}\| {2}oncall {2}\(differs\)/,
    );
    assert.match(
      r.stdout,
      / {3}\{alertname="QueueBacklog", instance="127\.0\.0\.1:\d+", job="app", queue="a"\} -> default {2}\| {2}default$/m,
    );
    // the same config on both sides: routing agrees, exit 0
    const same = await runCli([
      'alerts',
      'verify',
      '--source-url',
      a.url,
      '--target-url',
      b.url,
      '--window',
      '1s',
      '--interval',
      '1s',
      '--alertmanager-config',
      join(dir, 'old.yml'),
      '--target-alertmanager-config',
      join(dir, 'old.yml'),
    ]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
  },
);

/**
 * A front that only records and checks the tenant: it forwards the path unchanged, so the /prometheus prefix
 * must come from stackshift and be served by the server itself (Prometheus --web.route-prefix), as the Mimir
 * ruler serves /prometheus/api/v1/alerts.
 */
async function tenantRecorder(t: import('node:test').TestContext, upstream: string) {
  const seen: Array<{ path: string; tenant: string }> = [];
  const server = createServer((req, res) => {
    const tenant = req.headers['x-scope-orgid'];
    if (typeof tenant !== 'string' || !tenant) {
      res.writeHead(401);
      res.end('no org id\n');
      return;
    }
    seen.push({ path: req.url ?? '', tenant });
    void fetch(`${upstream}${req.url}`).then(async (up) => {
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' });
      res.end(await up.text());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('the target is a real Prometheus serving its API under /prometheus (--web.route-prefix, as the Mimir ruler): --target-prefix and --target-tenant reach it, every alert agrees', async (t) => {
  const port = await metricsTarget(t);
  const targetPort = await freePort();
  const [a, b] = await Promise.all([
    startServer(t, { name: 'plain', config: CONFIG(port), files: { 'rules.yml': RULES(10) } }),
    startServer(t, {
      name: 'prefixed',
      port: targetPort,
      config: CONFIG(port),
      files: { 'rules.yml': RULES(10) },
      extraArgs: ['--web.route-prefix=/prometheus', `--web.external-url=http://127.0.0.1:${targetPort}/prometheus`],
      waitReady: false,
    }),
  ]);
  await waitUntil(
    async () => (await fetch(`${b!.url}/prometheus/-/ready`).catch(() => undefined))?.ok,
    30_000,
    'prefixed ready',
  );
  assert.equal((await fetch(`${b!.url}/api/v1/alerts`)).status, 404, 'nothing is served without the prefix');
  for (const base of [a!.url, `${b!.url}/prometheus`])
    await waitUntil(async () => (await alertsOf(base)).length >= 3, 30_000, `alerts on ${base}`);
  const front = await tenantRecorder(t, b!.url);
  const r = await runCli([
    'alerts',
    'verify',
    '--source-url',
    a!.url,
    '--target-url',
    front.url,
    '--target-prefix',
    '/prometheus',
    '--target-tenant',
    'team-a',
    '--window',
    '2s',
    '--interval',
    '1s',
    '--output',
    'json',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.consistency, 100);
  assert.equal(doc.alertsSeen, 3);
  assert.equal(front.seen.length, 3, 'one request per poll');
  assert.ok(
    front.seen.every((x) => x.path === '/prometheus/api/v1/alerts' && x.tenant === 'team-a'),
    JSON.stringify(front.seen),
  );
});
