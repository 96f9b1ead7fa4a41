import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GrafanaClient, GrafanaSaveError, GrafanaV2DashboardError } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import {
  DatasourceCatalog,
  countReferences,
  exportGrafana,
  migrateGrafana,
  readBackup,
  restoreBackup,
  sameDashboard,
  type GrafanaDatasource,
} from '../../src/dashboards/index.js';
import { HttpError } from '../../src/http/index.js';
import { StackshiftError, UsageError } from '../../src/errors/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../../src/rehearsal/fixtures/dashboards.js';
import { freePort } from '../../src/lab/index.js';
import { setLogSink } from '../../src/log/index.js';
import { tempDir } from '../harness/index.js';
import { grafanaUnderTest, REAL_GRAFANA, type GrafanaUnderTest } from './grafana-target.js';

/*
 * API mode against Grafana's documented HTTP API: the contract double by default, a real Grafana when
 * STACKSHIFT_TEST_GRAFANA_URL is set (see grafana-target.ts). All tests live in this one file so that,
 * against a real server, they run one after another.
 */

const DATASOURCES = FIXTURE_DATASOURCES.map(({ uid, name, type, isDefault, jsonData }) => ({
  uid,
  name,
  type,
  isDefault,
  jsonData,
}));

function fixture(file: string): Record<string, unknown> {
  return JSON.parse(FIXTURE_DASHBOARDS.find((f) => f.file === file)!.text) as Record<string, unknown>;
}

/** The three rehearsal dashboards (and their library panel) in Grafana; returns their uids. */
async function seedFixtures(g: GrafanaUnderTest): Promise<{ uids: string[]; lib: string; folder: string }> {
  await g.seed.standardDatasources(DATASOURCES);
  const folder = await g.seed.folder('team', 'Team');
  const exported = fixture('exported-with-inputs.json');
  const libModel = JSON.parse(
    JSON.stringify((exported.__elements as Record<string, { model: unknown }>)['stackshift-lib-latency'].model).replace(
      /\$\{DS_PROMETHEUS\}/g,
      'prometheus',
    ),
  );
  const lib = await g.seed.libraryElement('stackshift-lib-latency', 'Shared latency panel', libModel, folder);
  const modern = JSON.parse(JSON.stringify(fixture('team/modern-mixed.json')).replace(/stackshift-lib-latency/g, lib));
  const uids = [
    (await g.seed.dashboard(fixture('legacy-rows.json'))).uid,
    (await g.seed.dashboard(modern, folder)).uid,
  ];
  return { uids, lib, folder };
}

function catalogOf(): { catalog: DatasourceCatalog; from: GrafanaDatasource; to: GrafanaDatasource } {
  const catalog = new DatasourceCatalog(DATASOURCES as GrafanaDatasource[]);
  return { catalog, from: catalog.list[0], to: catalog.list[1] };
}

test('client: search pages through every dashboard and never asks above 5000 (422)', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  for (let i = 0; i < 7; i++)
    await g.seed.dashboard({ uid: `page-${i}`, title: `Paging ${i}`, panels: [], schemaVersion: 39 });
  const seen: string[] = [];
  for await (const h of g.client.searchAll({ type: 'dash-db', query: g.id, limit: 3 })) seen.push(h.uid);
  assert.equal(seen.length, 7);
  assert.equal(new Set(seen).size, 7);
  // pages of 3, 3, 1, then read again (more than one page is not one snapshot) and nothing new: done
  if (g.double)
    assert.equal(
      g.double.requests.filter((r) => r.startsWith('GET /api/search') && r.includes(`query=${g.id}`)).length,
      6,
      'pages of 3, 3, 1, twice',
    );
  await assert.rejects(
    g.client.search({ type: 'dash-db', limit: 6000 }),
    (e: unknown) => e instanceof HttpError && e.status === 422 && /5000/.test(e.message),
  );
  const clamped: string[] = [];
  for await (const h of g.client.searchAll({ type: 'dash-db', query: g.id, limit: 6000 })) clamped.push(h.uid);
  assert.equal(clamped.length, 7);
});

