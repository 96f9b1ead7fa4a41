import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StackshiftError, UsageError } from '../errors/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import type { DriverStatus, ServerDriver } from './driver.js';

/**
 * The `kubernetes` driver: the server is a StatefulSet or Deployment (its container's image and args), or a
 * Prometheus Operator `Prometheus` resource (its spec.version and spec.image; the operator rewrites the
 * StatefulSet). Everything goes through `kubectl` with the namespace and context given; every command is
 * shown before it runs.
 *
 * What it cannot do, and so does not pretend to: there is no separate stop and start in a cluster, the patch
 * of the image rolls the pod (the old one gets SIGTERM and its grace period, the new one replays the WAL from
 * the same volume), so `stop` does nothing and `start` waits on `kubectl rollout status` with a deadline. The
 * data dir is not on this host: the snapshot is taken through the admin API (it lands on the pod's volume)
 * and copied out with `kubectl cp` into the state directory, where it is verified and kept off the volume.
 * The config lives in a ConfigMap and the flags in a manifest that GitOps may own: the runner refuses to edit
 * them (apply `lint prom3 --fix` to the manifests, then run with --no-fixes) and refuses --zero-gap (the
 * shadow scraper runs on this host with the server's config file).
 */

export type KubernetesKind = 'statefulset' | 'deployment' | 'prometheus';

export interface KubernetesOptions {
  kubectl?: string;
  namespace?: string;
  context?: string;
  /** The Prometheus container of a StatefulSet/Deployment (default: "prometheus", or the only one). */
  container?: string;
  /** How long `kubectl rollout status` may wait (default 10 min). */
  rolloutTimeoutMs?: number;
  /** Where the previous image and args are kept before a patch (the state directory). */
  backupDir: string;
}

