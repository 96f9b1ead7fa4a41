import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { LabServer } from '../../src/lab/index.js';
import { checkPromtailConfig } from '../../src/lgtm/index.js';
import { idHex, syntheticTraces } from '../../src/traces/index.js';
import type { LokiDouble } from '../doubles/loki-double.js';
import { TempoDouble } from '../doubles/tempo-double.js';
import { runCli, tempDir } from '../harness/index.js';
import { pushTraces } from '../traces/helpers.js';
import { startSignals, TENANT } from './helpers.js';

/**
 * `lgtm config` reading the live sides for the Grafana correlations: span attribute names from Tempo (the
 * contract double, holding synthetic traces with service.name and host.name), label names and log lines
 * from the Loki double, label names and exemplar labels from a real Prometheus 2.42 scraping an exemplar
 * target. The mappings must come out of what exists on both sides, and the derived-field regex out of the
 * line format.
 */
describe('lgtm config: datasource correlations derived from the live label names and log format', () => {
  const now = Date.now();
  const traces = [
    ...syntheticTraces({ traces: 4, seed: 5, startMs: now - 20 * 60_000, endMs: now - 60_000, services: 2 }),
  ];
  let prom: LabServer, loki: LokiDouble, tempo: TempoDouble;
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const f of cleanups.reverse()) await f();
  });
  before(
    async () => {
      ({ prom, loki } = await startSignals(
        traces.map((t) => idHex(t.traceId)),
        cleanups,
        traces,
      ));
      tempo = await new TempoDouble().start();
      cleanups.push(() => tempo.stop());
      assert.equal(await pushTraces(tempo.otlpUrl, traces), 4);
    },
    { timeout: 120_000 },
  );

  test(
    'tags, exemplar label and derived-field regex come from the systems; Promtail and collector files written',
    { timeout: 90_000 },
    async (t) => {
      const out = tempDir(t, 'stackshift-lgtm-out-');
      const r = await runCli(
        [
          'lgtm',
          'config',
          '--prometheus-url',
          prom.url,
          '--mimir-url',
          'http://mimir:8080',
          '--tenant',
          'prod',
          '--out-dir',
          out,
          '--measure-interval',
          '1s',
          '--tempo-url',
          tempo.url,
          '--loki-url',
          loki.url,
          '--loki-tenant',
          TENANT,
          '--grafana-loki-url',
          'http://loki-gateway',
          '--loki-old',
          'http://loki-old:3100',
          '--loki-new',
          'http://loki-gateway',
          '--tempo-otlp',
          'tempo-distributor:4317',
          '-o',
          'json',
        ],
        { timeoutMs: 80_000 },
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const rep = JSON.parse(r.stdout);
      const ds = rep.datasources;
      assert.deepEqual(ds.logTags, [
        { key: 'service.name', value: 'service_name' },
        { key: 'host.name', value: 'host' },
      ]);
      assert.deepEqual(ds.metricTags, [
        { key: 'service.name', value: 'job' },
        { key: 'host.name', value: 'instance' },
      ]);
      assert.equal(ds.exemplarLabel, 'trace_id');
      assert.equal(ds.traceIdFormat.regex, '\\btrace_id=([0-9a-fA-F]{32})\\b');

      const doc = parse(readFileSync(join(out, 'grafana-datasources.yaml'), 'utf8'));
      const by = (t: string) => doc.datasources.find((d: { type: string }) => d.type === t);
      assert.equal(by('prometheus').url, 'http://mimir:8080/prometheus');
      assert.equal(by('loki').url, 'http://loki-gateway', 'the URL Grafana reaches, not the one stackshift read');
      assert.equal(by('tempo').url, tempo.url);
      assert.equal(by('loki').jsonData.derivedFields[0].matcherRegex, ds.traceIdFormat.regex);
      assert.deepEqual(by('tempo').jsonData.tracesToLogsV2.tags, ds.logTags);
      assert.deepEqual(by('prometheus').jsonData.exemplarTraceIdDestinations[0], {
        name: 'trace_id',
        datasourceUid: 'tempo',
        urlDisplayLabel: 'View trace',
      });

      const promtail = readFileSync(join(out, 'promtail.yaml'), 'utf8');
      assert.deepEqual(checkPromtailConfig(promtail), []);
      assert.deepEqual(
        parse(promtail).clients.map((c: { url: string; tenant_id?: string }) => [c.url, c.tenant_id]),
        [
          ['http://loki-old:3100/loki/api/v1/push', undefined],
          ['http://loki-gateway/loki/api/v1/push', 'prod'],
        ],
      );
      assert.deepEqual(
        rep.collector.map((c: { file: string }) => c.file.split('/').pop()),
        ['collector-cutover.yaml'],
        'no --jaeger-otlp: the Tempo-only config',
      );

      // the generated provisioning, proved: every link it configures leads somewhere
      const v = await runCli([
        'verify',
        'correlations',
        '--prometheus-url',
        prom.url,
        '--tempo-url',
        tempo.url,
        '--loki-url',
        loki.url,
        '--loki-tenant',
        TENANT,
        '--start',
        '1h',
        '--datasources',
        join(out, 'grafana-datasources.yaml'),
        '-o',
        'json',
      ]);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      const c = JSON.parse(v.stdout);
      assert.equal(c.logs.regexSource, 'given', 'the regex is the provisioned one');
      assert.equal(c.logs.regex, ds.traceIdFormat.regex);
      for (const side of ['exemplars', 'logs', 'tracesToLogs']) {
        assert.equal(c[side].checked, true, side);
        assert.equal(c[side].percent, 100, `${side}: ${JSON.stringify(c[side].examples)}`);
        assert.equal(c[side].linked, 4, side);
      }
      assert.match(
        c.tracesToLogs.queries[0],
        /^\{service_name="synth-svc-\d", host="host-\d\.lab"\} \|= "[0-9a-f]{32}"$/,
      );
    },
  );
});
