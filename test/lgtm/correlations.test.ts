import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabJaeger, LabServer } from '../../src/lab/index.js';
import { idHex, syntheticTraces, type Trace } from '../../src/traces/index.js';
import type { LokiDouble } from '../doubles/loki-double.js';
import { TempoDouble } from '../doubles/tempo-double.js';
import { runCli } from '../harness/index.js';
import { startSignals, TENANT } from './helpers.js';
import { NO_JAEGER, pushTraces, startJaegers, waitForTraces } from '../traces/helpers.js';

/**
 * `verify correlations` on the lab: exemplars scraped by a real Debian Prometheus 2.42 (exemplar storage on)
 * from an OpenMetrics target whose counters carry trace_id exemplars; the traces in a real Jaeger (v2
 * binary, module 1.76.0); log lines naming the same trace IDs in the Loki double. Against the Jaeger holding
 * every trace: 100 % linked on both sides. Against a second Jaeger lacking one trace: exit 1 and that trace
 * named as the broken link, from its exemplar and from its log lines.
 */
const K = 6;
const now = Date.now();
const SPEC = { traces: K, seed: 17, startMs: now - 30 * 60_000, endMs: now - 60_000, services: 2 };
describe(
  'verify correlations: exemplars (Prometheus 2.42) and log lines (Loki double) against traces in a real Jaeger',
  { skip: NO_JAEGER },
  () => {
    const traces: Trace[] = [...syntheticTraces(SPEC)];
    const ids = traces.map((t) => idHex(t.traceId));
    const missing = ids[2]!;
    let full: LabJaeger, lacking: LabJaeger, prom: LabServer, loki: LokiDouble;
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const f of cleanups.reverse()) await f();
    });

    before(
      async () => {
        ({ prom, loki } = await startSignals(ids, cleanups, traces));
        [full, lacking] = await startJaegers((f) => cleanups.push(f), ['full', 'lacking']);
        assert.equal(await pushTraces(full.otlpUrl, traces), K);
        assert.equal(
          await pushTraces(
            lacking.otlpUrl,
            traces.filter((t) => idHex(t.traceId) !== missing),
          ),
          K - 1,
        );
        const [s, e] = [BigInt(SPEC.startMs) * 1000n, BigInt(SPEC.endMs) * 1000n];
        assert.equal(await waitForTraces(full.url, s, e, K), K);
        assert.equal(await waitForTraces(lacking.url, s, e, K - 1), K - 1);
      },
      { timeout: 180_000 },
    );

    const args = () => [
      'verify',
      'correlations',
      '--prometheus-url',
      prom.url,
      '--loki-url',
      loki.url,
      '--loki-tenant',
      TENANT,
      '--start',
      '1h',
      '-o',
      'json',
    ];

    test(
      'every exemplar and every log-line trace ID leads to a trace: 100 % linked, exit 0',
      { timeout: 60_000 },
      async () => {
        const r = await runCli([
          ...args(),
          '--jaeger-url',
          full.url,
          '--traces-to-logs-tag',
          'service.name=service_name',
          '--traces-to-logs-tag',
          'host.name=host',
        ]);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        const rep = JSON.parse(r.stdout);
        assert.equal(rep.tracesToLogs.items, K, 'every trace found in Jaeger is followed to its logs');
        assert.equal(rep.tracesToLogs.percent, 100, JSON.stringify(rep.tracesToLogs.examples));
        assert.equal(rep.exemplars.percent, 100);
        assert.equal(rep.exemplars.distinctTraceIds, K);
        assert.equal(rep.exemplars.linked, K);
        assert.ok(rep.exemplars.items >= K, `${rep.exemplars.items} exemplars read`);
        assert.equal(rep.exemplars.label, 'trace_id');
        assert.equal(rep.logs.percent, 100);
        assert.equal(rep.logs.items, 2 * K + 1);
        assert.equal(rep.logs.withTraceId, 2 * K);
        assert.equal(rep.logs.distinctTraceIds, K);
        assert.equal(rep.logs.regexSource, 'detected');
        assert.equal(rep.logs.regex, '\\btrace_id=([0-9a-fA-F]{32})\\b');
        assert.equal(rep.gate.passed, true);
      },
    );

    test(
      'one trace missing from the store: the broken links named with the reason, exit 1',
      { timeout: 60_000 },
      async () => {
        const r = await runCli([...args(), '--jaeger-url', lacking.url, '--derived-field-regex', 'trace_id=(\\w+)']);
        assert.equal(r.code, 1, r.stderr + r.stdout);
        const rep = JSON.parse(r.stdout);
        for (const side of [rep.exemplars, rep.logs]) {
          assert.equal(side.distinctTraceIds, K);
          assert.equal(side.linked, K - 1);
          assert.equal(side.broken, 1);
          assert.deepEqual(side.brokenByReason, { 'trace-not-found': 1 });
          assert.equal(side.examples.length, 1);
          assert.equal(side.examples[0].traceId, missing);
          assert.match(side.examples[0].why, /has no trace/);
        }
        assert.match(rep.exemplars.examples[0].source, /app_requests_total.*route="\/r2"/);
        assert.match(rep.logs.examples[0].source, /GET \/r2/);
        assert.equal(rep.logs.regexSource, 'given');
        assert.equal(rep.exemplars.percent, Math.floor(((K - 1) / K) * 10000) / 100);
        assert.deepEqual(rep.gate.failed.length, 2);
        // the text report names it too, and a lower gate passes
        const text = await runCli([...args().slice(0, -2), '--jaeger-url', lacking.url]);
        assert.equal(text.code, 1);
        assert.match(text.stdout, new RegExp(`- ${missing}: .*has no trace`));
        const gate = await runCli([...args(), '--jaeger-url', lacking.url, '--min-linked', '80']);
        assert.equal(gate.code, 0, gate.stdout);
      },
    );

    test(
      'bad input: a derived-field regex without exactly one group, no trace store (exit 2, no stack trace)',
      { timeout: 30_000 },
      async () => {
        const r = await runCli([...args(), '--jaeger-url', full.url, '--derived-field-regex', 'trace_id=\\w+']);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /0 capture groups/);
        const n = await runCli(['verify', 'correlations', '--prometheus-url', prom.url, '--start', '1h']);
        assert.equal(n.code, 2);
        assert.match(n.stderr, /no trace store/);
        assert.doesNotMatch(r.stderr + n.stderr, /\n\s+at /);
      },
    );
  },
);

