import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasourcesYaml } from '../../src/lgtm/index.js';
import { grafanaUnderTest, REAL_GRAFANA, type GrafanaUnderTest } from '../dashboards/grafana-target.js';
import { runCli, STACK_LINE, tempDir } from '../harness/index.js';

/**
 * `lgtm datasources apply|restore` against the Grafana contract double (or a real Grafana with
 * STACKSHIFT_TEST_GRAFANA_URL and a token or user, see test/dashboards/grafana-target.ts). The file is the one
 * `lgtm config` generates (datasourcesYaml), with the tenant as a secure header value.
 */
const TENANT_SECRET = 'tenant-value-never-shown';

function cliAuth(g: GrafanaUnderTest): { args: string[]; env: Record<string, string> } {
  const args =
    g.endpoint.auth.kind === 'bearer'
      ? ['--grafana-url', g.url, '--grafana-bearer-token-env', 'GRAFANA_TOKEN']
      : [
          '--grafana-url',
          g.url,
          '--grafana-basic-auth-user',
          (g.endpoint.auth as { username: string }).username,
          '--grafana-basic-auth-password-env',
          'GRAFANA_PASSWORD',
        ];
  return {
    args,
    env: {
      GRAFANA_TOKEN: g.endpoint.auth.kind === 'bearer' ? g.endpoint.auth.token : '',
      GRAFANA_PASSWORD: g.endpoint.auth.kind === 'basic' ? g.endpoint.auth.password : '',
    },
  };
}

function provisioningFile(dir: string): string {
  const file = join(dir, 'grafana-datasources.yaml');
  writeFileSync(
    file,
    datasourcesYaml({
      mimirUrl: 'http://mimir:8080',
      tempoUrl: 'http://tempo:3200',
      lokiUrl: 'http://loki:3100',
      tenant: TENANT_SECRET,
      logTags: [{ key: 'service.name', value: 'service_name' }],
      metricTags: [{ key: 'service.name', value: 'job' }],
    }),
  );
  return file;
}

/** GET /api/datasources, sorted: what restore must give back exactly. */
async function listing(g: GrafanaUnderTest): Promise<unknown[]> {
  return (await g.client.datasources()).sort((a, b) => a.uid.localeCompare(b.uid));
}

/** The generated uids are fixed (mimir, tempo, loki): on a real Grafana they are removed afterwards. */
function cleanupGenerated(t: import('node:test').TestContext, g: GrafanaUnderTest): void {
  t.after(async () => {
    if (!REAL_GRAFANA) return;
    for (const uid of ['mimir', 'loki'])
      await g.client.json('DELETE', `/api/datasources/uid/${uid}`, { accept: [404] }).catch(() => undefined);
  });
}

