// Why one file of about 510 lines: one HTTP client for Grafana's API (dashboards, folders, library panels,
// datasources) with one error mapping from Grafana's status texts; the types are Grafana's own and sit beside the
// calls that return them.
import { StackshiftError } from '../errors/index.js';
import { HttpClient, HttpError, type Query } from '../http/index.js';
import type { ResolvedEndpoint } from '../config/index.js';

/** GET /api/health. */
export interface GrafanaHealth {
  database?: string;
  version?: string;
  commit?: string;
}

/** One hit of GET /api/search. */
export interface GrafanaSearchHit {
  id?: number;
  uid: string;
  title: string;
  type: 'dash-db' | 'dash-folder' | string;
  url?: string;
  tags?: string[];
  folderUid?: string;
  folderTitle?: string;
  [key: string]: unknown;
}

export interface GrafanaFolder {
  uid: string;
  title: string;
  parentUid?: string;
  [key: string]: unknown;
}

/** `meta` of GET /api/dashboards/uid/:uid (pkg/api/dtos/dashboard.go, DashboardMeta). */
export interface GrafanaDashboardMeta {
  version?: number;
  folderUid?: string;
  folderTitle?: string;
  provisioned?: boolean;
  provisionedExternalId?: string;
  canSave?: boolean;
  slug?: string;
  url?: string;
  [key: string]: unknown;
}

export interface GrafanaDashboardEnvelope {
  dashboard: Record<string, unknown>;
  meta: GrafanaDashboardMeta;
}

export interface SaveDashboardRequest {
  dashboard: Record<string, unknown>;
  /** Omitting it moves the dashboard to the root: always pass the folder it was read from. */
  folderUid?: string;
  /** Shown in the dashboard's version history; Grafana rejects more than 500 characters. */
  message?: string;
  overwrite?: boolean;
}

export interface SaveDashboardResult {
  id?: number;
  uid: string;
  url?: string;
  status?: string;
  version: number;
}

/** A library element as GET /api/library-elements/:uid returns it in `result`. */
export interface GrafanaLibraryElement {
  uid: string;
  name: string;
  kind: number;
  model: Record<string, unknown>;
  folderUid?: string;
  version: number;
  [key: string]: unknown;
}

/**
 * A save Grafana refused for a reason the caller handles per dashboard: 412 version-mismatch (someone saved
 * since we read it), 412 name-exists, 400 provisioned ("Cannot save provisioned dashboard").
 */
export class GrafanaSaveError extends StackshiftError {
  readonly status: number;
  readonly reason: 'version-mismatch' | 'name-exists' | 'plugin-dashboard' | 'provisioned' | 'other';
  constructor(status: number, reason: GrafanaSaveError['reason'], message: string, hint: string) {
    super(`grafana-${reason}`, message, { hint, exitCode: 1 });
    this.name = 'GrafanaSaveError';
    this.status = status;
    this.reason = reason;
  }
}

/**
 * Grafana 12+ refuses to serve a dashboard stored in the V2 schema through /api: GET
 * /api/dashboards/uid/:uid answers 406 "dashboard api version not supported, use /apis/dashboard.grafana.app/
 * <version>/namespaces/<ns>/dashboards/<uid> instead" (pkg/api/dashboard.go, GetDashboard). Not a failure
 * of the run: that dashboard is refused with the way out, the others go on.
 */
export class GrafanaV2DashboardError extends StackshiftError {
  /** Where Grafana serves it instead (from its message), when it said so. */
  readonly apisPath?: string;
  constructor(
    readonly uid: string,
    message: string,
  ) {
    const apisPath = /\/apis\/dashboard\.grafana\.app\/[^\s]+/.exec(message)?.[0];
    super(
      'grafana-v2-dashboard',
      `dashboard ${uid} is stored in Grafana's V2 schema; /api refuses it (HTTP 406: ${message})`,
      {
        hint: `stackshift does not rewrite V2 dashboards: change its datasource in Grafana (Edit > Settings > JSON Model)${apisPath ? ` or through ${apisPath}` : ''}`,
        exitCode: 1,
      },
    );
    this.name = 'GrafanaV2DashboardError';
    this.apisPath = apisPath;
  }
}

