import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DatasourceCatalog,
  applyChanges,
  classify,
  countReferences,
  detectLayout,
  jsonSyntaxError,
  parseDatasourceList,
  resolveInputBindings,
  rewriteDashboard,
  rewriteLibraryModel,
  roundTrips,
  serializeMigrated,
  type ExprSite,
  type GrafanaDatasource,
} from '../../src/dashboards/index.js';
import { InputError, UsageError } from '../../src/errors/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../../src/rehearsal/fixtures/dashboards.js';

const catalog = new DatasourceCatalog(FIXTURE_DATASOURCES as GrafanaDatasource[]);
const [PROM, MIMIR] = [catalog.list[0], catalog.list[1]];
const opts = { catalog, from: PROM, to: MIMIR };
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function fixture(file: string): J {
  return JSON.parse(FIXTURE_DASHBOARDS.find((f) => f.file === file)!.text) as J;
}

test('legacy rows[]: string names, null defaults, uid strings, annotations and variables; $ds and built-ins left alone', () => {
  const d = fixture('legacy-rows.json');
  const r = rewriteDashboard(d, opts);
  assert.deepEqual(r.byKind, { 'datasource-variable': 1, variable: 1, annotation: 1, panel: 3 });
  assert.equal(r.rewritten, 6);
  const [traffic, latency] = d.rows;
  assert.equal(traffic.panels[0].datasource, 'Mimir', 'name stays a name');
  assert.equal(
    traffic.panels[1].datasource,
    'Mimir',
    'null (default = Prometheus) becomes explicit, as a name before schemaVersion 33',
  );
  assert.equal(traffic.panels[2].datasource, '$ds', 'variable reference unchanged');
  assert.equal(latency.panels[0].datasource, undefined, 'text panel has no datasource and gets none');
  assert.equal(latency.panels[1].datasource, 'mimir', 'uid stays a uid');
  assert.deepEqual(d.templating.list[0].current, { text: 'Mimir', value: 'Mimir' });
  assert.equal(d.templating.list[1].datasource, 'Mimir');
  assert.equal(d.annotations.list[0].datasource, '-- Grafana --');
  assert.equal(d.annotations.list[1].datasource, 'Mimir');
  assert.equal(r.viaVariable, 1);
  assert.equal(countReferences(d, catalog, PROM), 0);
});

test('modern dashboard: collapsed rows, Mixed targets, {uid: name}, Dashboard and expression datasources, adhoc and query variables', () => {
  const d = fixture('team/modern-mixed.json');
  const before = countReferences(d, catalog, PROM);
  const r = rewriteDashboard(d, opts);
  assert.equal(r.rewritten, before);
  assert.deepEqual(r.byKind, { 'datasource-variable': 1, variable: 1, annotation: 2, panel: 3, target: 4 });
  const mixed = d.panels[1];
  assert.deepEqual(mixed.datasource, { type: 'datasource', uid: '-- Mixed --' });
  assert.deepEqual(mixed.targets[0].datasource, { type: 'prometheus', uid: 'mimir' });
  assert.deepEqual(mixed.targets[1].datasource, { type: 'loki', uid: 'loki' }, 'Loki target untouched');
  assert.deepEqual(
    mixed.targets[2].datasource,
    { type: 'prometheus', uid: 'mimir' },
    'a Mixed target without datasource used the default',
  );
  assert.deepEqual(mixed.targets[3].datasource, { type: '__expr__', uid: '__expr__' });
  const row = d.panels[2];
  assert.deepEqual(row.panels[0].datasource, { uid: 'mimir' }, '{uid: "<name>"} resolved by name');
  assert.equal(row.panels[1].datasource, 'Mimir');
  assert.deepEqual(row.panels[2].datasource, { type: 'datasource', uid: '-- Dashboard --' });
  assert.equal(row.panels[3].datasource, undefined, 'library panel reference without targets');
  assert.deepEqual(
    d.annotations.list[2].datasource,
    { type: 'prometheus', uid: 'mimir' },
    'null annotation datasource = default',
  );
  assert.deepEqual(
    d.templating.list[0].current,
    { selected: false, text: 'Mimir', value: 'mimir' },
    '"default" becomes the target uid',
  );
  assert.deepEqual(d.templating.list[1].datasource, { type: 'prometheus', uid: '${datasource}' });
  assert.equal(r.viaVariable, 1);
  assert.equal(d.panels[3].datasource.uid, 'loki');
  assert.deepEqual(r.warnings, []);
});

