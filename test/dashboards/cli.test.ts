import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../../src/rehearsal/fixtures/dashboards.js';
import { freePort } from '../../src/lab/index.js';
import { tempDir } from '../harness/index.js';
import { grafanaUnderTest } from './grafana-target.js';

const MAIN = resolve('dist/src/cli/main.js');

function run(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      {
        cwd: opts.cwd,
        env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1', ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A directory of the rehearsal fixtures plus their datasources.json; returns the dir and a snapshot of its bytes. */
function fixtureDir(t: import('node:test').TestContext): {
  dir: string;
  work: string;
  snapshot: () => Map<string, string>;
} {
  const work = tempDir(t);
  const dir = join(work, 'dashboards');
  for (const f of FIXTURE_DASHBOARDS) {
    mkdirSync(dirname(join(dir, f.file)), { recursive: true });
    writeFileSync(join(dir, f.file), f.text);
  }
  writeFileSync(join(dir, 'datasources.json'), JSON.stringify(FIXTURE_DATASOURCES, null, 2));
  const snapshot = () => new Map(FIXTURE_DASHBOARDS.map((f) => [f.file, readFileSync(join(dir, f.file), 'utf8')]));
  return { dir, work, snapshot };
}

test('files mode --dry-run: summary and unified diff on stdout, nothing written', async (t) => {
  const { dir, work, snapshot } = fixtureDir(t);
  const before = snapshot();
  const r = await run(
    ['dashboards', 'migrate', '--in', dir, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir', '--dry-run'],
    { cwd: work },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /would-change\s+stackshift rehearsal: legacy rows \(stackshift-legacy-rows\)\s+legacy-rows\.json\s+6\s+1 ds var, 1 query var, 1 annotation, 3 panels/,
  );
  assert.match(r.stdout, /^--- a\/team\/modern-mixed\.json$/m);
  assert.match(r.stdout, /^-\s+"uid": "prometheus"$/m);
  assert.match(r.stdout, /^\+\s+"uid": "mimir"$/m);
  assert.match(r.stdout, /22 datasource references to rewrite, 0 left/);
  assert.deepEqual(snapshot(), before);
  assert.deepEqual(readdirSync(work).sort(), ['dashboards']);
});

test('files mode in place: backup first, then restore puts back the same bytes', async (t) => {
  const { dir, work, snapshot } = fixtureDir(t);
  const before = snapshot();
  const r = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--from-datasource',
      'prometheus',
      '--to-datasource',
      'mimir',
      '--tempo-datasource',
      'Tempo',
      '--output',
      'json',
    ],
    { cwd: work },
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.mode, 'files');
  assert.equal(doc.totals.rewritten, 22);
  assert.equal(doc.totals.remaining, 0);
  assert.ok(doc.totals.exemplars > 0);
  assert.equal(doc.datasourceLink.status, 'not-applied');
  assert.match(doc.datasourceLink.provisioning, /datasourceUid: tempo/);
  assert.ok(doc.backupDir.startsWith(join(work, 'stackshift-backup', 'dashboards-')));
  for (const [f, text] of snapshot()) assert.notEqual(text, before.get(f), `${f} migrated`);
  const restored = await run(['dashboards', 'restore', '--from', doc.backupDir], { cwd: work });
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /3 items: 3 restored/);
  assert.deepEqual(snapshot(), before, 'byte-equal after restore');
});

