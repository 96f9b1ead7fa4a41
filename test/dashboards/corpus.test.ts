import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasourceCatalog, migrateFiles, restoreBackup } from '../../src/dashboards/index.js';
import { CORPUS, tempDir } from '../harness/index.js';

/**
 * Acceptance over every real dashboard in the shared corpus. The reference count comes from a walker
 * written here from Grafana's documented JSON model (research note grafana.md §1), independently of
 * src/dashboards: it visits every object of the file, classifies it by the array it sits in, and resolves
 * datasource references its own way. After a files-mode migration no reference to the source is left,
 * the target gained exactly as many, and a structural diff shows only datasource fields changed (plus
 * `exemplar` when opted in).
 */
export const CORPUS_DIR =
  process.env.STACKSHIFT_CORPUS_DIR ?? [join(CORPUS, 'dashboards')].find((d) => existsSync(d)) ?? '';

export const CORPUS_DATASOURCES = [
  { uid: 'PBFA97CFB590B2093', name: 'Prometheus', type: 'prometheus', isDefault: true },
  { uid: 'mimir', name: 'Mimir', type: 'prometheus', isDefault: false },
  { uid: 'P8E80F9AEF21F6940', name: 'Loki', type: 'loki', isDefault: false },
  { uid: 'b0nLdBHVk', name: 'InfluxDB', type: 'influxdb', isDefault: false },
  { uid: 'tempo', name: 'Tempo', type: 'tempo', isDefault: false },
];

type J = Record<string, unknown>;
type DS = { uid: string; name: string; type: string; isDefault?: boolean };
const obj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);
const BUILTIN = ['-- Mixed --', '-- Grafana --', 'grafana', '-- Dashboard --', '__expr__'];

/** Independent reference model: how many places in `d` select datasource `want` (by uid). */
export function independentCount(d: J, list: DS[], want: string): number {
  const byName = (s: string) => list.find((x) => x.name === s);
  const byUid = (s: string) => list.find((x) => x.uid === s);
  const def = list.find((x) => x.isDefault);
  const varName = (s: string): string | undefined =>
    /^\$(\w+)$|^\$\{(\w+)(?::[^}]*)?\}$|^\[\[(\w+)\]\]$/
      .exec(s)
      ?.slice(1)
      .find((g) => g !== undefined);
  // __inputs placeholders stand for a datasource chosen at import: the one the label names, else the default of that plugin type.
  const inputs = new Map<string, DS | undefined>();
  for (const i of Array.isArray(d.__inputs) ? d.__inputs : []) {
    if (!obj(i) || i.type !== 'datasource') continue;
    const label = String(i.label ?? '');
    const ci = list.filter(
      (x) =>
        x.type === i.pluginId &&
        (x.name.toLowerCase() === label.toLowerCase() || x.uid.toLowerCase() === label.toLowerCase()),
    );
    inputs.set(
      String(i.name),
      byName(label) ?? (ci.length === 1 ? ci[0] : undefined) ?? (def?.type === i.pluginId ? def : undefined),
    );
  }
  const placeholder = (s: string) => (/^\$\{(\w+)\}$/.test(s) ? inputs.get(s.slice(2, -1)) : undefined);
  const isPlaceholder = (s: string) => /^\$\{(\w+)\}$/.test(s) && inputs.has(s.slice(2, -1));
  // A reference: null/absent/"default" -> default; "$var" -> not direct; string -> name then uid; object uid -> uid then name.
  const resolveRef = (v: unknown, present: boolean): DS | 'default' | undefined => {
    if (!present || v === null || v === '' || v === 'default') return 'default';
    if (typeof v === 'string') {
      if (BUILTIN.includes(v)) return undefined;
      if (isPlaceholder(v)) return placeholder(v);
      if (varName(v)) return undefined;
      return byName(v) ?? byUid(v);
    }
    if (obj(v)) {
      if (['datasource', 'grafana', '__expr__'].includes(String(v.type)) || BUILTIN.includes(String(v.uid)))
        return undefined;
      if (typeof v.uid !== 'string' || v.uid === '') return 'default';
      if (isPlaceholder(v.uid)) return placeholder(v.uid);
      if (varName(v.uid)) return undefined;
      return byUid(v.uid) ?? byName(v.uid);
    }
    return undefined;
  };
  let n = 0;
  const hit = (v: unknown, present: boolean, nullCounts: boolean) => {
    const r = resolveRef(v, present);
    if (r === 'default') {
      if (nullCounts && def?.uid === want) n++;
    } else if (r?.uid === want) n++;
  };
  // Every object, classified by the key of the array (or map) that holds it.
  const visit = (node: unknown, holderKey: string, parent: J | undefined, path: string) => {
    if (Array.isArray(node)) {
      node.forEach((x) => visit(x, holderKey, parent, path));
      return;
    }
    if (!obj(node)) return;
    if (holderKey === 'panels' || holderKey === 'model') {
      const targets = Array.isArray(node.targets) ? node.targets : [];
      hit(node.datasource, 'datasource' in node, node.type !== 'row' && targets.length > 0);
      const mixed = obj(node.datasource) ? node.datasource.uid === '-- Mixed --' : node.datasource === '-- Mixed --';
      for (const t of targets) if (obj(t)) hit(t.datasource, 'datasource' in t, mixed);
    } else if (holderKey === 'list' && path.endsWith('templating.list')) {
      if (node.type === 'datasource') {
        const cur = obj(node.current) ? node.current.value : undefined;
        const values = Array.isArray(cur) ? cur : [cur];
        const selected = values.map((x) =>
          x === undefined || x === '' || x === 'default'
            ? def
            : typeof x === 'string'
              ? (placeholder(x) ?? byName(x) ?? byUid(x))
              : undefined,
        );
        if (selected.some((s) => s?.uid === want)) n++;
      } else hit(node.datasource, 'datasource' in node, node.type === 'query' || node.type === 'adhoc');
    } else if (holderKey === 'list' && path.endsWith('annotations.list')) {
      hit(node.datasource, 'datasource' in node, node.builtIn !== 1);
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'targets') continue;
      if (k === '__elements' && obj(v)) {
        for (const el of Object.values(v)) if (obj(el)) visit(el.model, 'model', el, `${path}.__elements`);
        continue;
      }
      visit(v, k, node, `${path}.${k}`);
    }
  };
  visit(d, '', undefined, '');
  return n;
}

