import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DatasourceCatalog, migrateFiles, restoreBackup, type GrafanaDatasource } from '../../src/dashboards/index.js';
import { fixFiles } from '../../src/lint/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../../src/rehearsal/fixtures/dashboards.js';
import { tempDir } from '../harness/index.js';
import { FIXTURES } from '../lint/helpers.js';

const MAIN = resolve('dist/src/cli/main.js');
const OTHER = { uid: 4321, gid: 4322 };
const isRoot = process.getuid?.() === 0;
const catalog = new DatasourceCatalog(FIXTURE_DATASOURCES as GrafanaDatasource[]);
const sel = { catalog, from: catalog.list[0], to: catalog.list[1] };
const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8);
const ownerOf = (p: string) => ({ uid: statSync(p).uid, gid: statSync(p).gid });

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd, env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function fixtures(dir: string): void {
  for (const f of FIXTURE_DASHBOARDS) {
    mkdirSync(dirname(join(dir, f.file)), { recursive: true });
    writeFileSync(join(dir, f.file), f.text);
  }
}

test(
  "dashboards migrate in place and restore keep a 0600 file's mode and owner; its backup is no more open",
  { skip: !isRoot && 'needs root to chown' },
  async (t) => {
    const work = tempDir(t);
    const dir = join(work, 'dashboards');
    fixtures(dir);
    const secret = join(dir, 'legacy-rows.json');
    const original = readFileSync(secret);
    chmodSync(secret, 0o600);
    chownSync(secret, OTHER.uid, OTHER.gid);
    const backupDir = join(work, 'backup');
    const report = await migrateFiles({ input: dir, ...sel, backupDir });
    assert.equal(report.outcomes.find((o) => o.where === 'legacy-rows.json')?.status, 'changed');
    assert.notDeepEqual(readFileSync(secret), original);
    assert.equal(modeOf(secret), '600');
    assert.deepEqual(ownerOf(secret), OTHER);
    const backup = join(backupDir, 'files', 'legacy-rows.json');
    assert.ok(readFileSync(backup).equals(original));
    assert.equal(modeOf(backup), '600');
    assert.deepEqual(ownerOf(backup), OTHER);
    assert.equal(modeOf(backupDir), '700', "the backup directory is its owner's only");
    assert.equal(modeOf(join(backupDir, 'stackshift-backup.json')), '600');

    // restore over the migrated file keeps it; a deleted file comes back with the mode and owner it had
    rmSync(join(dir, 'team', 'modern-mixed.json'));
    const restored = await restoreBackup({ from: backupDir, backupDir: join(work, 'pre') });
    assert.equal(restored.totals.byStatus.restored, 3);
    assert.ok(readFileSync(secret).equals(original));
    assert.equal(modeOf(secret), '600');
    assert.deepEqual(ownerOf(secret), OTHER);
    const pre = join(work, 'pre', 'files', 'legacy-rows.json');
    assert.equal(modeOf(pre), '600', 'what restore overwrote is backed up no more open than it was');
    assert.deepEqual(ownerOf(pre), OTHER);
  },
);

test('dashboards migrate --out: a copy is never more open than its source, even over an earlier copy', async (t) => {
  const work = tempDir(t);
  const dir = join(work, 'in');
  fixtures(dir);
  chmodSync(join(dir, 'legacy-rows.json'), 0o600);
  chmodSync(join(dir, 'exported-with-inputs.json'), 0o640);
  const out = join(work, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'legacy-rows.json'), 'an earlier copy');
  chmodSync(join(out, 'legacy-rows.json'), 0o644);
  await migrateFiles({ input: dir, output: out, ...sel, now: new Date('2026-01-01T00:00:00Z') });
  assert.equal(modeOf(join(out, 'legacy-rows.json')), '600');
  assert.equal(modeOf(join(out, 'exported-with-inputs.json')), '640');
  const kept = readdirSync(out).filter((n) => n.endsWith('.bak'));
  assert.equal(kept.length, 1, 'the different file that was there is kept beside');
  assert.equal(modeOf(join(out, kept[0])), '644', 'the kept copy has the mode it had');
});

test('dashboards migrate in place through a symlink writes the real file and keeps the link', async (t) => {
  const work = tempDir(t);
  const real = join(work, 'real');
  fixtures(real);
  const dir = join(work, 'dashboards');
  mkdirSync(dir);
  symlinkSync(join(real, 'legacy-rows.json'), join(dir, 'legacy-rows.json'));
  const before = readFileSync(join(real, 'legacy-rows.json'));
  await migrateFiles({ input: dir, ...sel, backupDir: join(work, 'backup') });
  assert.ok(lstatSync(join(dir, 'legacy-rows.json')).isSymbolicLink(), 'still a link');
  assert.match(readFileSync(join(real, 'legacy-rows.json'), 'utf8'), /"Mimir"/, 'the real file was migrated');
  assert.ok(readFileSync(join(work, 'backup', 'files', 'legacy-rows.json')).equals(before));
  await restoreBackup({ from: join(work, 'backup'), backupDir: join(work, 'pre') });
  assert.ok(readFileSync(join(real, 'legacy-rows.json')).equals(before));
  assert.ok(lstatSync(join(dir, 'legacy-rows.json')).isSymbolicLink(), 'restore keeps the link too');
});