const KINDS: Record<string, KubernetesKind> = {
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  prometheus: 'prometheus',
  prometheuses: 'prometheus',
  'prometheuses.monitoring.coreos.com': 'prometheus',
};

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** "statefulset/prometheus" -> its kind and name; anything else is a usage error naming the accepted kinds. */
export function parseResource(ref: string): { kind: KubernetesKind; name: string } {
  const m = /^([\w.-]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(ref);
  const kind = m ? KINDS[m[1]!.toLowerCase()] : undefined;
  if (!m || !kind)
    throw new UsageError(
      `--unit "${ref}" is not a resource the kubernetes driver upgrades`,
      'give statefulset/<name>, deployment/<name>, or prometheus/<name> (a Prometheus Operator resource)',
    );
  return { kind, name: m[2]! };
}

/** The release an image tag names: "quay.io/prometheus/prometheus:v2.55.1" -> "2.55.1" (also "v2.55.1"). */
export function imageVersion(image: string): string | undefined {
  return /(?:^|:)v?(\d+\.\d+\.\d+)(?:@sha256:[0-9a-f]+)?$/.exec(image)?.[1];
}

interface Container {
  name: string;
  image: string;
  args?: string[];
}

interface Backup {
  image: string;
  args?: string[];
  version?: string;
}

export function kubernetesDriver(ref: string, o: KubernetesOptions): ServerDriver {
  const { kind, name } = parseResource(ref);
  const kubectl = o.kubectl ?? 'kubectl';
  const global = [...(o.context ? ['--context', o.context] : []), '-n', o.namespace ?? 'default'];
  const resource = `${kind === 'prometheus' ? 'prometheuses.monitoring.coreos.com' : kind}/${name}`;
  // the operator names the StatefulSet it manages prometheus-<name>, its pods prometheus-<name>-<n>
  const workload = kind === 'prometheus' ? `statefulset/prometheus-${name}` : resource;
  const timeoutS = Math.max(1, Math.round((o.rolloutTimeoutMs ?? 600_000) / 1000));
  const show = (args: string[]) => [kubectl, ...global, ...args].map(quote).join(' ');

  const run = (args: string[]): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync(kubectl, [...global, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error)
      throw new StackshiftError('upgrade-driver', `cannot run ${kubectl}: ${r.error.message}`, {
        hint: 'the kubernetes driver needs kubectl on PATH or --kubectl <path>, configured for the cluster',
      });
    return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const failed = (args: string[], r: { status: number; stdout: string; stderr: string }, hint?: string) =>
    new StackshiftError(
      'upgrade-driver',
      `${show(args)} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
      { hint: hint ?? `see kubectl ${global.join(' ')} describe ${workload}` },
    );
  const getJson = (): Record<string, any> => {
    const args = ['get', resource, '-o', 'json'];
    const r = run(args);
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
      if (/NotFound|doesn't have a resource type|does not exist/.test(why))
        throw new UsageError(
          `--unit ${ref}: ${why.replace(/^error: /, '')}`,
          `check the resource, --namespace (${o.namespace ?? 'default'}) and --context${o.context ? ` (${o.context})` : ''}: kubectl ${global.join(' ')} get ${kind}`,
        );
      throw failed(args, r);
    }
    return JSON.parse(r.stdout) as Record<string, any>;
  };
  const containers = (obj: Record<string, any>): Container[] => obj.spec?.template?.spec?.containers ?? [];
  const containerIndex = (obj: Record<string, any>): number => {
    const cs = containers(obj);
    const want = o.container ?? 'prometheus';
    const i = cs.findIndex((c) => c.name === want);
    if (i >= 0) return i;
    if (!o.container && cs.length === 1) return 0;
    throw new UsageError(
      `--unit ${ref} has no container "${want}" (it has ${cs.map((c) => c.name).join(', ') || 'none'})`,
      'name the Prometheus container with --container',
    );
  };
  /** The image and args the resource runs now. */
  const current = (): Backup => {
    const obj = getJson();
    if (kind === 'prometheus') {
      const version = String(obj.spec?.version ?? '');
      return { image: obj.spec?.image ?? `quay.io/prometheus/prometheus:${version}`, version };
    }
    const c = containers(obj)[containerIndex(obj)]!;
    return { image: c.image, args: c.args ?? [] };
  };
  const patchArgs = (image: string, previous?: Backup): string[] => {
    if (kind === 'prometheus') {
      const v = imageVersion(image);
      const spec: Record<string, string> = { version: previous?.version ?? `v${v}` };
      // a bare version ("v3.8.1") leaves the operator's default image; an image ref pins it
      if (/[/:]/.test(image)) spec.image = image;
      return ['patch', resource, '--type=merge', '-p', JSON.stringify({ spec })];
    }
    const i = containerIndex(getJson());
    const ops: Array<Record<string, unknown>> = [
      { op: 'replace', path: `/spec/template/spec/containers/${i}/image`, value: image },
    ];
    if (previous?.args)
      ops.push({ op: 'replace', path: `/spec/template/spec/containers/${i}/args`, value: previous.args });
    return ['patch', resource, '--type=json', '-p', JSON.stringify(ops)];
  };
  const backupPrefix = join(o.backupDir, `k8s-${o.namespace ?? 'default'}-${kind}-${name}.`);
  /** The newest backup taken while the resource ran `image`: patching back to it restores its args too. */
  const backupOf = (image: string): Backup | undefined => {
    const dir = dirname(backupPrefix);
    if (!existsSync(dir)) return undefined;
    const files = readdirSync(dir)
      .map((f) => join(dir, f))
      .filter((f) => f.startsWith(backupPrefix) && f.endsWith('.json'))
      .sort();
    for (const f of files.reverse()) {
      const b = JSON.parse(readFileSync(f, 'utf8')) as Backup;
      if (b.image === image) return b;
    }
    return undefined;
  };
  const rolloutArgs = ['rollout', 'status', workload, `--timeout=${timeoutS}s`];
  const pod = (): string => {
    if (kind === 'statefulset') return `${name}-0`;
    if (kind === 'prometheus') return `prometheus-${name}-0`;
    const sel = Object.entries((getJson().spec?.selector?.matchLabels ?? {}) as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const args = ['get', 'pods', '-l', sel, '--field-selector=status.phase=Running', '-o', 'json'];
    const r = run(args);
    if (r.status !== 0) throw failed(args, r);
    const items = (JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string } }> }).items;
    if (!items.length) throw failed(args, { ...r, stderr: 'no running pod' });
    return items[0]!.metadata.name;
  };
  const tsdbPath = (): string => {
    for (const a of current().args ?? []) {
      const m = /^--storage\.tsdb\.path=(.+)$/.exec(a);
      if (m) return m[1]!;
    }
    // the official image's default, and the operator's mount
    return '/prometheus';
  };
  const copyArgs = (snapshot: string, podName: string, into: string) => [
    'cp',
    `${podName}:${tsdbPath()}/snapshots/${snapshot}`,
    into,
    ...(kind === 'prometheus' ? ['-c', 'prometheus'] : ['-c', containers(getJson())[containerIndex(getJson())]!.name]),
  ];

  const driver: ServerDriver = {
    kind: 'kubernetes',
    remote: true,
    unit() {
      const c = current();
      return { binary: c.image, args: c.args ?? [], file: `${o.namespace ?? 'default'}/${resource}` };
    },
    status(): DriverStatus {
      const obj = getJson();
      // "meant to run": the pod is replaced during a rollout, readiness is what rollout status waits on
      return { running: Number(obj.spec?.replicas ?? 1) > 0, binary: current().image };
    },
    versionOf: (image) => imageVersion(image),
    commands(step, binary) {
      if (step === 'stop')
        return ['# no separate stop: the patch of the install step rolls the pod (SIGTERM, then its grace period)'];
      if (step === 'install') {
        const cur = current();
        return [
          `${show(['get', resource, '-o', 'json'])}  # its image and args kept in ${backupPrefix}<timestamp>.json`,
          show(patchArgs(binary ?? cur.image)),
        ];
      }
      return [show(rolloutArgs)];
    },
    async stop() {
      /* see commands('stop') */
    },
    install(image) {
      if (!imageVersion(image))
        throw new StackshiftError('upgrade-install', `"${image}" is not an image with a release tag`, {
          hint: 'pass --binary with the image of the target release, e.g. quay.io/prometheus/prometheus:v2.55.1',
        });
      const cur = current();
      if (cur.image === image) return '';
      mkdirSync(dirname(backupPrefix), { recursive: true });
      const backup = `${backupPrefix}${new Date().toISOString().replace(/[-:.]/g, '')}.json`;
      writeFileAtomic(backup, JSON.stringify(cur, null, 2) + '\n');
      const args = patchArgs(image, backupOf(image));
      const r = run(args);
      if (r.status !== 0) throw failed(args, r);
      return backup;
    },
    async start() {
      const r = await new Promise<{ status: number; stdout: string; stderr: string }>((res, rej) => {
        const c = spawn(kubectl, [...global, ...rolloutArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d) => (stdout += d));
        c.stderr.on('data', (d) => (stderr += d));
        c.on('error', (e) =>
          rej(
            new StackshiftError('upgrade-driver', `cannot run ${kubectl}: ${e.message}`, {
              hint: 'the kubernetes driver needs kubectl on PATH or --kubectl <path>',
            }),
          ),
        );
        c.on('close', (code) => res({ status: code ?? 1, stdout, stderr }));
      });
      if (r.status !== 0)
        throw failed(
          rolloutArgs,
          r,
          `the new pod did not become ready; see kubectl ${global.join(' ')} describe ${workload} and kubectl logs`,
        );
    },
    log() {
      const r = run(['logs', workload, '-c', 'prometheus', '--tail=2000']);
      return r.status === 0 ? r.stdout : '';
    },
    logWhere: () => show(['logs', workload, '-c', 'prometheus']),
    snapshotCopy: {
      commands: (snapshot) => [show(copyArgs(snapshot, '<pod>', '<state dir>/upgrade-<run>-snapshot'))],
      async fetch(snapshot, into) {
        // kubectl cp into an existing directory nests; a copy cut short by kill -9 is started again
        const part = `${into}.part`;
        rmSync(part, { recursive: true, force: true });
        if (existsSync(into)) return into;
        const args = copyArgs(snapshot, pod(), part);
        const r = run(args);
        if (r.status !== 0 || !existsSync(part))
          throw failed(args, r, 'kubectl cp needs tar in the Prometheus container (the official image has it)');
        renameSync(part, into);
        return into;
      },
    },
  };
  return driver;
}