/** Paths (dot-joined) where two JSON values differ: changed leaves, added or removed keys and items. */
export function structuralDiff(a: unknown, b: unknown, path = ''): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...structuralDiff(a[i], b[i], `${path}.${i}`));
    return out;
  }
  if (obj(a) && obj(b)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      out.push(...structuralDiff(a[k], b[k], `${path}.${k}`));
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path.slice(1)];
}

function get(v: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((cur, k) => (Array.isArray(cur) ? cur[Number(k)] : obj(cur) ? cur[k] : undefined), v);
}

/** True when a changed path is a datasource field, and its new value selects the target. */
export function allowedChange(path: string, before: J, after: J, target: DS, extras: boolean): boolean {
  if (path.startsWith('__inputs')) return true;
  if (extras && /\.targets\.\d+\.exemplar$/.test(path)) return get(after, path) === true;
  const ds = /^(.*\.)?datasource(\.uid|\.type)?$/.exec(path);
  if (ds) {
    const field = get(after, path.replace(/\.(uid|type)$/, ''));
    return typeof field === 'string'
      ? field === target.name || field === target.uid
      : obj(field) && field.uid === target.uid && (field.type === undefined || field.type === target.type);
  }
  const v = /^templating\.list\.(\d+)\.(current|options\.\d+)(\.(text|value)(\.\d+)?)?$/.exec(path);
  if (v) {
    const variable = get(before, `templating.list.${v[1]}`) as J;
    return variable?.type === 'datasource';
  }
  return false;
}

function copyCorpus(t: import('node:test').TestContext): string {
  const dir = join(tempDir(t), 'dashboards');
  cpSync(CORPUS_DIR, dir, { recursive: true });
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return dir;
}