test('files mode --out: originals untouched, migrated copies beside, unchanged files copied', async (t) => {
  const { dir, work, snapshot } = fixtureDir(t);
  const before = snapshot();
  const out = join(work, 'migrated');
  const r = await run(
    ['dashboards', 'migrate', '--in', dir, '--out', out, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir'],
    { cwd: work },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /No backup needed/);
  assert.deepEqual(snapshot(), before);
  assert.ok(readFileSync(join(out, 'team/modern-mixed.json'), 'utf8').includes('"uid": "mimir"'));
  assert.equal(existsSync(join(work, 'stackshift-backup')), false);
  // Running it again is a no-op (same bytes, nothing rewritten or backed up).
  const again = await run(
    ['dashboards', 'migrate', '--in', dir, '--out', out, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir'],
    { cwd: work },
  );
  assert.equal(again.code, 0);
  assert.deepEqual(readdirSync(join(out, 'team')), ['modern-mixed.json']);
});

test('files with a byte-order mark and CRLF line ends keep both', async (t) => {
  const { dir, work } = fixtureDir(t);
  const text = '\ufeff' + FIXTURE_DASHBOARDS[1].text.replace(/\n/g, '\r\n');
  writeFileSync(
    join(dir, 'bom.json'),
    text.replace('stackshift-modern-mixed', 'bom-dash').replace('rows, variables, mixed', 'bom'),
  );
  const r = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      join(dir, 'bom.json'),
      '--datasources',
      join(dir, 'datasources.json'),
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
    ],
    { cwd: work },
  );
  assert.equal(r.code, 0, r.stderr);
  const out = readFileSync(join(dir, 'bom.json'), 'utf8');
  assert.equal(out.charCodeAt(0), 0xfeff);
  assert.ok(!/[^\r]\n/.test(out), 'CRLF kept');
  assert.match(out, /"uid": "mimir"/);
});

test('bad input: invalid JSON names file, line and column; nothing is written', async (t) => {
  const { dir, work, snapshot } = fixtureDir(t);
  writeFileSync(join(dir, 'broken.json'), '{\n  "uid": "x",\n  "panels": [\n    {"type": "graph",}\n  ]\n}\n');
  const before = snapshot();
  const r = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--out',
      join(work, 'out'),
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
    ],
    { cwd: work },
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: .*broken\.json:4:22: invalid JSON: expected a property name \(a trailing comma\?\)/m);
  assert.match(r.stderr, /hint: .*nothing was written/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.equal(r.stdout, '');
  assert.equal(existsSync(join(work, 'out')), false);
  // In place too: not one file changed and no backup directory.
  const inPlace = await run(
    ['dashboards', 'migrate', '--in', dir, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir'],
    { cwd: work },
  );
  assert.equal(inPlace.code, 2);
  assert.deepEqual(snapshot(), before);
  assert.equal(existsSync(join(work, 'stackshift-backup')), false);
});

test('a dashboard without uid is migrated with a warning naming it; --allow-missing-uid is still accepted', async (t) => {
  const { dir, work } = fixtureDir(t);
  writeFileSync(
    join(dir, 'no-uid.json'),
    JSON.stringify(
      {
        title: 'Anonymous',
        schemaVersion: 39,
        panels: [
          { type: 'timeseries', datasource: { type: 'prometheus', uid: 'prometheus' }, targets: [{ expr: 'up' }] },
        ],
      },
      null,
      2,
    ),
  );
  const r = await run(
    ['dashboards', 'migrate', '--in', dir, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir', '--dry-run'],
    { cwd: work },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Anonymous: no uid \(uid\): importing it creates a new dashboard/);
  const ok = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
      '--allow-missing-uid',
    ],
    { cwd: work },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(readFileSync(join(dir, 'no-uid.json'), 'utf8'), /"uid": "mimir"/);
});

test('bad input: unknown target datasource, missing datasources file, non-dashboard JSON, conflicting modes', async (t) => {
  const { dir, work } = fixtureDir(t);
  const unknown = await run(
    ['dashboards', 'migrate', '--in', dir, '--from-datasource', 'Prometheus', '--to-datasource', 'mimri'],
    { cwd: work },
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--to-datasource "mimri" is not a datasource in .*datasources\.json/);
  assert.match(unknown.stderr, /hint: known datasources: .*Mimir \(uid mimir, prometheus\)/);
  const single = join(dir, 'legacy-rows.json');
  const noDs = await run(
    ['dashboards', 'migrate', '--in', single, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir'],
    { cwd: work },
  );
  assert.equal(noDs.code, 2);
  assert.match(noDs.stderr, /files mode needs the datasource list: pass --datasources <file>/);
  writeFileSync(join(dir, 'package.json'), '{"name": "x", "version": "1.0.0"}');
  const other = await run(
    ['dashboards', 'migrate', '--in', dir, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir'],
    { cwd: work },
  );
  assert.equal(other.code, 2);
  assert.match(other.stderr, /package\.json: no panels, rows or templating: not a Grafana dashboard/);
  const both = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--grafana-url',
      'http://grafana:3000',
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
    ],
    { cwd: work },
  );
  assert.equal(both.code, 2);
  assert.match(both.stderr, /exclude each other/);
  assert.equal(existsSync(join(work, 'stackshift-backup')), false);
});

