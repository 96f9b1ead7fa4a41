import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import bcrypt from 'bcryptjs';
import { assessmentSchema } from '../../src/assess/index.js';
import { BROKEN_RULE_EXPR, DEAD_TARGET } from '../../src/lab/index.js';
import { startServer, runCli, waitUntil, waitSettled, tempDir, STACK_LINE } from '../harness/index.js';

const HISTORY = { series: 60, durationMs: 6 * 3_600_000, intervalMs: 30_000, seed: 7 };

const CONFIG = `global:
  scrape_interval: 2s
  evaluation_interval: 2s
  external_labels:
    cluster: test
rule_files: [rules.yml]
scrape_configs:
  - job_name: self
    static_configs: [{ targets: ['127.0.0.1:{{port}}'] }]
  - job_name: gone
    static_configs: [{ targets: ['${DEAD_TARGET}'] }]
remote_write:
  - url: http://127.0.0.1:1/api/v1/push
    name: mimir-dual-write
`;

const RULES = `groups:
  - name: good
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
  - name: bad
    rules:
      - record: broken_join
        expr: ${BROKEN_RULE_EXPR}
`;

const ajv = new Ajv2020.default({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(assessmentSchema);

test('assess against a real Prometheus: version, series, targets, rules, flags; JSON matches its schema', async (t) => {
  const prom = await startServer(t, { config: CONFIG, files: { 'rules.yml': RULES }, history: HISTORY });
  await waitSettled(prom.url, 2, 2);
  const r = await runCli([
    'assess',
    '--prometheus-url',
    prom.url,
    '--data-dir',
    prom.dataDir,
    '--output',
    'json',
    '--fail-on',
    'never',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  assert.equal(doc.prometheus.version.replace(/\+.*/, ''), '2.42.0');
  assert.deepEqual(
    doc.upgradePath.stages.map((s: { to: string }) => s.to),
    ['2.55.1', '3.13.2'],
  );
  const gen = doc.storage.topMetrics.filter((m: { name: string }) => m.name.startsWith('stackshift_gen'));
  assert.deepEqual(gen.map((m: { name: string; series: number }) => [m.name, m.series]).sort(), [
    ['stackshift_gen_requests_total', 30],
    ['stackshift_gen_temperature_celsius', 30],
  ]);
  assert.ok(doc.storage.totalSeries >= 60);
  assert.ok(doc.storage.dataDir.blocks >= 1);
  assert.ok(doc.storage.dataDir.tsdbBytes > 0);
  assert.equal(doc.targets.up, 1);
  assert.equal(doc.targets.down, 1);
  const down = doc.targets.list.find((x: { health: string }) => x.health === 'down');
  assert.equal(down.pool, 'gone');
  assert.match(down.lastError, /connection refused/);
  assert.equal(doc.rules.groups, 2);
  assert.equal(doc.rules.unhealthy, 1);
  const bad = doc.rules.list.find((x: { health: string }) => x.health === 'err');
  assert.equal(bad.name, 'broken_join');
  assert.match(bad.lastError, /duplicate series/);
  assert.equal(doc.flags.important['storage.tsdb.retention.time'], '10y');
  assert.equal(doc.flags.important['web.enable-admin-api'], 'true');
  assert.deepEqual(
    doc.remote.write.map((w: { url: string; name: string }) => [w.url, w.name]),
    [['http://127.0.0.1:1/api/v1/push', 'mimir-dual-write']],
  );
  const ids = doc.findings.map((f: { id: string }) => f.id).sort();
  assert.deepEqual(ids, ['rule-unhealthy', 'target-down', 'upgrade-bridge-required']);

  const text = await runCli(['assess', '--prometheus-url', prom.url, '--fail-on', 'warning']);
  assert.equal(text.code, 1, 'warnings fail the gate with --fail-on warning');
  assert.match(text.stdout, /Upgrade path to 3\.13\.2: 2\.42\.0 -> 2\.55\.1 -> 3\.13\.2/);
  assert.match(text.stdout, /Targets: 1 up, 1 down/);
  assert.match(text.stdout, /\[warning\] target-down: target http:\/\/127\.0\.0\.1:1\/metrics \(gone\) is down/);
  const md = await runCli(['assess', '--prometheus-url', prom.url, '-o', 'markdown', '--to', '3.5.0']);
  assert.equal(md.code, 0);
  assert.match(md.stdout, /^## Prometheus assessment/m);
  assert.match(md.stdout, /\| Upgrade path \| 2\.42\.0 -> 2\.55\.1 -> 3\.5\.0 \|/);
});

test('unreachable URL: one line, exit 2, no stack trace', async () => {
  const r = await runCli(['assess', '--prometheus-url', 'http://127.0.0.1:1']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: GET http:\/\/127\.0\.0\.1:1\/-\/ready: connection refused/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('wrong port (a non-Prometheus HTTP server): exit 2 with a clear error', async (t) => {
  const srv = createServer((_q, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Welcome to nginx!</body></html>');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const r = await runCli(['assess', '--prometheus-url', url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does not look like Prometheus|did not answer .* like a Prometheus API/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('bad input: unknown flag, bad --fail-on, missing URL, bad config file', async (t) => {
  for (const [args, re] of [
    [['assess', '--prometheus-ulr', 'http://x'], /unknown option '--prometheus-ulr'/],
    [['assess', '--prometheus-url', 'http://x', '--fail-on', 'sometimes'], /--fail-on must be/],
    [['assess'], /no URL for endpoint "prometheus"/],
    [['assess', '--prometheus-url', 'http://x', '--to', 'latest'], /--to "latest" is not a version/],
  ] as Array<[string[], RegExp]>) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  }
  const dir = tempDir(t);
  writeFileSync(join(dir, 'stackshift.yaml'), 'endpoints:\n  prometheus:\n    url: http://x\n    tiemout: 3s\n');
  const r = await runCli(['assess'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /stackshift\.yaml:4:\d+ \(endpoints\.prometheus\.tiemout\): endpoints\.prometheus\.tiemout: unknown key "tiemout"/,
  );
});

let tlsDir = '';
before(() => {
  tlsDir = tempDir(undefined, 'stackshift-tls-');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(tlsDir, 'key.pem'),
      '-out',
      join(tlsDir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
});

const PASSWORD = 'pw-Zq8vX2-correct-horse';

async function securedPrometheus(t: Parameters<typeof startServer>[0], tls: boolean) {
  const web = [
    tls ? `tls_server_config:\n  cert_file: ${join(tlsDir, 'cert.pem')}\n  key_file: ${join(tlsDir, 'key.pem')}\n` : '',
    `basic_auth_users:\n  admin: ${bcrypt.hashSync(PASSWORD, 4)}\n`,
  ].join('');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'web.yml'), web);
  // waitReady probes without credentials; a 401 still means "up", so start without waiting and poll ourselves
  const prom = await startServer(t, {
    config: 'global:\n  scrape_interval: 15s\n',
    extraArgs: [`--web.config.file=${join(dir, 'web.yml')}`],
    waitReady: false,
  });
  const url = prom.url.replace('http:', tls ? 'https:' : 'http:');
  await waitUntil(
    async () => {
      const r = await runCli(
        [
          'assess',
          '--prometheus-url',
          url,
          '--prometheus-basic-auth-user',
          'admin',
          '--prometheus-basic-auth-password-env',
          'PROM_PW',
          ...(tls ? ['--prometheus-ca-file', join(tlsDir, 'cert.pem')] : []),
          '-o',
          'json',
          '--fail-on',
          'never',
        ],
        { env: { PROM_PW: PASSWORD } },
      );
      return r.code === 0;
    },
    30_000,
    'secured Prometheus to answer',
  );
  return url;
}

test('401 with a bad token: exit 2, clear message, token never printed', async (t) => {
  const url = await securedPrometheus(t, false);
  const token = 'bad-token-9f8e7d6c5b4a';
  const r = await runCli(['assess', '--prometheus-url', url, '--prometheus-bearer-token-env', 'PROM_TOKEN'], {
    env: { PROM_TOKEN: token },
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /HTTP 401/);
  assert.match(r.stderr, /hint: the server rejected the credentials/);
  assert.ok(!(r.stdout + r.stderr).includes(token));
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('TLS: unknown CA fails in one line; with the CA file it works; the password never appears anywhere', async (t) => {
  const url = await securedPrometheus(t, true);
  const noCa = await runCli(['assess', '--prometheus-url', url]);
  assert.equal(noCa.code, 2);
  assert.match(noCa.stderr, /TLS handshake failed: self[- ]signed certificate/);
  assert.match(noCa.stderr, /hint: pass the server CA with tls\.ca_file/);
  assert.doesNotMatch(noCa.stderr, STACK_LINE);

  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'stackshift.yaml'),
    `endpoints:\n  prometheus:\n    url: ${url}\n    basic_auth:\n      username: admin\n      password: \${PROM_PW}\n    tls:\n      ca_file: ${join(tlsDir, 'cert.pem')}\n`,
  );
  const logFile = join(dir, 'run.log');
  for (const format of ['text', 'json', 'markdown']) {
    const ok = await runCli(['assess', '-o', format, '--log-level', 'debug', '--fail-on', 'never'], {
      cwd: dir,
      env: { PROM_PW: PASSWORD },
    });
    assert.equal(ok.code, 0, ok.stderr);
    writeFileSync(logFile, ok.stdout + ok.stderr, { flag: 'a' });
  }
  const b64 = Buffer.from(`admin:${PASSWORD}`).toString('base64');
  const all = readFileSync(logFile, 'utf8');
  assert.ok(all.length > 1000);
  assert.ok(!all.includes(PASSWORD), 'password leaked');
  assert.ok(!all.includes(b64), 'basic-auth header leaked');
});
