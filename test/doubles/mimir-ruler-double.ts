import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml, stringify } from 'yaml';
import {
  formatDuration,
  parseDuration,
  parsePromQL,
  REMOVED_FUNCTION_PLACEHOLDERS,
  functionCalls,
} from '../../src/promql/index.js';

/**
 * A contract double of the Mimir ruler's configuration API, for tests only (Mimir is AGPL and not installed
 * here), written from Mimir's documentation (references/http-api, "Ruler": List rule groups, Get rule groups
 * by namespace, Get rule group, Set rule group, Delete rule group, Delete namespace; "Authentication") and
 * the answers of pkg/ruler/api.go:
 *
 * - paths under the Prometheus HTTP prefix (default /prometheus); {namespace} and {groupName} are
 *   percent-encoded path segments ("/" is %2F)
 * - with multi-tenancy on (Mimir's default) every request needs X-Scope-OrgID, else 401 "no org id";
 *   with it off the tenant is "anonymous"
 * - GET <prefix>/config/v1/rules and .../{namespace}: YAML {namespace: [group, ...]}, 200; no groups: 200 with
 *   `{}` (current Mimir), or 404 "no rule groups found" (earlier Mimir and Cortex; option emptyListing: 404)
 * - GET .../{namespace}/{groupName}: one group as YAML; 404 "group does not exist"
 * - POST .../{namespace}: body one rule group as YAML (Content-Type: application/yaml, as documented; the
 *   double refuses another type); 202 {"status":"success"}. 400 "unable to decode rule group" when it is not
 *   a group; 400 with rulefmt's validation texts ("invalid rules configuration: rule group name must not be
 *   empty", "... has no rules", `group "g", rule 1, "r": one of 'record' or 'alert' must be set`, could not
 *   parse expression, invalid recording rule name, invalid field 'for' in recording rule, ...); 400 when a
 *   tenant limit (rule groups per tenant, rules per group) is passed
 * - DELETE .../{namespace}/{groupName}: 202; 404 "group does not exist"
 * - DELETE .../{namespace}: 202; 404 "group namespace does not exist"
 *
 * Stored groups are returned as Mimir returns them, not as sent: re-serialised from the parsed group
 * (rulespb), so durations come back in Prometheus' shortest form ("300s" -> "5m"), zero durations and empty
 * maps are dropped, label maps are sorted and the YAML layout is the double's. A client that compares texts
 * sees a change on every read; only a client that compares meaning passes.
 *
 * PromQL: Mimir 3 evaluates with the Prometheus 3 engine, so holt_winters is an unknown function there
 * (promql: 2 accepts it, as Mimir 2.x did). Experimental functions are accepted at load time.
 */
export interface MimirRulerDoubleOptions {
  prefix?: string;
  /** -auth.multitenancy-enabled (default true). */
  multitenancy?: boolean;
  /** How an empty listing is answered: 200 {} (current Mimir, default) or 404 "no rule groups found". */
  emptyListing?: 200 | 404;
  /** -ruler.max-rule-groups-per-tenant (0: no limit). */
  maxGroupsPerTenant?: number;
  /** -ruler.max-rules-per-rule-group (0: no limit). */
  maxRulesPerGroup?: number;
  /** PromQL generation of the engine (3: holt_winters is unknown). */
  promql?: 2 | 3;
}

