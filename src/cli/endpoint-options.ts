import { Option, type Command } from 'commander';
import { collect, durationFlag } from './parse.js';
import { PrometheusClient } from '../clients/index.js';
import {
  resolveEndpoint,
  type EndpointFlags,
  type EndpointType,
  type LoadedConfig,
  type ResolvedEndpoint,
} from '../config/index.js';
import { UsageError } from '../errors/index.js';

/** The flags addEndpointOptions adds, after `--<prefix>-` (the README reference groups them as `--<prefix>-*`). */
export const ENDPOINT_FLAG_SUFFIXES = [
  'url',
  'tenant',
  'bearer-token-file',
  'bearer-token-env',
  'basic-auth-user',
  'basic-auth-password-file',
  'basic-auth-password-env',
  'ca-file',
  'cert-file',
  'key-file',
  'insecure-skip-verify',
  'timeout',
  'header',
];

/**
 * The same set of flags for every endpoint role a command talks to (--prometheus-url, --target-tenant, ...).
 * Each flag mirrors a key of endpoints.<name> in stackshift.yaml. Secrets are taken only from files or
 * environment variables: a token on the command line would show in `ps` and shell history.
 */
export function addEndpointOptions(cmd: Command, prefix: string, label: string): Command {
  return cmd
    .addOption(new Option(`--${prefix}-url <url>`, `${label} URL (endpoints.<name>.url)`))
    .addOption(new Option(`--${prefix}-tenant <id>`, `${label} tenant, sent as X-Scope-OrgID`))
    .addOption(new Option(`--${prefix}-bearer-token-file <file>`, `file holding the ${label} bearer token`))
    .addOption(
      new Option(`--${prefix}-bearer-token-env <VAR>`, `environment variable holding the ${label} bearer token`),
    )
    .addOption(new Option(`--${prefix}-basic-auth-user <user>`, `${label} basic-auth user`))
    .addOption(
      new Option(`--${prefix}-basic-auth-password-file <file>`, `file holding the ${label} basic-auth password`),
    )
    .addOption(
      new Option(
        `--${prefix}-basic-auth-password-env <VAR>`,
        `environment variable holding the ${label} basic-auth password`,
      ),
    )
    .addOption(new Option(`--${prefix}-ca-file <file>`, `CA bundle to verify the ${label} TLS certificate`))
    .addOption(new Option(`--${prefix}-cert-file <file>`, `client certificate for ${label} mTLS`).hideHelp())
    .addOption(new Option(`--${prefix}-key-file <file>`, `client key for ${label} mTLS`).hideHelp())
    .addOption(
      new Option(`--${prefix}-insecure-skip-verify`, `do not verify the ${label} TLS certificate (test systems only)`),
    )
    .addOption(
      new Option(
        `--${prefix}-timeout <duration>`,
        `total time allowed for one ${label} request, headers and body (default 30s; 0 is refused)`,
      ),
    )
    .addOption(
      new Option(`--${prefix}-header <Name=value>`, `extra header sent to ${label}, repeatable`).argParser(collect),
    );
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export function endpointFlags(opts: Record<string, unknown>, prefix: string): EndpointFlags {
  const get = (k: string) => opts[camel(`${prefix}-${k}`)];
  return {
    url: get('url') as string | undefined,
    tenant: get('tenant') as string | undefined,
    bearerTokenFile: get('bearer-token-file') as string | undefined,
    bearerTokenEnv: get('bearer-token-env') as string | undefined,
    basicAuthUser: get('basic-auth-user') as string | undefined,
    basicAuthPasswordFile: get('basic-auth-password-file') as string | undefined,
    basicAuthPasswordEnv: get('basic-auth-password-env') as string | undefined,
    caFile: get('ca-file') as string | undefined,
    certFile: get('cert-file') as string | undefined,
    keyFile: get('key-file') as string | undefined,
    insecureSkipVerify: get('insecure-skip-verify') as boolean | undefined,
    // parsed here so that a bad or zero timeout names the flag; the endpoint keeps the text form of its config key
    timeout:
      get('timeout') === undefined
        ? undefined
        : (durationFlag(`${prefix}-timeout`, get('timeout')), String(get('timeout')).trim()),
    header: get('header') as string[] | undefined,
  };
}

/** --endpoint (default "prometheus") plus the --prometheus-* flags: the set every command reading one Prometheus takes. */
export function addPrometheusOptions(cmd: Command, label = 'Prometheus'): Command {
  cmd.option('--endpoint <name>', 'endpoint name in stackshift.yaml', 'prometheus');
  return addEndpointOptions(cmd, 'prometheus', label);
}

/** The Prometheus that --endpoint and the --prometheus-* flags name. */
export function prometheusClient(opts: Record<string, unknown>, loaded: LoadedConfig): PrometheusClient {
  return new PrometheusClient(
    resolveEndpoint(loaded, String(opts.endpoint), endpointFlags(opts, 'prometheus'), 'prometheus'),
  );
}

/** Runs `fn` with that Prometheus and closes its connection pool however `fn` ends. */
export async function withPrometheus<T>(
  opts: Record<string, unknown>,
  loaded: LoadedConfig,
  fn: (client: PrometheusClient) => Promise<T>,
): Promise<T> {
  const client = prometheusClient(opts, loaded);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** What a command needs to name an endpoint it cannot do without (`requireEndpoint`). */
export interface RequiredEndpoint {
  /** Endpoint name in stackshift.yaml (the value of --from, --to or --endpoint). */
  name: string;
  /** The flag prefix of its --<prefix>-* options (source, target, mimir, jaeger). */
  prefix: string;
  /** The flag that picks the name (from, to, endpoint). */
  nameFlag: string;
  /** What the user reads in the error: source, target, Mimir. */
  role?: string;
  /** An example URL for the hint. */
  example: string;
  defaultType: EndpointType;
  /** An endpoint given only by URL is of this type, whatever the default name suggests (the name "mimir" must not imply Mimir). */
  typeWhenByUrl?: EndpointType;
}

/**
 * The endpoint a command talks to, from stackshift.yaml or from its --<prefix>-url, or a usage error that names
 * both ways of giving it. One place for the message every command used to write itself.
 */
export function requireEndpoint(loaded: LoadedConfig, flags: EndpointFlags, r: RequiredEndpoint): ResolvedEndpoint {
  const inConfig = Boolean(loaded.config.endpoints?.[r.name]);
  if (!flags.url && !inConfig) {
    throw new UsageError(
      `no ${r.role ?? r.prefix}: endpoint "${r.name}" is not in the config and --${r.prefix}-url is not given`,
      `pass --${r.prefix}-url ${r.example}, or --${r.nameFlag} <endpoint name in stackshift.yaml>`,
    );
  }
  const ep = resolveEndpoint(loaded, r.name, flags, r.defaultType);
  if (!inConfig && r.typeWhenByUrl) ep.type = r.typeWhenByUrl;
  return ep;
}