test('a non-UTF-8 dashboard is refused with file and byte offset (exit 2) and nothing is written', async (t) => {
  const work = tempDir(t);
  const dir = join(work, 'dashboards');
  fixtures(dir);
  writeFileSync(join(dir, 'datasources.json'), JSON.stringify(FIXTURE_DATASOURCES));
  const latin1 = Buffer.from(
    JSON.stringify({
      uid: 'cafe',
      title: 'Caf\xe9',
      schemaVersion: 39,
      panels: [{ type: 'timeseries', datasource: { uid: 'prometheus' }, targets: [{ expr: 'up' }] }],
    }),
    'latin1',
  );
  writeFileSync(join(dir, 'cafe.json'), latin1);
  const snapshot = () =>
    readdirSync(dir, { recursive: true })
      .map(String)
      .sort()
      .map((f) => [
        f,
        existsSync(join(dir, f)) && statSync(join(dir, f)).isFile()
          ? readFileSync(join(dir, f)).toString('base64')
          : 'dir',
      ]);
  const before = snapshot();
  const r = await run(
    ['dashboards', 'migrate', '--in', dir, '--from-datasource', 'Prometheus', '--to-datasource', 'Mimir'],
    work,
  );
  assert.equal(r.code, 2, r.stderr);
  const offset = latin1.indexOf(0xe9);
  assert.match(
    r.stderr,
    new RegExp(`^error: .*cafe\\.json: not valid UTF-8 at byte offset ${offset} \\(byte 0xe9`, 'm'),
  );
  assert.match(r.stderr, /hint: dashboard JSON must be UTF-8: convert the file .*nothing was written/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.deepEqual(snapshot(), before, 'not one byte changed');
  assert.equal(existsSync(join(work, 'stackshift-backup')), false, 'no backup directory');
});

test('files mode: every dashboard without a uid is reported in one run, migrated with a warning (exit 0)', async (t) => {
  const work = tempDir(t);
  const dir = join(work, 'dashboards');
  fixtures(dir);
  writeFileSync(join(dir, 'datasources.json'), JSON.stringify(FIXTURE_DATASOURCES));
  const anon = (title: string) =>
    JSON.stringify(
      {
        title,
        schemaVersion: 39,
        panels: [
          { type: 'timeseries', datasource: { type: 'prometheus', uid: 'prometheus' }, targets: [{ expr: 'up' }] },
        ],
      },
      null,
      2,
    );
  writeFileSync(join(dir, 'a-no-uid.json'), anon('First anonymous'));
  writeFileSync(
    join(dir, 'b-no-uid.json'),
    JSON.stringify({ dashboard: JSON.parse(anon('Second anonymous')), meta: {} }),
  );
  const r = await run(
    [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
      '--output',
      'json',
    ],
    work,
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const warned = doc.outcomes.filter((o: { warnings: string[] }) => o.warnings.some((w) => w.startsWith('no uid')));
  assert.deepEqual(
    warned.map((o: { where: string; status: string }) => `${o.where} ${o.status}`),
    ['a-no-uid.json changed', 'b-no-uid.json changed'],
  );
  assert.match(warned[0].warnings.join('\n'), /no uid \(uid\): importing it creates a new dashboard/);
  assert.match(warned[1].warnings.join('\n'), /no uid \(dashboard\.uid\)/);
  assert.match(readFileSync(join(dir, 'a-no-uid.json'), 'utf8'), /"uid": "mimir"/);
});

test(
  "lint prom3 --fix keeps a 0600 config's mode and owner; its backup and --out-dir copy are no more open",
  { skip: !isRoot && 'needs root to chown' },
  async (t) => {
    const dir = tempDir(t, 'stackshift-fix-');
    cpSync(join(FIXTURES, 'prometheus.yml'), join(dir, 'prometheus.yml'));
    const cfg = join(dir, 'prometheus.yml');
    const original = readFileSync(cfg);
    chmodSync(cfg, 0o600);
    chownSync(cfg, OTHER.uid, OTHER.gid);
    const out = join(tempDir(t), 'out');
    const copy = await fixFiles([cfg], { from: '2.42.0', to: '3.9.0', stage: 'dual', outDir: out });
    assert.equal(copy.files.length, 1, 'the fixture has a dual-stage fix');
    assert.equal(modeOf(join(out, 'prometheus.yml')), '600');
    const res = await fixFiles([cfg], { from: '2.42.0', to: '3.9.0', stage: 'dual' });
    assert.equal(res.files[0].written, cfg);
    assert.notDeepEqual(readFileSync(cfg), original);
    assert.equal(modeOf(cfg), '600');
    assert.deepEqual(ownerOf(cfg), OTHER);
    const backup = res.files[0].backup!;
    assert.ok(readFileSync(backup).equals(original));
    assert.equal(modeOf(backup), '600');
    assert.deepEqual(ownerOf(backup), OTHER);
  },
);
