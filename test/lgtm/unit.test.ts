import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  checkPromtailConfig,
  collectorConfig,
  compileDerivedFieldRegex,
  datasourcesDocument,
  datasourcesYaml,
  deriveTagMappings,
  detectTraceIdFormat,
  exporterFor,
  mergeRemoteWrite,
  mimirPushUrl,
  parseComponents,
  promtailConfig,
  remoteWriteBlock,
  sizeQueue,
  type DatasourceOptions,
  type IngestionMeasurement,
} from '../../src/lgtm/index.js';
import { InputError } from '../../src/errors/index.js';

/**
 * Grafana's documented provisioning schema, key by key, written from the docs (not from our generator):
 * - administration/provisioning "Data sources" (the datasource entry keys);
 * - datasources/prometheus/configure (jsonData of the Prometheus type; exemplarTraceIdDestinations items);
 * - datasources/tempo/configure-tempo-data-source/provision.md (tracesToLogsV2, tracesToMetrics, serviceMap,
 *   nodeGraph, search, traceQuery, spanBar, streamingEnabled);
 * - datasources/loki/configure/index.md (maxLines, derivedFields items: datasourceUid, matcherRegex, name, url,
 *   urlDisplayLabel; matcherType label|regex and targetBlank from the Loki DerivedFieldConfig type).
 */
const DOC = {
  entry: [
    'name',
    'type',
    'access',
    'orgId',
    'uid',
    'url',
    'user',
    'database',
    'basicAuth',
    'basicAuthUser',
    'withCredentials',
    'isDefault',
    'jsonData',
    'secureJsonData',
    'version',
    'editable',
  ],
  headerName: /^httpHeaderName\d+$/,
  headerValue: /^httpHeaderValue\d+$/,
  prometheusJsonData: [
    'prometheusType',
    'prometheusVersion',
    'httpMethod',
    'timeInterval',
    'queryTimeout',
    'cacheLevel',
    'incrementalQuerying',
    'incrementalQueryOverlapWindow',
    'disableRecordingRules',
    'manageAlerts',
    'allowAsRecordingRulesTarget',
    'customQueryParameters',
    'exemplarTraceIdDestinations',
  ],
  prometheusType: ['Cortex', 'Mimir', 'Prometheus', 'Thanos'],
  exemplarDestination: { required: ['name'], optional: ['datasourceUid', 'url', 'urlDisplayLabel'] },
  tempoJsonData: [
    'tracesToLogsV2',
    'tracesToMetrics',
    'tracesToProfiles',
    'serviceMap',
    'nodeGraph',
    'search',
    'traceQuery',
    'spanBar',
    'streamingEnabled',
  ],
  tracesToLogsV2: [
    'datasourceUid',
    'spanStartTimeShift',
    'spanEndTimeShift',
    'tags',
    'filterByTraceID',
    'filterBySpanID',
    'customQuery',
    'query',
  ],
  tracesToMetrics: ['datasourceUid', 'spanStartTimeShift', 'spanEndTimeShift', 'tags', 'queries'],
  tag: { required: ['key'], optional: ['value'] },
  metricQuery: ['name', 'query'],
  serviceMap: ['datasourceUid'],
  nodeGraph: ['enabled'],
  search: ['hide'],
  traceQuery: ['timeShiftEnabled', 'spanStartTimeShift', 'spanEndTimeShift'],
  lokiJsonData: ['maxLines', 'timeout', 'derivedFields'],
  derivedField: {
    required: ['name', 'matcherRegex'],
    optional: ['matcherType', 'url', 'urlDisplayLabel', 'datasourceUid', 'targetBlank'],
  },
  matcherType: ['label', 'regex'],
  uid: /^[a-zA-Z0-9_-]{1,40}$/,
  timeShift: /^-?\d+(ms|s|m|h|d)$/,
};

function keysWithin(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  extra: RegExp[] = [],
): void {
  for (const k of Object.keys(obj))
    assert.ok(
      allowed.includes(k) || extra.some((r) => r.test(k)),
      `${what}: "${k}" is not a documented key (${allowed.join(', ')})`,
    );
}

const LOG_LINES = [
  'level=info ts=2026-01-01T00:00:00Z msg="GET /api/cart" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 status=200',
  'level=info ts=2026-01-01T00:00:01Z msg="GET /api/cart" trace_id=00f067aa0ba902b7a3ce929d0e0e4736 status=200',
  'level=warn ts=2026-01-01T00:00:02Z msg="no trace here"',
];

