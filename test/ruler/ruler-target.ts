import type { TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import {
  startMimirRulerDouble,
  type MimirRulerDouble,
  type MimirRulerDoubleOptions,
} from '../doubles/mimir-ruler-double.js';

/**
 * The ruler a test talks to: the contract double by default, or a real Mimir when STACKSHIFT_TEST_MIMIR_URL
 * is set (tenant STACKSHIFT_TEST_MIMIR_TENANT, default "stackshift-test"; the ruler API must be enabled and
 * the ruler storage writable). In both cases stackshift goes through a loopback proxy that records every
 * request, so "a second sync changes nothing" is measured the same way on both. Every test uses namespaces
 * that start with its own id and deletes them afterwards.
 */
export const REAL_MIMIR = process.env.STACKSHIFT_TEST_MIMIR_URL?.replace(/\/+$/, '');
export const REAL_TENANT = process.env.STACKSHIFT_TEST_MIMIR_TENANT ?? 'stackshift-test';

export interface RulerUnderTest {
  /** The proxy: what stackshift is pointed at. */
  url: string;
  /** The ruler itself (seeding, edits "on the Mimir side", read-back). */
  direct: string;
  tenant: string;
  id: string;
  real: boolean;
  double?: MimirRulerDouble;
  /** Requests that went through the proxy, as "METHOD /path". */
  calls: string[];
  /** Calls that change something (POST, PUT, DELETE). */
  writes(): string[];
  /** GET <prefix>/config/v1/rules[/ns] on the ruler: status and body. */
  get(path?: string): Promise<{ status: number; text: string }>;
  /** POST a group YAML to a namespace directly (an edit made in Mimir, not by stackshift). */
  post(namespace: string, yaml: string): Promise<number>;
}

async function call(
  base: string,
  method: string,
  path: string,
  tenant: string | undefined,
  body?: string,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (tenant) headers['X-Scope-OrgID'] = tenant;
  if (body !== undefined) headers['Content-Type'] = 'application/yaml';
  const res = await fetch(`${base}${path}`, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

function startProxy(target: string, calls: string[]): Promise<Server> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const up = httpRequest(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: `${t.pathname.replace(/\/+$/, '')}${req.url}`,
        headers: { ...req.headers, host: t.host },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

export async function rulerUnderTest(t: TestContext, opts: MimirRulerDoubleOptions = {}): Promise<RulerUnderTest> {
  const id = `ss${randomBytes(3).toString('hex')}`;
  let double: MimirRulerDouble | undefined;
  let direct: string;
  if (REAL_MIMIR) direct = REAL_MIMIR;
  else {
    double = await startMimirRulerDouble(opts);
    direct = double.url;
  }
  const tenant = REAL_MIMIR ? REAL_TENANT : 'team-a';
  const calls: string[] = [];
  const proxy = await startProxy(direct, calls);
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const prefix = opts.prefix ?? '/prometheus';
  t.after(async () => {
    if (REAL_MIMIR) {
      const all = await call(direct, 'GET', `${prefix}/config/v1/rules`, tenant);
      const doc = all.status === 200 ? (parseYaml(all.text) as Record<string, unknown> | null) : null;
      for (const ns of Object.keys(doc ?? {})) {
        if (ns.startsWith(id))
          await call(direct, 'DELETE', `${prefix}/config/v1/rules/${encodeURIComponent(ns)}`, tenant);
      }
    }
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
    await double?.close();
  });
  return {
    url,
    direct,
    tenant,
    id,
    real: Boolean(REAL_MIMIR),
    double,
    calls,
    writes: () => calls.filter((c) => !/^(GET|HEAD) /.test(c)),
    get: (path = '') => call(direct, 'GET', `${prefix}/config/v1/rules${path}`, tenant),
    post: async (namespace, yaml) =>
      (await call(direct, 'POST', `${prefix}/config/v1/rules/${encodeURIComponent(namespace)}`, tenant, yaml)).status,
  };
}
