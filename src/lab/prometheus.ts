import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, launch, waitHttpReady, type LabProcess } from './process.js';
import { DEBIAN_PROMETHEUS, labBinary } from './servers.js';

/**
 * Real Prometheus servers on loopback, for the rehearsal and the test suite, of any version the lab has
 * (scripts/servers.tsv; Debian's 2.42 by default). Process tracking and orphan reaping: ./process.ts.
 */
export interface LabServer {
  name: string;
  /** The Prometheus version this server runs ("2.42", "3.8.1", ...). */
  version: string;
  url: string;
  port: number;
  dataDir: string;
  configFile: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
  /** SIGKILL without grace (crash and WAL-replay tests). */
  kill(): Promise<void>;
  /** Stop and start again on the same port and data dir (for restart tests), optionally as another version. */
  restart(opts?: { extraArgs?: string[]; wait?: boolean; version?: string }): Promise<void>;
  logs(): string;
}

export interface StartOptions {
  name: string;
  /** prometheus.yml content. `{{port}}` is replaced with the server's own port. */
  config: string;
  dataDir: string;
  /** Prometheus version from the lab (default: Debian's 2.42, or $STACKSHIFT_PROMETHEUS_VERSION). */
  version?: string;
  /** Extra files to write next to the config (rule files etc.), name -> content. */
  files?: Record<string, string>;
  extraArgs?: string[];
  port?: number;
  readyTimeoutMs?: number;
  retention?: string;
  waitReady?: boolean;
}

/** The version a test or the rehearsal gets when it names none. */
export function defaultPrometheusVersion(): string {
  return process.env.STACKSHIFT_PROMETHEUS_VERSION ?? DEBIAN_PROMETHEUS;
}

/** The prometheus binary of a lab version (default: Debian's, on PATH). */
export function prometheusBinary(version = defaultPrometheusVersion()): string {
  return labBinary('prometheus', version, 'prometheus');
}

/** The promtool of a lab version (default: Debian's, on PATH). */
export function promtoolBinary(version = defaultPrometheusVersion()): string {
  return labBinary('prometheus', version, 'promtool');
}

/** The version a lab binary reports of itself ("2.42.0", "3.8.1"). */
export function prometheusVersion(version = defaultPrometheusVersion()): string {
  const r = spawnSync(prometheusBinary(version), ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
}

export async function waitReady(url: string, timeoutMs: number, proc?: LabProcess): Promise<void> {
  await waitHttpReady(`${url}/-/ready`, timeoutMs, proc, `prometheus at ${url}`);
}

export async function startPrometheus(opts: StartOptions): Promise<LabServer> {
  let version = opts.version ?? defaultPrometheusVersion();
  let bin = prometheusBinary(version);
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const confDir = join(opts.dataDir, '..', `${opts.name}-conf`);
  mkdirSync(confDir, { recursive: true });
  const configFile = join(confDir, 'prometheus.yml');
  writeFileSync(configFile, opts.config.replaceAll('{{port}}', String(port)));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(confDir, name), content);
  const logFile = join(confDir, 'prometheus.log');
  const url = `http://127.0.0.1:${port}`;
  let proc: LabProcess | undefined;
  let currentExtra = opts.extraArgs ?? [];

  const start = async (wait: boolean) => {
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${opts.dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.retention.time=${opts.retention ?? '3650d'}`,
      '--web.enable-admin-api',
      '--web.enable-lifecycle',
      ...currentExtra,
    ];
    proc = launch({ what: `prometheus ${version}`, bin, args, cwd: confDir, logFile });
    if (wait) await waitReady(url, opts.readyTimeoutMs ?? 60_000, proc);
  };

  await start(opts.waitReady ?? true);
  return {
    name: opts.name,
    get version() {
      return version;
    },
    url,
    port,
    dataDir: opts.dataDir,
    configFile,
    logFile,
    get pid() {
      return proc!.pid;
    },
    stop: async () => {
      await proc?.stop();
    },
    kill: async () => {
      await proc?.kill();
    },
    async restart(r = {}) {
      await proc?.stop();
      if (r.extraArgs) currentExtra = r.extraArgs;
      if (r.version) {
        version = r.version;
        bin = prometheusBinary(version);
      }
      await start(r.wait ?? true);
    },
    logs: () => proc?.logs() ?? '',
  };
}