describe('verify correlations against Tempo (contract double): one trace removed -> named', () => {
  const traces: Trace[] = [...syntheticTraces({ ...SPEC, seed: 23 })];
  const ids = traces.map((t) => idHex(t.traceId));
  let tempo: TempoDouble, prom: LabServer, loki: LokiDouble;
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const f of cleanups.reverse()) await f();
  });
  before(
    async () => {
      ({ prom, loki } = await startSignals(ids, cleanups, traces));
      tempo = await new TempoDouble().start();
      cleanups.push(() => tempo.stop());
      assert.equal(await pushTraces(tempo.otlpUrl, traces), K);
      assert.equal(tempo.traceCount(), K);
    },
    { timeout: 120_000 },
  );

  test(
    '100 % linked, then the same check after one trace is deleted from Tempo names it (exit 1)',
    { timeout: 60_000 },
    async () => {
      const args = [
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
        '-o',
        'json',
        '--traces-to-logs-tag',
        'service.name=service_name',
        '--traces-to-logs-tag',
        'host.name=host',
      ];
      const ok = await runCli(args);
      assert.equal(ok.code, 0, ok.stderr + ok.stdout);
      const good = JSON.parse(ok.stdout);
      assert.equal(good.exemplars.percent, 100);
      assert.equal(good.exemplars.linked, K);
      assert.equal(good.logs.percent, 100);
      assert.equal(good.logs.linked, K);
      assert.match(good.traceStore, /^Tempo /);
      // traces -> logs: every trace found, followed from its root span to its lines
      assert.equal(good.tracesToLogs.items, K);
      assert.equal(good.tracesToLogs.percent, 100);
      assert.match(
        good.tracesToLogs.queries[0],
        /^\{service_name="synth-svc-\d", host="host-\d\.lab"\} \|= "[0-9a-f]{32}"$/,
      );
      // a mapping to a label the logs do not carry: every traces -> logs link is broken, and said why
      const wrong = await runCli([...args.slice(0, -4), '--traces-to-logs-tag', 'service.name=job']);
      assert.equal(wrong.code, 1, wrong.stdout);
      const w = JSON.parse(wrong.stdout);
      assert.equal(w.tracesToLogs.linked, 0);
      assert.deepEqual(w.tracesToLogs.brokenByReason, { 'no-logs-found': K });
      assert.match(
        w.tracesToLogs.examples[0].why,
        /^\{job="synth-svc-\d"\} \|= "[0-9a-f]{32}" over the span's time .* finds no line in Loki$/,
      );
      assert.equal(w.exemplars.percent, 100, 'the other checks are unaffected');
      const gone = ids[4]!;
      assert.equal(tempo.delete(gone), true);
      const bad = await runCli(args);
      assert.equal(bad.code, 1, bad.stderr + bad.stdout);
      const rep = JSON.parse(bad.stdout);
      for (const side of [rep.exemplars, rep.logs]) {
        assert.equal(side.linked, K - 1);
        assert.deepEqual(
          side.examples.map((e: { traceId: string; reason: string }) => [e.traceId, e.reason]),
          [[gone, 'trace-not-found']],
        );
      }
    },
  );
});
