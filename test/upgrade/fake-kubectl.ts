import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A recording fake of `kubectl` for the kubernetes driver's tests (there is no cluster here): every call is
 * appended to calls.log (one JSON array per line) and the verbs the driver uses answer as kubectl does, from
 * a one-namespace "cluster" in cluster.json. A StatefulSet's pod is a real local process: the image is looked
 * up in `images` (image -> binary) and run with the container's args, so the pod's filesystem is this host's.
 *
 * - `get <kind>/<name> -o json`: the object; NotFound and unknown resource types with kubectl's texts, exit 1
 * - `get pods -l ... -o json`: the pod list (<sts>-0 while its process runs)
 * - `patch <kind>/<name> --type=json|merge -p ...`: applies it; a changed pod template rolls the pod (SIGTERM to
 *   the old process, wait, start the new image; an image not in `images` never starts, like ImagePullBackOff)
 * - `rollout status <kind>/<name> --timeout=Ns`: waits for /-/ready of the pod's --web.listen-address, prints
 *   what kubectl prints; on the deadline "error: timed out waiting for the condition", exit 1
 * - `rollout restart`, `logs`, `cp <pod>:<path> <dir>`; `--context` must name a context of the cluster.
 */
const SCRIPT = `
const fs = require('fs'), path = require('path'), cp = require('child_process'), http = require('http');
const dir = process.env.FAKE_KUBECTL_DIR;
if (!dir) { console.error('FAKE_KUBECTL_DIR is not set'); process.exit(1); }
const argv = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.log'), JSON.stringify(['kubectl', ...argv]) + '\\n');
const clusterFile = path.join(dir, 'cluster.json');
const cluster = JSON.parse(fs.readFileSync(clusterFile, 'utf8'));
const save = () => fs.writeFileSync(clusterFile, JSON.stringify(cluster, null, 2));
let ns = 'default', context = cluster.currentContext, words = [], opts = {};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-n' || a === '--namespace') ns = argv[++i];
  else if (a === '--context') context = argv[++i];
  else if (a === '-o' || a === '-p' || a === '-l' || a === '-c') opts[a] = argv[++i];
  else if (a.startsWith('--')) { const [k, v] = a.slice(2).split('='); opts[k] = v ?? true; }
  else words.push(a);
}
const die = (msg, code = 1) => { console.error(msg); process.exit(code); };
if (!cluster.contexts.includes(context)) die('error: context "' + context + '" does not exist');
const TYPES = { statefulset: 'statefulsets.apps', statefulsets: 'statefulsets.apps', sts: 'statefulsets.apps',
  deployment: 'deployments.apps', deploy: 'deployments.apps', deployments: 'deployments.apps',
  'prometheuses.monitoring.coreos.com': 'prometheuses.monitoring.coreos.com', pods: 'pods', pod: 'pods' };
const lookup = (ref) => {
  const [t, name] = ref.split('/');
  const type = TYPES[t];
  if (!type) die('error: the server doesn\\'t have a resource type "' + t + '"');
  const obj = (cluster.namespaces[ns] || {})[type + '/' + name];
  if (!obj) die('Error from server (NotFound): ' + type + ' "' + name + '" not found');
  return { type, name, obj };
};
const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
const podFile = (name) => path.join(dir, name + '-0.pid');
const logFile = (name) => path.join(dir, name + '-0.log');
const podPid = (name) => { try { const p = Number(fs.readFileSync(podFile(name), 'utf8')); return p > 0 && alive(p) ? p : 0; } catch { return 0; } };
const roll = (name, obj) => {
  const p = podPid(name);
  if (p) { process.kill(p, 'SIGTERM'); const end = Date.now() + 60000; while (alive(p) && Date.now() < end) cp.spawnSync('sleep', ['0.1']); }
  fs.rmSync(podFile(name), { force: true });
  const c = obj.spec.template.spec.containers[0];
  const bin = cluster.images[c.image];
  obj.status = { ...(obj.status || {}), updateRevision: name + '-' + Date.now().toString(16) };
  if (!bin) { fs.appendFileSync(logFile(name), 'Back-off pulling image "' + c.image + '"\\n'); return; }
  const fd = fs.openSync(logFile(name), 'a');
  const child = cp.spawn(bin, c.args || [], { detached: true, stdio: ['ignore', fd, fd] });
  fs.writeFileSync(podFile(name), String(child.pid));
  child.unref();
};
const ready = (addr) => new Promise((res) => {
  const r = http.get('http://' + addr + '/-/ready', (m) => { m.resume(); res(m.statusCode === 200); });
  r.on('error', () => res(false));
  r.setTimeout(1000, () => { r.destroy(); res(false); });
});
const main = async () => {
  const verb = words[0];
  if (verb === 'get' && words[1] === 'pods') {
    const items = Object.entries(cluster.namespaces[ns] || {}).filter(([k]) => k.startsWith('statefulsets.apps/') || k.startsWith('deployments.apps/'))
      .filter(([k]) => podPid(k.split('/')[1])).map(([k]) => ({ metadata: { name: k.split('/')[1] + '-0' }, status: { phase: 'Running' } }));
    console.log(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    return;
  }
  if (verb === 'get') {
    const { obj } = lookup(words[1]);
    if (opts['-o'] !== 'json') die('fake kubectl: only -o json');
    console.log(JSON.stringify(obj, null, 4));
    return;
  }
  if (verb === 'patch') {
    const { type, name, obj } = lookup(words[1]);
    const before = JSON.stringify(obj.spec);
    const body = JSON.parse(opts['-p']);
    if (opts.type === 'json') {
      for (const op of body) {
        if (op.op !== 'replace') die('The request is invalid: unsupported op ' + op.op);
        const keys = op.path.split('/').slice(1);
        let at = obj;
        for (const k of keys.slice(0, -1)) { at = at[k]; if (at === undefined) die('The request is invalid: the server rejected our request due to an error in our request'); }
        at[keys[keys.length - 1]] = op.value;
      }
    } else if (opts.type === 'merge') Object.assign(obj.spec, body.spec);
    else die('error: --type must be one of [json merge strategic]');
    const changed = JSON.stringify(obj.spec) !== before;
    if (changed) { obj.metadata.generation = (obj.metadata.generation || 1) + 1; if (type === 'statefulsets.apps') roll(name, obj); }
    save();
    console.log(type + '/' + name + ' patched' + (changed ? '' : ' (no change)'));
    return;
  }
  if (verb === 'rollout' && words[1] === 'restart') {
    const { type, name, obj } = lookup(words[2]);
    roll(name, obj); save();
    console.log(type + '/' + name + ' restarted');
    return;
  }
  if (verb === 'rollout' && words[1] === 'status') {
    const { name, obj } = lookup(words[2]);
    const timeoutMs = Number(String(opts.timeout || '0s').replace(/s$/, '')) * 1000 || 3600000;
    const addr = (obj.spec.template.spec.containers[0].args || []).find((a) => a.startsWith('--web.listen-address='))?.split('=')[1] || '127.0.0.1:9090';
    const end = Date.now() + timeoutMs;
    console.log('Waiting for 1 pods to be ready...');
    while (Date.now() < end) {
      if (podPid(name) && await ready(addr)) {
        console.log('statefulset rolling update complete 1 pods at revision ' + obj.status.updateRevision + '...');
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    die('error: timed out waiting for the condition');
  }
  if (verb === 'logs') {
    const { name } = lookup(words[1]);
    const text = fs.existsSync(logFile(name)) ? fs.readFileSync(logFile(name), 'utf8').split('\\n') : [];
    const tail = Number(opts.tail || 0);
    process.stdout.write((tail ? text.slice(-tail) : text).join('\\n'));
    return;
  }
  if (verb === 'cp') {
    const [pod, from] = words[1].split(':');
    if (!pod.endsWith('-0') || !podPid(pod.slice(0, -2))) die('Error from server (NotFound): pods "' + pod + '" not found');
    if (!fs.existsSync(from)) die('tar: removing leading \\'/\\' from member names\\ntar: ' + from + ': No such file or directory');
    fs.cpSync(from, words[2], { recursive: true });
    return;
  }
  die('fake kubectl: unsupported ' + argv.join(' '));
};
main();
`;