test('exported JSON: ${DS_*} placeholders bound through __inputs, __elements models, other inputs kept', () => {
  const d = fixture('exported-with-inputs.json');
  const r = rewriteDashboard(d, opts);
  assert.equal(r.rewritten, 5);
  assert.equal(r.inputsRemoved, 1);
  assert.deepEqual(
    d.__inputs.map((i: J) => i.name),
    ['DS_LOKI'],
  );
  assert.equal(d.__elements['stackshift-lib-latency'].model.datasource.uid, 'mimir');
  assert.equal(d.panels[1].datasource.uid, '${DS_LOKI}');
  assert.ok(!JSON.stringify(d).includes('DS_PROMETHEUS'));
  const kept = fixture('exported-with-inputs.json');
  const k = rewriteDashboard(kept, { ...opts, keepInputs: true });
  assert.equal(k.changes.length, 0);
  assert.equal(k.placeholdersKept, 5);
  assert.equal(countReferences(kept, catalog, PROM), 5, 'kept placeholders still count as references to the source');
});

test('an input whose label names no datasource is never bound by guessing: warned and named, or bound with --bind-input', () => {
  const make = () => ({
    schemaVersion: 14,
    __inputs: [
      { name: 'DS_LOCALHOST', label: 'localhost', type: 'datasource', pluginId: 'prometheus' },
      { name: 'DS_LOGS', label: 'elsewhere', type: 'datasource', pluginId: 'loki' },
    ],
    rows: [{ panels: [{ datasource: '${DS_LOCALHOST}', targets: [{ expr: 'up' }] }] }],
  });
  const d = make();
  const r = rewriteDashboard(d, opts);
  assert.equal(r.rewritten, 0, 'not bound to the default Prometheus');
  assert.equal(d.rows[0].panels[0].datasource, '${DS_LOCALHOST}', 'left unchanged');
  assert.equal(d.__inputs.length, 2);
  assert.deepEqual(
    r.warnings,
    [
      'import placeholder ${DS_LOCALHOST} (label "localhost", prometheus) names no datasource in the list; left unchanged. Bind it with --bind-input DS_LOCALHOST=<datasource>',
    ],
    'the Loki input is of another type: no warning for it',
  );
  // Nor to the only other datasource of its type: with Mimir as the target, Prometheus is the only candidate.
  assert.equal(
    rewriteDashboard(make(), { ...opts, keepInputs: true }).warnings.length,
    0,
    '--keep-inputs leaves placeholders alone anyway',
  );
  const bound = make();
  const r2 = rewriteDashboard(bound, {
    ...opts,
    inputBindings: resolveInputBindings(catalog, 'test', { DS_LOCALHOST: 'Prometheus' }),
  });
  assert.equal(r2.rewritten, 1);
  assert.equal(bound.rows[0].panels[0].datasource, 'Mimir');
  assert.deepEqual(
    bound.__inputs.map((i) => i.name),
    ['DS_LOGS'],
  );
  assert.deepEqual(r2.warnings, []);
  assert.throws(
    () => resolveInputBindings(catalog, 'datasources.json', { DS_LOCALHOST: 'prometheus-typo' }),
    (e: unknown) =>
      e instanceof UsageError &&
      /--bind-input DS_LOCALHOST "prometheus-typo" is not a datasource in datasources\.json/.test(e.message),
  );
});

test('exemplars: only range queries of time-series and heatmap panels that run on the target', () => {
  const d = fixture('team/modern-mixed.json');
  const r = rewriteDashboard(d, { ...opts, exemplars: true });
  assert.equal(r.byKind.exemplar, 4);
  assert.equal(d.panels[0].targets[0].exemplar, true);
  assert.equal(d.panels[1].targets[1].exemplar, undefined, 'Loki target');
  assert.equal(d.panels[2].panels[0].targets[0].exemplar, undefined, 'stat panel');
  const without = fixture('team/modern-mixed.json');
  rewriteDashboard(without, opts);
  assert.ok(!JSON.stringify(without).includes('"exemplar"'));
});

test('rewriteExpr hook: called for every PromQL query that runs on the target after the migration, and only those', () => {
  const d = fixture('team/modern-mixed.json');
  const seen: ExprSite[] = [];
  const r = rewriteDashboard(d, {
    ...opts,
    rewriteExpr: (e, site) => {
      seen.push(site);
      return e.replace('http_requests_total', 'http_requests');
    },
  });
  const kinds = seen.map((s) => s.kind).sort();
  // targets: Requests, Mixed A and C, CPU; variable job (through $datasource, now Mimir); annotations: firing and restarts.
  assert.deepEqual(kinds, ['annotation', 'annotation', 'target', 'target', 'target', 'target', 'target', 'variable']);
  assert.ok(!seen.some((s) => s.path.join('.') === 'panels.1.targets.1.expr'), 'Loki query not offered');
  assert.equal(d.panels[0].targets[0].expr, 'sum(rate(http_requests[$__rate_interval]))');
  assert.equal(r.byKind.expr, 2);
  assert.equal(r.changes.filter((c) => c.kind === 'expr').length, 2);
});