interface StoredRule {
  record?: string;
  alert?: string;
  expr: string;
  forMs: number;
  keepFiringForMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface StoredGroup {
  name: string;
  intervalMs: number;
  queryOffsetMs: number;
  limit: number;
  sourceTenants: string[];
  rules: StoredRule[];
}

export interface MimirRulerDouble {
  url: string;
  /** Every request as "METHOD /path" (path decoded), in order. */
  calls: string[];
  /** Tenant -> namespace -> group names (sorted). */
  snapshot(tenant: string): Record<string, string[]>;
  close(): Promise<void>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Go's http.Error: the text and a newline. */
function httpError(res: ServerResponse, status: number, msg: string): void {
  send(res, status, `${msg}\n`);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class DecodeError extends Error {}

function scalar(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') throw new DecodeError('not a scalar');
  return String(v);
}

function dur(v: unknown): number {
  const s = scalar(v);
  if (s === undefined || s === '') return 0;
  if (s === '0') return 0;
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(s)) throw new DecodeError(`not a valid duration string: "${s}"`);
  return parseDuration(s)!;
}

function strMap(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new DecodeError('not a map');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scalar(x) ?? '';
  return out;
}

/** rulefmt's RuleGroup unmarshal (yaml.v3, not strict: unknown keys are ignored) and Mimir's validation. */
function decodeGroup(
  body: string,
  opts: MimirRulerDoubleOptions,
): { group?: StoredGroup; status?: number; error?: string } {
  let doc: unknown;
  let g: StoredGroup;
  try {
    doc = parseYaml(body);
    if (doc === null || doc === undefined) doc = {};
    if (!isObj(doc)) throw new DecodeError('not a map');
    const rules = doc.rules === undefined || doc.rules === null ? [] : doc.rules;
    if (!Array.isArray(rules)) throw new DecodeError('rules not a list');
    g = {
      name: scalar(doc.name) ?? '',
      intervalMs: dur(doc.interval),
      queryOffsetMs: dur(doc.query_offset ?? doc.evaluation_delay),
      limit: doc.limit === undefined || doc.limit === null ? 0 : Number(doc.limit),
      sourceTenants: Array.isArray(doc.source_tenants) ? doc.source_tenants.map(String) : [],
      rules: rules.map((r): StoredRule => {
        if (!isObj(r)) throw new DecodeError('rule not a map');
        return {
          record: scalar(r.record) || undefined,
          alert: scalar(r.alert) || undefined,
          expr: scalar(r.expr) ?? '',
          forMs: dur(r.for),
          keepFiringForMs: dur(r.keep_firing_for),
          labels: strMap(r.labels),
          annotations: strMap(r.annotations),
        };
      }),
    };
    if (!Number.isInteger(g.limit)) throw new DecodeError('limit');
  } catch {
    return { status: 400, error: 'unable to decode rule group' };
  }
  if (!g.name) return { status: 400, error: 'invalid rules configuration: rule group name must not be empty' };
  if (g.rules.length === 0)
    return { status: 400, error: `invalid rules configuration: rule group '${g.name}' has no rules` };
  if (g.sourceTenants.length)
    return {
      status: 400,
      error: `invalid rules configuration: rule group '${g.name}' is a federated rule group, but rules federation is disabled; please contact your service administrator to have it enabled`,
    };
  const errs: string[] = [];
  g.rules.forEach((r, i) => {
    const name = r.alert ?? r.record ?? '';
    const e = (m: string) => errs.push(`group "${g.name}", rule ${i}, "${name}": ${m}`);
    if (r.record && r.alert) e("only one of 'record' and 'alert' must be set");
    if (!r.record && !r.alert) e("one of 'record' or 'alert' must be set");
    if (!r.expr) e("field 'expr' must be set in rule");
    else {
      const p = parsePromQL(r.expr);
      const removed = opts.promql === 2 ? [] : functionCalls(p).filter((f) => f.name in REMOVED_FUNCTION_PLACEHOLDERS);
      if (removed.length)
        e(
          `could not parse expression: 1:${removed[0]!.nameRange.from + 1}: parse error: unknown function with name "${removed[0]!.name}"`,
        );
      else if (p.errors.length)
        e(`could not parse expression: 1:${p.errors[0]!.from + 1}: parse error: unexpected character or token`);
    }
    if (r.record) {
      if (!METRIC_NAME.test(r.record)) e(`invalid recording rule name: ${r.record}`);
      if (r.forMs) e("invalid field 'for' in recording rule");
      if (r.keepFiringForMs) e("invalid field 'keep_firing_for' in recording rule");
      if (Object.keys(r.annotations).length) e("invalid field 'annotations' in recording rule");
    }
    for (const k of Object.keys(r.labels)) if (!LABEL_NAME.test(k)) e(`invalid label name: ${k}`);
    for (const k of Object.keys(r.annotations)) if (!LABEL_NAME.test(k)) e(`invalid annotation name: ${k}`);
  });
  if (errs.length) return { status: 400, error: errs.join(', ') };
  if (opts.maxRulesPerGroup && g.rules.length > opts.maxRulesPerGroup)
    return {
      status: 400,
      error: `per-user rules per rule group limit (limit: ${opts.maxRulesPerGroup} actual: ${g.rules.length}) exceeded`,
    };
  return { group: g };
}

function sortedMap(m: Record<string, string>): Record<string, string> | undefined {
  const keys = Object.keys(m).sort();
  if (!keys.length) return undefined;
  return Object.fromEntries(keys.map((k) => [k, m[k]!]));
}

/** rulespb.FromProto: what Mimir answers for a stored group. */
function formatted(g: StoredGroup): Record<string, unknown> {
  const out: Record<string, unknown> = { name: g.name };
  if (g.intervalMs) out.interval = formatDuration(g.intervalMs);
  if (g.queryOffsetMs) out.query_offset = formatDuration(g.queryOffsetMs);
  if (g.limit) out.limit = g.limit;
  out.rules = g.rules.map((r) => {
    const o: Record<string, unknown> = {};
    if (r.record) o.record = r.record;
    if (r.alert) o.alert = r.alert;
    o.expr = r.expr;
    if (r.forMs) o.for = formatDuration(r.forMs);
    if (r.keepFiringForMs) o.keep_firing_for = formatDuration(r.keepFiringForMs);
    const l = sortedMap(r.labels);
    if (l) o.labels = l;
    const a = sortedMap(r.annotations);
    if (a) o.annotations = a;
    return o;
  });
  return out;
}

export async function startMimirRulerDouble(options: MimirRulerDoubleOptions = {}): Promise<MimirRulerDouble> {
  const prefix = (options.prefix ?? '/prometheus').replace(/\/+$/, '');
  const multitenancy = options.multitenancy ?? true;
  const store = new Map<string, Map<string, Map<string, StoredGroup>>>();
  const calls: string[] = [];

  const nsOf = (tenant: string) => {
    let t = store.get(tenant);
    if (!t) store.set(tenant, (t = new Map()));
    return t;
  };
  const listing = (res: ServerResponse, tenant: string, only?: string) => {
    const out: Record<string, unknown[]> = {};
    for (const [ns, groups] of [...nsOf(tenant)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (only !== undefined && ns !== only) continue;
      if (!groups.size) continue;
      out[ns] = [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(formatted);
    }
    if (!Object.keys(out).length) {
      if (options.emptyListing === 404) return httpError(res, 404, 'no rule groups found');
      return send(res, 200, '{}\n', 'application/yaml');
    }
    send(res, 200, stringify(out), 'application/yaml');
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = (await readAll(req)).toString('utf8');
      const rawPath = (req.url ?? '/').split('?')[0]!;
      const base = `${prefix}/config/v1/rules`;
      let segs: string[] | undefined;
      if (rawPath === base || rawPath === `${base}/`) segs = [];
      else if (rawPath.startsWith(`${base}/`)) {
        try {
          segs = rawPath
            .slice(base.length + 1)
            .split('/')
            .map(decodeURIComponent);
        } catch {
          segs = undefined;
        }
      }
      calls.push(`${req.method} ${rawPath}`);
      if (!segs || segs.length > 2 || segs.some((s) => s === '')) return httpError(res, 404, '404 page not found');
      let tenant = req.headers['x-scope-orgid'];
      if (!multitenancy) tenant = 'anonymous';
      if (typeof tenant !== 'string' || !tenant) return httpError(res, 401, 'no org id');
      const [ns, group] = segs;
      const m = req.method;
      if (m === 'GET') {
        if (group === undefined) return listing(res, tenant, ns);
        const g = nsOf(tenant).get(ns!)?.get(group);
        if (!g) return httpError(res, 404, 'group does not exist');
        return send(res, 200, stringify(formatted(g)), 'application/yaml');
      }
      if (m === 'POST' && ns !== undefined && group === undefined) {
        const type = String(req.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        if (type !== 'application/yaml' && type !== 'application/x-yaml' && type !== 'text/yaml')
          return httpError(res, 400, 'unable to decode rule group');
        const d = decodeGroup(body, options);
        if (!d.group) return httpError(res, d.status!, d.error!);
        const groups = nsOf(tenant);
        const total = [...groups.values()].reduce((n, g) => n + g.size, 0);
        const exists = groups.get(ns)?.has(d.group.name);
        if (options.maxGroupsPerTenant && !exists && total + 1 > options.maxGroupsPerTenant)
          return httpError(
            res,
            400,
            `per-user rule groups limit (limit: ${options.maxGroupsPerTenant} actual: ${total + 1}) exceeded`,
          );
        if (!groups.has(ns)) groups.set(ns, new Map());
        groups.get(ns)!.set(d.group.name, d.group);
        return send(
          res,
          202,
          JSON.stringify({ status: 'success', data: null, errorType: '', error: '' }),
          'application/json',
        );
      }
      if (m === 'DELETE' && ns !== undefined) {
        const groups = nsOf(tenant);
        if (group === undefined) {
          if (!groups.get(ns)?.size) return httpError(res, 404, 'group namespace does not exist');
          groups.delete(ns);
        } else {
          if (!groups.get(ns)?.delete(group)) return httpError(res, 404, 'group does not exist');
          if (!groups.get(ns)!.size) groups.delete(ns);
        }
        return send(
          res,
          202,
          JSON.stringify({ status: 'success', data: null, errorType: '', error: '' }),
          'application/json',
        );
      }
      return httpError(res, 405, 'Method Not Allowed');
    })().catch((e) => send(res, 500, String(e)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    snapshot(tenant) {
      const out: Record<string, string[]> = {};
      for (const [ns, groups] of nsOf(tenant)) if (groups.size) out[ns] = [...groups.keys()].sort();
      return out;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