/** The answer to a datasource write: done, or refused with Grafana's status and message. */
export type DatasourceWrite =
  { ok: true; status: number; datasource?: Record<string, unknown> } | { ok: false; status: number; message: string };

/** Grafana's search and folder listings page at 1000 by default and refuse more than 5000 (HTTP 422). */
export const GRAFANA_MAX_PAGE = 5000;

/** Listings read again at most this often while dashboards keep appearing between pages. */
const SEARCH_MAX_PASSES = 4;

/**
 * Grafana's HTTP API (the /api endpoints, plus the /apis dashboard resource of Grafana 12+ to tell how a
 * dashboard is stored). Auth comes from the endpoint: a service-account token as bearer, or basic auth.
 */
export class GrafanaClient {
  readonly http: HttpClient;

  constructor(endpointOrClient: ResolvedEndpoint | HttpClient) {
    this.http =
      endpointOrClient instanceof HttpClient ? endpointOrClient : new HttpClient(endpointOrClient, { connections: 8 });
  }

  get url(): string {
    return this.http.endpoint.url;
  }

  /** JSON request; non-2xx statuses outside `accept` become HttpError with the server's message. */
  async json<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { query?: Query; body?: unknown; accept?: number[] } = {},
  ): Promise<{ status: number; data: T }> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const res = await this.http
      .text({
        method,
        path,
        query: opts.query,
        body,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        accept: (s) => (s >= 200 && s < 300) || (opts.accept ?? []).includes(s),
      })
      .catch((e: unknown) => {
        throw e instanceof HttpError && e.status === 401 ? authError(this.url, e) : e;
      });
    let data: T;
    try {
      data = (res.text === '' ? undefined : JSON.parse(res.text)) as T;
    } catch {
      throw new HttpError(
        'protocol',
        `${this.url}${path}`,
        `${method} ${this.url}${path}: HTTP ${res.status} with a body that is not JSON ("${res.text.replace(/\s+/g, ' ').slice(0, 80)}")`,
        {
          status: res.status,
          hint: 'check that the URL points at Grafana (including any sub-path it is served under)',
        },
      );
    }
    return { status: res.status, data };
  }

  async health(): Promise<GrafanaHealth> {
    return (await this.json<GrafanaHealth>('GET', '/api/health')).data ?? {};
  }

  /** The org of the credentials (GET /api/org): decides the /apis namespace. */
  async currentOrg(): Promise<{ id: number; name: string }> {
    return (await this.json<{ id: number; name: string }>('GET', '/api/org')).data;
  }

  async datasources(): Promise<Array<Record<string, unknown> & { uid: string; name: string; type: string }>> {
    const { data } = await this.json<unknown>('GET', '/api/datasources');
    if (!Array.isArray(data))
      throw new HttpError(
        'protocol',
        `${this.url}/api/datasources`,
        `GET ${this.url}/api/datasources did not return a list`,
        { hint: 'check that the URL points at Grafana' },
      );
    return data as Array<Record<string, unknown> & { uid: string; name: string; type: string }>;
  }

  async datasource(uid: string): Promise<Record<string, unknown> | undefined> {
    const { status, data } = await this.json<Record<string, unknown>>(
      'GET',
      `/api/datasources/uid/${encodeURIComponent(uid)}`,
      { accept: [404] },
    );
    return status === 404 ? undefined : data;
  }

  async updateDatasource(uid: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (
      await this.json<Record<string, unknown>>('PUT', `/api/datasources/uid/${encodeURIComponent(uid)}`, { body })
    ).data;
  }

  /**
   * POST /api/datasources. A refusal Grafana explains (400 validation, 403 read-only or permissions, 409 a
   * name or uid already taken) comes back as `refused` with its message; the caller decides per datasource.
   */
  async createDatasource(body: Record<string, unknown>): Promise<DatasourceWrite> {
    return this.writeDatasource('POST', '/api/datasources', body);
  }

  /**
   * PUT /api/datasources/uid/:uid. The body replaces the datasource (what it leaves out is reset), so pass
   * the whole object; with the `version` that was read, a change made since is refused (409), not clobbered.
   */
  async putDatasource(uid: string, body: Record<string, unknown>): Promise<DatasourceWrite> {
    return this.writeDatasource('PUT', `/api/datasources/uid/${encodeURIComponent(uid)}`, body);
  }

  /** DELETE /api/datasources/uid/:uid; false when it was already gone (404). Read-only ones answer 403. */
  async deleteDatasource(uid: string): Promise<DatasourceWrite | 'gone'> {
    const { status, data } = await this.json<{ message?: string }>(
      'DELETE',
      `/api/datasources/uid/${encodeURIComponent(uid)}`,
      { accept: [403, 404, 409] },
    );
    if (status === 404) return 'gone';
    return status >= 200 && status < 300
      ? { ok: true, status }
      : { ok: false, status, message: String(data?.message ?? `HTTP ${status}`) };
  }

  private async writeDatasource(method: 'POST' | 'PUT', path: string, body: unknown): Promise<DatasourceWrite> {
    const { status, data } = await this.json<{ message?: string; datasource?: Record<string, unknown> }>(method, path, {
      body,
      accept: [400, 403, 404, 409],
    });
    if (status >= 200 && status < 300) return { ok: true, status, datasource: data?.datasource };
    return { ok: false, status, message: String(data?.message ?? `HTTP ${status}`) };
  }

  /** One page of GET /api/search; `page` starts at 1. */
  async search(q: {
    type?: 'dash-db' | 'dash-folder';
    query?: string;
    tag?: string[];
    folderUIDs?: string[];
    dashboardUIDs?: string[];
    limit?: number;
    page?: number;
  }): Promise<GrafanaSearchHit[]> {
    const { data } = await this.json<GrafanaSearchHit[]>('GET', '/api/search', {
      query: {
        type: q.type,
        query: q.query,
        tag: q.tag,
        folderUIDs: q.folderUIDs,
        dashboardUIDs: q.dashboardUIDs,
        limit: q.limit,
        page: q.page,
      },
    });
    if (!Array.isArray(data))
      throw new HttpError('protocol', `${this.url}/api/search`, `GET ${this.url}/api/search did not return a list`, {
        hint: 'check that the URL points at Grafana',
      });
    return data;
  }

  /**
   * Every hit, page after page, until a short page; never asks for more than Grafana's maximum page.
   * Search pages by offset, so a dashboard deleted between two pages shifts the next page left and one
   * hit would be skipped (one created shifts it right: a repeat, dropped by uid). One page (the default
   * 5000 holds most instances) is one consistent answer; when it took more, the listing is read again
   * until a pass finds nothing new, so a hit that shifted is never missed.
   */
  async *searchAll(q: Omit<Parameters<GrafanaClient['search']>[0], 'page'> = {}): AsyncGenerator<GrafanaSearchHit> {
    const limit = Math.min(q.limit ?? GRAFANA_MAX_PAGE, GRAFANA_MAX_PAGE);
    const seen = new Set<string>();
    for (let pass = 1; pass <= SEARCH_MAX_PASSES; pass++) {
      let fresh = 0;
      let pages = 0;
      let previous = '';
      for (let page = 1; ; page++) {
        const hits = await this.search({ ...q, limit, page });
        pages++;
        // A server that ignores `page` repeats the same page: stop instead of looping forever.
        const key = hits.map((h) => `${h.type}/${h.uid}`).join(',');
        if (page > 1 && key === previous) break;
        previous = key;
        for (const h of hits) {
          if (seen.has(`${h.type}/${h.uid}`)) continue;
          seen.add(`${h.type}/${h.uid}`);
          fresh++;
          yield h;
        }
        if (hits.length < limit) break;
      }
      if (pages === 1 || (pass > 1 && fresh === 0)) return;
    }
  }

  /**
   * Every folder with its parent. Search lists all folders, nested ones included, flat; `folderUid` on a
   * folder hit is its parent. Folders search does not return (older servers) are completed from GET
   * /api/folders/:uid, which carries parentUid.
   */
  async folders(): Promise<GrafanaFolder[]> {
    const out: GrafanaFolder[] = [];
    for await (const h of this.searchAll({ type: 'dash-folder' })) {
      out.push({ uid: h.uid, title: h.title, ...(h.folderUid ? { parentUid: h.folderUid } : {}) });
    }
    return out;
  }

  async folder(uid: string): Promise<GrafanaFolder | undefined> {
    const { status, data } = await this.json<GrafanaFolder>('GET', `/api/folders/${encodeURIComponent(uid)}`, {
      accept: [404],
    });
    return status === 404 ? undefined : data;
  }

  /** Creates a folder; an existing uid (409) is not an error. */
  async ensureFolder(f: GrafanaFolder): Promise<'created' | 'exists'> {
    const { status } = await this.json('POST', '/api/folders', {
      body: { uid: f.uid, title: f.title, ...(f.parentUid ? { parentUid: f.parentUid } : {}) },
      accept: [409, 412],
    });
    return status === 409 || status === 412 ? 'exists' : 'created';
  }

  async deleteFolder(uid: string): Promise<void> {
    await this.json('DELETE', `/api/folders/${encodeURIComponent(uid)}`, { accept: [404] });
  }

  /**
   * GET /api/dashboards/uid/:uid; undefined when it does not exist. A V2-stored dashboard (406 on Grafana
   * 12+) throws GrafanaV2DashboardError, which callers report as refused.
   */
  async dashboard(uid: string): Promise<GrafanaDashboardEnvelope | undefined> {
    const { status, data } = await this.json<GrafanaDashboardEnvelope & { message?: string }>(
      'GET',
      `/api/dashboards/uid/${encodeURIComponent(uid)}`,
      { accept: [404, 406] },
    );
    if (status === 404) return undefined;
    if (status === 406) throw new GrafanaV2DashboardError(uid, String(data?.message ?? 'not acceptable'));
    if (!data || typeof data.dashboard !== 'object') {
      throw new HttpError(
        'protocol',
        `${this.url}/api/dashboards/uid/${uid}`,
        `GET /api/dashboards/uid/${uid} returned no dashboard`,
        { hint: 'check that the URL points at Grafana' },
      );
    }
    return { dashboard: data.dashboard, meta: data.meta ?? {} };
  }

  /**
   * POST /api/dashboards/db. With overwrite false and the version that was read, Grafana refuses the save
   * when anyone saved in between (412 version-mismatch): a concurrent edit is reported, never clobbered.
   */
  async saveDashboard(req: SaveDashboardRequest): Promise<SaveDashboardResult> {
    const uid = String(req.dashboard.uid ?? '');
    const body = {
      dashboard: req.dashboard,
      folderUid: req.folderUid ?? '',
      message: req.message?.slice(0, 500),
      overwrite: req.overwrite ?? false,
    };
    const { status, data } = await this.json<SaveDashboardResult & { message?: string; status?: string }>(
      'POST',
      '/api/dashboards/db',
      { body, accept: [400, 412] },
    );
    if (status === 412) {
      const reason =
        data?.status === 'name-exists'
          ? 'name-exists'
          : data?.status === 'plugin-dashboard'
            ? 'plugin-dashboard'
            : 'version-mismatch';
      const hint =
        reason === 'version-mismatch'
          ? 'someone saved this dashboard after it was read; nothing was overwritten. Run the command again to migrate the new version'
          : reason === 'name-exists'
            ? 'another dashboard in that folder has the same title'
            : 'a plugin dashboard can only be changed by its plugin';
      throw new GrafanaSaveError(
        412,
        reason,
        `dashboard ${uid}: Grafana refused the save (HTTP 412 ${data?.status ?? ''}: ${data?.message ?? 'precondition failed'})`,
        hint,
      );
    }
    if (status === 400) {
      const msg = data?.message ?? 'bad request';
      if (/provisioned/i.test(msg)) {
        throw new GrafanaSaveError(
          400,
          'provisioned',
          `dashboard ${uid} is provisioned: ${msg}`,
          'change the provisioning file instead (stackshift dashboards migrate --in <provisioning dir>)',
        );
      }
      throw new GrafanaSaveError(
        400,
        'other',
        `dashboard ${uid}: Grafana refused the save (HTTP 400: ${msg})`,
        'see the message from Grafana',
      );
    }
    return data;
  }

  async deleteDashboard(uid: string): Promise<void> {
    await this.json('DELETE', `/api/dashboards/uid/${encodeURIComponent(uid)}`, { accept: [404] });
  }

  /**
   * The Kubernetes-style resource of a dashboard (Grafana 12+): `status.conversion.storedVersion` says
   * whether it is stored as V2, which the legacy API would silently down-convert. undefined on servers
   * without /apis (404) or when the dashboard is not there.
   */
  async dashboardResource(
    namespace: string,
    uid: string,
    version = 'v1beta1',
  ): Promise<Record<string, unknown> | undefined> {
    const { status, data } = await this.json<Record<string, unknown>>(
      'GET',
      `/apis/dashboard.grafana.app/${version}/namespaces/${encodeURIComponent(namespace)}/dashboards/${encodeURIComponent(uid)}`,
      { accept: [404, 403, 405] },
    );
    return status === 200 ? data : undefined;
  }

  /** Every library element (panels, kind 1), page after page. */
  async *libraryElements(perPage = 100): AsyncGenerator<GrafanaLibraryElement> {
    for (let page = 1; ; page++) {
      const { data } = await this.json<{
        result: { totalCount: number; elements: GrafanaLibraryElement[]; perPage: number; page: number };
      }>('GET', '/api/library-elements', { query: { kind: 1, perPage, page } });
      const els = data?.result?.elements ?? [];
      for (const e of els) yield e;
      if (els.length < perPage || page * perPage >= (data?.result?.totalCount ?? 0)) return;
    }
  }

  async libraryElement(uid: string): Promise<GrafanaLibraryElement | undefined> {
    const { status, data } = await this.json<{ result: GrafanaLibraryElement }>(
      'GET',
      `/api/library-elements/${encodeURIComponent(uid)}`,
      { accept: [404] },
    );
    return status === 404 ? undefined : data.result;
  }

  /** PATCH with the version that was read: 412 when it changed since. */
  async patchLibraryElement(el: {
    uid: string;
    name: string;
    kind: number;
    model: Record<string, unknown>;
    folderUid?: string;
    version: number;
  }): Promise<GrafanaLibraryElement> {
    const { status, data } = await this.json<{ result: GrafanaLibraryElement; message?: string }>(
      'PATCH',
      `/api/library-elements/${encodeURIComponent(el.uid)}`,
      {
        body: { name: el.name, kind: el.kind, model: el.model, folderUid: el.folderUid, version: el.version },
        accept: [412],
      },
    );
    if (status === 412) {
      throw new GrafanaSaveError(
        412,
        'version-mismatch',
        `library panel ${el.uid}: Grafana refused the update (HTTP 412: ${data?.message ?? 'version mismatch'})`,
        'someone changed this library panel after it was read; nothing was overwritten. Run the command again',
      );
    }
    return data.result;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

function authError(url: string, e: HttpError): HttpError {
  return new HttpError('status', e.url, `Grafana at ${url} rejected the credentials (HTTP 401)`, {
    status: 401,
    hint: 'pass a service-account token (--grafana-bearer-token-env VAR or --grafana-bearer-token-file) or basic auth (--grafana-basic-auth-user with a password file or env var)',
  });
}
