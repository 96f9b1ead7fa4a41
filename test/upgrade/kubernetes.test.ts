import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { PROMETHEUS, freePort, prometheusBinary } from '../../src/lab/index.js';
import { imageVersion, parseResource, type RunReport } from '../../src/upgrade/index.js';
import { runCli, tempDir, waitUntil, STACK_LINE } from '../harness/index.js';
import { fakeKubectl, statefulSet, type FakeKubectl } from './fake-kubectl.js';
import { startTargets } from './local.js';

/**
 * The kubernetes driver against a recording fake kubectl on PATH (no cluster here) whose StatefulSet pod is a
 * real local Prometheus: `kubectl patch` of the image rolls it onto the binary of that image. The commands the
 * run made are asserted exactly, in order; the gates and the gap run against the real server.
 */

const NS = 'monitoring';
const IMAGE = (v: string) => `quay.io/prometheus/prometheus:v${v}`;
const G = ['--context', 'lab', '-n', NS];

interface Lab {
  dir: string;
  url: string;
  fake: FakeKubectl;
  args: string[];
  client: PrometheusClient;
}

async function lab(t: TestContext, images: Record<string, string>): Promise<Lab> {
  const dir = tempDir(undefined); // removed after the pod's process stops, below
  const port = await freePort();
  const targets = await startTargets(t, 3);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [${targets.map((p) => `'127.0.0.1:${p}'`).join(', ')}]\n`,
  );
  mkdirSync(join(dir, 'data'));
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-admin-api',
  ];
  const fake = fakeKubectl(join(dir, 'kube'), {
    currentContext: 'lab',
    contexts: ['lab'],
    images,
    namespaces: { [NS]: { 'statefulsets.apps/prometheus': statefulSet('prometheus', NS, IMAGE('2.48.1'), args) } },
  });
  const kubectl = (...a: string[]) =>
    spawnSync('kubectl', [...G, ...a], { env: { ...process.env, ...fake.env }, encoding: 'utf8' });
  assert.equal(kubectl('rollout', 'restart', 'statefulset/prometheus').status, 0, 'the pod starts');
  t.after(() => {
    const pid = Number(readFileSync(join(fake.dir, 'prometheus-0.pid'), 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
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
    'prometheus 2.48.1 in its "pod", scraping',
  );
  return { dir, url, fake, args, client };
}

const runArgs = (l: Lab, image: string, extra: string[] = []) => [
  'upgrade',
  'run',
  '--prometheus-url',
  l.url,
  '--to',
  imageVersion(image)!,
  '--binary',
  image,
  '--driver',
  'kubernetes',
  '--unit',
  'statefulset/prometheus',
  '--namespace',
  NS,
  '--context',
  'lab',
  '--no-fixes',
  '--state',
  join(l.dir, 'state.db'),
  ...extra,
];

/** The calls that change something or wait (not get, logs), without the global flags every call carries. */
function actions(fake: FakeKubectl, from: number): string[][] {
  return fake
    .calls()
    .slice(from)
    .filter((c) => {
      assert.deepEqual(c.slice(1, 5), G, `every call names the context and namespace: ${c.join(' ')}`);
      return !['get', 'logs'].includes(c[5]!);
    })
    .map((c) => c.slice(5));
}

const imagePatch = (v: string, args?: string[]) => [
  'patch',
  'statefulset/prometheus',
  '--type=json',
  '-p',
  JSON.stringify([
    { op: 'replace', path: '/spec/template/spec/containers/0/image', value: IMAGE(v) },
    ...(args ? [{ op: 'replace', path: '/spec/template/spec/containers/0/args', value: args }] : []),
  ]),
];

test('parseResource and imageVersion: the kinds the driver upgrades, the release of an image tag', () => {
  assert.deepEqual(parseResource('sts/prometheus'), { kind: 'statefulset', name: 'prometheus' });
  assert.deepEqual(parseResource('prometheus/k8s'), { kind: 'prometheus', name: 'k8s' });
  assert.throws(() => parseResource('daemonset/prometheus'), /not a resource the kubernetes driver upgrades/);
  assert.equal(imageVersion('quay.io/prometheus/prometheus:v2.55.1'), '2.55.1');
  assert.equal(imageVersion('registry:5000/prom:3.8.1@sha256:' + 'ab'.repeat(32)), '3.8.1');
  assert.equal(imageVersion('quay.io/prometheus/prometheus:latest'), undefined);
});

test(
  'upgrade run --driver kubernetes 2.48.1 -> 2.55.1 through the fake kubectl: dry-run shows the exact commands, the run makes exactly them and signs off',
  { timeout: 300_000 },
  async (t) => {
    const l = await lab(t, {
      [IMAGE('2.48.1')]: prometheusBinary(PROMETHEUS.start),
      [IMAGE('2.55.1')]: prometheusBinary(PROMETHEUS.bridge),
    });
    const dry = await runCli([...runArgs(l, IMAGE('2.55.1')), '--dry-run', '--output', 'json'], { env: l.fake.env });
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { from: string; steps: Array<{ step: string; commands: string[] }> };
    assert.equal(plan.from, '2.48.1');
    const cmd = (step: string) => plan.steps.find((s) => s.step === step)!.commands;
    const backups = join(l.dir, `k8s-${NS}-statefulset-prometheus.<timestamp>.json`);
    assert.deepEqual(cmd('install'), [
      `kubectl --context lab -n ${NS} get statefulset/prometheus -o json  # its image and args kept in ${backups}`,
      `kubectl --context lab -n ${NS} patch statefulset/prometheus --type=json -p '${imagePatch('2.55.1')[4]}'`,
    ]);
    assert.deepEqual(cmd('start'), [
      `kubectl --context lab -n ${NS} rollout status statefulset/prometheus --timeout=1800s`,
    ]);
    assert.deepEqual(cmd('snapshot'), [
      'curl -XPOST $URL/api/v1/admin/tsdb/snapshot',
      `kubectl --context lab -n ${NS} cp '<pod>:${join(l.dir, 'data')}/snapshots/<snapshot name>' '<state dir>/upgrade-<run>-snapshot' -c prometheus`,
    ]);
    assert.equal(
      l.fake.calls().filter((c) => ['patch', 'rollout', 'cp'].includes(c[5]!)).length,
      1,
      'dry-run changed nothing',
    );

    const before = l.fake.calls().length;
    const t0 = Date.now();
    const r = await runCli([...runArgs(l, IMAGE('2.55.1')), '--output', 'json'], {
      env: l.fake.env,
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.match((await l.client.buildInfo()).version, /^2\.55\.1/);
    const snap = report.steps.find((s) => s.step === 'snapshot')!.detail as { path: string; blocks: number };
    assert.equal(snap.path, join(l.dir, 'upgrade-1-snapshot'), 'the snapshot was copied out of the "pod"');
    assert.ok(existsSync(snap.path));
    const sts = l.fake.object(NS, 'statefulsets.apps/prometheus');
    assert.equal(sts.spec.template.spec.containers[0].image, IMAGE('2.55.1'));
    assert.deepEqual(sts.spec.template.spec.containers[0].args, l.args, 'the args are untouched');
    const name = /snapshots\/([^/]+)$/.exec(
      readdirName(l.dir, 'data/snapshots') ?? assert.fail('no snapshot on the volume'),
    )![1]!;
    assert.deepEqual(actions(l.fake, before), [
      ['cp', `prometheus-0:${join(l.dir, 'data')}/snapshots/${name}`, `${snap.path}.part`, '-c', 'prometheus'],
      imagePatch('2.55.1'),
      ['rollout', 'status', 'statefulset/prometheus', '--timeout=1800s'],
    ]);
    for (const ext of ['json', 'md', 'html'])
      assert.ok(existsSync(join(l.dir, `upgrade-run-1.${ext}`)), `the stage report (${ext}) is next to the state`);
    const install = report.steps.find((s) => s.step === 'install')!.detail as { backup: string };
    assert.deepEqual(JSON.parse(readFileSync(install.backup, 'utf8')), { image: IMAGE('2.48.1'), args: l.args });
    t.diagnostic(
      `stage ${((Date.now() - t0) / 1000).toFixed(1)} s, ${l.fake.calls().length - before} kubectl calls, snapshot ${snap.blocks} block(s) copied out`,
    );
  },
);

