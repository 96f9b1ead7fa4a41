import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launch, waitHttpReady, type LabProcess } from './process.js';
import { labBinary, serverVersion } from './servers.js';

/**
 * A real Jaeger (the v2 all-in-one `cmd/jaeger`, module v1.76.0) on free loopback ports, with its own
 * collector-style YAML: in-memory storage, an OTLP/HTTP receiver only, the query extension (UI, v1 JSON API
 * and api_v3 on one HTTP port, gRPC on another), a health check, and no self-telemetry (no metrics server on
 * :8888 to collide between instances, no self-tracing into its own store).
 */
export interface LabJaeger {
  version: string;
  /** Query HTTP base (UI, /api/*, /api/v3/*). */
  url: string;
  /** OTLP/HTTP receiver base; POST <otlpUrl>/v1/traces. */
  otlpUrl: string;
  configFile: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
  kill(): Promise<void>;
  logs(): string;
}

export interface JaegerStartOptions {
  name: string;
  /** Directory for its config and log. */
  dir: string;
  version?: string;
  /** Memory store capacity in traces (oldest evicted beyond it). */
  maxTraces?: number;
  readyTimeoutMs?: number;
}

export function jaegerConfig(p: {
  queryPort: number;
  grpcPort: number;
  otlpPort: number;
  healthPort: number;
  maxTraces: number;
}): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger-lab
    metrics:
      level: none
    logs:
      level: warn

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${p.healthPort}
  jaeger_query:
    storage:
      traces: lab_store
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:${p.queryPort}
    grpc:
      endpoint: 127.0.0.1:${p.grpcPort}
  jaeger_storage:
    backends:
      lab_store:
        memory:
          max_traces: ${p.maxTraces}

receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${p.otlpPort}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: lab_store
`;
}

export async function startJaeger(opts: JaegerStartOptions): Promise<LabJaeger> {
  const version = opts.version ?? serverVersion('jaeger');
  const bin = labBinary('jaeger', version);
  mkdirSync(opts.dir, { recursive: true });
  const [queryPort, grpcPort, otlpPort, healthPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const configFile = join(opts.dir, `${opts.name}.yaml`);
  writeFileSync(
    configFile,
    jaegerConfig({ queryPort, grpcPort, otlpPort, healthPort, maxTraces: opts.maxTraces ?? 1_000_000 }),
  );
  const logFile = join(opts.dir, `${opts.name}.log`);
  const proc: LabProcess = launch({
    what: `jaeger ${version}`,
    bin,
    args: [`--config=${configFile}`],
    cwd: opts.dir,
    logFile,
  });
  const url = `http://127.0.0.1:${queryPort}`;
  const otlpUrl = `http://127.0.0.1:${otlpPort}`;
  const timeout = opts.readyTimeoutMs ?? 60_000;
  try {
    await waitHttpReady(`${url}/api/services`, timeout, proc, `jaeger ${version} query`);
    // the receiver answers GET /v1/traces with 405: listening is all we need
    await waitHttpReady(
      `${otlpUrl}/v1/traces`,
      timeout,
      proc,
      `jaeger ${version} OTLP receiver`,
      (status) => status > 0,
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return {
    version,
    url,
    otlpUrl,
    configFile,
    logFile,
    pid: proc.pid,
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    logs: () => proc.logs(),
  };
}
