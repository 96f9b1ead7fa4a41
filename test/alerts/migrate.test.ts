import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { amtoolBinary, labHas, serverVersion } from '../../src/lab/index.js';
import { startMimirAlertmanagerDouble, type MimirAlertmanagerDouble } from '../doubles/mimir-alertmanager-double.js';
import { runCli, STACK_LINE, tempDir } from '../harness/index.js';
import { REAL_MIMIR, REAL_TENANT } from '../ruler/ruler-target.js';

/**
 * `alertmanager migrate` against the Mimir Alertmanager contract double (which validates with the lab's real
 * amtool, as Mimir loads configs with Alertmanager's own code), or a real Mimir with STACKSHIFT_TEST_MIMIR_URL
 * (tenant STACKSHIFT_TEST_MIMIR_TENANT; the tenant's Alertmanager config is deleted afterwards).
 */
const AM_VERSION = serverVersion('alertmanager');
const AM_BUILT = labHas('alertmanager', AM_VERSION, 'amtool');
const skip = !AM_BUILT && "the lab's Alertmanager (amtool) is not built yet";

interface Target {
  url: string;
  tenant: string;
  double?: MimirAlertmanagerDouble;
  get(): Promise<{ status: number; text: string }>;
  post(yaml: string): Promise<number>;
}

async function mimir(t: TestContext): Promise<Target> {
  let double: MimirAlertmanagerDouble | undefined;
  let url: string;
  if (REAL_MIMIR) url = REAL_MIMIR;
  else {
    double = await startMimirAlertmanagerDouble({ amtool: amtoolBinary(AM_VERSION) });
    url = double.url;
  }
  const tenant = REAL_MIMIR ? REAL_TENANT : 'team-a';
  const call = async (method: string, body?: string) => {
    const res = await fetch(`${url}/api/v1/alerts`, {
      method,
      body,
      headers: { 'X-Scope-OrgID': tenant, ...(body ? { 'content-type': 'application/yaml' } : {}) },
    });
    return { status: res.status, text: await res.text() };
  };
  t.after(async () => {
    if (REAL_MIMIR) await call('DELETE');
    await double?.close();
  });
  return { url, tenant, double, get: () => call('GET'), post: async (y) => (await call('POST', y)).status };
}

const CONFIG = (receiver: string) => `# the team's routing
route:
  receiver: default
  routes:
    - matchers: ['severity="page"']
      receiver: ${receiver}
receivers:
  - name: default
  - name: pager
    webhook_configs:
      - url: http://pager.invalid/hook
  - name: oncall
templates:
  - templates/*.tmpl
`;

function writeConfig(dir: string, receiver = 'pager'): string {
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(
    join(dir, 'templates', 'page.tmpl'),
    '{{ define "page.title" }}[{{ .Status }}] {{ .CommonLabels.alertname }}{{ end }}\n',
  );
  const file = join(dir, 'alertmanager.yml');
  writeFileSync(file, CONFIG(receiver));
  return file;
}