test('client: 404 is "not there", 401 is a credentials error', async (t) => {
  const g = await grafanaUnderTest(t);
  assert.equal(await g.client.dashboard(`${g.id}-does-not-exist`), undefined);
  assert.equal(await g.client.libraryElement(`${g.id}-nope`), undefined);
  assert.equal(await g.client.folder(`${g.id}-nope`), undefined);
  const bad = new GrafanaClient(g.badEndpoint);
  t.after(() => bad.close());
  await assert.rejects(
    bad.datasources(),
    (e: unknown) =>
      e instanceof HttpError &&
      e.status === 401 &&
      /rejected the credentials/.test(e.message) &&
      /token/.test(e.hint ?? ''),
  );
});

test('client: a save with a stale version is a 412 conflict; nothing is overwritten', async (t) => {
  const g = await grafanaUnderTest(t);
  const { uid } = await g.seed.dashboard({
    uid: 'conflict',
    title: 'Conflict',
    panels: [],
    schemaVersion: 39,
    description: 'first',
  });
  const v1 = (await g.client.dashboard(uid))!;
  const saved = await g.client.saveDashboard({
    dashboard: { ...v1.dashboard, description: 'second' },
    folderUid: v1.meta.folderUid,
    message: 'edit',
    overwrite: false,
  });
  assert.equal(saved.version, (v1.meta.version ?? 0) + 1);
  await assert.rejects(
    g.client.saveDashboard({
      dashboard: { ...v1.dashboard, description: 'stale' },
      folderUid: v1.meta.folderUid,
      message: 'stale',
      overwrite: false,
    }),
    (e: unknown) => e instanceof GrafanaSaveError && e.status === 412 && e.reason === 'version-mismatch',
  );
  assert.equal((await g.client.dashboard(uid))!.dashboard.description, 'second');
});

test('export: nested folders kept, datasources and library panels saved', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const parent = await g.seed.folder('platform', 'Platform');
  const child = await g.seed.folder('databases', 'Databases', parent);
  const a = await g.seed.dashboard({ uid: 'root', title: 'Root dash', panels: [], schemaVersion: 39 });
  const b = await g.seed.dashboard({ uid: 'in-parent', title: 'Parent dash', panels: [], schemaVersion: 39 }, parent);
  const c = await g.seed.dashboard({ uid: 'in-child', title: 'Child dash', panels: [], schemaVersion: 39 }, child);
  const lib = await g.seed.libraryElement(
    'lib',
    'Lib',
    {
      type: 'timeseries',
      title: 'Lib',
      datasource: { type: 'prometheus', uid: 'prometheus' },
      targets: [{ expr: 'up', refId: 'A' }],
    },
    parent,
  );
  const out = join(tempDir(t), 'export');
  const r = await exportGrafana({ client: g.client, output: out, uids: [a.uid, b.uid, c.uid] });
  const where = Object.fromEntries(r.outcomes.filter((o) => o.kind === 'dashboard').map((o) => [o.uid, o.where]));
  assert.equal(where[a.uid], 'General');
  assert.equal(where[b.uid], `Platform ${g.id}`);
  assert.equal(where[c.uid], `Platform ${g.id}/Databases ${g.id}`);
  const file = join(out, 'dashboards', `Platform ${g.id}`, `Databases ${g.id}`, `${c.uid}.json`);
  const env = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(env.dashboard.uid, c.uid);
  assert.equal(env.meta.folderUid, child);
  assert.ok(existsSync(join(out, 'library-elements', `${lib}.json`)));
  const ds = JSON.parse(readFileSync(join(out, 'datasources.json'), 'utf8')) as Array<{ uid: string }>;
  assert.ok(ds.some((d) => d.uid === 'mimir'));
  const folders = JSON.parse(readFileSync(join(out, 'folders.json'), 'utf8')) as Array<{
    uid: string;
    parentUid?: string;
  }>;
  assert.equal(folders.find((f) => f.uid === child)?.parentUid, parent);
  assert.equal(readBackup(out).descriptor.purpose, 'export');
  // A second export into the same directory refreshes it.
  const again = await exportGrafana({ client: g.client, output: out, uids: [a.uid] });
  assert.equal(again.totals.byStatus.exported, 1 + again.outcomes.filter((o) => o.kind === 'library-element').length);
});

