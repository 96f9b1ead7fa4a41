import { parse as parseYaml, stringify } from 'yaml';
import type { ResolvedEndpoint } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpClient, HttpError, readBody, statusError } from '../http/index.js';
import { groupDocument, type Rule, type RuleGroup } from './model.js';

/**
 * The Mimir ruler's configuration API (references/http-api, "Ruler"), under the Prometheus HTTP prefix
 * (default /prometheus):
 *
 *   GET    <prefix>/config/v1/rules                      every namespace: YAML {namespace: [group, ...]}
 *   GET    <prefix>/config/v1/rules/{namespace}          one namespace, same shape
 *   POST   <prefix>/config/v1/rules/{namespace}          one group as YAML (Content-Type: application/yaml); 202
 *   DELETE <prefix>/config/v1/rules/{namespace}/{group}  202; 404 when the group does not exist
 *
 * Path segments are percent-encoded (a "/" in a namespace is %2F, as the API asks). A tenant goes in
 * X-Scope-OrgID (the endpoint's tenant). Older Mimir (and Cortex) answers an empty listing with 404 "no rule
 * groups found", current Mimir with 200 and `{}`: both mean "nothing here". Requests go through the shared
 * HTTP client, so 429 and 5xx are retried with backoff; setting a group replaces it whole, and deleting a
 * group that is already gone (a retried DELETE whose first answer was lost) is taken as done.
 */
export type RemoteRules = Map<string, RuleGroup[]>;

export class MimirRulerClient {
  readonly http: HttpClient;
  readonly prefix: string;

  constructor(
    readonly endpoint: ResolvedEndpoint,
    opts: { prefix?: string } = {},
  ) {
    this.http = new HttpClient(endpoint);
    const p = opts.prefix ?? '/prometheus';
    this.prefix = p === '' || p === '/' ? '' : `/${p.replace(/^\/+|\/+$/g, '')}`;
  }

  private path(...segments: string[]): string {
    return `${this.prefix}/config/v1/rules${segments.map((s) => `/${encodeURIComponent(s)}`).join('')}`;
  }

  private async list(path: string): Promise<RemoteRules> {
    const res = await this.http.request({ method: 'GET', path, headers: { accept: 'application/yaml' } });
    const text = await readBody(res, 256 * 1024 * 1024);
    if (res.status === 404 && /no rule groups found/i.test(text)) return new Map();
    if (res.status < 200 || res.status >= 300) throw withRulerHint(statusError('GET', res, text));
    return parseListing(text, res.url);
  }

  /** Every rule group of the tenant, by namespace. */
  async listAll(): Promise<RemoteRules> {
    return this.list(this.path());
  }

  /** The groups of one namespace (empty when it does not exist). */
  async listNamespace(namespace: string): Promise<RuleGroup[]> {
    const m = await this.list(this.path(namespace));
    return m.get(namespace) ?? [...m.values()].flat();
  }

  /** Creates or replaces one group (202 Accepted). */
  async setGroup(namespace: string, group: RuleGroup): Promise<void> {
    const body = stringify(groupDocument(group), { lineWidth: 0 });
    const res = await this.http.request({
      method: 'POST',
      path: this.path(namespace),
      body,
      headers: { 'content-type': 'application/yaml' },
    });
    const text = await readBody(res, 1024 * 1024);
    if (res.status !== 202 && res.status !== 200) {
      const e = statusError('POST', res, text);
      if (res.status === 400) {
        const hint = /unknown function|not enabled/.test(text)
          ? 'the ruler speaks another PromQL version than the rule file: pass --to-version with the Prometheus version Mimir is based on (e.g. 3.8.1) to apply the Prometheus 3 fixes'
          : "fix the group in the rule file (the message is the ruler's own validation), or raise the tenant's ruler limits";
        throw new StackshiftError(
          'ruler',
          `Mimir refused rule group "${group.name}" in namespace "${namespace}": ${text.trim().slice(0, 500)}`,
          { hint, exitCode: 2, cause: e },
        );
      }
      throw withRulerHint(e);
    }
  }

  /** Deletes one group; true when it was there, false when it was already gone. */
  async deleteGroup(namespace: string, group: string): Promise<boolean> {
    const res = await this.http.request({ method: 'DELETE', path: this.path(namespace, group) });
    const text = await readBody(res, 1024 * 1024);
    if (res.status === 404) return false;
    if (res.status !== 202 && res.status !== 200) throw withRulerHint(statusError('DELETE', res, text));
    return true;
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function withRulerHint(e: HttpError): HttpError {
  if (e.status === 401) {
    return new HttpError('status', e.url, `${e.message}`, {
      status: 401,
      body: e.bodyExcerpt,
      headers: e.headers,
      hint: 'Mimir needs a tenant: pass --tenant (sent as X-Scope-OrgID), or check the credentials of the endpoint',
    });
  }
  if (e.status === 404) {
    return new HttpError('status', e.url, e.message, {
      status: 404,
      body: e.bodyExcerpt,
      headers: e.headers,
      hint: 'no ruler API at this path: check --mimir-url and --prefix (default /prometheus), and that the ruler API is enabled (-ruler.enable-api)',
    });
  }
  return e;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? '' : String(x);
  return out;
}

/** A group as the ruler returns it; keys this version does not know are ignored (as the ruler does). */
export function groupFromRemote(v: unknown): RuleGroup {
  if (!isObj(v)) throw new Error('a rule group is not a map');
  const rules: Rule[] = (Array.isArray(v.rules) ? v.rules : []).map((r) => {
    const o = isObj(r) ? r : {};
    return {
      record: optString(o.record),
      alert: optString(o.alert),
      expr: optString(o.expr) ?? '',
      for: optString(o.for),
      keep_firing_for: optString(o.keep_firing_for),
      labels: stringMap(o.labels),
      annotations: stringMap(o.annotations),
    };
  });
  return {
    name: String(v.name ?? ''),
    interval: optString(v.interval),
    query_offset: optString(v.query_offset),
    evaluation_delay: optString(v.evaluation_delay),
    limit: typeof v.limit === 'number' ? v.limit : undefined,
    source_tenants: Array.isArray(v.source_tenants) ? v.source_tenants.map(String) : undefined,
    align_evaluation_time_on_interval: v.align_evaluation_time_on_interval === true ? true : undefined,
    labels: stringMap(v.labels),
    rules,
  };
}

/** `{namespace: [group...]}` (a single group or a list is taken too, under the empty namespace). */
export function parseListing(text: string, url = 'ruler'): RemoteRules {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 1000 });
  } catch (e) {
    throw new HttpError(
      'protocol',
      url,
      `the ruler answered YAML that does not parse: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const out: RemoteRules = new Map();
  if (doc === null || doc === undefined || doc === '') return out;
  if (Array.isArray(doc)) {
    out.set('', doc.map(groupFromRemote));
    return out;
  }
  if (!isObj(doc))
    throw new HttpError('protocol', url, 'the ruler answered something other than a YAML map of namespaces');
  if (typeof doc.name === 'string' && Array.isArray(doc.rules)) {
    out.set('', [groupFromRemote(doc)]);
    return out;
  }
  for (const [ns, groups] of Object.entries(doc)) {
    if (!Array.isArray(groups))
      throw new HttpError('protocol', url, `the ruler answered namespace "${ns}" without a list of groups`);
    out.set(ns, groups.map(groupFromRemote));
  }
  return out;
}
