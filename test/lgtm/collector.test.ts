import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, labBinary, launch, waitHttpReady, type LabJaeger } from '../../src/lab/index.js';
import { collectorConfig, validateCollectorConfig } from '../../src/lgtm/index.js';
import { syntheticTraces } from '../../src/traces/index.js';
import { runCli, startServer, tempDir } from '../harness/index.js';
import { JAEGER_VERSION, NO_JAEGER, pushTraces, startJaegers, waitForTraces } from '../traces/helpers.js';

/**
 * The collector configs checked by the real collector build the lab has: Jaeger v2 (`cmd/jaeger`, module
 * 1.76.0) is an OpenTelemetry Collector distribution with `validate` and `components`. Then the dual-export
 * config is run for real by that binary: traces sent to its OTLP receiver arrive in both downstream Jaegers
 * (the second standing in for Tempo, which is not runnable here), and the cut-over config sends to one only.
 */
describe('collector configs with the real Jaeger v2 binary', { skip: NO_JAEGER }, () => {
  let a: LabJaeger, b: LabJaeger;
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const f of cleanups.reverse()) await f();
  });
  before(
    async () => {
      [a, b] = await startJaegers((f) => cleanups.push(f), ['jaeger-side', 'tempo-side']);
    },
    { timeout: 120_000 },
  );

  test(
    'lgtm config validates collector-dual.yaml and collector-cutover.yaml with the binary (exit 0)',
    { timeout: 120_000 },
    async (t) => {
      const prom = await startServer(t, {});
      const out = tempDir(t);
      const bin = labBinary('jaeger', JAEGER_VERSION);
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
          '--jaeger-otlp',
          a.otlpUrl,
          '--tempo-otlp',
          b.otlpUrl,
          '--collector-bin',
          bin,
          '-o',
          'json',
        ],
        { timeoutMs: 100_000 },
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const rep = JSON.parse(r.stdout);
      assert.deepEqual(
        rep.collector.map((c: { file: string }) => c.file.split('/').pop()),
        ['collector-dual.yaml', 'collector-cutover.yaml'],
      );
      for (const c of rep.collector) {
        assert.equal(c.validation.ok, true, c.validation.output);
        assert.deepEqual(c.validation.missing, []);
        for (const k of ['otlp', 'otlphttp'])
          assert.ok(c.validation.available.exporters.includes(k), `the build has exporter ${k}`);
      }
      t.diagnostic(`validated by: ${rep.collector[0].validation.version}`);
      assert.match(
        readFileSync(join(out, 'collector-dual.yaml'), 'utf8'),
        /exporters: \[otlphttp\/jaeger, otlphttp\/tempo\]/,
      );
    },
  );

  test('a component the build lacks is named, and a broken config is refused by validate', { timeout: 60_000 }, () => {
    const dir = tempDir(undefined);
    const bin = labBinary('jaeger', JAEGER_VERSION);
    // the v0.144 names (otlp_grpc, otlp_http) are not in this build (its collector core predates them): named
    const text = collectorConfig({ mode: 'cutover', tempoOtlp: 'tempo:4317', exporterNames: 'new' });
    const f = join(dir, 'c.yaml');
    writeFileSync(f, text);
    const v = validateCollectorConfig(bin, f, text);
    assert.deepEqual(v.missing, ['exporters/otlp_grpc']);
    assert.equal(v.ok, false, 'validate refuses the unknown exporter type too');
    assert.match(v.output, /otlp_grpc/);
    // and the zipkin exporter: Jaeger v2 receives zipkin but does not export it
    const z = collectorConfig({ mode: 'cutover', tempoOtlp: 'tempo:4317' }).replaceAll('otlp/tempo', 'zipkin/tempo');
    writeFileSync(f, z);
    assert.deepEqual(validateCollectorConfig(bin, f, z).missing, ['exporters/zipkin']);
    const broken = collectorConfig({ mode: 'cutover', tempoOtlp: 'tempo:4317' }).replace(
      '      exporters: [otlp/tempo]',
      '      exporters: [otlp/nowhere]',
    );
    writeFileSync(f, broken);
    const w = validateCollectorConfig(bin, f, broken);
    assert.equal(w.ok, false);
    assert.match(w.output, /otlp\/nowhere/);
  });

  test(
    'the dual config run by the binary delivers every trace to both sides; the cut-over config to Tempo only',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir(undefined);
      const bin = labBinary('jaeger', JAEGER_VERSION);
      const now = Date.now();
      for (const [mode, seed] of [
        ['dual', 31],
        ['cutover', 32],
      ] as const) {
        const grpc = await freePort();
        const http = await freePort();
        // no self-telemetry server (its default :8888 would collide with other lab collectors), as src/lab does
        const text = collectorConfig({
          mode,
          jaegerOtlp: a.otlpUrl,
          tempoOtlp: b.otlpUrl,
          grpcListen: `127.0.0.1:${grpc}`,
          httpListen: `127.0.0.1:${http}`,
        }).replace('\nservice:\n', '\nservice:\n  telemetry:\n    metrics:\n      level: none\n');
        const file = join(dir, `${mode}.yaml`);
        writeFileSync(file, text);
        const proc = launch({
          what: `collector (${mode})`,
          bin,
          args: [`--config=${file}`],
          cwd: dir,
          logFile: join(dir, `${mode}.log`),
        });
        try {
          await waitHttpReady(`http://127.0.0.1:${http}/v1/traces`, 60_000, proc, `collector ${mode}`, (s) => s > 0);
          const spec = { traces: 20, seed, startMs: now - 10 * 60_000, endMs: now - 60_000, services: 2 };
          assert.equal(await pushTraces(`http://127.0.0.1:${http}`, syntheticTraces(spec)), 20);
          const [s, e] = [BigInt(spec.startMs) * 1000n, BigInt(spec.endMs) * 1000n];
          const onTempoSide = await waitForTraces(b.url, s, e, mode === 'dual' ? 20 : 40, 60_000);
          assert.equal(onTempoSide, mode === 'dual' ? 20 : 40, `${mode}: traces on the Tempo side`);
          // the Jaeger side got the dual run's 20 and nothing of the cut-over run
          assert.equal(
            await waitForTraces(a.url, BigInt(now - 10 * 60_000) * 1000n, e, 20, 20_000),
            20,
            `${mode}: traces on the Jaeger side`,
          );
        } finally {
          await proc.stop();
        }
      }
    },
  );
});