test('migrate --dry-run reports and diffs, and changes nothing', async (t) => {
  const g = await grafanaUnderTest(t);
  const { uids } = await seedFixtures(g);
  const before = await Promise.all(uids.map((u) => g.client.dashboard(u)));
  const backupDir = join(tempDir(t), 'backup');
  const r = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    dryRun: true,
    diff: true,
    uids,
    backupDir,
  });
  const mine = r.outcomes.filter((o) => o.kind === 'dashboard');
  assert.deepEqual(
    mine.map((o) => o.status),
    ['would-change', 'would-change'],
  );
  assert.ok(mine.every((o) => o.diff && /^-.*"(uid|datasource)"/m.test(o.diff) && /^\+.*mimir/im.test(o.diff)));
  const after = await Promise.all(uids.map((u) => g.client.dashboard(u)));
  assert.deepEqual(
    after.map((x) => x!.meta.version),
    before.map((x) => x!.meta.version),
  );
  assert.equal(existsSync(backupDir), false, 'no backup for a dry run');
});

test('migrate applies with the read version, a message and a backup; restore gives back the exact JSON', async (t) => {
  const g = await grafanaUnderTest(t);
  const { uids, lib } = await seedFixtures(g);
  const { catalog, from, to } = catalogOf();
  const before = new Map(await Promise.all(uids.map(async (u) => [u, (await g.client.dashboard(u))!] as const)));
  const backupDir = join(tempDir(t), 'backup');
  const r = await migrateGrafana({
    client: g.client,
    from: 'prometheus',
    to: 'mimir',
    uids,
    backupDir,
    exemplars: true,
  });
  const dash = r.outcomes.filter((o) => o.kind === 'dashboard');
  assert.deepEqual(
    dash.map((o) => o.status),
    ['changed', 'changed'],
  );
  for (const o of dash) {
    const now = (await g.client.dashboard(o.uid!))!;
    const was = before.get(o.uid!)!;
    assert.equal(now.meta.version, (was.meta.version ?? 0) + 1, 'saved once, from the version read');
    assert.equal(now.meta.folderUid ?? '', was.meta.folderUid ?? '', 'folder kept');
    assert.equal(countReferences(now.dashboard, catalog, from), 0, `${o.uid}: no reference to Prometheus left`);
    assert.ok(countReferences(now.dashboard, catalog, to) >= o.rewritten);
    assert.equal(o.remaining, 0);
    if (g.double)
      assert.match(
        g.double.dashboards.get(o.uid!)!.messages.at(-1)!,
        /stackshift: datasource Prometheus -> Mimir \(\d+ references\)/,
      );
  }
  // The library panel the modern dashboard uses was migrated through the library-elements API.
  const libOutcome = r.outcomes.find((o) => o.kind === 'library-element' && o.uid === lib);
  assert.equal(libOutcome?.status, 'changed');
  const libNow = (await g.client.libraryElement(lib))!;
  assert.equal((libNow.model.datasource as { uid: string }).uid, 'mimir');
  // Backup: exactly what was read, before anything was saved.
  const b = readBackup(backupDir);
  assert.equal(b.dashboards.length, 2);
  for (const { env } of b.dashboards) assert.deepEqual(env.dashboard, before.get(String(env.dashboard.uid))!.dashboard);
  assert.equal(b.libraryElements.length, 1);
  // Restore, then read back: the same JSON as before the migration (only Grafana's version counter moved).
  const rr = await restoreBackup({ from: backupDir, client: g.client, backupDir: join(tempDir(t), 'pre-restore') });
  assert.deepEqual(
    rr.outcomes.map((o) => o.status),
    ['restored', 'restored', 'restored'],
  );
  for (const [uid, was] of before) {
    const now = (await g.client.dashboard(uid))!;
    assert.ok(sameDashboard(now.dashboard, was.dashboard), `${uid} restored exactly`);
  }
  assert.equal(((await g.client.libraryElement(lib))!.model.datasource as { uid: string }).uid, 'prometheus');
  // Restoring again finds nothing to do.
  const again = await restoreBackup({
    from: backupDir,
    client: g.client,
    backupDir: join(tempDir(t), 'pre-restore-2'),
  });
  assert.ok(again.outcomes.every((o) => o.status === 'unchanged'));
  // A second migration is idempotent once done: migrate, then migrate again changes nothing.
  await migrateGrafana({ client: g.client, from: 'prometheus', to: 'mimir', uids, backupDir: join(tempDir(t), 'b2') });
  const twice = await migrateGrafana({
    client: g.client,
    from: 'prometheus',
    to: 'mimir',
    uids,
    backupDir: join(tempDir(t), 'b3'),
  });
  assert.ok(twice.outcomes.every((o) => o.status === 'unchanged'));
  assert.equal(existsSync(join(tempDir(t), 'b3')), false);
});