test('a V2 dashboard file is refused (exit 1) while the others migrate', async (t) => {
  const { dir, work } = fixtureDir(t);
  writeFileSync(
    join(dir, 'v2.json'),
    JSON.stringify({
      apiVersion: 'dashboard.grafana.app/v2beta1',
      kind: 'Dashboard',
      metadata: { name: 'v2dash' },
      spec: { title: 'New', elements: {}, layout: { kind: 'GridLayout', spec: { items: [] } } },
    }),
  );
  const r = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--out',
      join(work, 'out'),
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
    ],
    { cwd: work },
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /refused\s+New \(v2dash\)\s+v2\.json.*V2 dashboard schema \(dashboard\.grafana\.app\/v2beta1\) is not supported/,
  );
  assert.match(r.stdout, /3 changed/);
  assert.equal(existsSync(join(work, 'out', 'v2.json')), false);
});

test('API mode through the CLI: dry run, apply, restore; 401 and unreachable Grafana exit 2 with nothing written', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(
    FIXTURE_DATASOURCES.map(({ uid, name, type, isDefault }) => ({ uid, name, type, isDefault })),
  );
  const { uid } = await g.seed.dashboard(JSON.parse(FIXTURE_DASHBOARDS[1].text));
  const work = tempDir(t);
  const token = g.endpoint.auth.kind === 'bearer' ? g.endpoint.auth.token : '';
  const auth =
    g.endpoint.auth.kind === 'bearer'
      ? ['--grafana-bearer-token-env', 'GRAFANA_TOKEN']
      : [
          '--grafana-basic-auth-user',
          (g.endpoint.auth as { username: string }).username,
          '--grafana-basic-auth-password-env',
          'GRAFANA_PASSWORD',
        ];
  const env = {
    GRAFANA_TOKEN: token,
    GRAFANA_PASSWORD: g.endpoint.auth.kind === 'basic' ? g.endpoint.auth.password : '',
  };
  const base = [
    'dashboards',
    'migrate',
    '--grafana-url',
    g.url,
    ...auth,
    '--from-datasource',
    'Prometheus',
    '--to-datasource',
    'Mimir',
    '--uid',
    uid,
  ];
  const dry = await run([...base, '--dry-run'], { cwd: work, env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would-change/);
  assert.match(dry.stdout, /^\+\s+"uid": "mimir"/m);
  assert.doesNotMatch(dry.stdout + dry.stderr, new RegExp(token || 'no-token-here'), 'the token never appears');
  const apply = await run([...base, '--backup-dir', join(work, 'bk')], { cwd: work, env });
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /changed .*11 /);
  assert.match(apply.stdout, /undo with: stackshift dashboards restore --from .*bk --grafana-url/);
  const restore = await run(
    [
      'dashboards',
      'restore',
      '--from',
      join(work, 'bk'),
      '--grafana-url',
      g.url,
      ...auth,
      '--backup-dir',
      join(work, 'pre'),
    ],
    { cwd: work, env },
  );
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, /1 restored/);
  const denied = await run([...base, '--backup-dir', join(work, 'bk401')], {
    cwd: work,
    env: { GRAFANA_TOKEN: 'glsa_wrong', GRAFANA_PASSWORD: 'wrong' },
  });
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /error: Grafana at .* rejected the credentials \(HTTP 401\)/);
  assert.match(denied.stderr, /hint: pass a service-account token/);
  assert.equal(existsSync(join(work, 'bk401')), false);
  const port = await freePort();
  const down = await run(
    [
      'dashboards',
      'export',
      '--out',
      join(work, 'export'),
      '--set',
      `endpoints.grafana.url=http://127.0.0.1:${port}`,
      '--set',
      'endpoints.grafana.retries=0',
    ],
    { cwd: work },
  );
  assert.equal(down.code, 2);
  assert.match(down.stderr, /error: GET http:\/\/127\.0\.0\.1:\d+\/api\/health: connection refused/);
  assert.match(down.stderr, /hint: check that the server is running/);
  assert.equal(existsSync(join(work, 'export')), false);
});