const OPTS: DatasourceOptions = {
  mimirUrl: 'http://mimir-nginx.mimir.svc',
  tempoUrl: 'http://tempo-query-frontend:3200',
  lokiUrl: 'http://loki-gateway',
  tenant: 'prod',
  exemplarLabel: 'traceID',
  logTags: [
    { key: 'service.name', value: 'service_name' },
    { key: 'k8s.namespace.name', value: 'namespace' },
  ],
  metricTags: [{ key: 'service.name', value: 'service' }],
  metricQueries: [{ name: 'Request rate', query: 'sum(rate(traces_spanmetrics_calls_total{$$__tags}[5m]))' }],
  traceIdFormat: detectTraceIdFormat(LOG_LINES),
};

describe('Grafana datasource provisioning against the documented schema', () => {
  const yamlText = datasourcesYaml(OPTS, ['note']);
  const doc = parse(yamlText) as { apiVersion: number; datasources: Array<Record<string, any>> };
  const byType = (t: string) => doc.datasources.find((d) => d.type === t)!;
  const uids = new Map(doc.datasources.map((d) => [d.uid as string, d.type as string]));

  test('apiVersion 1, datasources: three entries with documented keys, valid uids, tenant as a custom header', () => {
    assert.equal(doc.apiVersion, 1);
    assert.deepEqual(doc.datasources.map((d) => d.type).sort(), ['loki', 'prometheus', 'tempo']);
    for (const d of doc.datasources) {
      keysWithin(d, DOC.entry, `datasource ${d.name}`);
      assert.match(d.uid, DOC.uid);
      assert.equal(d.jsonData.httpHeaderName1, 'X-Scope-OrgID');
      assert.deepEqual(d.secureJsonData, { httpHeaderValue1: 'prod' });
      keysWithin(d.secureJsonData, [], `secureJsonData of ${d.name}`, [DOC.headerValue]);
    }
    assert.equal(
      byType('prometheus').url,
      'http://mimir-nginx.mimir.svc/prometheus',
      'Mimir is queried under /prometheus',
    );
  });

  test('Mimir: prometheusType and exemplarTraceIdDestinations -> the Tempo uid, with the exemplar label found', () => {
    const j = byType('prometheus').jsonData;
    keysWithin(j, DOC.prometheusJsonData, 'Mimir jsonData', [DOC.headerName]);
    assert.ok(DOC.prometheusType.includes(j.prometheusType));
    assert.equal(j.prometheusType, 'Mimir');
    assert.equal(j.exemplarTraceIdDestinations.length, 1);
    const e = j.exemplarTraceIdDestinations[0];
    keysWithin(
      e,
      [...DOC.exemplarDestination.required, ...DOC.exemplarDestination.optional],
      'exemplarTraceIdDestinations[0]',
    );
    assert.equal(e.name, 'traceID');
    assert.equal(uids.get(e.datasourceUid), 'tempo', 'the exemplar link points at the Tempo datasource');
  });

  test('Tempo tracesToLogsV2: Loki uid, tags mapping span attributes to Loki labels, filter by trace ID, time shifts', () => {
    const j = byType('tempo').jsonData;
    keysWithin(j, DOC.tempoJsonData, 'Tempo jsonData', [DOC.headerName]);
    const t = j.tracesToLogsV2;
    keysWithin(t, DOC.tracesToLogsV2, 'tracesToLogsV2');
    assert.equal(uids.get(t.datasourceUid), 'loki');
    assert.match(t.spanStartTimeShift, DOC.timeShift);
    assert.match(t.spanEndTimeShift, DOC.timeShift);
    assert.equal(t.filterByTraceID, true);
    for (const tag of t.tags) keysWithin(tag, [...DOC.tag.required, ...DOC.tag.optional], 'tracesToLogsV2.tags[]');
    assert.deepEqual(t.tags, [
      { key: 'service.name', value: 'service_name' },
      { key: 'k8s.namespace.name', value: 'namespace' },
    ]);
  });

  test('Tempo tracesToMetrics: Mimir uid, tags, queries with $$-escaped $__tags', () => {
    const t = byType('tempo').jsonData.tracesToMetrics;
    keysWithin(t, DOC.tracesToMetrics, 'tracesToMetrics');
    assert.equal(uids.get(t.datasourceUid), 'prometheus');
    assert.deepEqual(t.tags, [{ key: 'service.name', value: 'service' }]);
    for (const q of t.queries) keysWithin(q, DOC.metricQuery, 'tracesToMetrics.queries[]');
    assert.match(t.queries[0].query, /\{\$\$__tags\}/, 'a literal $ is written $$ (provisioning expands $VAR)');
  });

  test('Tempo serviceMap -> Mimir, nodeGraph on, search and traceQuery as documented', () => {
    const j = byType('tempo').jsonData;
    keysWithin(j.serviceMap, DOC.serviceMap, 'serviceMap');
    assert.equal(uids.get(j.serviceMap.datasourceUid), 'prometheus');
    keysWithin(j.nodeGraph, DOC.nodeGraph, 'nodeGraph');
    assert.equal(j.nodeGraph.enabled, true);
    keysWithin(j.search, DOC.search, 'search');
    keysWithin(j.traceQuery, DOC.traceQuery, 'traceQuery');
  });

  test('Loki derivedFields: regex with one capture group matching the trace IDs of the real line format, internal link to Tempo', () => {
    const j = byType('loki').jsonData;
    keysWithin(j, DOC.lokiJsonData, 'Loki jsonData', [DOC.headerName]);
    assert.equal(j.derivedFields.length, 1);
    const f = j.derivedFields[0];
    keysWithin(f, [...DOC.derivedField.required, ...DOC.derivedField.optional], 'derivedFields[0]');
    assert.ok(DOC.matcherType.includes(f.matcherType));
    assert.equal(uids.get(f.datasourceUid), 'tempo');
    assert.equal(f.url, '$${__value.raw}', 'the internal-link query is the captured value, $ escaped');
    const re = compileDerivedFieldRegex(f.matcherRegex);
    assert.equal(re.exec(LOG_LINES[0]!)?.[1], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(re.exec(LOG_LINES[1]!)?.[1], '00f067aa0ba902b7a3ce929d0e0e4736');
    assert.equal(re.exec(LOG_LINES[2]!), null);
  });

  test('the YAML carries the notes as comments and no other document', () => {
    assert.match(yamlText, /^# stackshift lgtm config/);
    assert.match(yamlText, /^# note$/m);
    assert.equal(datasourcesDocument({ ...OPTS, tenant: undefined }).datasources instanceof Array, true);
    const noTenant = datasourcesDocument({ ...OPTS, tenant: undefined }) as { datasources: Array<Record<string, any>> };
    for (const d of noTenant.datasources) {
      assert.equal(d.secureJsonData, undefined);
      assert.equal(d.jsonData.httpHeaderName1, undefined);
    }
  });
});

describe('tag mappings from the names present on both sides', () => {
  test('span attributes to Loki labels and Mimir labels', () => {
    const attrs = ['service.name', 'k8s.namespace.name', 'http.method', 'host.name'];
    const logs = deriveTagMappings(attrs, ['service_name', 'namespace', 'job', 'filename'], 'Loki', 'service_name');
    assert.deepEqual(logs.mappings, [
      { key: 'service.name', value: 'service_name' },
      { key: 'k8s.namespace.name', value: 'namespace' },
    ]);
    const metrics = deriveTagMappings(
      attrs,
      ['job', 'instance', 'service', 'http_method', '__name__'],
      'Mimir',
      'service',
    );
    assert.deepEqual(metrics.mappings, [
      { key: 'service.name', value: 'service' },
      { key: 'host.name', value: 'instance' },
      { key: 'http.method', value: 'http_method' },
    ]);
  });
  test('a label used once is not mapped twice; nothing in common falls back to the default, said so', () => {
    const m = deriveTagMappings(['service.name'], ['job'], 'Loki', 'service_name');
    assert.deepEqual(m.mappings, [{ key: 'service.name', value: 'job' }]);
    const none = deriveTagMappings(['foo.bar'], ['baz'], 'Loki', 'service_name');
    assert.deepEqual(none.mappings, [{ key: 'service.name', value: 'service_name' }]);
    assert.match(none.reasons.join(' '), /no span attribute has a matching Loki label/);
  });
});

describe('trace-ID format in log lines', () => {
  test('logfmt, 32 hex', () => {
    const f = detectTraceIdFormat(LOG_LINES)!;
    assert.equal(f.style, 'logfmt');
    assert.equal(f.key, 'trace_id');
    assert.deepEqual(f.lengths, [32]);
    assert.equal(f.matched, 2);
  });
  test('JSON with mixed 16/32 hex IDs, key spelling kept', () => {
    const f = detectTraceIdFormat([
      '{"level":"info","traceId":"a3ce929d0e0e4736","msg":"x"}',
      '{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736"}',
      '{"msg":"none"}',
    ])!;
    assert.equal(f.style, 'json');
    assert.equal(f.key, 'traceId');
    assert.deepEqual(f.lengths, [16, 32]);
    assert.equal(
      new RegExp(f.regex).exec('{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736"}')?.[1],
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    assert.equal(f.matched, 2);
  });
  test('no trace ID: undefined; a regex with two groups is refused', () => {
    assert.equal(detectTraceIdFormat(['hello', 'traceparent=xyz']), undefined);
    assert.throws(() => compileDerivedFieldRegex('(a)=(b)'), /2 capture groups/);
  });
});

describe('OpenTelemetry Collector configs', () => {
  test('dual: one OTLP receiver, batch, fan-out to Jaeger and Tempo (gRPC for :4317, HTTP otherwise), tenant on Tempo', () => {
    const c = parse(
      collectorConfig({
        mode: 'dual',
        jaegerOtlp: 'jaeger-collector:4317',
        tempoOtlp: 'http://tempo-distributor:4318',
        tempoTenant: 'prod',
      }),
    );
    assert.deepEqual(Object.keys(c.receivers), ['otlp']);
    assert.deepEqual(Object.keys(c.receivers.otlp.protocols), ['grpc', 'http']);
    assert.deepEqual(c.processors, { batch: {} });
    assert.deepEqual(c.exporters['otlp/jaeger'], { endpoint: 'jaeger-collector:4317', tls: { insecure: true } });
    assert.deepEqual(c.exporters['otlphttp/tempo'], {
      endpoint: 'http://tempo-distributor:4318',
      tls: { insecure: true },
      headers: { 'X-Scope-OrgID': 'prod' },
    });
    assert.deepEqual(c.service.pipelines.traces, {
      receivers: ['otlp'],
      processors: ['batch'],
      exporters: ['otlp/jaeger', 'otlphttp/tempo'],
    });
  });
  test('cut-over: Tempo only; new exporter names on request', () => {
    const c = parse(
      collectorConfig({ mode: 'cutover', tempoOtlp: 'https://tempo.example:4317', exporterNames: 'new' }),
    );
    assert.deepEqual(c.service.pipelines.traces.exporters, ['otlp_grpc/tempo']);
    assert.deepEqual(c.exporters['otlp_grpc/tempo'], { endpoint: 'tempo.example:4317' });
    assert.throws(() => collectorConfig({ mode: 'dual', tempoOtlp: 'tempo:4317' }), /--jaeger-otlp/);
    assert.equal(exporterFor('grpc://tempo:9999', 'x').kind, 'grpc');
  });
  test('components output parsed in both layouts', () => {
    assert.deepEqual(
      parseComponents(
        'buildinfo:\n  command: jaeger\nreceivers:\n  - name: otlp\n    module: x\n  - name: kafka\nexporters:\n  - otlp\n  - otlphttp\n',
      ),
      { receivers: ['otlp', 'kafka'], exporters: ['otlp', 'otlphttp'] },
    );
  });
});

describe('Promtail to both Lokis, checked against the documented schema', () => {
  const text = promtailConfig({
    oldLoki: 'http://loki-old:3100',
    newLoki: 'http://loki:3100/',
    newTenant: 'prod',
    paths: ['/var/log/app/*.log'],
    labels: { host: 'web1' },
  });
  test('two clients with the push path, tenant on the new one, a file target', () => {
    const c = parse(text);
    assert.deepEqual(
      c.clients.map((x: { url: string }) => x.url),
      ['http://loki-old:3100/loki/api/v1/push', 'http://loki:3100/loki/api/v1/push'],
    );
    assert.equal(c.clients[0].tenant_id, undefined);
    assert.equal(c.clients[1].tenant_id, 'prod');
    assert.deepEqual(c.scrape_configs[0].static_configs[0].labels, {
      job: 'varlogs',
      host: 'web1',
      __path__: '/var/log/app/*.log',
    });
    assert.deepEqual(checkPromtailConfig(text), []);
  });
  test('the check finds undocumented keys, a URL without the push path and a target without __path__, with lines', () => {
    const bad = text
      .replace('tenant_id:', 'tenant:')
      .replace('http://loki-old:3100/loki/api/v1/push', 'http://loki-old:3100')
      .replace(/\n\s+__path__: .*\n/, '\n');
    const problems = checkPromtailConfig(bad);
    assert.ok(
      problems.some((p) => p.path === 'clients.1.tenant' && /unknown key "tenant"/.test(p.message) && p.line > 1),
      JSON.stringify(problems),
    );
    assert.ok(problems.some((p) => p.path === 'clients.0.url'));
    assert.ok(problems.some((p) => /__path__/.test(p.path)));
  });
});

describe('remote_write block and merge', () => {
  const m: IngestionMeasurement = {
    prometheusUrl: 'http://p:9090',
    version: '2.42.0',
    samplesPerSecond: 100_000,
    rateSource: 'test',
    headSeries: 1_000_000,
    exemplarStorage: false,
    measuredAt: 'T',
  };
  test('sizing arithmetic: 100k samples/s at 2000 x 4 per shard -> 13 shards needed, 39 max', () => {
    const s = sizeQueue(m);
    assert.equal(s.shardsNeeded, 13);
    assert.equal(s.queue.max_shards, 39);
    assert.equal(s.queue.min_shards, 13);
    assert.equal(s.mimirLimits.max_global_series_per_user, 1_500_000);
    assert.match(s.arithmetic.join('\n'), /ceil\(100000 \/ 8000\) = 13/);
  });
  test('our earlier item is replaced in place when a setting changes; every other line stays as written', () => {
    const base = 'global: {}  # g\nremote_write:\n  - url: http://other/push  # keep me\n  # between\n';
    const first = mergeRemoteWrite(base, remoteWriteBlock(m, { mimirUrl: 'http://mimir:8080' }), 'p.yml');
    assert.equal(first.action, 'added-item');
    const second = mergeRemoteWrite(
      first.text,
      remoteWriteBlock({ ...m, samplesPerSecond: 1_000_000 }, { mimirUrl: 'http://mimir:8080' }),
      'p.yml',
    );
    assert.equal(second.action, 'replaced');
    // every original line is still there, in order (the trailing comment of the list ends up after our item)
    const out = second.text.split('\n');
    let at = 0;
    for (const line of base.trimEnd().split('\n')) {
      const i = out.indexOf(line, at);
      assert.ok(i >= 0, `"${line}" kept in order:\n${second.text}`);
      at = i + 1;
    }
    assert.equal(parse(second.text).remote_write[1].queue_config.max_shards, 375);
    assert.equal(parse(second.text).remote_write.length, 2);
  });
  test('flow-style remote_write and a non-mapping file are refused with file and line', () => {
    assert.throws(
      () =>
        mergeRemoteWrite(
          'global: {}\nremote_write: [{url: "http://x"}]\n',
          remoteWriteBlock(m, { mimirUrl: 'http://mimir' }),
          'p.yml',
        ),
      (e: unknown) => e instanceof InputError && e.location?.line === 2,
    );
    assert.throws(
      () => mergeRemoteWrite('- a\n- b\n', remoteWriteBlock(m, { mimirUrl: 'http://mimir' }), 'p.yml'),
      InputError,
    );
  });
});

test('mimirPushUrl: the distributor push path is added to a base, a URL already ending in a write path is kept', () => {
  const cases: Array<[string, string]> = [
    ['http://mimir:8080', 'http://mimir:8080/api/v1/push'],
    ['http://mimir:8080/', 'http://mimir:8080/api/v1/push'],
    ['http://mimir:8080/prometheus', 'http://mimir:8080/api/v1/push'],
    ['http://mimir:8080/api/v1/push', 'http://mimir:8080/api/v1/push'],
    ['http://gw:9090/prometheus/api/v1/write', 'http://gw:9090/prometheus/api/v1/write'],
  ];
  for (const [base, want] of cases) assert.equal(mimirPushUrl(base), want, base);
});