test('migrate reports a concurrent edit as a 412 conflict and never clobbers it', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const { uid } = await g.seed.dashboard(fixture('team/modern-mixed.json'));
  const backupDir = join(tempDir(t), 'backup');
  const r = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    uids: [uid],
    backupDir,
    // Someone saves the dashboard between stackshift's read and its save.
    beforeSave: async (u) => {
      const cur = (await g.client.dashboard(u))!;
      await g.client.saveDashboard({
        dashboard: { ...cur.dashboard, description: 'edited concurrently' },
        folderUid: cur.meta.folderUid,
        message: 'human edit',
      });
    },
  });
  const o = r.outcomes.find((x) => x.uid === uid)!;
  assert.equal(o.status, 'conflict');
  assert.match(o.reason!, /412/);
  const now = (await g.client.dashboard(uid))!;
  assert.equal(now.dashboard.description, 'edited concurrently', 'the concurrent edit survives');
  assert.ok(
    countReferences(now.dashboard, catalogOf().catalog, catalogOf().from) > 0,
    'stackshift did not save over it',
  );
  assert.equal(readBackup(backupDir).dashboards.length, 0, 'a refused save leaves no backup to replay');
  // Running again migrates the new version, edit included.
  const again = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    uids: [uid],
    backupDir: join(tempDir(t), 'again'),
  });
  assert.equal(again.outcomes.find((x) => x.uid === uid)!.status, 'changed');
  assert.equal((await g.client.dashboard(uid))!.dashboard.description, 'edited concurrently');
});

test('restore refuses to discard edits made after the migration unless forced', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const { uid } = await g.seed.dashboard(fixture('legacy-rows.json'));
  const backupDir = join(tempDir(t), 'backup');
  await migrateGrafana({ client: g.client, from: 'Prometheus', to: 'Mimir', uids: [uid], backupDir });
  const cur = (await g.client.dashboard(uid))!;
  await g.client.saveDashboard({
    dashboard: { ...cur.dashboard, description: 'edited after the migration' },
    folderUid: cur.meta.folderUid,
    message: 'later edit',
  });
  const r = await restoreBackup({ from: backupDir, client: g.client, backupDir: join(tempDir(t), 'pre') });
  assert.equal(r.outcomes[0].status, 'conflict');
  assert.equal((await g.client.dashboard(uid))!.dashboard.description, 'edited after the migration');
  const pre2 = join(tempDir(t), 'pre2');
  const forced = await restoreBackup({ from: backupDir, client: g.client, force: true, backupDir: pre2 });
  assert.equal(forced.outcomes[0].status, 'restored');
  assert.ok(
    sameDashboard((await g.client.dashboard(uid))!.dashboard, readBackup(backupDir).dashboards[0].env.dashboard),
  );
  // What the forced restore overwrote is itself backed up.
  const pre = readBackup(pre2);
  assert.equal(pre.dashboards[0].env.dashboard.description, 'edited after the migration');
});

