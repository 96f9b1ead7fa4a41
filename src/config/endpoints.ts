import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors/index.js';
import { registerBasicAuth, registerSecret } from '../redact/index.js';
import { tryParseDuration } from '../timeutil/index.js';
import { ENDPOINT_TYPES, EndpointSchema, type EndpointConfig, type EndpointType } from './schema.js';
import { zodToInputError, type LoadedConfig } from './load.js';

export type Auth =
  { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };

/** An endpoint with its secrets read and registered for redaction; what the HTTP layer consumes. */
export interface ResolvedEndpoint {
  name: string;
  type: EndpointType;
  url: string;
  tenant?: string;
  auth: Auth;
  headers: Record<string, string>;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string; insecureSkipVerify: boolean };
  timeoutMs: number;
  retries: number;
}

/** Endpoint settings given on the command line; each maps to the same key in stackshift.yaml. */
export interface EndpointFlags {
  url?: string;
  tenant?: string;
  bearerTokenFile?: string;
  bearerTokenEnv?: string;
  basicAuthUser?: string;
  basicAuthPasswordFile?: string;
  basicAuthPasswordEnv?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify?: boolean;
  timeout?: string;
  header?: string[];
}

function readSecretFile(path: string, baseDir: string, key: string): string {
  const full = resolve(baseDir, path);
  try {
    return readFileSync(full, 'utf8').trim();
  } catch (e) {
    throw new UsageError(
      `${key}: cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      'check the path and its permissions',
    );
  }
}

function readPlainFile(path: string, baseDir: string, key: string): Buffer {
  const full = resolve(baseDir, path);
  try {
    return readFileSync(full);
  } catch (e) {
    throw new UsageError(
      `${key}: cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      'check the path and its permissions',
    );
  }
}

function fromEnv(name: string, key: string): string {
  const v = process.env[name];
  if (!v) throw new UsageError(`${key}: environment variable ${name} is not set`, `export ${name}=...`);
  return v;
}

/** Merges flags over the config file's endpoint of that name (flags win), then reads secrets. */
export function resolveEndpoint(
  loaded: LoadedConfig,
  name: string,
  flags: EndpointFlags = {},
  defaultType?: EndpointType,
): ResolvedEndpoint {
  const base: Partial<EndpointConfig> = { ...(loaded.config.endpoints?.[name] ?? {}) };
  const origin = loaded.config.endpoints?.[name] ? `${loaded.file ?? 'config'}: endpoints.${name}` : `--${name}-*`;
  if (flags.url) base.url = flags.url;
  if (flags.tenant) base.tenant = flags.tenant;
  if (flags.timeout) base.timeout = flags.timeout;
  if (flags.bearerTokenFile) {
    base.bearer_token_file = flags.bearerTokenFile;
    delete base.bearer_token;
  }
  if (flags.bearerTokenEnv) {
    base.bearer_token = fromEnv(flags.bearerTokenEnv, `--${name}-bearer-token-env`);
    delete base.bearer_token_file;
  }
  if (flags.basicAuthUser) {
    base.basic_auth = { username: flags.basicAuthUser };
    if (flags.basicAuthPasswordFile) base.basic_auth.password_file = flags.basicAuthPasswordFile;
    if (flags.basicAuthPasswordEnv)
      base.basic_auth.password = fromEnv(flags.basicAuthPasswordEnv, `--${name}-basic-auth-password-env`);
  }
  if (flags.caFile || flags.certFile || flags.keyFile || flags.insecureSkipVerify) {
    base.tls = { ...(base.tls ?? {}) };
    if (flags.caFile) base.tls.ca_file = flags.caFile;
    if (flags.certFile) base.tls.cert_file = flags.certFile;
    if (flags.keyFile) base.tls.key_file = flags.keyFile;
    if (flags.insecureSkipVerify) base.tls.insecure_skip_verify = true;
  }
  if (flags.header?.length) {
    base.headers = { ...(base.headers ?? {}) };
    for (const h of flags.header) {
      const i = h.indexOf('=');
      if (i <= 0) throw new UsageError(`--${name}-header "${h}" is not Name=value`);
      base.headers[h.slice(0, i)] = h.slice(i + 1);
    }
  }
  if (!base.url) {
    throw new UsageError(
      `no URL for endpoint "${name}"`,
      `pass --${name}-url http://host:port, or add endpoints.${name}.url to stackshift.yaml`,
    );
  }
  const parsed = EndpointSchema.safeParse(base);
  if (!parsed.success) {
    const err = zodToInputError(parsed.error, undefined, undefined, origin);
    throw new UsageError(`endpoint "${name}": ${err.message}`, err.hint);
  }
  const ep = parsed.data;
  const type: EndpointType =
    ep.type ??
    ((ENDPOINT_TYPES as readonly string[]).includes(name) ? (name as EndpointType) : (defaultType ?? 'prometheus'));
  const key = `endpoints.${name}`;
  let auth: Auth = { kind: 'none' };
  if (ep.bearer_token || ep.bearer_token_file) {
    const token = ep.bearer_token ?? readSecretFile(ep.bearer_token_file!, loaded.baseDir, `${key}.bearer_token_file`);
    registerSecret(token);
    auth = { kind: 'bearer', token };
  } else if (ep.basic_auth) {
    const password =
      ep.basic_auth.password ??
      (ep.basic_auth.password_file
        ? readSecretFile(ep.basic_auth.password_file, loaded.baseDir, `${key}.basic_auth.password_file`)
        : '');
    registerBasicAuth(ep.basic_auth.username, password);
    auth = { kind: 'basic', username: ep.basic_auth.username, password };
  }
  const headers = { ...(ep.headers ?? {}) };
  for (const [h, v] of Object.entries(headers)) if (/auth|token|key|secret|cookie|password/i.test(h)) registerSecret(v);
  return {
    name,
    type,
    url: ep.url.replace(/\/+$/, ''),
    tenant: ep.tenant,
    auth,
    headers,
    tls: {
      ca: ep.tls?.ca_file ? readPlainFile(ep.tls.ca_file, loaded.baseDir, `${key}.tls.ca_file`) : undefined,
      cert: ep.tls?.cert_file ? readPlainFile(ep.tls.cert_file, loaded.baseDir, `${key}.tls.cert_file`) : undefined,
      key: ep.tls?.key_file ? readPlainFile(ep.tls.key_file, loaded.baseDir, `${key}.tls.key_file`) : undefined,
      serverName: ep.tls?.server_name,
      insecureSkipVerify: ep.tls?.insecure_skip_verify ?? false,
    },
    timeoutMs: tryParseDuration(ep.timeout ?? '30s')!,
    retries: ep.retries ?? 4,
  };
}

/** Builds an endpoint straight from a URL, for library callers and tests. */
export function endpointFromUrl(
  url: string,
  type: EndpointType = 'prometheus',
  extra: Partial<ResolvedEndpoint> = {},
): ResolvedEndpoint {
  return {
    name: type,
    type,
    url: url.replace(/\/+$/, ''),
    auth: { kind: 'none' },
    headers: {},
    tls: { insecureSkipVerify: false },
    timeoutMs: 30_000,
    retries: 4,
    ...extra,
  };
}