test(
  'alertmanager migrate: checked by amtool, dry run sends nothing, then created in Mimir with its template; a second run is a no-op',
  { skip },
  async (t) => {
    const m = await mimir(t);
    const dir = tempDir(t);
    const file = writeConfig(dir);
    const base = ['alertmanager', 'migrate', '--alertmanager-config', file, '--mimir-url', m.url, '--tenant', m.tenant];
    const state = ['--state', join(dir, 'am.db')];
    const dry = await runCli([...base, ...state, '--dry-run']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.match(
      dry.stdout,
      new RegExp(`amtool ${AM_VERSION.replace(/\./g, '\\.')} check-config .*templates: page\\.tmpl\\): SUCCESS`),
    );
    assert.match(dry.stdout, /: create -> planned \(dry run\)/);
    assert.match(dry.stdout, /^ {2}\+ {2}- "\*\.tmpl"$/m, 'the diff shows templates: rewritten to the file name');
    assert.equal((await m.get()).status, 404, 'a dry run sends nothing');
    if (m.double) assert.ok(m.double.calls.every((c) => c.startsWith('GET ') && c.endsWith(`tenant=${m.tenant}`)));

    const r = await runCli([...base, ...state, '-o', 'json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.action, 'create');
    assert.equal(doc.outcome, 'applied');
    const stored = parseYaml((await m.get()).text) as {
      template_files: Record<string, string>;
      alertmanager_config: string;
    };
    assert.deepEqual(Object.keys(stored.template_files), ['page.tmpl']);
    assert.match(stored.template_files['page.tmpl']!, /define "page\.title"/);
    assert.match(stored.alertmanager_config, /# the team's routing/, 'comments kept');
    assert.deepEqual((parseYaml(stored.alertmanager_config) as { templates: string[] }).templates, ['*.tmpl']);

    const posts = () => m.double?.calls.filter((c) => c.startsWith('POST ')).length;
    const before = posts();
    const again = await runCli([...base, ...state]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /: unchanged -> unchanged/);
    assert.equal(posts(), before, 'the second run sends nothing');
  },
);

test(
  'alertmanager migrate: secret values never reach the diff, stdout or the JSON report; a changed secret is shown as changed',
  { skip },
  async (t) => {
    const m = await mimir(t);
    const dir = tempDir(t);
    const file = writeConfig(dir);
    const withSecrets = (pw: string) =>
      CONFIG('pager').replace(
        'route:',
        `global:\n  smtp_auth_password: ${pw}\n  smtp_smarthost: mail.invalid:587\nroute:`,
      );
    writeFileSync(file, withSecrets('hunter2-old'));
    const base = ['alertmanager', 'migrate', '--alertmanager-config', file, '--mimir-url', m.url, '--tenant', m.tenant];
    const state = ['--state', join(dir, 'am.db')];
    const dry = await runCli([...base, ...state, '--dry-run', '-o', 'json']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    for (const leaked of ['hunter2-old', 'pager.invalid/hook'])
      assert.ok(!(dry.stdout + dry.stderr).includes(leaked), `${leaked} is not printed`);
    assert.match(JSON.parse(dry.stdout).diff, /\+ {2}smtp_auth_password: <secret>$/m);
    assert.equal((await runCli([...base, ...state])).code, 0);
    assert.match((await m.get()).text, /hunter2-old/, 'the secret itself is uploaded');

    writeFileSync(file, withSecrets('hunter2-new'));
    const changed = await runCli([...base, ...state, '--dry-run']);
    assert.equal(changed.code, 0, changed.stdout + changed.stderr);
    assert.ok(
      !/hunter2-(old|new)/.test(changed.stdout + changed.stderr),
      'neither the old nor the new secret is printed',
    );
    assert.match(changed.stdout, /^ {2}- {2}smtp_auth_password: <secret>$/m);
    assert.match(changed.stdout, /^ {2}\+ {2}smtp_auth_password: <secret, changed>$/m);
  },
);

test(
  'alertmanager migrate: a config changed in Mimir is shown and kept (exit 1); --force saves it, then replaces it',
  { skip },
  async (t) => {
    const m = await mimir(t);
    const dir = tempDir(t);
    const file = writeConfig(dir);
    const state = ['--state', join(dir, 'am.db')];
    const base = ['alertmanager', 'migrate', '--alertmanager-config', file, '--mimir-url', m.url, '--tenant', m.tenant];
    assert.equal((await runCli([...base, ...state])).code, 0);
    // someone edits the routing in Mimir
    const edited = `alertmanager_config: |\n  route:\n    receiver: oncall\n  receivers:\n    - name: oncall\n`;
    assert.equal(await m.post(edited), 201);
    writeConfig(dir, 'oncall'); // and the file changes too
    const blocked = await runCli([...base, ...state]);
    assert.equal(blocked.code, 1, blocked.stdout + blocked.stderr);
    assert.match(blocked.stdout, /: conflict \(edited-in-mimir\) -> blocked/);
    assert.match(blocked.stdout, /^ {2}- {2}receiver: oncall$/m, "the diff shows Mimir's edit");
    assert.match(blocked.stdout, /pass --force to replace it/);
    assert.match((await m.get()).text, /receiver: oncall\n\s+receivers:/, 'the edit in Mimir is untouched');

    const backupDir = join(dir, 'bk');
    const forced = await runCli([...base, ...state, '--force', '--backup-dir', backupDir]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(forced.stdout, /: conflict \(edited-in-mimir\) -> applied/);
    const saved = readFileSync(join(backupDir, `mimir-alertmanager-${m.tenant}.yaml`), 'utf8');
    assert.deepEqual(
      parseYaml(saved),
      parseYaml(edited.replace('alertmanager_config', 'template_files: {}\nalertmanager_config')),
    );
    assert.match((await m.get()).text, /severity="page"/);
  },
);

test(
  'alertmanager migrate: a config amtool refuses is never sent (exit 1); a *_file setting Mimir refuses is one clear line (exit 2)',
  { skip },
  async (t) => {
    const m = await mimir(t);
    const dir = tempDir(t);
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, 'route:\n  receiver: missing\nreceivers:\n  - name: default\n');
    const base = ['alertmanager', 'migrate', '--alertmanager-config', file, '--mimir-url', m.url, '--tenant', m.tenant];
    const bad = await runCli([...base, '--state', join(dir, 'a.db')]);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /check-config .*: FAILED/);
    assert.match(bad.stdout, /undefined receiver "missing"/);
    assert.match(bad.stdout, /FAIL: amtool check-config refused the config: nothing was sent/);
    assert.equal((await m.get()).status, 404);

    writeFileSync(
      file,
      'route:\n  receiver: hook\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://x.invalid/\n        http_config:\n          basic_auth:\n            username: u\n            password_file: /etc/am/pw\n',
    );
    const refused = await runCli([...base, '--state', join(dir, 'b.db')]);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /Mimir refused the Alertmanager config: error validating Alertmanager config: setting password_file is not allowed/,
    );
    assert.match(refused.stderr, /put the secret inline/);
    assert.doesNotMatch(refused.stderr, STACK_LINE);
  },
);
