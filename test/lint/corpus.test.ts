import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expandPaths } from '../../src/lint/inputs.js';
import { lintFiles, type LintResult } from '../../src/lint/index.js';
import { CORPUS } from './helpers.js';

/** Every real public file in ../shared/corpus is linted without a crash, and known facts about them hold. */
const skip = existsSync(CORPUS) ? false : `corpus not found at ${CORPUS}`;

const at = (r: LintResult, file: string, rule: string) =>
  r.findings.filter((f) => f.file === join(CORPUS, file) && f.ruleId === rule);

test('each corpus file lints on its own without a crash', { skip }, async () => {
  const files = expandPaths([CORPUS]).filter((f) => !f.endsWith('.md'));
  assert.ok(files.length >= 45, `found ${files.length} files`);
  for (const f of files) {
    const r = await lintFiles([f], { from: '2.55.1', to: '3.5.0' });
    assert.ok(r.files.length >= 1, f);
    for (const x of r.findings) assert.ok(x.ruleId && x.message && x.file, `${f}: malformed finding`);
  }
});

test('the whole corpus: expected findings in specific files', { skip }, async () => {
  const r = await lintFiles([CORPUS], { from: '2.55.1', to: '3.5.0' });

  const am = at(r, 'configs/prometheus-v2-alertmanager-api-v1.yml', 'alertmanager-api-v1');
  assert.equal(am.length, 1);
  assert.deepEqual([am[0].line, am[0].phase, am[0].fix?.description], [9, 'dual', 'api_version: v2']);

  const native = at(r, 'configs/client-java-native-histogram.yml', 'scrape-classic-histograms-renamed');
  assert.deepEqual(
    native.map((f) => [f.line, f.phase]),
    [[8, 'cutover']],
  );
  assert.equal(at(r, 'configs/client-java-custom-buckets.yml', 'scrape-classic-histograms-renamed').length, 1);
  assert.match(
    at(r, 'configs/client-java-custom-buckets.yml', 'config-key-version')
      .map((f) => f.message)
      .join(),
    /convert_classic_histograms_to_nhcb exists only from 3\.0\.0/,
  );

  // the kitchen-sink config: two remote_writes without enable_http2, keys newer than 3.5, a missing rule file
  assert.equal(at(r, 'configs/prometheus-conf-good.yml', 'remote-write-http2-default').length, 2);
  const keys = at(r, 'configs/prometheus-conf-good.yml', 'config-key-version')
    .map((f) => f.message)
    .join('\n');
  assert.match(
    keys,
    /scrape_native_histograms exists only from 3\.8\.0; neither the running 2\.55\.1 nor the target 3\.5\.0 loads/,
  );
  assert.match(keys, /fallback_scrape_protocol exists only from 3\.0\.0; the running 2\.55\.1 refuses/);
  assert.equal(at(r, 'configs/prometheus-conf-good.yml', 'input-missing')[0]?.line, 23);
  assert.equal(at(r, 'configs/prometheus-agent.yml', 'remote-write-http2-default').length, 1);
  assert.match(
    at(r, 'configs/prometheus-always-scrape-classic-hist.yml', 'config-key-version')
      .map((f) => f.message)
      .join(),
    /global\.always_scrape_classic_histograms: always_scrape_classic_histograms exists only from 3\.5\.0/,
  );
  assert.equal(at(r, 'configs/prometheus-kubernetes.yml', 'kubernetes-sd-v1beta1')[0]?.line, 235);

  // coredns heatmaps select le!="0", which 3.x stores as "0.0"
  const le = at(r, 'dashboards/dotdc-k8s-system-coredns.json', 'le-quantile-normalisation');
  assert.deepEqual(
    le.map((f) => f.line),
    [1302, 1382],
  );
  assert.equal(le[0].fix?.description, 'le!~"0|0\\\\.0"');
  assert.match(le[0].context ?? '', /panel .* target/);

  // everything real parses with the 3.x grammar (Grafana variables masked)
  assert.equal(r.findings.filter((f) => f.ruleId === 'promql-syntax').length, 0);
  assert.equal(r.findings.filter((f) => f.ruleId === 'input-parse-error').length, 0);
  assert.equal(
    r.findings.filter((f) => f.ruleId === 'holt-winters-removed').length,
    0,
    'the corpus has no holt_winters (MANIFEST: looked for, not found)',
  );
});

test('corpus inputs are classified and every query is found', { skip }, async () => {
  const r = await lintFiles([CORPUS], { from: '2.55.1', to: '3.5.0', rules: ['promql-syntax'] });
  const kinds = Object.fromEntries(r.files.map((f) => [f.file.slice(CORPUS.length + 1), f.kinds.sort().join(',')]));
  assert.equal(kinds['configs/prometheus-conf-good.yml'], 'config');
  assert.equal(kinds['rules/crd/kube-prometheus-prometheus-prometheusRule.yaml'], 'rules');
  assert.equal(kinds['dashboards/rfmoz-node-exporter-full-old.json'], 'dashboard');
  assert.equal(kinds['MANIFEST.md'], undefined);
  const count = async (file: string) =>
    (await lintFiles([join(CORPUS, file)], { rules: ['promql-syntax'] })).counts.expressions;
  assert.equal(await count('rules/awesome-node-exporter.yml'), 35);
  assert.equal(await count('rules/crd/kube-prometheus-kubernetesControlPlane-prometheusRule.yaml'), 134);
  // anchors: one expression reached through *expr aliases and a << merge is linted once
  assert.equal(await count('rules/prometheus-rulefmt-test-aliases.yml'), 1);
  assert.equal(
    await count('dashboards/powerwall-ecowitt-localweather-influxdb.json'),
    0,
    'InfluxDB targets are not PromQL',
  );
  const hotrod = await lintFiles([join(CORPUS, 'dashboards/jaeger-hotrod-metrics-logs.json')], {
    rules: ['promql-syntax'],
  });
  assert.equal(hotrod.findings.length, 0, 'LogQL targets of Loki panels are skipped');
  // collapsed rows (nested panels) and legacy rows[] are walked
  assert.ok((await count('dashboards/rfmoz-node-exporter-full.json')) > 200);
  assert.ok((await count('dashboards/rfmoz-node-exporter-full-old.json')) > 200);
});