test(
  'provisioned dashboards are skipped with the reason',
  {
    skip:
      REAL_GRAFANA && !process.env.STACKSHIFT_TEST_GRAFANA_PROVISIONED_UID
        ? 'real Grafana: set STACKSHIFT_TEST_GRAFANA_PROVISIONED_UID to a provisioned dashboard using the Prometheus datasource'
        : false,
  },
  async (t) => {
    const g = await grafanaUnderTest(t);
    await g.seed.standardDatasources(DATASOURCES);
    let uid = process.env.STACKSHIFT_TEST_GRAFANA_PROVISIONED_UID ?? '';
    if (g.double) {
      uid = `${g.id}-provisioned`;
      g.double.provision(
        { ...fixture('team/modern-mixed.json'), uid, title: `Provisioned ${g.id}` },
        { externalId: 'dashboards/api.json' },
      );
    }
    const before = (await g.client.dashboard(uid))!;
    assert.equal(before.meta.provisioned, true);
    const r = await migrateGrafana({
      client: g.client,
      from: 'Prometheus',
      to: 'Mimir',
      uids: [uid],
      backupDir: join(tempDir(t), 'b'),
    });
    const o = r.outcomes.find((x) => x.uid === uid)!;
    assert.equal(o.status, 'provisioned');
    assert.match(o.reason!, /provisioned from .*api\.json.*--in/);
    assert.ok(o.rewritten > 0, 'what would change is still reported');
    assert.equal((await g.client.dashboard(uid))!.meta.version, before.meta.version);
    // And Grafana itself refuses the save with 400, which the client reports as such.
    await assert.rejects(
      g.client.saveDashboard({ dashboard: before.dashboard, folderUid: before.meta.folderUid }),
      (e: unknown) => e instanceof GrafanaSaveError && e.status === 400 && e.reason === 'provisioned',
    );
  },
);

test('client: a dashboard deleted between two search pages never makes another one go missing', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const uids: string[] = [];
  for (let i = 0; i < 7; i++)
    uids.push((await g.seed.dashboard({ uid: `shift-${i}`, title: `Shift ${i}`, panels: [], schemaVersion: 39 })).uid);
  const seen: string[] = [];
  for await (const h of g.client.searchAll({ type: 'dash-db', query: g.id, limit: 3 })) {
    seen.push(h.uid);
    if (seen.length === 3) {
      // After the first page one seen dashboard goes: page 2 shifts left, and by offset "Shift 3" would be skipped.
      await g.client.deleteDashboard(uids[0]);
    }
  }
  for (const uid of uids) assert.ok(seen.includes(uid), `${uid} listed`);
  assert.equal(new Set(seen).size, seen.length, 'nothing listed twice');
});

test('Grafana 12: GET /api/dashboards/uid of a V2 dashboard is 406; migrate and export refuse it with the way out', async (t) => {
  const g = await grafanaUnderTest(t, { version: '12.1.0', orgId: REAL_GRAFANA ? undefined : 2 });
  await g.seed.standardDatasources(DATASOURCES);
  const health = await g.client.health();
  if (Number.parseInt(health.version ?? '0', 10) < 12) return t.skip(`Grafana ${health.version} has no V2 dashboards`);
  const org = await g.client.currentOrg();
  const ns = org.id === 1 ? 'default' : `org-${org.id}`;
  const name = `${g.id}-v2-406`;
  const spec = {
    title: `V2 406 ${g.id}`,
    elements: {},
    layout: { kind: 'GridLayout', spec: { items: [] } },
    variables: [],
    annotations: [],
    cursorSync: 'Off',
    preload: false,
    tags: [],
    timeSettings: { from: 'now-1h', to: 'now' },
    links: [],
  };
  const created = await g.client.json('POST', `/apis/dashboard.grafana.app/v2beta1/namespaces/${ns}/dashboards`, {
    body: { metadata: { name }, spec },
    accept: [404],
  });
  if (created.status === 404) return t.skip('this Grafana does not serve the v2beta1 dashboard API');
  g.seed.track(name);
  const raw = await g.client.json<{ message: string }>('GET', `/api/dashboards/uid/${name}`, { accept: [406] });
  assert.equal(raw.status, 406);
  assert.match(
    raw.data.message,
    new RegExp(
      `^dashboard api version not supported, use /apis/dashboard\\.grafana\\.app/v2\\w+/namespaces/${ns}/dashboards/${name} instead$`,
    ),
  );
  await assert.rejects(
    g.client.dashboard(name),
    (e: unknown) =>
      e instanceof GrafanaV2DashboardError &&
      e.exitCode === 1 &&
      e.apisPath === `/apis/dashboard.grafana.app/v2beta1/namespaces/${ns}/dashboards/${name}`,
  );
  const r = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    uids: [name],
    backupDir: join(tempDir(t), 'b'),
  });
  assert.equal(r.outcomes[0].status, 'refused');
  assert.match(
    r.outcomes[0].reason!,
    /V2 schema, which Grafana's \/api refuses \(HTTP 406\); stackshift does not rewrite V2 dashboards: change its datasource in Grafana .* or through \/apis\/dashboard\.grafana\.app\/v2beta1\/namespaces\/.*; not changed$/,
  );
  const exp = await exportGrafana({ client: g.client, output: join(tempDir(t), 'export'), uids: [name] });
  assert.equal(exp.outcomes[0].status, 'refused');
  assert.match(exp.outcomes[0].reason!, /HTTP 406.*not exported$/);
});

