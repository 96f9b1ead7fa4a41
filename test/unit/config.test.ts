import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applySetOverrides, loadConfig, parseConfigText, resolveEndpoint } from '../../src/config/index.js';
import { InputError, UsageError } from '../../src/errors/index.js';
import { redact, clearSecrets } from '../../src/redact/index.js';
import { tempDir } from '../harness/index.js';

test('env interpolation with defaults and $$ escapes', () => {
  const cfg = parseConfigText(
    'endpoints:\n  mimir:\n    url: http://${HOST}:${PORT:-9009}\n    tenant: "$$literal"\n',
    'stackshift.yaml',
    { HOST: 'mimir.local' },
  );
  assert.equal(cfg.endpoints!.mimir.url, 'http://mimir.local:9009');
  assert.equal(cfg.endpoints!.mimir.tenant, '$literal');
});

test('unset env var names file, line and key', () => {
  assert.throws(
    () =>
      parseConfigText(
        'endpoints:\n  prometheus:\n    url: http://x\n    bearer_token: ${NOPE_TOKEN}\n',
        '/etc/stackshift.yaml',
        {},
      ),
    (e: unknown) =>
      e instanceof UsageError &&
      /\/etc\/stackshift\.yaml:4 \(endpoints\.prometheus\.bearer_token\): environment variable NOPE_TOKEN is not set/.test(
        e.message,
      ),
  );
});

test('validation errors point at the line of the offending key', () => {
  const text = 'endpoints:\n  prometheus:\n    url: http://x\n    timeuot: 5s\n';
  try {
    parseConfigText(text, 'cfg.yaml', {});
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof InputError);
    assert.equal(e.location?.file, 'cfg.yaml');
    assert.equal(e.location?.line, 4);
    assert.equal(e.location?.key, 'endpoints.prometheus.timeuot');
    assert.match(e.message, /unknown key "timeuot"/);
  }
  try {
    parseConfigText('endpoints:\n  mimir:\n    url: not a url\n', 'cfg.yaml', {});
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof InputError);
    assert.equal(e.location?.line, 3);
    assert.match(e.message, /endpoints\.mimir\.url: expected an absolute URL/);
  }
  try {
    parseConfigText('endpoints:\n  prometheus:\n    url: http://x\n    timeout: soon\n', 'cfg.yaml', {});
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof InputError);
    assert.equal(e.location?.line, 4);
    assert.match(e.message, /expected a duration/);
  }
});

test('YAML syntax errors carry a position', () => {
  assert.throws(
    () => parseConfigText('endpoints:\n  prometheus: [\n', 'bad.yaml', {}),
    (e: unknown) => e instanceof InputError && e.location?.file === 'bad.yaml' && typeof e.location.line === 'number',
  );
});

test('--set overrides any key, with types, and is validated', () => {
  const cfg = applySetOverrides({ endpoints: { mimir: { url: 'http://a' } } }, [
    'endpoints.mimir.tenant=t1',
    'endpoints.mimir.retries=2',
    'output=json',
  ]);
  assert.equal(cfg.endpoints!.mimir.tenant, 't1');
  assert.equal(cfg.endpoints!.mimir.retries, 2);
  assert.equal(cfg.output, 'json');
  assert.throws(() => applySetOverrides({}, ['output=yaml']), InputError);
  assert.throws(() => applySetOverrides({}, ['nokey']), UsageError);
});

test('secrets from *_file and env are read, registered for redaction, and flags override the file', (t) => {
  clearSecrets();
  const dir = tempDir(t);
  writeFileSync(join(dir, 'token'), 's3cr3t-token-value\n');
  writeFileSync(
    join(dir, 'stackshift.yaml'),
    'endpoints:\n  prometheus:\n    url: http://prom:9090\n    bearer_token_file: token\n  mimir:\n    url: http://mimir\n    tenant: t1\n    basic_auth:\n      username: u\n      password: ${MIMIR_PW}\n',
  );
  const loaded = loadConfig(undefined, { MIMIR_PW: 'hunter2-password' }, dir);
  const prom = resolveEndpoint(loaded, 'prometheus');
  assert.deepEqual(prom.auth, { kind: 'bearer', token: 's3cr3t-token-value' });
  assert.equal(prom.type, 'prometheus');
  const mimir = resolveEndpoint(loaded, 'mimir', { tenant: 't2' });
  assert.equal(mimir.tenant, 't2');
  assert.equal(mimir.type, 'mimir');
  assert.deepEqual(mimir.auth, { kind: 'basic', username: 'u', password: 'hunter2-password' });
  assert.equal(redact('token s3cr3t-token-value and hunter2-password'), 'token <redacted> and <redacted>');
  assert.equal(redact(`Basic ${Buffer.from('u:hunter2-password').toString('base64')}`), 'Basic <redacted>');
  const flagged = resolveEndpoint(loaded, 'prometheus', { url: 'http://other:9090' });
  assert.equal(flagged.url, 'http://other:9090');
  assert.throws(() => resolveEndpoint(loaded, 'grafana'), /no URL for endpoint "grafana"/);
});

test('missing config file given explicitly is a usage error; none at all is fine', (t) => {
  const dir = tempDir(t);
  assert.throws(() => loadConfig('nope.yaml', {}, dir), /cannot read config file .*nope\.yaml: no such file/);
  assert.deepEqual(loadConfig(undefined, {}, dir).config, {});
});

test('redaction masks URL user-info, auth headers and token query parameters', () => {
  assert.equal(redact('GET https://user:pw@mimir.example/api'), 'GET https://<redacted>@mimir.example/api');
  assert.equal(redact('authorization: Bearer abc.def.ghi'), 'authorization: Bearer <redacted>');
  assert.equal(redact('http://x/api?token=abcd1234&x=1'), 'http://x/api?token=<redacted>&x=1');
});

test('a zero endpoint timeout in the config is refused with its line: it would wait forever', () => {
  assert.throws(
    () =>
      parseConfigText('endpoints:\n  prometheus:\n    url: http://prom:9090\n    timeout: 0s\n', 'stackshift.yaml', {}),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /endpoints\.prometheus\.timeout: must be above 0/);
      assert.equal(e.location?.line, 4);
      return true;
    },
  );
  assert.equal(
    parseConfigText('endpoints:\n  prometheus:\n    url: http://prom:9090\n    timeout: 500ms\n', 'stackshift.yaml', {})
      .endpoints!.prometheus.timeout,
    '500ms',
  );
});
