import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { canonicalJson, sameDashboard } from '../../src/dashboards/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../../src/rehearsal/fixtures/dashboards.js';
import { CORPUS, STACK_LINE, tempDir } from '../harness/index.js';
import { grafanaUnderTest, type GrafanaUnderTest } from './grafana-target.js';

/**
 * Ctrl-C (SIGINT) during `dashboards migrate`, through the built CLI: no dashboard is started after the signal,
 * the write (files) or save (Grafana) in flight finishes, every file or dashboard is either as it was or
 * completely migrated, the partial summary is printed with the command that carries on, exit 130. The
 * printed command then gives exactly what an uninterrupted run gives, and restoring both backups gives back
 * the originals byte for byte.
 */

const CLI = resolve('dist/src/cli/main.js');
const CORPUS_DIR = join(CORPUS, 'dashboards');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  endedAt: number;
}

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((res) =>
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr, endedAt: Date.now() })),
  );
  return { child, done };
}

/** The command printed after "carry on with:", run as a shell would (with `stackshift` being the built CLI). */
function runPrinted(stderr: string, env: Record<string, string> = {}): Promise<Run> {
  const m = /carry on with: stackshift (.+)$/m.exec(stderr);
  assert.ok(m, `a command to carry on on stderr:\n${stderr}`);
  return new Promise((res) => {
    const c = spawn('sh', ['-c', `exec "${process.execPath}" "${CLI}" ${m[1]}`], {
      env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let err = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (status, signal) => res({ status, signal, stdout, stderr: err, endedAt: Date.now() }));
  });
}

/** Every file under dir, by path relative to it. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, rel);
    try {
      out.set(rel, readFileSync(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
    }
  }
  return out;
}

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  return snapshot(dir).size;
}

/** Temp files of an atomic write (".<name>.<pid>.<hex>.tmp") anywhere under dir. */
function strayTemps(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((rel) =>
    /(^|\/)\.[^/]+\.\d+\.[0-9a-f]{8}\.tmp$/.test(rel),
  );
}

const CORPUS_DATASOURCES = [
  { uid: 'PBFA97CFB590B2093', name: 'Prometheus', type: 'prometheus', isDefault: true },
  { uid: 'mimir', name: 'Mimir', type: 'prometheus', isDefault: false },
  { uid: 'P8E80F9AEF21F6940', name: 'Loki', type: 'loki', isDefault: false },
  { uid: 'b0nLdBHVk', name: 'InfluxDB', type: 'influxdb', isDefault: false },
  { uid: 'tempo', name: 'Tempo', type: 'tempo', isDefault: false },
];

/** `copies` copies of the corpus (c01/, c02/, ...) with its datasource list: a run long enough to stop halfway. */
function corpusCopies(dir: string, copies: number): void {
  for (let i = 1; i <= copies; i++) {
    const d = join(dir, `c${String(i).padStart(2, '0')}`);
    cpSync(CORPUS_DIR, d, { recursive: true });
    for (const f of readdirSync(d)) chmodSync(join(d, f), 0o644);
  }
  writeFileSync(join(dir, 'datasources.json'), JSON.stringify(CORPUS_DATASOURCES, null, 2) + '\n');
}

test(
  'Ctrl-C during dashboards migrate (files, in place): every file whole, partial summary, exit 130; the printed command finishes it exactly; restore gives the originals',
  { skip: existsSync(CORPUS_DIR) ? false : 'corpus not found (set STACKSHIFT_CORPUS)', timeout: 240_000 },
  async (t) => {
    const work = tempDir(t);
    const copies = 12;
    const migrate = (dir: string, bk: string) => [
      'dashboards',
      'migrate',
      '--in',
      dir,
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
      '--exemplars',
      '--backup-dir',
      bk,
      '--output',
      'json',
    ];

    // an uninterrupted run: what every file must end up as
    const refDir = join(work, 'ref');
    corpusCopies(refDir, copies);
    const originals = snapshot(refDir);
    const full = await start(migrate(refDir, join(work, 'ref-bk'))).done;
    assert.equal(full.status, 0, full.stderr);
    const fullReport = JSON.parse(full.stdout);
    assert.equal(fullReport.interrupted, undefined);
    const migrated = snapshot(refDir);
    const changedNames = [...originals.keys()].filter((k) => !originals.get(k)!.equals(migrated.get(k)!));
    assert.equal(changedNames.length, fullReport.totals.byStatus.changed);
    assert.ok(changedNames.length >= 10 * copies, `${changedNames.length} files change`);

    // the same run, stopped once a few files are written
    const dir = join(work, 'dashboards');
    corpusCopies(dir, copies);
    const bk = join(work, 'bk');
    const run = start(migrate(dir, bk));
    let signalledAt = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && run.child.exitCode === null) {
      if (countFiles(join(bk, 'files')) >= 5) {
        signalledAt = Date.now();
        run.child.kill('SIGINT');
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await run.done;
    assert.ok(signalledAt > 0, `the signal was sent mid-run (exit ${r.status}):\n${r.stderr}`);
    assert.equal(r.status, 130, `exit 130 (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
    assert.ok(r.endedAt - signalledAt < 10_000, `stopped within the grace period (${r.endedAt - signalledAt} ms)`);
    const partial = JSON.parse(r.stdout);
    assert.ok(partial.interrupted, 'the report says it was interrupted');
    assert.equal(
      partial.interrupted.total,
      originals.size - 1,
      'every dashboard file (not datasources.json) was planned',
    );
    assert.equal(partial.interrupted.done, partial.outcomes.length);
    assert.ok(
      partial.interrupted.done >= 5 && partial.interrupted.done < partial.interrupted.total,
      `${partial.interrupted.done} of ${partial.interrupted.total} done`,
    );
    assert.equal(partial.backupDir, bk);
    assert.match(
      r.stderr,
      new RegExp(
        `interrupted: ${partial.interrupted.done} of ${partial.interrupted.total} files done; the other \\d+ were not touched; the originals of what changed are in ${bk} \\(undo with: stackshift dashboards restore --from ${bk}\\)`,
      ),
    );
    assert.match(r.stderr, new RegExp(`carry on with: stackshift dashboards migrate .*--backup-dir ${bk}-2`));
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assert.doesNotMatch(r.stderr, /error:/);

    // each file is as it was or as the whole run makes it, never in between; a backup exists exactly for the migrated ones
    const mid = snapshot(dir);
    const backedUp = snapshot(join(bk, 'files'));
    let done = 0;
    for (const [rel, before] of originals) {
      const now = mid.get(rel)!;
      assert.ok(now, `${rel} still there`);
      JSON.parse(now.toString('utf8'));
      if (now.equals(before)) {
        assert.equal(backedUp.has(rel), false, `${rel} untouched, and not backed up`);
        continue;
      }
      assert.ok(now.equals(migrated.get(rel)!), `${rel} is completely migrated, byte-equal to the uninterrupted run's`);
      assert.ok(backedUp.get(rel)?.equals(before), `${rel}: its original is in the backup`);
      done++;
    }
    assert.equal(done, backedUp.size, 'no backup without its migrated file (the write in flight finished)');
    assert.equal(done, partial.outcomes.filter((o: { status: string }) => o.status === 'changed').length);
    assert.ok(done > 0 && done < changedNames.length, `${done} of ${changedNames.length} migrated before the stop`);
    assert.deepEqual(strayTemps(work), [], 'no temp file left behind');

    // carry on with the printed command: the result is the uninterrupted run's, byte for byte
    const rest = await runPrinted(r.stderr);
    assert.equal(rest.status, 0, rest.stderr);
    const second = JSON.parse(rest.stdout);
    assert.equal(second.interrupted, undefined);
    assert.equal(
      second.totals.byStatus.changed,
      changedNames.length - done,
      'the rerun migrates only what the first run left',
    );
    const final = snapshot(dir);
    for (const [rel, bytes] of migrated)
      assert.ok(final.get(rel)?.equals(bytes), `${rel} as the uninterrupted run made it`);
    assert.equal(final.size, migrated.size);
    assert.deepEqual(strayTemps(work), []);

    // both backups together give back every original
    for (const [from, pre] of [
      [bk, 'pre1'],
      [`${bk}-2`, 'pre2'],
    ]) {
      const res = await start(['dashboards', 'restore', '--from', from, '--backup-dir', join(work, pre)]).done;
      assert.equal(res.status, 0, res.stderr);
    }
    const restored = snapshot(dir);
    for (const [rel, bytes] of originals) assert.ok(restored.get(rel)?.equals(bytes), `${rel} restored byte for byte`);
    t.diagnostic(
      `SIGINT to exit ${r.endedAt - signalledAt} ms; ${done} of ${changedNames.length} files migrated before the stop`,
    );
  },
);

/** A pass-through to Grafana that holds every dashboard save `delayMs` before forwarding it, and logs requests. */
async function slowSaves(
  target: string,
  delayMs: number,
): Promise<{ url: string; log: string[]; close: () => Promise<void> }> {
  const log: string[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const save = req.method === 'POST' && req.url === '/api/dashboards/db';
    const uid = save ? String((JSON.parse(body.toString('utf8')) as { dashboard: { uid: string } }).dashboard.uid) : '';
    if (save) {
      log.push(`save-start ${uid}`);
      await new Promise((r) => setTimeout(r, delayMs));
    } else {
      log.push(`${req.method} ${req.url}`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    try {
      const r = await fetch(target + req.url, {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
      });
      const h: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) h[k] = v;
      });
      const out = Buffer.from(await r.arrayBuffer());
      if (save) log.push(`save-end ${uid} ${r.status}`);
      if (!res.destroyed) res.writeHead(r.status, h).end(out);
    } catch (e) {
      if (!res.destroyed) res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A dashboard as compared across the two folders: without what differs by construction (uid, title) or by Grafana (id, version). */
function comparable(d: Record<string, unknown>): string {
  const { uid: _u, title: _t, id: _i, version: _v, ...rest } = d;
  return canonicalJson(rest);
}

async function current(
  g: GrafanaUnderTest,
  uid: string,
): Promise<{ dashboard: Record<string, unknown>; version?: number }> {
  const env = (await g.client.dashboard(uid))!;
  return { dashboard: env.dashboard, version: env.meta.version };
}

test(
  'Ctrl-C during dashboards migrate (Grafana API): the save in flight finishes, no dashboard after it, exit 130; the printed command finishes it exactly; restore gives the originals',
  { timeout: 240_000 },
  async (t) => {
    const g = await grafanaUnderTest(t);
    await g.seed.standardDatasources(
      FIXTURE_DATASOURCES.map(({ uid, name, type, isDefault, jsonData }) => ({ uid, name, type, isDefault, jsonData })),
    );
    const base = JSON.parse(FIXTURE_DASHBOARDS.find((f) => f.file === 'legacy-rows.json')!.text) as Record<
      string,
      unknown
    >;
    const n = 8;
    // two folders with the same dashboards: A is migrated in one go, B is stopped and carried on
    const folders = { a: await g.seed.folder('int-a', 'Interrupt A'), b: await g.seed.folder('int-b', 'Interrupt B') };
    const seeded: Record<'a' | 'b', Array<{ uid: string; original: Record<string, unknown>; version: number }>> = {
      a: [],
      b: [],
    };
    for (const side of ['a', 'b'] as const) {
      for (let i = 0; i < n; i++) {
        const { uid, version } = await g.seed.dashboard(
          { ...base, uid: `int-${side}-${i}`, title: `Interrupt ${i}` },
          folders[side],
        );
        seeded[side].push({ uid, version, original: (await current(g, uid)).dashboard });
      }
    }
    const proxy = await slowSaves(g.url, 300);
    t.after(() => proxy.close());
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
    const migrate = (folder: string, bk: string) => [
      'dashboards',
      'migrate',
      '--grafana-url',
      proxy.url,
      ...auth,
      '--from-datasource',
      'Prometheus',
      '--to-datasource',
      'Mimir',
      '--folder',
      folder,
      '--concurrency',
      '1',
      '--backup-dir',
      bk,
      '--output',
      'json',
    ];

    const full = await start(migrate(folders.a, join(work, 'bk-a')), env).done;
    assert.equal(full.status, 0, full.stderr);
    assert.equal(JSON.parse(full.stdout).totals.byStatus.changed, n);
    const expected = new Map<number, string>();
    for (let i = 0; i < n; i++) expected.set(i, comparable((await current(g, seeded.a[i].uid)).dashboard));
    assert.notEqual(expected.get(0), comparable(seeded.b[0].original), 'the migration changes the dashboard');

    // stopped while the third save is in flight
    const bk = join(work, 'bk');
    const first = proxy.log.length;
    const run = start(migrate(folders.b, bk), env);
    let signalledAt = 0;
    let inFlight = '';
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && run.child.exitCode === null) {
      const saves = proxy.log.slice(first).filter((l) => l.startsWith('save-start '));
      if (saves.length === 3) {
        inFlight = saves[2].slice('save-start '.length);
        signalledAt = Date.now();
        run.child.kill('SIGINT');
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const r = await run.done;
    assert.ok(signalledAt > 0, `the signal was sent mid-run (exit ${r.status}):\n${r.stderr}`);
    assert.equal(r.status, 130, `exit 130 (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
    assert.ok(r.endedAt - signalledAt < 10_000, `stopped within the grace period (${r.endedAt - signalledAt} ms)`);
    const during = proxy.log.slice(first);
    assert.ok(
      during.includes(`save-end ${inFlight} 200`),
      `the save in flight at the signal was finished:\n${during.join('\n')}`,
    );
    const reads = during.filter((l) => l.startsWith('GET /api/dashboards/uid/'));
    assert.equal(reads.length, 3, `no dashboard was read after the one in flight:\n${during.join('\n')}`);
    const partial = JSON.parse(r.stdout);
    assert.deepEqual(partial.interrupted, { done: 3 });
    assert.equal(partial.totals.byStatus.changed, 3);
    assert.ok(
      partial.outcomes.some((o: { uid: string; status: string }) => o.uid === inFlight && o.status === 'changed'),
      'the dashboard in flight is reported as changed',
    );
    assert.match(
      r.stderr,
      /interrupted: 3 dashboards done; the others were not touched \(library panels and the exemplar link neither\); the originals of what changed are in \S+ \(undo with: stackshift dashboards restore --from \S+ --grafana-url \.\.\.\)/,
    );
    assert.match(r.stderr, new RegExp(`carry on with: stackshift dashboards migrate .*--backup-dir ${bk}-2`));
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(token || 'no-token-here'), 'the token never appears');
    assert.doesNotMatch(r.stderr, STACK_LINE);

    // each dashboard is as seeded (same version) or completely migrated (as A's twin)
    let migratedNow = 0;
    for (let i = 0; i < n; i++) {
      const cur = await current(g, seeded.b[i].uid);
      if (cur.version === seeded.b[i].version) {
        assert.ok(sameDashboard(cur.dashboard, seeded.b[i].original), `${seeded.b[i].uid} untouched`);
      } else {
        assert.equal(comparable(cur.dashboard), expected.get(i), `${seeded.b[i].uid} completely migrated`);
        migratedNow++;
      }
    }
    assert.equal(migratedNow, 3);

    // the printed command carries on: every dashboard as the uninterrupted run made its twin
    const rest = await runPrinted(r.stderr, env);
    assert.equal(rest.status, 0, rest.stderr);
    const second = JSON.parse(rest.stdout);
    assert.equal(second.totals.byStatus.changed, n - 3);
    assert.equal(second.totals.byStatus.unchanged, 3);
    for (let i = 0; i < n; i++)
      assert.equal(
        comparable((await current(g, seeded.b[i].uid)).dashboard),
        expected.get(i),
        `${seeded.b[i].uid} migrated as in the uninterrupted run`,
      );

    // both backups together give back every original
    for (const [from, pre] of [
      [bk, 'pre1'],
      [`${bk}-2`, 'pre2'],
    ]) {
      const res = await start(
        [
          'dashboards',
          'restore',
          '--from',
          from,
          '--grafana-url',
          g.url,
          ...auth,
          '--backup-dir',
          join(work, pre),
          '--output',
          'json',
        ],
        env,
      ).done;
      assert.equal(res.status, 0, res.stderr);
    }
    for (const s of seeded.b)
      assert.ok(sameDashboard((await current(g, s.uid)).dashboard, s.original), `${s.uid} restored`);
    t.diagnostic(`SIGINT to exit ${r.endedAt - signalledAt} ms; 3 of ${n} dashboards saved before the stop`);
  },
);