test('datasource variables: multi-value, options, a regex that hides the target, unknown values', () => {
  const d: J = {
    schemaVersion: 39,
    templating: {
      list: [
        {
          type: 'datasource',
          name: 'ds',
          query: 'prometheus',
          regex: '/^Prom.*/',
          multi: true,
          current: { text: ['Prometheus', 'Loki'], value: ['prometheus', 'loki'] },
          options: [
            { text: 'Prometheus', value: 'prometheus', selected: true },
            { text: 'Mimir', value: 'mimir', selected: false },
          ],
        },
        { type: 'datasource', name: 'other', query: 'prometheus', current: { text: 'Thanos', value: 'thanos-uid' } },
      ],
    },
    panels: [
      { type: 'timeseries', datasource: { uid: '$ds' }, targets: [{ expr: 'up' }] },
      { type: 'timeseries', datasource: 'Unknown DS', targets: [{ expr: 'up' }] },
    ],
  };
  const r = rewriteDashboard(d, opts);
  assert.deepEqual(d.templating.list[0].current, { text: ['Mimir', 'Loki'], value: ['mimir', 'loki'] });
  assert.deepEqual(d.templating.list[0].options[0], { text: 'Mimir', value: 'mimir', selected: true });
  assert.equal(r.rewritten, 1);
  assert.ok(r.warnings.some((w) => /regex \/\^Prom\.\*\/, which hides Mimir/.test(w)));
  assert.ok(r.warnings.some((w) => /"thanos-uid" is not in the datasource list/.test(w)));
  assert.ok(r.warnings.some((w) => /"Unknown DS" is not in the datasource list/.test(w)));
});

test('no default datasource in the list: null references are not claimed', () => {
  const c = new DatasourceCatalog(FIXTURE_DATASOURCES.map((d) => ({ ...d, isDefault: false })) as GrafanaDatasource[]);
  const d = { schemaVersion: 39, panels: [{ type: 'timeseries', datasource: null, targets: [{ expr: 'up' }] }] };
  const r = rewriteDashboard(d, { catalog: c, from: c.list[0], to: c.list[1] });
  assert.equal(r.rewritten, 0);
  assert.equal(d.panels[0].datasource, null);
});

test('library element model: one panel outside a dashboard', () => {
  const model: J = {
    type: 'timeseries',
    datasource: { type: 'prometheus', uid: 'prometheus' },
    targets: [
      { refId: 'A', expr: 'up' },
      { refId: 'B', datasource: { type: 'prometheus', uid: 'prometheus' }, expr: 'up' },
    ],
  };
  const r = rewriteLibraryModel(model, opts, ['model']);
  assert.equal(r.rewritten, 2);
  assert.deepEqual(
    r.changes.map((c) => c.path.join('.')),
    ['model.datasource.uid', 'model.targets.1.datasource.uid'],
  );
  assert.equal(countReferences(model, catalog, PROM, 'library'), 0);
  const viaVar = rewriteLibraryModel(
    { type: 'timeseries', datasource: { uid: '${datasource}' }, targets: [{ expr: 'up' }] },
    opts,
  );
  assert.deepEqual(viaVar.warnings, [], 'a library panel follows the variables of the dashboard that shows it');
});

test('type changes when the target plugin differs; key order kept', () => {
  const other: GrafanaDatasource = { uid: 'vm', name: 'VictoriaMetrics', type: 'victoriametrics-datasource' };
  const c = new DatasourceCatalog([...(FIXTURE_DATASOURCES as GrafanaDatasource[]), other]);
  const d: J = {
    schemaVersion: 39,
    panels: [{ type: 'timeseries', datasource: { uid: 'prometheus', type: 'prometheus' }, targets: [{ expr: 'up' }] }],
  };
  rewriteDashboard(d, { catalog: c, from: c.list[0], to: other });
  assert.deepEqual(Object.entries(d.panels[0].datasource), [
    ['uid', 'vm'],
    ['type', 'victoriametrics-datasource'],
  ]);
});

