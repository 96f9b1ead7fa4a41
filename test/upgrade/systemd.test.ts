import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { PROMETHEUS, freePort, prometheusBinary } from '../../src/lab/index.js';
import { parseExecStart, systemdDriver, type RunReport } from '../../src/upgrade/index.js';
import { runCli, tempDir, waitUntil } from '../harness/index.js';
import { fakeSystemd } from './fake-systemd.js';
import { startTargets } from './local.js';

/**
 * The systemd driver against a recording fake systemctl/journalctl on PATH that really runs the unit's
 * ExecStart= (a real Prometheus 2.55.1): the commands it ran are asserted, in order, and the binary swap is a
 * backed-up edit of ExecStart= followed by daemon-reload.
 */

function unitText(binary: string, dir: string, port: number): string {
  return `[Unit]
Description=Prometheus

[Service]
User=prometheus
ExecStart=${binary} \\
  --config.file=${join(dir, 'prometheus.yml')} \\
  --storage.tsdb.path=${join(dir, 'data')} \\
  --web.listen-address=127.0.0.1:${port}
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}

test('parseExecStart: the last non-empty ExecStart=, continuations and quotes honoured, prefixes skipped', () => {
  const t =
    '[Service]\nExecStart=/old/prometheus --a\nExecStart=\nExecStart=-\'/opt/prom etheus/prometheus\' \\\n  --config.file=/etc/p.yml \\\n  "--web.listen-address=:9090"\nRestart=always\n';
  const e = parseExecStart(t)!;
  assert.equal(e.binary, '/opt/prom etheus/prometheus');
  assert.deepEqual(e.args, ['--config.file=/etc/p.yml', '--web.listen-address=:9090']);
  assert.equal(t.slice(e.binaryFrom, e.binaryTo), "'/opt/prom etheus/prometheus'");
  assert.equal(
    parseExecStart('[Service]\nExecStart=/x/prometheus\nExecStart=\n'),
    undefined,
    'an empty assignment resets',
  );
});

test(
  'systemd driver: start, stop, is-active through systemctl; install edits ExecStart= (backed up) and reloads before the next start',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const fake = fakeSystemd(join(dir, 'systemd'));
    const path0 = process.env.PATH;
    process.env.PATH = fake.env.PATH;
    process.env.FAKE_SYSTEMD_DIR = fake.dir;
    t.after(() => {
      process.env.PATH = path0;
      delete process.env.FAKE_SYSTEMD_DIR;
    });

    const port = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1s\n');
    const old = prometheusBinary(PROMETHEUS.bridge);
    const original = unitText(old, dir, port);
    writeFileSync(fake.unitFile('prometheus.service'), original);
    assert.equal(spawnSync('systemctl', ['daemon-reload'], { env: process.env }).status, 0);

    const driver = systemdDriver('prometheus');
    t.after(() => driver.stop());
    assert.deepEqual(driver.unit(), {
      binary: old,
      args: [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      file: fake.unitFile('prometheus.service'),
    });
    assert.equal(driver.status().running, false);

    const client = new PrometheusClient(endpointFromUrl(`http://127.0.0.1:${port}`));
    t.after(() => client.close());
    const ready = () =>
      waitUntil(
        async () => {
          try {
            await client.ensureReady();
            return true;
          } catch {
            return false;
          }
        },
        60_000,
        'prometheus ready',
      );
    driver.start();
    await ready();
    const st = driver.status();
    assert.equal(st.running, true);
    assert.equal(st.binary, realpathSync(old));
    await driver.stop();
    assert.equal(driver.status().running, false);

    // a new "release": another path to the binary, so the process's argv[0] tells which path systemd ran
    mkdirSync(join(dir, 'new'));
    const next = join(dir, 'new', 'prometheus');
    symlinkSync(old, next);
    const backup = driver.install(next);
    assert.equal(readFileSync(backup, 'utf8'), original, 'the backup holds the unit as it was');
    assert.equal(
      readFileSync(fake.unitFile('prometheus.service'), 'utf8'),
      original.replace(`ExecStart=${old} `, `ExecStart=${next} `),
      'only the binary of ExecStart= changed',
    );
    assert.equal(driver.install(next), '', 'installing the same binary again changes nothing');
    driver.start();
    await ready();
    const pid = driver.status().pid!;
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], next, 'systemd ran the new ExecStart=');
    assert.match(driver.log(), /Server is ready to receive web requests/);
    await driver.stop();

    assert.deepEqual(fake.actions(), [
      'daemon-reload', // the test's own, loading the unit
      'daemon-reload',
      'start prometheus.service',
      'stop prometheus.service',
      'daemon-reload', // after the ExecStart= edit
      'daemon-reload',
      'start prometheus.service',
      'stop prometheus.service',
    ]);
    assert.ok(
      fake.calls().some((c) => c[1] === 'is-active' && c[2] === 'prometheus.service'),
      'state read with is-active',
    );
    assert.deepEqual(driver.commands('stop'), [
      'systemctl stop prometheus.service',
      'systemctl is-active prometheus.service  # until it is no longer active',
    ]);
  },
);

