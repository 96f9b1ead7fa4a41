import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launch, waitHttpReady } from './process.js';
import { labBinary, serverVersion } from './servers.js';

/**
 * A real VictoriaLogs (Apache-2.0) on loopback: an independent decoder of Loki's push protocol
 * (`/insert/loki/api/v1/push`, protobuf+snappy and JSON) with its own query API (`/select/logsql/query`),
 * so stackshift's push encoder is checked against code it shares nothing with.
 */
export interface VictoriaLogsServer {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  pid: number;
  /** Loki push URL base: LokiClient appends /loki/api/v1/push. */
  lokiPushBase: string;
  stop(): Promise<void>;
  logs(): string;
}

export async function startVictoriaLogs(opts: {
  dir: string;
  version?: string;
  readyTimeoutMs?: number;
}): Promise<VictoriaLogsServer> {
  const version = opts.version ?? serverVersion('victoria-logs');
  const bin = labBinary('victoria-logs', version);
  const dataDir = join(opts.dir, 'victoria-logs-data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const logFile = join(opts.dir, 'victoria-logs.log');
  const proc = launch({
    what: `victoria-logs ${version}`,
    bin,
    // lines from any day in the past ten years are kept; nothing is ingested from outside loopback
    args: [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=10y',
      '-loggerLevel=WARN',
    ],
    cwd: opts.dir,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpReady(`${url}/health`, opts.readyTimeoutMs ?? 60_000, proc, `victoria-logs ${version}`);
  return {
    url,
    port,
    dataDir,
    logFile,
    pid: proc.pid,
    lokiPushBase: `${url}/insert`,
    stop: () => proc.stop(),
    logs: proc.logs,
  };
}