test('the text writer keeps every untouched byte: jsonnet layout, CRLF, minified, inserts into {} and removals', () => {
  for (const text of [
    '{\r\n    "schemaVersion": 39,\r\n    "panels": [ {\r\n        "type": "timeseries",\r\n        "datasource": null,\r\n        "targets": [ {"expr": "up", "refId": "A"} ],\r\n        "x": 1.0\r\n    } ]\r\n}',
    '{"schemaVersion":39,"__inputs":[{"name":"DS_A","label":"Prometheus","type":"datasource","pluginId":"prometheus"},{"name":"DS_B","label":"prometheus","type":"datasource","pluginId":"prometheus"}],"panels":[{"type":"timeseries","datasource":{"uid":"${DS_A}"},"targets":[{"expr":"up"}]},{"type":"stat","datasource":"${DS_B}","targets":[{"expr":"1e3"}]}],"n":1.50}',
    '{\n  "schemaVersion": 39,\n  "panels": [\n    {\n      "type": "timeseries",\n      "datasource": {"type": "datasource", "uid": "-- Mixed --"},\n      "targets": [\n        {}\n      ]\n    }\n  ],\n  "big": 12345678901234567890\n}\n',
  ]) {
    const value = JSON.parse(text);
    const layout = detectLayout(text);
    assert.equal(roundTrips(text, value, layout), false);
    const r = rewriteDashboard(value, { ...opts, exemplars: true });
    assert.ok(r.changes.length > 0);
    const out = serializeMigrated(text, false, value, r.changes, layout);
    assert.deepEqual(JSON.parse(out), value);
    assert.equal(countReferences(JSON.parse(out), catalog, PROM), 0);
    // Only datasource-related lines differ; numbers such as 1.0, 1.50 and 12345678901234567890 survive as written.
    for (const literal of ['1.0', '1.50', '12345678901234567890', '"1e3"'])
      if (text.includes(literal)) assert.ok(out.includes(literal), literal);
    if (text.includes('\r\n')) assert.ok(!/[^\r]\n/.test(out), 'CRLF kept');
  }
});

test('applyChanges refuses an edit at a path that does not exist (a bug, never a silent write)', () => {
  assert.throws(
    () => applyChanges('{"a": 1}', [{ kind: 'panel', op: 'set', path: ['b'], to: 2 }], detectLayout('{"a": 1}')),
    /no value at b/,
  );
});

test('classify: classic, {dashboard, meta}, /apis v1 resource, V2 resource and spec, library elements, other JSON', () => {
  assert.equal(classify({ panels: [], uid: 'a' }).kind, 'dashboard');
  const env = classify({ dashboard: { panels: [], uid: 'a', title: 'A' }, meta: {} });
  assert.ok(env.kind === 'dashboard' && env.form === 'api' && env.base.join('.') === 'dashboard' && env.uid === 'a');
  const v1 = classify({
    apiVersion: 'dashboard.grafana.app/v1beta1',
    kind: 'Dashboard',
    metadata: { name: 'x' },
    spec: { title: 'X', panels: [] },
  });
  assert.ok(v1.kind === 'dashboard' && v1.form === 'resource' && v1.uid === 'x');
  assert.equal(
    classify({
      apiVersion: 'dashboard.grafana.app/v2beta1',
      kind: 'Dashboard',
      metadata: { name: 'x' },
      spec: { title: 'X' },
    }).kind,
    'v2',
  );
  assert.equal(classify({ title: 'X', elements: {}, layout: { kind: 'GridLayout' } }).kind, 'v2');
  assert.equal(classify({ uid: 'l', name: 'L', kind: 1, model: { type: 'stat' } }).kind, 'library-element');
  assert.equal(classify({ result: { uid: 'l', name: 'L', kind: 1, model: {} } }).kind, 'library-element');
  assert.equal(classify([{ uid: 'prometheus' }]).kind, 'other');
  assert.equal(classify({ name: 'package', version: '1.0.0' }).kind, 'other');
});

test('datasource selection by name or uid, with a hint for a near miss; datasources file validation', () => {
  assert.equal(catalog.select('Mimir', '--to-datasource', 'f').uid, 'mimir');
  assert.equal(catalog.select('mimir', '--to-datasource', 'f').name, 'Mimir');
  assert.throws(
    () => catalog.select('MIMIR', '--to-datasource', 'ds.json'),
    (e: unknown) =>
      e instanceof UsageError &&
      /"MIMIR" is not a datasource in ds.json/.test(e.message) &&
      /did you mean "Mimir"/.test(e.hint!),
  );
  assert.throws(
    () => parseDatasourceList('{"uid": 1}', 'ds.json'),
    (e: unknown) => e instanceof InputError && /JSON array/.test(e.message),
  );
  assert.throws(
    () => parseDatasourceList('[{"uid": "a", "name": "A"}]', 'ds.json'),
    (e: unknown) => e instanceof InputError && e.location?.key === '[0].type',
  );
  const err = jsonSyntaxError(
    (() => {
      try {
        JSON.parse('{\n  "a": 1,\n  "b": oops\n}');
      } catch (e) {
        return e;
      }
    })(),
    '{\n  "a": 1,\n  "b": oops\n}',
    'x.json',
  );
  assert.equal(err.location?.line, 3);
  assert.match(err.message, /invalid JSON/);
});