test('datasources apply: dry run writes nothing, apply creates and updates by uid with a backup, a second apply is a no-op, restore gives back the exact listing', async (t) => {
  const g = await grafanaUnderTest(t);
  cleanupGenerated(t, g);
  await g.seed.standardDatasources([
    { uid: 'prometheus', name: 'Prometheus', type: 'prometheus', isDefault: true },
    // an older Tempo datasource the generated one replaces (same uid, other URL, no correlations)
    { uid: 'tempo', name: 'Tempo', type: 'tempo', jsonData: { nodeGraph: { enabled: false } } },
  ]);
  const dir = tempDir(t);
  const file = provisioningFile(dir);
  const { args, env } = cliAuth(g);
  const before = await listing(g);
  const writes = () => (g.double?.requests ?? []).filter((r) => !r.startsWith('GET ')).length;
  const writesAtStart = writes();

  const dry = await runCli(['lgtm', 'datasources', 'apply', '--datasources', file, ...args, '--dry-run'], { env });
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /\+ create\s+mimir \(Mimir\)\s+planned/);
  assert.match(dry.stdout, /~ update\s+tempo \(Tempo\)\s+planned/);
  assert.match(dry.stdout, /url: "http:\/\/tempo\.invalid" -> "http:\/\/tempo:3200"/);
  assert.match(dry.stdout, /jsonData\.tracesToLogsV2: \(none\) -> \{"datasourceUid":"loki"/);
  assert.match(dry.stdout, /^ {6}\+\s+"url": "http:\/\/mimir:8080\/prometheus"/m, 'the dry run shows the diff');
  assert.match(dry.stdout, /2 to create, 1 to update, 0 to delete, 0 unchanged, 0 blocked/);
  assert.deepEqual(await listing(g), before, 'a dry run changes nothing');
  assert.equal(writes(), writesAtStart);

  const backupDir = join(dir, 'backup');
  const applied = await runCli(
    [
      'lgtm',
      'datasources',
      'apply',
      '--datasources',
      file,
      ...args,
      '--set-default',
      'mimir',
      '--backup-dir',
      backupDir,
      '-o',
      'json',
    ],
    { env },
  );
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  const doc = JSON.parse(applied.stdout);
  assert.deepEqual(
    doc.items.map((i: { uid: string; action: string; outcome: string }) => `${i.uid}:${i.action}:${i.outcome}`),
    ['mimir:create:applied', 'tempo:update:applied', 'loki:create:applied'],
  );
  const backup = JSON.parse(readFileSync(join(backupDir, 'datasources.json'), 'utf8'));
  assert.deepEqual(backup.created, ['mimir', 'loki']);
  assert.ok(backup.datasources.some((d: { uid: string }) => d.uid === 'tempo'));
  for (const text of [applied.stdout, applied.stderr, readFileSync(join(backupDir, 'datasources.json'), 'utf8')])
    assert.ok(!text.includes(TENANT_SECRET), 'the secure header value is never shown or saved');
  const mimir = (await g.client.datasource('mimir'))!;
  assert.equal(mimir.isDefault, true);
  assert.equal((mimir.secureJsonFields as Record<string, boolean>).httpHeaderValue1, true);
  assert.equal((mimir.jsonData as Record<string, unknown>).httpHeaderName1, 'X-Scope-OrgID');
  assert.equal((await g.client.datasource('prometheus'))!.isDefault, false, 'one default per org');
  const tempo = (await g.client.datasource('tempo'))!;
  assert.equal(tempo.url, 'http://tempo:3200');
  assert.equal(
    ((tempo.jsonData as Record<string, any>).tracesToLogsV2 as Record<string, unknown>).datasourceUid,
    'loki',
  );

  const writesAfterApply = writes();
  const again = await runCli(
    ['lgtm', 'datasources', 'apply', '--datasources', file, ...args, '--set-default', 'mimir'],
    { env },
  );
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /0 to create, 0 to update, 0 to delete, 3 unchanged, 0 blocked/);
  assert.doesNotMatch(again.stdout, /backup:/, 'nothing to change: no backup either');
  assert.equal(writes(), writesAfterApply, 'the second apply sends no write');

  const restored = await runCli(['lgtm', 'datasources', 'restore', '--from', backupDir, ...args], { env });
  assert.equal(restored.code, 0, restored.stdout + restored.stderr);
  assert.match(restored.stdout, /- delete\s+mimir \(Mimir\)\s+applied/);
  assert.match(restored.stdout, /~ update\s+prometheus \(Prometheus\)\s+applied\n {6}isDefault: false -> true/);
  assert.deepEqual(await listing(g), before, 'GET /api/datasources is what it was before the apply');
  assert.ok(existsSync(restored.stdout.match(/backup: (\S+)/)![1]!), 'the state before the restore was saved');
});

test('datasources apply: a read-only (provisioned) datasource and a name taken by another uid are blocked, never forced (exit 1)', async (t) => {
  const g = await grafanaUnderTest(t);
  cleanupGenerated(t, g);
  // "Loki" exists under another uid: Grafana would answer 409 "data source with the same name already exists"
  await g.seed.datasource({ uid: `${g.id}-logs`, name: 'Loki', type: 'loki' });
  await g.seed.datasource({ uid: 'tempo', name: 'Tempo', type: 'tempo' });
  // a provisioned datasource cannot be made through the API: the double's hook, skipped on a real Grafana
  g.double?.markReadOnly('tempo');
  const dir = tempDir(t);
  const { args, env } = cliAuth(g);
  const r = await runCli(
    ['lgtm', 'datasources', 'apply', '--datasources', provisioningFile(dir), ...args, '--backup-dir', join(dir, 'b')],
    { env },
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /! conflict\s+loki \(Loki\)\s+blocked \[name-taken\]/);
  assert.match(r.stdout, /give the file's datasource uid ss[0-9a-f]+-logs to update that one/);
  if (g.double) {
    assert.match(r.stdout, /! conflict\s+tempo \(Tempo\)\s+blocked \[read-only\]/);
    assert.equal((await g.client.datasource('tempo'))!.url, 'http://tempo.invalid', 'the read-only one is untouched');
  }
  assert.match(r.stdout, /\+ create\s+mimir \(Mimir\)\s+applied/, 'the others still go');
  assert.match(r.stdout, /FAIL: a datasource was refused or blocked/);
});

test('datasources apply: a datasource without uid is bad input: one line naming file, line and key, exit 2', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'ds.yaml');
  writeFileSync(
    file,
    'apiVersion: 1\ndatasources:\n  - name: Mimir\n    uid: mimir\n    type: prometheus\n  - name: Loki\n    type: loki\n',
  );
  const r = await runCli([
    'lgtm',
    'datasources',
    'apply',
    '--datasources',
    file,
    '--grafana-url',
    'http://127.0.0.1:9',
  ]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /ds\.yaml:6.*datasources\[1\] \(Loki\) has no uid/);
  assert.match(r.stderr, /apply works by uid/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});
