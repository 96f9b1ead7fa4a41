import type { TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { GrafanaClient } from '../../src/clients/index.js';
import { endpointFromUrl, type ResolvedEndpoint } from '../../src/config/index.js';
import { GrafanaDouble } from '../doubles/grafana-double.js';

/**
 * The Grafana a test talks to: the contract double by default, or a real Grafana when
 * STACKSHIFT_TEST_GRAFANA_URL is set (with STACKSHIFT_TEST_GRAFANA_TOKEN, a service-account token with
 * Admin role, or STACKSHIFT_TEST_GRAFANA_USER / _PASSWORD). Everything is seeded through the HTTP API, so
 * the same test code runs against both; against a real Grafana use a throwaway instance: the tests create
 * (and delete again) datasources with the uids prometheus, mimir, loki and tempo, and make Prometheus the
 * default datasource.
 */
export interface GrafanaUnderTest {
  url: string;
  endpoint: ResolvedEndpoint;
  client: GrafanaClient;
  double?: GrafanaDouble;
  real: boolean;
  /** Unique per test: prefixes uids and titles so runs against a shared Grafana do not collide. */
  id: string;
  seed: Seeder;
  /** An endpoint with wrong credentials, for 401 tests. */
  badEndpoint: ResolvedEndpoint;
}

export const REAL_GRAFANA = process.env.STACKSHIFT_TEST_GRAFANA_URL;

function realEndpoint(url: string, extra: Partial<ResolvedEndpoint> = {}): ResolvedEndpoint {
  const token = process.env.STACKSHIFT_TEST_GRAFANA_TOKEN;
  const user = process.env.STACKSHIFT_TEST_GRAFANA_USER;
  const auth: ResolvedEndpoint['auth'] = token
    ? { kind: 'bearer', token }
    : user
      ? { kind: 'basic', username: user, password: process.env.STACKSHIFT_TEST_GRAFANA_PASSWORD ?? '' }
      : { kind: 'none' };
  return endpointFromUrl(url, 'grafana', { auth, retries: 1, ...extra });
}

export async function grafanaUnderTest(
  t: TestContext,
  opts: { version?: string; orgId?: number } = {},
): Promise<GrafanaUnderTest> {
  const id = `ss${randomBytes(3).toString('hex')}`;
  let double: GrafanaDouble | undefined;
  let endpoint: ResolvedEndpoint;
  if (REAL_GRAFANA) {
    endpoint = realEndpoint(REAL_GRAFANA);
  } else {
    double = new GrafanaDouble({ version: opts.version, orgId: opts.orgId });
    await double.start();
    endpoint = endpointFromUrl(double.url, 'grafana', { auth: { kind: 'bearer', token: double.token }, retries: 1 });
  }
  const client = new GrafanaClient(endpoint);
  const seed = new Seeder(client, id);
  // One hook, in this order: node:test runs after-hooks first-registered first.
  t.after(async () => {
    await seed.cleanup();
    await client.close();
    await double?.stop();
  });
  const badEndpoint = { ...endpoint, auth: { kind: 'bearer' as const, token: 'glsa_wrong_token_for_the_401_test' } };
  return { url: endpoint.url, endpoint, client, double, real: Boolean(REAL_GRAFANA), id, seed, badEndpoint };
}

/** Creates test data through the public API and removes what it created afterwards. */
export class Seeder {
  private dashboards: string[] = [];
  private folders: string[] = [];
  private datasources: string[] = [];
  private library: string[] = [];

  constructor(
    private readonly client: GrafanaClient,
    private readonly id: string,
  ) {}

  /** Creates the datasource unless one with that uid exists (a real Grafana may keep them between tests). */
  async datasource(ds: {
    uid: string;
    name: string;
    type: string;
    isDefault?: boolean;
    url?: string;
    jsonData?: Record<string, unknown>;
  }): Promise<void> {
    if (await this.client.datasource(ds.uid)) return;
    await this.client.json('POST', '/api/datasources', {
      body: { access: 'proxy', url: ds.url ?? `http://${ds.uid}.invalid`, ...ds },
    });
    this.datasources.push(ds.uid);
  }

  async standardDatasources(
    list: Array<{ uid: string; name: string; type: string; isDefault?: boolean; jsonData?: Record<string, unknown> }>,
  ): Promise<void> {
    for (const ds of list) await this.datasource(ds);
  }

  async folder(uid: string, title: string, parentUid?: string): Promise<string> {
    const full = `${this.id}-${uid}`;
    await this.client.json('POST', '/api/folders', {
      body: { uid: full, title: `${title} ${this.id}`, ...(parentUid ? { parentUid } : {}) },
    });
    this.folders.unshift(full);
    return full;
  }

  /** Saves a dashboard as new; returns its uid (prefixed) and version. */
  async dashboard(d: Record<string, unknown>, folderUid = ''): Promise<{ uid: string; version: number }> {
    const uid = `${this.id}-${String(d.uid)}`.slice(0, 40);
    const dashboard = { ...d, id: null, uid, title: `${String(d.title)} ${this.id}` };
    delete (dashboard as Record<string, unknown>).version;
    const { data } = await this.client.json<{ uid: string; version: number }>('POST', '/api/dashboards/db', {
      body: { dashboard, folderUid, overwrite: false, message: 'seeded by stackshift tests' },
    });
    this.dashboards.push(uid);
    return { uid, version: data.version };
  }

  /** A dashboard created some other way, to delete afterwards. */
  track(uid: string): void {
    this.dashboards.push(uid);
  }

  async libraryElement(uid: string, name: string, model: Record<string, unknown>, folderUid = ''): Promise<string> {
    const full = `${this.id}-${uid}`.slice(0, 40);
    await this.client.json('POST', '/api/library-elements', {
      body: { uid: full, name: `${name} ${this.id}`, kind: 1, model, folderUid },
    });
    this.library.push(full);
    return full;
  }

  async cleanup(): Promise<void> {
    for (const uid of this.dashboards) await this.client.deleteDashboard(uid).catch(() => undefined);
    for (const uid of this.library)
      await this.client.json('DELETE', `/api/library-elements/${uid}`, { accept: [404] }).catch(() => undefined);
    for (const uid of this.folders) await this.client.deleteFolder(uid).catch(() => undefined);
    for (const uid of this.datasources)
      await this.client.json('DELETE', `/api/datasources/uid/${uid}`, { accept: [404] }).catch(() => undefined);
  }
}
