import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../../src/rehearsal/fixtures/dashboards.js';
import type { MigrationReportDoc } from '../../src/migrate/index.js';
import { GrafanaDouble } from '../doubles/grafana-double.js';
import { CLI, runCli, startServer, tempDir, waitUntil } from '../harness/index.js';
import { CHROMIUM, loadPage } from './browser.js';

/*
 * `stackshift migrate` end to end on real servers: two Debian Prometheus 2.42 (a source with two hours of
 * history, a remote-write receiver as the target) and the Grafana contract double. The plan is one phase:
 * backfill the metrics, move the dashboards to the Mimir datasource, verify the metrics with the default gate.
 */

const END = Date.UTC(2026, 0, 2);
const SPEC = { series: 4, durationMs: 2 * 3_600_000, intervalMs: 60_000, seed: 11, endMs: END };
const START_ISO = '2026-01-01T22:00:00Z';
const END_ISO = '2026-01-02T00:00:00Z';
const TOKEN_ENV = 'MIGRATE_TEST_GRAFANA_TOKEN';

type Json = Record<string, unknown>;

interface World {
  dir: string;
  file: string;
  state: string;
  source: { url: string };
  target: { url: string };
  grafana: GrafanaDouble;
  originals: Map<string, Json>;
  env: Record<string, string>;
}

const strip = ({ id: _i, version: _v, ...rest }: Json) => rest;

