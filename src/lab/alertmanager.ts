import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launch, waitHttpReady, type LabProcess } from './process.js';
import { labBinary, serverVersion } from './servers.js';

/** A real Alertmanager on loopback (the lab's build), for routing checks and alert parity. */
export interface LabAlertmanager {
  url: string;
  version: string;
  configFile: string;
  dataDir: string;
  proc: LabProcess;
  stop(): Promise<void>;
}

/** The smallest config Alertmanager accepts: one receiver that sends nowhere. */
export const MINIMAL_ALERTMANAGER_CONFIG = `route:
  receiver: blackhole
receivers:
  - name: blackhole
`;

export async function startAlertmanager(opts: {
  dir: string;
  config?: string;
  version?: string;
}): Promise<LabAlertmanager> {
  const version = opts.version ?? serverVersion('alertmanager');
  const bin = labBinary('alertmanager', version);
  mkdirSync(opts.dir, { recursive: true });
  const configFile = join(opts.dir, 'alertmanager.yml');
  writeFileSync(configFile, opts.config ?? MINIMAL_ALERTMANAGER_CONFIG);
  const dataDir = join(opts.dir, 'data');
  const [port, clusterPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  // cluster.listen-address "" turns gossip off: a single lab instance must not look for peers
  const proc = launch({
    what: `alertmanager ${version}`,
    bin,
    cwd: opts.dir,
    logFile: join(opts.dir, 'alertmanager.log'),
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      `--cluster.advertise-address=127.0.0.1:${clusterPort}`,
    ],
  });
  await waitHttpReady(`${url}/-/ready`, 60_000, proc, `alertmanager ${version}`);
  return { url, version, configFile, dataDir, proc, stop: () => proc.stop() };
}

/** `amtool check-config` of the lab's Alertmanager build: the real validator of a config file. */
export function amtoolBinary(version = serverVersion('alertmanager')): string {
  return labBinary('alertmanager', version, 'amtool');
}