test(
  'systemd driver: an unknown unit and a missing systemctl are clear errors (exit 2), not stack traces',
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const fake = fakeSystemd(join(dir, 'systemd'));
    mkdirSync(join(dir, 'data'));
    const args = [
      'upgrade',
      'run',
      '--prometheus-url',
      'http://127.0.0.1:1',
      '--to',
      '2.55.1',
      '--binary',
      process.execPath,
      '--driver',
      'systemd',
      '--unit',
      'nope.service',
      '--data-dir',
      join(dir, 'data'),
      '--state',
      join(dir, 'state.db'),
      '--dry-run',
    ];
    const unknown = await runCli(args, { env: fake.env });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /systemd does not know the unit nope\.service/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
    const none = await runCli(args, { env: { PATH: '/nonexistent' } });
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /cannot run systemctl/);
  },
);

test(
  'upgrade run --driver systemd 2.48.1 -> 2.55.1 through the fake systemctl: signed off, ExecStart= names 2.55.1, the commands in order',
  { timeout: 300_000 },
  async (t) => {
    const dir = tempDir(undefined); // removed after the server stops, below
    const fake = fakeSystemd(join(dir, 'systemd'));
    const port = await freePort();
    const targets = await startTargets(t, 3);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [${targets.map((p) => `'127.0.0.1:${p}'`).join(', ')}]\n`,
    );
    mkdirSync(join(dir, 'data'));
    const original = unitText(prometheusBinary(PROMETHEUS.start), dir, port).replace(
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.listen-address=127.0.0.1:${port} \\\n  --web.enable-admin-api`,
    );
    writeFileSync(fake.unitFile('prometheus.service'), original);
    const sys = (...a: string[]) =>
      assert.equal(
        spawnSync('systemctl', a, { env: { ...process.env, ...fake.env } }).status,
        0,
        `systemctl ${a.join(' ')}`,
      );
    sys('daemon-reload');
    sys('start', 'prometheus.service');
    t.after(() => {
      spawnSync('systemctl', ['stop', 'prometheus.service'], { env: { ...process.env, ...fake.env } });
      if (!process.env.STACKSHIFT_KEEP_TMP) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    });
    const url = `http://127.0.0.1:${port}`;
    const client = new PrometheusClient(endpointFromUrl(url));
    t.after(() => client.close());
    await waitUntil(
      async () => {
        try {
          await client.ensureReady();
          return (await client.targets('active')).activeTargets.every((x) => x.health === 'up');
        } catch {
          return false;
        }
      },
      60_000,
      'prometheus 2.48.1 up, scraping',
    );
    const setup = fake.actions().length;

    const r = await runCli(
      [
        'upgrade',
        'run',
        '--prometheus-url',
        url,
        '--to',
        PROMETHEUS.bridge,
        '--binary',
        prometheusBinary(PROMETHEUS.bridge),
        '--driver',
        'systemd',
        '--unit',
        'prometheus.service',
        '--data-dir',
        join(dir, 'data'),
        '--state',
        join(dir, 'state.db'),
        '--output',
        'json',
      ],
      { env: fake.env, timeoutMs: 240_000 },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.match((await client.buildInfo()).version, /^2\.55\.1/);
    assert.equal(
      parseExecStart(readFileSync(fake.unitFile('prometheus.service'), 'utf8'))?.binary,
      prometheusBinary(PROMETHEUS.bridge),
    );
    const install = report.steps.find((s) => s.step === 'install')?.detail as { backup: string };
    assert.equal(readFileSync(install.backup, 'utf8'), original);
    assert.deepEqual(fake.actions().slice(setup), [
      'stop prometheus.service',
      'daemon-reload',
      'daemon-reload',
      'start prometheus.service',
    ]);
  },
);