test(
  'corpus: every reference to the source is rewritten, counted by an independent walker',
  { skip: CORPUS_DIR ? false : 'corpus not found (set STACKSHIFT_CORPUS_DIR)' },
  async (t) => {
    const files = readdirSync(CORPUS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.ok(files.length >= 19, `corpus has ${files.length} dashboards`);
    const work = tempDir(t);
    const dsFile = join(work, 'datasources.json');
    writeFileSync(dsFile, JSON.stringify(CORPUS_DATASOURCES));
    const out = join(work, 'out');
    const catalog = new DatasourceCatalog(CORPUS_DATASOURCES);
    const [from, to] = [catalog.list[0], catalog.list[1]];
    for (const extras of [false, true]) {
      const outDir = `${out}-${extras}`;
      // rfmoz's old node-exporter export names its input DS_LOCALHOST, labelled "localhost": bound by hand, as the warning says.
      const report = await migrateFiles({
        input: CORPUS_DIR,
        output: outDir,
        catalog,
        from,
        to,
        exemplars: extras,
        bindInputs: { DS_LOCALHOST: from.name },
      });
      assert.equal(report.outcomes.length, files.length);
      let total = 0;
      for (const f of files) {
        const before = JSON.parse(readFileSync(join(CORPUS_DIR, f), 'utf8')) as J;
        const after = JSON.parse(readFileSync(join(outDir, f), 'utf8')) as J;
        const srcBefore = independentCount(before, CORPUS_DATASOURCES, from.uid);
        const tgtBefore = independentCount(before, CORPUS_DATASOURCES, to.uid);
        assert.equal(independentCount(after, CORPUS_DATASOURCES, from.uid), 0, `${f}: references to ${from.name} left`);
        assert.equal(
          independentCount(after, CORPUS_DATASOURCES, to.uid) - tgtBefore,
          srcBefore,
          `${f}: target gained as many references as the source had`,
        );
        const o = report.outcomes.find((x) => x.where === f)!;
        assert.equal(o.rewritten, srcBefore, `${f}: reported count matches the independent count`);
        assert.equal(o.remaining, 0);
        const bad = structuralDiff(before, after).filter((p) => !allowedChange(p, before, after, to, extras));
        assert.deepEqual(bad, [], `${f}: only datasource fields changed`);
        if (!extras)
          assert.equal(
            structuralDiff(before, after).some((p) => p.endsWith('.exemplar')),
            false,
          );
        total += srcBefore;
      }
      // The corpus holds hundreds of direct references (rfmoz haproxy alone has 282), not just variables.
      assert.ok(total > 450, `rewrote ${total} references`);
    }
    // Unbound, that input is never guessed: left as it is and named.
    const unbound = await migrateFiles({
      input: join(CORPUS_DIR, 'rfmoz-node-exporter-full-old.json'),
      catalog,
      from,
      to,
      dryRun: true,
    });
    assert.equal(unbound.outcomes[0].rewritten, 0);
    assert.match(
      unbound.outcomes[0].warnings.join('\n'),
      /\$\{DS_LOCALHOST\} \(label "localhost", prometheus\) names no datasource in the list; left unchanged\. Bind it with --bind-input DS_LOCALHOST=<datasource>/,
    );
  },
);

test(
  'corpus: untouched bytes stay as they were (files JSON.stringify does not reproduce)',
  { skip: CORPUS_DIR ? false : 'corpus not found' },
  async (t) => {
    const dir = copyCorpus(t);
    const catalog = new DatasourceCatalog(CORPUS_DATASOURCES);
    const report = await migrateFiles({
      input: dir,
      catalog,
      from: catalog.list[0],
      to: catalog.list[1],
      allowMissingUid: true,
      diff: true,
      backupDir: join(tempDir(t), 'bk'),
    });
    // jsonnet-generated files keep their blank-line empty arrays, 4-space indent and no final newline: the diff is only the datasource lines.
    const jsonnet = report.outcomes.find((o) => o.where === 'kube-prometheus-prometheus.json')!;
    const removed = jsonnet.diff!.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    assert.ok(removed.length > 0 && removed.length <= 2, jsonnet.diff);
    const text = readFileSync(join(dir, 'kube-prometheus-prometheus.json'), 'utf8');
    assert.ok(!text.endsWith('\n') && text.includes('"panels": [\n\n') && text.includes('\n    "'), 'layout kept');
  },
);

test(
  'corpus: migrate in place, then restore, gives back byte-equal files',
  { skip: CORPUS_DIR ? false : 'corpus not found' },
  async (t) => {
    const dir = copyCorpus(t);
    const originals = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
    const catalog = new DatasourceCatalog(CORPUS_DATASOURCES);
    const backupDir = join(tempDir(t), 'backup');
    const m = await migrateFiles({
      input: dir,
      catalog,
      from: catalog.list[0],
      to: catalog.list[1],
      exemplars: true,
      bindInputs: { DS_LOCALHOST: catalog.list[0].name },
      backupDir,
    });
    const changed = m.outcomes.filter((o) => o.status === 'changed').length;
    assert.ok(changed >= 17);
    assert.equal(m.backupDir, resolve(backupDir));
    assert.equal(readdirSync(join(backupDir, 'files')).length, changed);
    for (const [f, bytes] of originals) {
      const now = readFileSync(join(dir, f));
      assert.equal(now.equals(bytes), m.outcomes.find((o) => o.where === f)!.status === 'unchanged', f);
    }
    const r = await restoreBackup({ from: backupDir, backupDir: join(tempDir(t), 'pre') });
    assert.equal(r.totals.byStatus.restored, changed);
    for (const [f, bytes] of originals)
      assert.ok(readFileSync(join(dir, f)).equals(bytes), `${f} restored byte for byte`);
    assert.ok(statSync(join(dir, 'rfmoz-haproxy.json')).size > 0);
  },
);
