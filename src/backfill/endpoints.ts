/**
 * What a backfill knows about its endpoints before it sends a request: whether a URL may be used at all, where
 * remote read, the Prometheus API, remote write and the read-back live under it, which receiver kind a target is
 * (what it keeps of a refused request), and the source's external labels. In vmctl's manner these facts are
 * kept apart from the run that uses them (its `main.go` builds, `remoteread.go` runs), in one file shared by
 * `backfill metrics` and `backfill blocks`.
 */
import { parse as parseYaml } from 'yaml';
import type { PrometheusClient, ReceiverKind } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { UsageError } from '../errors/index.js';
import { HttpError } from '../http/index.js';
import type { Label } from '../wire/index.js';

/** Remote-write receiver kind of a target: what a refusal keeps and which defaults are safe. */
export function receiverKind(ep: ResolvedEndpoint, path: string): ReceiverKind {
  if (path.endsWith('/api/v1/write')) return 'prometheus';
  if (ep.type === 'mimir' || path.endsWith('/api/v1/push')) return 'mimir';
  return ep.type === 'prometheus' ? 'prometheus' : 'other';
}

/** Refuses an endpoint URL that is not http(s), or that carries credentials (they would be stored in the plan and not sent). */
export function checkEndpointUrl(ep: ResolvedEndpoint, role: 'source' | 'target'): void {
  let u: URL;
  try {
    u = new URL(ep.url);
  } catch {
    throw new UsageError(`--${role}-url "${ep.url}" is not a URL`, 'for example http://prometheus:9090');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(
      `--${role}-url must be http:// or https:// (got ${u.protocol}//)`,
      'remote read and remote write are HTTP protocols',
    );
  if (u.username || u.password) {
    throw new UsageError(
      `--${role}-url carries credentials (${u.protocol}//<user-info>@${u.host}): they are not sent and would be stored in the state file`,
      `remove them from the URL; pass --${role}-basic-auth-user with --${role}-basic-auth-password-file (or -env), or basic_auth in stackshift.yaml`,
    );
  }
}

/** Prometheus API base and remote-read path of a source endpoint (Mimir serves both under /prometheus). */
export function sourcePaths(ep: ResolvedEndpoint, readPath?: string): { apiBase: string; readPath: string } {
  const prefix = ep.type === 'mimir' && !/\/prometheus\/?$/.test(ep.url) ? '/prometheus' : '';
  return { apiBase: ep.url + prefix, readPath: readPath ?? `${prefix}/api/v1/read` };
}

/** Splits a target URL into the endpoint base and the push path; a bare URL gets the product's default path. */
export function targetPaths(ep: ResolvedEndpoint, readUrl?: string): { base: string; path: string; readUrl?: string } {
  const u = new URL(ep.url);
  const origin = u.origin;
  let path = u.pathname.replace(/\/+$/, '');
  if (path === '') path = ep.type === 'prometheus' ? '/api/v1/write' : '/api/v1/push';
  let derived: string | undefined;
  if (path.endsWith('/api/v1/write')) derived = origin + path.slice(0, -'/api/v1/write'.length);
  else if (path.endsWith('/api/v1/push')) derived = origin + path.slice(0, -'/api/v1/push'.length) + '/prometheus';
  return { base: origin, path, readUrl: readUrl ?? derived };
}

/** The source's global.external_labels (remote read adds them to every series it serves). */
export async function externalLabels(client: PrometheusClient): Promise<Label[]> {
  try {
    const cfg = parseYaml(await client.config()) as { global?: { external_labels?: Record<string, string> } } | null;
    return Object.entries(cfg?.global?.external_labels ?? {}).map(([name, value]) => ({ name, value: String(value) }));
  } catch (e) {
    // Mimir and other remote-read servers have no config endpoint: no external labels to handle
    if (e instanceof HttpError && (e.status === 404 || e.status === 405 || e.kind === 'protocol')) return [];
    throw e;
  }
}

/** An endpoint with the run's retry count, optionally at another URL (the API base, the read-back). */
export function retriesOf(ep: ResolvedEndpoint, retries: number, url?: string): ResolvedEndpoint {
  return { ...ep, retries, url: url ?? ep.url };
}