test('datasource PUT replaces the datasource: type and access are required, what is left out is reset', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const before = (await g.client.datasource('mimir'))!;
  const noType = await g.client.json<{ message: string }>('PUT', '/api/datasources/uid/mimir', {
    body: { name: before.name, access: 'proxy', jsonData: {} },
    accept: [400],
  });
  assert.equal(noType.status, 400);
  const noAccess = await g.client.json('PUT', '/api/datasources/uid/mimir', {
    body: { name: before.name, type: before.type, jsonData: {} },
    accept: [400],
  });
  assert.equal(noAccess.status, 400);
  assert.equal((await g.client.datasource('mimir'))!.url, before.url, 'a refused PUT changes nothing');
  // stackshift's own update (the exemplar link) sends the whole object: url and other settings survive.
  const r = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    tempo: 'Tempo',
    uids: [],
    backupDir: join(tempDir(t), 'b'),
  });
  assert.equal(r.datasourceLink?.status, 'linked');
  const after = (await g.client.datasource('mimir'))!;
  assert.equal(after.url, before.url);
  assert.equal(after.access, before.access);
  // A partial body is not merged: the url it leaves out is gone.
  await g.client.updateDatasource('mimir', {
    name: after.name,
    type: after.type,
    access: after.access,
    jsonData: after.jsonData,
  });
  assert.equal((await g.client.datasource('mimir'))!.url, '');
});

test(
  'double contract: a stale version on a provisioned dashboard is 412 (version checked first), a current one 400',
  { skip: REAL_GRAFANA ? 'needs a provisioned dashboard' : false },
  async (t) => {
    const g = await grafanaUnderTest(t);
    g.double!.provision({ uid: 'prov-order', title: 'Provisioned order', panels: [], schemaVersion: 39 });
    const cur = (await g.client.dashboard('prov-order'))!;
    await assert.rejects(
      g.client.saveDashboard({ dashboard: { ...cur.dashboard, version: cur.meta.version! - 1 } }),
      (e: unknown) => e instanceof GrafanaSaveError && e.status === 412 && e.reason === 'version-mismatch',
    );
    await assert.rejects(
      g.client.saveDashboard({ dashboard: { ...cur.dashboard, version: cur.meta.version } }),
      (e: unknown) => e instanceof GrafanaSaveError && e.status === 400 && e.reason === 'provisioned',
    );
  },
);