function readdirName(dir: string, sub: string): string | undefined {
  const first = readdirSync(join(dir, sub))[0];
  return first ? join(dir, sub, first) : undefined;
}

test(
  'upgrade run --driver kubernetes: a rollout that never gets ready fails at its deadline and rolls back by itself (image and args patched back)',
  { timeout: 300_000 },
  async (t) => {
    // the 2.55.1 "image" runs a binary that exits at once: the pod never becomes ready (CrashLoopBackOff)
    const l = await lab(t, { [IMAGE('2.48.1')]: prometheusBinary(PROMETHEUS.start), [IMAGE('2.55.1')]: '/bin/false' });
    const before = l.fake.calls().length;
    const t0 = Date.now();
    const r = await runCli([...runArgs(l, IMAGE('2.55.1'), ['--ready-timeout', '6s']), '--output', 'json'], {
      env: l.fake.env,
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'rolled-back');
    assert.match(
      report.rollback!.reason,
      /rollout status statefulset\/prometheus --timeout=6s failed \(exit 1\): .*timed out waiting for the condition/,
    );
    assert.match((await l.client.buildInfo()).version, /^2\.48\.1/, 'the server is back on 2.48.1');
    const sts = l.fake.object(NS, 'statefulsets.apps/prometheus');
    assert.equal(sts.spec.template.spec.containers[0].image, IMAGE('2.48.1'));
    assert.deepEqual(sts.spec.template.spec.containers[0].args, l.args);
    const acts = actions(l.fake, before).filter((a) => a[0] !== 'cp');
    assert.deepEqual(acts, [
      imagePatch('2.55.1'),
      ['rollout', 'status', 'statefulset/prometheus', '--timeout=6s'],
      imagePatch('2.48.1', l.args),
      ['rollout', 'status', 'statefulset/prometheus', '--timeout=6s'],
    ]);
    t.diagnostic(`failed stage and rollback took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
);

test(
  'upgrade run --driver kubernetes: no kubectl, an unknown resource type, a missing resource, fixes asked for: one line, exit 2',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const fake = fakeKubectl(join(dir, 'kube'), {
      currentContext: 'lab',
      contexts: ['lab'],
      images: {},
      namespaces: {
        [NS]: {
          'statefulsets.apps/prometheus': statefulSet('prometheus', NS, IMAGE('2.48.1'), []),
          'prometheuses.monitoring.coreos.com/k8s': {
            apiVersion: 'monitoring.coreos.com/v1',
            kind: 'Prometheus',
            metadata: { name: 'k8s', namespace: NS },
            spec: { version: 'v2.48.1', replicas: 1 },
          },
        },
      },
    });
    const base = (unit: string, ...extra: string[]) => [
      'upgrade',
      'run',
      '--prometheus-url',
      'http://127.0.0.1:1',
      '--to',
      '2.55.1',
      '--binary',
      IMAGE('2.55.1'),
      '--driver',
      'kubernetes',
      '--unit',
      unit,
      '--namespace',
      NS,
      '--state',
      join(dir, 'state.db'),
      ...extra,
    ];
    const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
      ['no kubectl', base('statefulset/prometheus', '--no-fixes'), { PATH: '/nonexistent' }, /cannot run kubectl/],
      [
        'unknown resource type',
        base('daemonset/prometheus', '--no-fixes'),
        fake.env,
        /--unit "daemonset\/prometheus" is not a resource the kubernetes driver upgrades/,
      ],
      [
        'missing resource',
        base('statefulset/nope', '--no-fixes', '--dry-run'),
        fake.env,
        /--unit statefulset\/nope: .*statefulsets.apps "nope" not found/,
      ],
      [
        'unknown context',
        base('statefulset/prometheus', '--no-fixes', '--dry-run', '--context', 'prod'),
        fake.env,
        /context "prod" does not exist/,
      ],
      [
        'fixes asked for',
        base('statefulset/prometheus'),
        fake.env,
        /the kubernetes driver does not edit the server's ConfigMap/,
      ],
    ];
    for (const [what, args, env, re] of cases) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, re, what);
      assert.doesNotMatch(r.stderr, STACK_LINE, what);
    }
    // the operator mode: the Prometheus resource's version is patched, the operator's StatefulSet waited on
    const op = await runCli([...base('prometheus/k8s', '--no-fixes', '--dry-run'), '--output', 'json'], {
      env: fake.env,
    });
    assert.equal(op.code, 0, op.stderr);
    const steps = (JSON.parse(op.stdout) as { steps: Array<{ step: string; commands: string[] }> }).steps;
    assert.deepEqual(steps.find((s) => s.step === 'install')!.commands.slice(1), [
      `kubectl -n ${NS} patch prometheuses.monitoring.coreos.com/k8s --type=merge -p '{"spec":{"version":"v2.55.1","image":"${IMAGE('2.55.1')}"}}'`,
    ]);
    assert.deepEqual(steps.find((s) => s.step === 'start')!.commands, [
      `kubectl -n ${NS} rollout status statefulset/prometheus-k8s --timeout=1800s`,
    ]);
  },
);
