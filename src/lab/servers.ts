import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { StackshiftError } from '../errors/index.js';

/**
 * The lab's servers and their versions. `scripts/servers.tsv` is the one table: `scripts/build-servers.sh`
 * builds each row from its Go module into the per-user cache, and this module finds the binaries there.
 * Debian's Prometheus 2.42 (on PATH, from `scripts/install-prometheus.sh`) is the fourth Prometheus version.
 */
export type ServerName = 'prometheus' | 'jaeger' | 'victoria-metrics' | 'alertmanager' | 'victoria-logs';

export interface ServerRow {
  name: ServerName;
  version: string;
  moduleVersion: string;
  packages: string[];
}

/** The Debian package's Prometheus, found on PATH rather than in the cache. */
export const DEBIAN_PROMETHEUS = '2.42';

/** The Prometheus versions the upgrade runbook is about, by role. */
export const PROMETHEUS = {
  /** Debian's package: the oldest source the lab has. */
  debian: DEBIAN_PROMETHEUS,
  /** The runbook's start. */
  start: '2.48.1',
  /** The bridge every 2.x -> 3.x upgrade passes through. */
  bridge: '2.55.1',
  /** The runbook's target. */
  target: '3.8.1',
  /** The newest 3.x that builds here. */
  latest: '3.16.0',
} as const;

/** Every Prometheus version the lab can run, oldest first. */
export const PROMETHEUS_VERSIONS: readonly string[] = [
  PROMETHEUS.debian,
  PROMETHEUS.start,
  PROMETHEUS.bridge,
  PROMETHEUS.target,
  PROMETHEUS.latest,
];

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function tablePath(): string {
  const candidates = [join(repoRoot, 'scripts', 'servers.tsv'), join(repoRoot, '..', 'scripts', 'servers.tsv')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

let rows: ServerRow[] | undefined;

/** The rows of scripts/servers.tsv. */
export function serverTable(): ServerRow[] {
  if (rows) return rows;
  const text = readFileSync(tablePath(), 'utf8');
  rows = text
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [name, version, , moduleVersion, packages] = l.split('\t');
      return {
        name: name as ServerName,
        version: version!,
        moduleVersion: moduleVersion!,
        packages: (packages ?? '').split(' ').filter(Boolean),
      };
    });
  return rows;
}

/** The one version of a server the table holds (every name but prometheus has exactly one). */
export function serverVersion(name: Exclude<ServerName, 'prometheus'>): string {
  const row = serverTable().find((r) => r.name === name);
  if (!row) throw new StackshiftError('lab', `scripts/servers.tsv has no row for ${name}`);
  return row.version;
}

/** Where scripts/build-servers.sh puts its builds. */
export function serversCacheDir(): string {
  return (
    process.env.STACKSHIFT_SERVERS_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'stackshift', 'servers')
  );
}

/**
 * The path of one binary of a lab server (e.g. `labBinary('prometheus', '3.8.1', 'promtool')`). Debian's
 * 2.42 resolves to the binaries on PATH. Throws with the command that builds it when it is missing.
 */
export function labBinary(name: ServerName, version: string, binary: string = defaultBinary(name)): string {
  if (name === 'prometheus' && version === DEBIAN_PROMETHEUS) {
    const env = binary === 'promtool' ? process.env.STACKSHIFT_PROMTOOL_BIN : process.env.STACKSHIFT_PROMETHEUS_BIN;
    const bin = env ?? binary;
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new StackshiftError('lab', `cannot run ${bin}: ${r.error?.message ?? r.stderr}`, {
        hint: 'install it with: bash scripts/install-prometheus.sh (Debian package "prometheus")',
      });
    }
    return bin;
  }
  const row = serverTable().find((r) => r.name === name && r.version === version);
  if (!row) {
    const known = serverTable()
      .filter((r) => r.name === name)
      .map((r) => r.version);
    throw new StackshiftError('lab', `the lab has no ${name} ${version}`, {
      hint: `known versions: ${[...(name === 'prometheus' ? [DEBIAN_PROMETHEUS] : []), ...known].join(', ')} (scripts/servers.tsv)`,
    });
  }
  const path = join(serversCacheDir(), `${name}-${version}`, binary);
  if (!existsSync(path)) {
    throw new StackshiftError('lab', `${binary} of ${name} ${version} is not built (${path})`, {
      hint: `build it with: bash scripts/build-servers.sh ${name}-${version}`,
    });
  }
  return path;
}

/** True when a server's binaries are in the cache (or on PATH for Debian's Prometheus). */
export function labHas(name: ServerName, version: string, binary?: string): boolean {
  try {
    labBinary(name, version, binary);
    return true;
  } catch {
    return false;
  }
}

function defaultBinary(name: ServerName): string {
  return name;
}
