import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launch, waitHttpReady, type LabProcess } from './process.js';
import { labBinary, serverVersion } from './servers.js';

/**
 * A real VictoriaMetrics single-node server from the lab (scripts/servers.tsv), on loopback, for the peer
 * benchmark and tests: remote write at /api/v1/write, export at /api/v1/export, Prometheus API under /.
 */
/** The lab's VictoriaMetrics version (scripts/servers.tsv), read when asked. */
export function victoriaMetricsVersion(): string {
  return serverVersion('victoria-metrics');
}

export interface VictoriaMetricsServer {
  url: string;
  port: number;
  dataDir: string;
  version: string;
  pid: number;
  stop(): Promise<void>;
  logs(): string;
}

export function vmctlBinary(version = victoriaMetricsVersion()): string {
  return labBinary('victoria-metrics', version, 'vmctl');
}

export async function startVictoriaMetrics(opts: {
  dataDir: string;
  version?: string;
  port?: number;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<VictoriaMetricsServer> {
  const version = opts.version ?? victoriaMetricsVersion();
  const bin = labBinary('victoria-metrics', version, 'victoria-metrics');
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const url = `http://127.0.0.1:${port}`;
  const proc: LabProcess = launch({
    what: `victoria-metrics ${version}`,
    bin,
    // history of any age is accepted only inside the retention; 100y keeps every lab history
    args: [
      `-storageDataPath=${opts.dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      ...(opts.extraArgs ?? []),
    ],
    cwd: opts.dataDir,
    logFile: join(opts.dataDir, '..', `victoria-metrics-${port}.log`),
  });
  await waitHttpReady(`${url}/health`, opts.readyTimeoutMs ?? 60_000, proc, `victoria-metrics at ${url}`);
  return { url, port, dataDir: opts.dataDir, version, pid: proc.pid, stop: () => proc.stop(), logs: () => proc.logs() };
}

/** Samples VictoriaMetrics holds for a selector in [startMs, endMs], counted from /api/v1/export (after a flush). */
export async function countVictoriaSamples(
  url: string,
  match: string,
  startMs: number,
  endMs: number,
): Promise<number> {
  await fetch(`${url}/internal/force_flush`).catch(() => undefined);
  const q = new URLSearchParams({ 'match[]': match, start: String(startMs / 1000), end: String(endMs / 1000) });
  const res = await fetch(`${url}/api/v1/export?${q}`);
  if (!res.ok) throw new Error(`victoria-metrics export: HTTP ${res.status}`);
  let n = 0;
  let rest = '';
  const dec = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += dec.decode(chunk, { stream: true });
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      if (line.trim()) n += (JSON.parse(line) as { timestamps: number[] }).timestamps.length;
    }
  }
  if (rest.trim()) n += (JSON.parse(rest) as { timestamps: number[] }).timestamps.length;
  return n;
}