test('Grafana 12: a dashboard stored as V2 is refused, not down-converted', async (t) => {
  const g = await grafanaUnderTest(t, { version: '12.1.0' });
  await g.seed.standardDatasources(DATASOURCES);
  const health = await g.client.health();
  if (Number.parseInt(health.version ?? '0', 10) < 12) return t.skip(`Grafana ${health.version} has no V2 dashboards`);
  const name = `${g.id}-v2`;
  const spec = {
    title: `V2 ${g.id}`,
    elements: {
      'panel-1': {
        kind: 'Panel',
        spec: {
          id: 1,
          title: 'Up',
          data: {
            kind: 'QueryGroup',
            spec: {
              queries: [
                {
                  kind: 'PanelQuery',
                  spec: {
                    refId: 'A',
                    query: {
                      kind: 'DataQuery',
                      group: 'prometheus',
                      version: 'v0',
                      datasource: { name: 'prometheus' },
                      spec: { expr: 'up' },
                    },
                  },
                },
              ],
            },
          },
        },
      },
    },
    layout: { kind: 'GridLayout', spec: { items: [] } },
    variables: [],
    annotations: [],
    cursorSync: 'Off',
    preload: false,
    tags: [],
    timeSettings: { from: 'now-1h', to: 'now' },
    links: [],
  };
  const created = await g.client.json('POST', '/apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards', {
    body: { metadata: { name }, spec },
    accept: [404],
  });
  if (created.status === 404) return t.skip('this Grafana does not serve the v2beta1 dashboard API');
  g.seed.track(name);
  const classic = await g.seed.dashboard(fixture('team/modern-mixed.json'));
  const r = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    uids: [name, classic.uid],
    backupDir: join(tempDir(t), 'b'),
  });
  const v2 = r.outcomes.find((o) => o.uid === name)!;
  assert.equal(v2.status, 'refused');
  assert.match(v2.reason!, /V2/);
  assert.equal(
    r.outcomes.find((o) => o.uid === classic.uid)!.status,
    'changed',
    'classic dashboards on the same Grafana still migrate',
  );
  const stored = await g.client.dashboardResource('default', name, 'v2beta1');
  assert.deepEqual((stored?.spec as { elements: unknown }).elements, spec.elements, 'the V2 dashboard is untouched');
  const exp = await exportGrafana({ client: g.client, output: join(tempDir(t), 'export'), uids: [name] });
  assert.equal(exp.outcomes.find((o) => o.uid === name)!.status, 'refused');
});

test('exemplars on, and the Mimir datasource linked to Tempo; restore unlinks', async (t) => {
  const g = await grafanaUnderTest(t);
  const { uids } = await seedFixtures(g);
  const backupDir = join(tempDir(t), 'backup');
  const r = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    tempo: 'Tempo',
    exemplars: true,
    uids,
    backupDir,
  });
  assert.equal(r.datasourceLink?.status, 'linked');
  const mimir = (await g.client.datasource('mimir'))!;
  assert.deepEqual((mimir.jsonData as { exemplarTraceIdDestinations: unknown }).exemplarTraceIdDestinations, [
    { name: 'trace_id', datasourceUid: 'tempo', urlDisplayLabel: 'View trace' },
  ]);
  assert.equal((mimir.jsonData as { prometheusType?: string }).prometheusType, 'Mimir', 'other settings kept');
  const modern = r.outcomes.find((o) => o.uid === uids[1])!;
  assert.ok((modern.byKind.exemplar ?? 0) >= 3);
  const again = await migrateGrafana({
    client: g.client,
    from: 'Prometheus',
    to: 'Mimir',
    tempo: 'tempo',
    uids,
    backupDir: join(tempDir(t), 'b2'),
  });
  assert.equal(again.datasourceLink?.status, 'already-linked');
  await restoreBackup({ from: backupDir, client: g.client, backupDir: join(tempDir(t), 'pre') });
  assert.equal(
    ((await g.client.datasource('mimir'))!.jsonData as Record<string, unknown>).exemplarTraceIdDestinations,
    undefined,
  );
  await assert.rejects(
    migrateGrafana({ client: g.client, from: 'Prometheus', to: 'Mimir', tempo: 'Loki', uids }),
    /not tempo/,
  );
});

test(
  'a provisioned (read-only) target datasource gets a provisioning snippet instead of an API change',
  { skip: REAL_GRAFANA ? 'needs a provisioned datasource' : false },
  async (t) => {
    const g = await grafanaUnderTest(t);
    const { uids } = await seedFixtures(g);
    g.double!.markReadOnly('mimir');
    const r = await migrateGrafana({
      client: g.client,
      from: 'Prometheus',
      to: 'Mimir',
      tempo: 'Tempo',
      uids,
      backupDir: join(tempDir(t), 'b'),
    });
    assert.equal(r.datasourceLink?.status, 'not-applied');
    assert.match(
      r.datasourceLink!.provisioning!,
      /exemplarTraceIdDestinations:\n\s+- name: trace_id\n\s+datasourceUid: tempo/,
    );
  },
);