/** The lab starts every Prometheus with --web.enable-admin-api (the failed-gate test deletes a series through it). */
async function world(t: TestContext): Promise<World> {
  const dir = tempDir(t, 'stackshift-migrate-');
  const [source, target] = await Promise.all([
    startServer(t, { name: 'source', history: SPEC }),
    startServer(t, { name: 'target', receiver: true }),
  ]);
  const grafana = new GrafanaDouble();
  await grafana.start();
  t.after(() => grafana.stop());
  const api = async (method: string, path: string, body: unknown) => {
    const r = await fetch(grafana.url + path, {
      method,
      headers: { authorization: `Bearer ${grafana.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.text()}`);
  };
  for (const { id: _id, ...ds } of FIXTURE_DATASOURCES) await api('POST', '/api/datasources', ds);
  const legacy = JSON.parse(FIXTURE_DASHBOARDS.find((f) => f.file === 'legacy-rows.json')!.text) as Json;
  const simple = {
    uid: 'mig-node',
    title: 'Node overview',
    schemaVersion: 39,
    panels: [
      {
        id: 1,
        type: 'timeseries',
        title: 'Up',
        datasource: { type: 'prometheus', uid: 'prometheus' },
        targets: [{ refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: 'prometheus' } }],
      },
    ],
  };
  for (const d of [{ ...legacy, id: null }, simple])
    await api('POST', '/api/dashboards/db', { dashboard: d, overwrite: false });
  const originals = new Map([...grafana.dashboards].map(([uid, d]) => [uid, structuredClone(d.data)]));
  assert.equal(originals.size, 2);
  const file = join(dir, 'stackshift-migration.yaml');
  writeFileSync(
    file,
    `version: 1
name: e2e
endpoints:
  old: { url: "${source.url}", type: prometheus }
  new: { url: "${target.url}", type: prometheus }
  grafana: { url: "${grafana.url}", bearer_token: "\${${TOKEN_ENV}}" }
phases:
  - name: Mimir and backfill
    steps:
      - id: backfill
        kind: backfill-metrics
        params: { from: old, to: new, start: "${START_ISO}", end: "${END_ISO}" }
      - id: dashboards
        kind: dashboards-migrate
        params: { grafana: grafana, from_datasource: Prometheus, to_datasource: Mimir }
      - id: verify
        kind: verify-metrics
        params: { from: old, to: new, start: "${START_ISO}", end: "${END_ISO}", read_window: 1h }
`,
  );
  return {
    dir,
    file,
    state: join(dir, 'migrate.db'),
    source,
    target,
    grafana,
    originals,
    env: { [TOKEN_ENV]: grafana.token },
  };
}

function cli(w: World, args: string[], env: Record<string, string> = {}) {
  return runCli(['migrate', ...args, '--file', w.file, '--state', w.state], {
    cwd: w.dir,
    env: { ...w.env, ...env },
    timeoutMs: 180_000,
  });
}

async function status(w: World): Promise<MigrationReportDoc> {
  const r = await cli(w, ['status', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as MigrationReportDoc;
}

const stepOf = (s: MigrationReportDoc, id: string) => s.phases.flatMap((p) => p.steps).find((x) => x.id === id)!;

function startsPerStep(state: string): Record<string, number> {
  const db = new Database(state, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT step, count(*) AS n FROM migrate_events WHERE event = 'start' GROUP BY step")
      .all() as Array<{ step: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.step, r.n]));
  } finally {
    db.close();
  }
}

test(
  'a small plan runs green: backfill, dashboards to Mimir, verify gate; report renders in headless Chromium',
  { timeout: 300_000 },
  async (t) => {
    const w = await world(t);
    const r = await cli(w, ['run']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /every selected step is done/);
    const s = await status(w);
    assert.deepEqual(
      s.phases[0].steps.map((x) => x.status),
      ['done', 'done', 'done'],
    );
    assert.equal(stepOf(s, 'verify').figures!.consistency, 100);
    assert.equal(stepOf(s, 'verify').figures!.series_source, 4);
    assert.equal(stepOf(s, 'backfill').figures!.samples, 4 * 120);
    assert.equal(stepOf(s, 'dashboards').figures!.remaining, 0);
    assert.ok(stepOf(s, 'dashboards').figures!.rewritten > 0);
    for (const uid of w.originals.keys()) {
      const d = w.grafana.dashboards.get(uid)!;
      assert.equal(d.version, 2, `${uid} saved once`);
      assert.doesNotMatch(
        JSON.stringify(d.data),
        /"uid":"prometheus"|"datasource":"Prometheus"/,
        `${uid} points at Mimir`,
      );
    }
    assert.ok(!readFileSync(w.state).includes(w.grafana.token), 'the Grafana token is not in the state file');
    // a second run does nothing: every step is done
    const again = await cli(w, ['run', '-o', 'json']);
    assert.equal(again.code, 0, again.stderr);
    const doc = JSON.parse(again.stdout) as { ran: string[]; skipped: string[] };
    assert.deepEqual(doc.ran, []);
    assert.deepEqual(doc.skipped, ['backfill', 'dashboards', 'verify']);

    const rep = await cli(w, ['report', '--out-dir', w.dir]);
    assert.equal(rep.code, 0, rep.stderr);
    const json = JSON.parse(readFileSync(join(w.dir, 'migration-report.json'), 'utf8')) as MigrationReportDoc;
    assert.equal(json.status, 'done');
    assert.deepEqual(
      json.consistency.map((c) => [c.signal, c.percent]),
      [['metrics', 100]],
    );
    assert.equal(json.gates.length, 5, 'rejected_samples, incomplete, remaining, consistency, evidence');
    assert.match(
      readFileSync(join(w.dir, 'migration-report.md'), 'utf8'),
      /\| metrics \| verify \| 100 \| consistency >= 99.9 \| yes \|/,
    );
    const html = readFileSync(join(w.dir, 'migration-report.html'), 'utf8');
    assert.doesNotMatch(html, /<script|\ssrc=|href="(?!data:)/i, 'self-contained: no script, no external asset');
    if (!CHROMIUM) {
      t.diagnostic(
        'no chromium-headless-shell or chromium: the browser check did not run (apt-get install -y chromium-headless-shell)',
      );
      assert.fail('chromium is needed for the HTML report check');
    }
    const page = await loadPage(pathToFileURL(join(w.dir, 'migration-report.html')).href, w.dir, {
      timeline: 'document.querySelectorAll("[data-point=timeline]").length',
      consistency: 'document.querySelectorAll("[data-point=consistency]").length',
      gates: 'document.querySelectorAll("[data-point=gate]").length',
      failedGates: 'document.querySelectorAll("[data-point=gate][fill=\'#e03131\']").length',
      title: 'document.title',
    });
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.values, {
      timeline: 3,
      consistency: 1,
      gates: 5,
      failedGates: 0,
      title: 'Migration report: e2e',
    });
    const shot = join(w.dir, 'migration-report.png');
    writeFileSync(shot, page.screenshot);
    assert.ok(page.screenshot.subarray(1, 4).toString() === 'PNG' && statSync(shot).size > 10_000, 'a real screenshot');
    t.diagnostic(`screenshot ${shot} (${statSync(shot).size} bytes; kept with STACKSHIFT_KEEP_TMP=1)`);
  },
);

test(
  'kill -9 after a step did its work: the rerun resumes, nothing is done twice; a second run meanwhile is refused',
  { timeout: 300_000 },
  async (t) => {
    const w = await world(t);
    const child = spawn(process.execPath, [CLI, 'migrate', 'run', '--file', w.file, '--state', w.state], {
      cwd: w.dir,
      env: {
        ...process.env,
        ...w.env,
        NO_COLOR: '1',
        STACKSHIFT_NO_PROGRESS: '1',
        STACKSHIFT_TEST_MIGRATE_HOLD_AFTER_RUN: 'dashboards',
      },
      stdio: 'ignore',
    });
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    await waitUntil(
      async () => {
        if (!existsSync(w.state)) return false;
        const db = new Database(w.state, { readonly: true });
        try {
          return Boolean(db.prepare("SELECT 1 FROM migrate_events WHERE event = 'test-hold'").get());
        } catch {
          return false;
        } finally {
          db.close();
        }
      },
      120_000,
      'the run to reach the hold after the dashboards step',
    );
    // the dashboards are migrated, but the step is not recorded as done
    for (const uid of w.originals.keys()) assert.equal(w.grafana.dashboards.get(uid)!.version, 2);

    const t0 = Date.now();
    const second = await cli(w, ['run']);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /in use by another migrate \(pid \d+/);
    assert.ok(Date.now() - t0 < 15_000, 'refused at once');

    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    let s = await status(w);
    assert.deepEqual(
      s.phases[0].steps.map((x) => x.status),
      ['done', 'running', 'pending'],
    );

    const r = await cli(w, ['run', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { ran: string[]; skipped: string[] };
    assert.deepEqual(doc.skipped, ['backfill']);
    assert.deepEqual(doc.ran, ['dashboards', 'verify']);
    s = await status(w);
    assert.deepEqual(
      s.phases[0].steps.map((x) => x.status),
      ['done', 'done', 'done'],
    );
    assert.deepEqual(startsPerStep(w.state), { backfill: 1, dashboards: 2, verify: 1 });
    assert.equal(stepOf(s, 'backfill').figures!.runs, 1, 'the backfill ran once');
    // the rerun of the interrupted step found everything migrated and saved nothing
    assert.equal(stepOf(s, 'dashboards').figures!.rewritten, 0);
    assert.equal(stepOf(s, 'dashboards').figures!.remaining, 0);
    for (const uid of w.originals.keys()) assert.equal(w.grafana.dashboards.get(uid)!.version, 2, `${uid} saved once`);
    assert.equal(stepOf(s, 'verify').figures!.consistency, 100);
  },
);

test(
  'a failed gate stops the phase; --auto-rollback restores the dashboards object-equal',
  { timeout: 300_000 },
  async (t) => {
    const w = await world(t);
    const first = await cli(w, ['run', '--until', 'dashboards']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /stopped after dashboards/);
    for (const uid of w.originals.keys())
      assert.notDeepEqual(strip(w.grafana.dashboards.get(uid)!.data), strip(w.originals.get(uid)!), `${uid} migrated`);
    // a series lost on the target between the copy and the verification
    const del = await fetch(
      `${w.target.url}/api/v1/admin/tsdb/delete_series?match[]=${encodeURIComponent('{job="api"}')}`,
      { method: 'POST' },
    );
    assert.equal(del.status, 204);

    const r = await cli(w, ['run', '--auto-rollback']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /gate failed at verify/);
    assert.match(r.stdout, /FAIL consistency >= 99.9: measured \d+(\.\d+)?/);
    // the failed step first (a step whose gate failed may have changed things), then the done ones, last first
    assert.match(r.stdout, /rolled back \(reverse order\): verify, dashboards, backfill/);
    const s = await status(w);
    const verify = stepOf(s, 'verify');
    assert.equal(verify.status, 'rolled-back');
    assert.match(verify.error ?? '', /gate failed: consistency >= 99.9 \(measured \d/, 'the failure stays on record');
    assert.equal(verify.gates!.find((g) => g.figure === 'consistency')!.passed, false);
    assert.ok(verify.figures!.consistency < 99.9, `consistency ${verify.figures!.consistency}`);
    assert.ok(verify.figures!.samples_missing > 0, 'the deleted samples are counted missing');
    assert.equal(stepOf(s, 'dashboards').status, 'rolled-back');
    assert.equal(stepOf(s, 'backfill').status, 'rolled-back');
    for (const [uid, original] of w.originals) {
      const now = w.grafana.dashboards.get(uid)!.data;
      assert.deepEqual(strip(now), strip(original), `${uid} object-equal to the original`);
      assert.equal(JSON.stringify(strip(now)), JSON.stringify(strip(original)), `${uid} byte-equal as JSON`);
    }
    // rollback is idempotent: a second one finds nothing left to undo and changes nothing
    const versions = [...w.originals.keys()].map((uid) => w.grafana.dashboards.get(uid)!.version);
    const again = await cli(w, ['rollback']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to roll back/);
    assert.deepEqual(
      [...w.originals.keys()].map((uid) => w.grafana.dashboards.get(uid)!.version),
      versions,
    );
  },
);