export interface FakeKubectl {
  dir: string;
  bin: string;
  /** PATH and FAKE_KUBECTL_DIR for a child process. */
  env: Record<string, string>;
  /** Every call so far, as argv arrays ("kubectl", "-n", "monitoring", "get", ...). */
  calls(): string[][];
  /** The object of a resource as the "cluster" holds it now. */
  object(ns: string, key: string): Record<string, any>;
}

export interface FakeCluster {
  currentContext: string;
  contexts: string[];
  /** image -> the local binary its pod runs */
  images: Record<string, string>;
  /** namespace -> "statefulsets.apps/<name>" -> object */
  namespaces: Record<string, Record<string, unknown>>;
}

export function fakeKubectl(dir: string, cluster: FakeCluster): FakeKubectl {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'kubectl'), `#!${process.execPath}\n${SCRIPT}`);
  chmodSync(join(bin, 'kubectl'), 0o755);
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(cluster, null, 2));
  return {
    dir,
    bin,
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FAKE_KUBECTL_DIR: dir },
    calls: () =>
      existsSync(join(dir, 'calls.log'))
        ? readFileSync(join(dir, 'calls.log'), 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [],
    object: (ns, key) =>
      (JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as FakeCluster).namespaces[ns]![key] as Record<
        string,
        any
      >,
  };
}

/** A StatefulSet of one Prometheus container, as `kubectl get -o json` shows it. */
export function statefulSet(name: string, namespace: string, image: string, args: string[]): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, generation: 1, labels: { 'app.kubernetes.io/name': 'prometheus' } },
    spec: {
      replicas: 1,
      serviceName: name,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'prometheus' } },
        spec: {
          containers: [{ name: 'prometheus', image, args, ports: [{ containerPort: 9090, name: 'web' }] }],
          terminationGracePeriodSeconds: 600,
        },
      },
    },
    status: { replicas: 1, readyReplicas: 1, updateRevision: `${name}-1` },
  };
}