test('bad input: unknown target datasource, 401, unreachable Grafana: clear error, nothing written', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const dir = tempDir(t);
  const backupDir = join(dir, 'backup');
  await assert.rejects(
    migrateGrafana({ client: g.client, from: 'Prometheus', to: 'Mimri', backupDir }),
    (e: unknown) =>
      e instanceof UsageError &&
      /--to-datasource "Mimri" is not a datasource in Grafana at/.test(e.message) &&
      /Mimir/.test(e.hint ?? ''),
  );
  const bad = new GrafanaClient(g.badEndpoint);
  t.after(() => bad.close());
  await assert.rejects(
    migrateGrafana({ client: bad, from: 'Prometheus', to: 'Mimir', backupDir }),
    /rejected the credentials \(HTTP 401\)/,
  );
  await assert.rejects(exportGrafana({ client: bad, output: join(dir, 'export') }), /HTTP 401/);
  const port = await freePort();
  const gone = new GrafanaClient(endpointFromUrl(`http://127.0.0.1:${port}`, 'grafana', { retries: 0 }));
  t.after(() => gone.close());
  await assert.rejects(
    migrateGrafana({ client: gone, from: 'Prometheus', to: 'Mimir', backupDir }),
    (e: unknown) => e instanceof HttpError && e.kind === 'connect' && /connection refused/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), [], 'no backup, no export written');
});

test('restore from an export recreates a deleted folder tree and its dashboards', async (t) => {
  const g = await grafanaUnderTest(t);
  await g.seed.standardDatasources(DATASOURCES);
  const parent = await g.seed.folder('ops', 'Ops');
  const child = await g.seed.folder('db', 'DB', parent);
  const { uid } = await g.seed.dashboard(fixture('team/modern-mixed.json'), child);
  const out = join(tempDir(t), 'export');
  await exportGrafana({ client: g.client, output: out, uids: [uid] });
  const exported = readBackup(out).dashboards[0].env;
  await g.client.deleteFolder(parent);
  assert.equal(await g.client.dashboard(uid), undefined);
  assert.equal(await g.client.folder(child), undefined);
  const r = await restoreBackup({ from: out, client: g.client, uids: [uid], backupDir: join(tempDir(t), 'pre') });
  assert.equal(r.outcomes[0].status, 'restored');
  assert.match(r.outcomes[0].reason!, /recreated/);
  const now = (await g.client.dashboard(uid))!;
  assert.equal(now.meta.folderUid, child);
  assert.equal((await g.client.folder(child))!.parentUid, parent, 'nested folder recreated under its parent');
  assert.ok(sameDashboard(now.dashboard, exported.dashboard));
});

test(
  'Grafana going away in the middle of a run: the error names the dashboard and the backup is kept',
  { skip: REAL_GRAFANA ? 'needs to stop the server' : false },
  async (t) => {
    const g = await grafanaUnderTest(t);
    await g.seed.standardDatasources(DATASOURCES);
    const { uid } = await g.seed.dashboard(fixture('legacy-rows.json'));
    const backupDir = join(tempDir(t), 'backup');
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    t.after(() => setLogSink((l) => process.stderr.write(l + '\n')));
    await assert.rejects(
      migrateGrafana({
        client: g.client,
        from: 'Prometheus',
        to: 'Mimir',
        uids: [uid],
        backupDir,
        beforeSave: () => g.double!.stop(),
      }),
      (e: unknown) =>
        e instanceof StackshiftError &&
        e.code === 'http-connect' &&
        /^dashboard "stackshift rehearsal: legacy rows .*" \(ss[0-9a-f]+-stackshift-legacy-rows\): POST .*\/api\/dashboards\/db: connection refused/.test(
          e.message,
        ),
    );
    assert.equal(readBackup(backupDir).dashboards.length, 1, 'the backup written before the save stays');
    assert.ok(lines.some((l) => /stopped after saving 0 dashboards; their backup is in/.test(l)));
  },
);
