import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A contract double of the Grafana HTTP API, for tests only (Grafana cannot be installed here). It follows
 * Grafana's documented endpoints and status codes (docs/sources/developers/http_api/{dashboard,folder,
 * data_source,library_element,folder_dashboard_search}.md; save semantics of pkg/services/dashboards):
 *
 * - auth: bearer token or basic auth, else 401 {"message":"Unauthorized"}; /api/health is public
 * - GET /api/search: type, query, tag, folderUIDs, dashboardUIDs, limit (default 1000, above 5000: 422
 *   "Limit is above maximum allowed (5000), use page parameter"), page from 1; hits sorted by title
 * - GET/POST/DELETE dashboards: save with a stale version and overwrite:false -> 412 version-mismatch,
 *   checked before provisioned -> 400 "Cannot save provisioned dashboard"; same title in the folder -> 412
 *   name-exists; unknown folderUid -> 400 "folder not found"; unknown uid -> 404; every save bumps the version
 * - folders (nested, parentUid), library elements (PATCH with a stale version -> 412), GET /api/org
 * - datasources (pkg/api/datasources.go): POST 409 "data source with the same name already exists" / "... same
 *   uid ..."; PUT replaces the whole object (UpdateDataSourceCommand: what the body leaves out is reset,
 *   name/type/access are binding:"Required" -> 400 "bad request data"); a stale version -> 409 "Datasource has
 *   already been updated by someone else. Please reload and try again"; another's name -> 409 "Failed to update
 *   datasource: data source with the same name already exists"; read-only -> 403 "Cannot update read-only data
 *   source" (DELETE: "Cannot delete read-only data source"); unknown uid -> 404 "Data source not found"; a URL
 *   that does not parse -> 400 "Validation error, invalid URL"; isDefault on one clears it on the others;
 *   secureJsonData values are kept write-only (only secureJsonFields come back)
 * - Grafana 12+ only (version option): /apis/dashboard.grafana.app/<v>/namespaces/<ns>/dashboards with
 *   status.conversion.storedVersion; <ns> is "default" for org 1 and "org-<id>" for any other (orgId option);
 *   GET /api/dashboards/uid/:uid of a V2-stored dashboard -> 406 "dashboard api version not supported, use
 *   /apis/dashboard.grafana.app/<stored version>/namespaces/<ns>/dashboards/<uid> instead" (pkg/api/dashboard.go)
 *
 * Only what cannot be done through the API (provisioning a dashboard) has a test hook: provision().
 */
export interface GrafanaDoubleOptions {
  token?: string;
  basic?: { user: string; password: string };
  /** Reported by /api/health; 12 and later also serve /apis. */
  version?: string;
  /** The org of the credentials (GET /api/org); decides the /apis namespace. */
  orgId?: number;
}

interface StoredDashboard {
  data: Record<string, unknown>;
  id: number;
  version: number;
  folderUid: string;
  provisioned: boolean;
  provisionedExternalId?: string;
  created: string;
  updated: string;
  storedVersion: string;
  /** V2 spec when stored as V2. */
  v2?: Record<string, unknown>;
  messages: string[];
}

interface Folder {
  id: number;
  uid: string;
  title: string;
  parentUid?: string;
  version: number;
}

type Json = Record<string, unknown>;

export class GrafanaDouble {
  readonly token: string;
  readonly basic?: { user: string; password: string };
  readonly version: string;
  readonly orgId: number;
  url = '';
  /** Every request as "METHOD /path?query", for tests that check paging or that nothing was written. */
  readonly requests: string[] = [];
  private server?: Server;
  private nextId = 100;
  readonly dashboards = new Map<string, StoredDashboard>();
  readonly folders = new Map<string, Folder>();
  readonly datasources = new Map<string, Json>();
  readonly libraryElements = new Map<string, Json>();

  constructor(opts: GrafanaDoubleOptions = {}) {
    this.token = opts.token ?? 'glsa_double_token_0123456789';
    this.basic = opts.basic;
    this.version = opts.version ?? '11.6.0';
    this.orgId = opts.orgId ?? 1;
  }

  /** The /apis namespace of the org (Grafana's namespacer: "default" for org 1, "org-<id>" otherwise). */
  get namespace(): string {
    return this.orgId === 1 ? 'default' : `org-${this.orgId}`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => send(res, 500, { message: String((e as Error)?.message ?? e) }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  /** Test hook: a dashboard that provisioning created (the API cannot create one). */
  provision(dashboard: Json, opts: { folderUid?: string; externalId?: string } = {}): void {
    const now = new Date().toISOString();
    const uid = String(dashboard.uid);
    this.dashboards.set(uid, {
      data: { ...dashboard },
      id: this.nextId++,
      version: 1,
      folderUid: opts.folderUid ?? '',
      provisioned: true,
      provisionedExternalId: opts.externalId ?? `${uid}.json`,
      created: now,
      updated: now,
      storedVersion: 'v1beta1',
      messages: [],
    });
  }

  private get major(): number {
    return Number.parseInt(this.version, 10);
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (h === `Bearer ${this.token}`) return true;
    if (this.basic && h === `Basic ${Buffer.from(`${this.basic.user}:${this.basic.password}`).toString('base64')}`)
      return true;
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const p = url.pathname.replace(/\/+$/, '');
    if (p === '/api/health') return send(res, 200, { commit: 'double', database: 'ok', version: this.version });
    if (!this.authorized(req)) return send(res, 401, { message: 'Unauthorized' });
    const body = method === 'GET' || method === 'DELETE' ? undefined : await readJson(req);
    if (body === null) return send(res, 400, { message: 'bad request data' });
    let m: RegExpExecArray | null;
    if (p === '/api/org' && method === 'GET')
      return send(res, 200, { id: this.orgId, name: this.orgId === 1 ? 'Main Org.' : `Org ${this.orgId}` });
    if (p === '/api/search' && method === 'GET') return this.search(url, res);
    if (p === '/api/dashboards/db' && method === 'POST') return this.saveDashboard(body as Json, res);
    if ((m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(p))) {
      const uid = decodeURIComponent(m[1]);
      if (method === 'GET') return this.getDashboard(uid, res);
      if (method === 'DELETE') {
        const d = this.dashboards.get(uid);
        if (!d) return send(res, 404, { message: 'Dashboard not found' });
        if (d.provisioned) return send(res, 400, { message: 'provisioned dashboard cannot be deleted' });
        this.dashboards.delete(uid);
        return send(res, 200, { title: d.data.title, message: `Dashboard ${String(d.data.title)} deleted`, id: d.id });
      }
    }
    if (p === '/api/folders' && method === 'GET') return this.listFolders(url, res);
    if (p === '/api/folders' && method === 'POST') return this.createFolder(body as Json, res);
    if ((m = /^\/api\/folders\/([^/]+)$/.exec(p))) {
      const uid = decodeURIComponent(m[1]);
      const f = this.folders.get(uid);
      if (method === 'GET')
        return f
          ? send(res, 200, this.folderJson(f))
          : send(res, 404, { message: 'folder not found', status: 'not-found' });
      if (method === 'DELETE') {
        if (!f) return send(res, 404, { message: 'folder not found' });
        const doomed = new Set([
          uid,
          ...[...this.folders.values()].filter((x) => this.ancestors(x).some((a) => a.uid === uid)).map((x) => x.uid),
        ]);
        for (const [k, d] of this.dashboards) if (doomed.has(d.folderUid)) this.dashboards.delete(k);
        for (const k of doomed) this.folders.delete(k);
        return send(res, 200, { message: 'Folder deleted', title: f.title });
      }
    }
    if (p === '/api/datasources' && method === 'GET')
      return send(res, 200, [...this.datasources.values()].map(listDatasource));
    if (p === '/api/datasources' && method === 'POST') return this.createDatasource(body as Json, res);
    if ((m = /^\/api\/datasources\/uid\/([^/]+)$/.exec(p))) {
      const uid = decodeURIComponent(m[1]);
      const ds = this.datasources.get(uid);
      if (!ds) return send(res, 404, { message: 'Data source not found' });
      if (method === 'GET') return send(res, 200, ds);
      if (method === 'PUT') return this.updateDatasource(ds, body as Json, res);
      if (method === 'DELETE') {
        if (ds.readOnly) return send(res, 403, { message: 'Cannot delete read-only data source' });
        this.datasources.delete(uid);
        return send(res, 200, { message: 'Data source deleted', id: ds.id });
      }
    }
    if (p === '/api/library-elements' && method === 'GET') return this.listLibrary(url, res);
    if (p === '/api/library-elements' && method === 'POST') return this.createLibrary(body as Json, res);
    if ((m = /^\/api\/library-elements\/([^/]+)$/.exec(p))) {
      const uid = decodeURIComponent(m[1]);
      const el = this.libraryElements.get(uid);
      if (!el) return send(res, 404, { message: 'library element could not be found' });
      if (method === 'GET') return send(res, 200, { result: el });
      if (method === 'PATCH') return this.patchLibrary(el, body as Json, res);
      if (method === 'DELETE') {
        this.libraryElements.delete(uid);
        return send(res, 200, { message: 'Library element deleted', id: el.id });
      }
    }
    if (
      (m = /^\/apis\/dashboard\.grafana\.app\/([^/]+)\/namespaces\/([^/]+)\/dashboards(?:\/([^/]+))?$/.exec(p)) &&
      this.major >= 12
    ) {
      const [, ver, ns, name] = m;
      if (ns !== this.namespace)
        return send(res, 404, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `namespace ${ns} not found`,
          code: 404,
        });
      if (name && method === 'GET') return this.getResource(ver, decodeURIComponent(name), res);
      if (!name && method === 'POST') return this.createResource(ver, body as Json, res);
    }
    return send(res, 404, { message: 'Not found' });
  }

  private search(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const limit = q.has('limit') ? Number(q.get('limit')) : 1000;
    if (limit > 5000) return send(res, 422, { message: 'Limit is above maximum allowed (5000), use page parameter' });
    const page = Math.max(1, Number(q.get('page') ?? '1'));
    const type = q.get('type');
    const query = (q.get('query') ?? '').toLowerCase();
    const tags = q.getAll('tag');
    const folderUIDs = q.getAll('folderUIDs');
    const dashboardUIDs = q.getAll('dashboardUIDs');
    const hits: Json[] = [];
    if (type !== 'dash-db' && dashboardUIDs.length === 0) {
      for (const f of this.folders.values()) {
        if (query && !f.title.toLowerCase().includes(query)) continue;
        if (folderUIDs.length && !folderUIDs.includes(f.parentUid ?? '')) continue;
        hits.push({
          id: f.id,
          uid: f.uid,
          title: f.title,
          uri: `db/${slug(f.title)}`,
          url: `/dashboards/f/${f.uid}/${slug(f.title)}`,
          slug: '',
          type: 'dash-folder',
          tags: [],
          isStarred: false,
          sortMeta: 0,
          ...(f.parentUid ? { folderUid: f.parentUid, folderTitle: this.folders.get(f.parentUid)?.title } : {}),
        });
      }
    }
    if (type !== 'dash-folder') {
      for (const d of this.dashboards.values()) {
        const title = String(d.data.title ?? '');
        if (query && !title.toLowerCase().includes(query)) continue;
        if (dashboardUIDs.length && !dashboardUIDs.includes(String(d.data.uid))) continue;
        if (folderUIDs.length && !folderUIDs.includes(d.folderUid || 'general')) continue;
        const dtags = Array.isArray(d.data.tags) ? (d.data.tags as string[]) : [];
        if (tags.length && !tags.every((t) => dtags.includes(t))) continue;
        const f = this.folders.get(d.folderUid);
        hits.push({
          id: d.id,
          uid: d.data.uid,
          title,
          uri: `db/${slug(title)}`,
          url: `/d/${String(d.data.uid)}/${slug(title)}`,
          slug: '',
          type: 'dash-db',
          tags: dtags,
          isStarred: false,
          sortMeta: 0,
          ...(f
            ? {
                folderId: f.id,
                folderUid: f.uid,
                folderTitle: f.title,
                folderUrl: `/dashboards/f/${f.uid}/${slug(f.title)}`,
              }
            : {}),
        });
      }
    }
    hits.sort((a, b) => String(a.title).localeCompare(String(b.title)) || String(a.uid).localeCompare(String(b.uid)));
    send(res, 200, hits.slice((page - 1) * limit, page * limit));
  }

  private folderJson(f: Folder): Json {
    return {
      id: f.id,
      uid: f.uid,
      title: f.title,
      url: `/dashboards/f/${f.uid}/${slug(f.title)}`,
      version: f.version,
      ...(f.parentUid ? { parentUid: f.parentUid } : {}),
      parents: this.ancestors(f)
        .reverse()
        .map((a) => ({ uid: a.uid, title: a.title })),
    };
  }

  private ancestors(f: Folder): Folder[] {
    const out: Folder[] = [];
    let cur = f.parentUid ? this.folders.get(f.parentUid) : undefined;
    while (cur && out.length < 64) {
      out.push(cur);
      cur = cur.parentUid ? this.folders.get(cur.parentUid) : undefined;
    }
    return out;
  }

  private listFolders(url: URL, res: ServerResponse): void {
    const limit = Number(url.searchParams.get('limit') ?? '1000');
    const page = Math.max(1, Number(url.searchParams.get('page') ?? '1'));
    const parent = url.searchParams.get('parentUid') ?? undefined;
    const list = [...this.folders.values()]
      .filter((f) => (f.parentUid ?? undefined) === parent)
      .sort((a, b) => a.title.localeCompare(b.title));
    send(
      res,
      200,
      list
        .slice((page - 1) * limit, page * limit)
        .map((f) => ({ id: f.id, uid: f.uid, title: f.title, ...(f.parentUid ? { parentUid: f.parentUid } : {}) })),
    );
  }

  private createFolder(b: Json, res: ServerResponse): void {
    const title = typeof b.title === 'string' ? b.title : '';
    if (!title) return send(res, 400, { message: 'folder title cannot be empty' });
    const uid = typeof b.uid === 'string' && b.uid ? b.uid : `f${this.nextId}`;
    if (this.folders.has(uid)) return send(res, 409, { message: 'a folder with the same uid already exists' });
    const parentUid = typeof b.parentUid === 'string' && b.parentUid ? b.parentUid : undefined;
    if (parentUid && !this.folders.has(parentUid)) return send(res, 400, { message: 'parent folder not found' });
    if ([...this.folders.values()].some((f) => f.title === title && f.parentUid === parentUid))
      return send(res, 409, { message: 'a folder with the same name already exists in the current location' });
    const f: Folder = { id: this.nextId++, uid, title, parentUid, version: 1 };
    this.folders.set(uid, f);
    send(res, 200, this.folderJson(f));
  }

  private envelope(d: StoredDashboard): Json {
    const f = this.folders.get(d.folderUid);
    const data = d.v2 ? downConvert(d.v2, String(d.data.uid)) : d.data;
    return {
      dashboard: { ...data, id: d.id, uid: d.data.uid, version: d.version },
      meta: {
        type: 'db',
        canSave: true,
        canEdit: true,
        canAdmin: true,
        canStar: true,
        canDelete: true,
        slug: slug(String(data.title ?? '')),
        url: `/d/${String(d.data.uid)}/${slug(String(data.title ?? ''))}`,
        expires: '0001-01-01T00:00:00Z',
        created: d.created,
        updated: d.updated,
        updatedBy: 'admin',
        createdBy: 'admin',
        version: d.version,
        hasAcl: false,
        isFolder: false,
        folderId: f?.id ?? 0,
        folderUid: d.folderUid,
        folderTitle: f?.title ?? 'General',
        folderUrl: f ? `/dashboards/f/${f.uid}/${slug(f.title)}` : '',
        provisioned: d.provisioned,
        provisionedExternalId: d.provisioned ? d.provisionedExternalId : '',
        annotationsPermissions: null,
      },
    };
  }

  private getDashboard(uid: string, res: ServerResponse): void {
    const d = this.dashboards.get(uid);
    if (!d) return send(res, 404, { message: 'Dashboard not found' });
    // Grafana 12+: "v2 is not supported in /api" (pkg/api/dashboard.go, GetDashboard).
    if (d.storedVersion.startsWith('v2')) {
      return send(res, 406, {
        message: `dashboard api version not supported, use /apis/dashboard.grafana.app/${d.storedVersion}/namespaces/${this.namespace}/dashboards/${uid} instead`,
      });
    }
    send(res, 200, this.envelope(d));
  }

  private saveDashboard(b: Json, res: ServerResponse): void {
    const dash = b.dashboard as Json | undefined;
    if (!dash || typeof dash !== 'object') return send(res, 400, { message: 'bad request data' });
    if (typeof b.message === 'string' && b.message.length > 500)
      return send(res, 400, { message: 'message too long', status: 'message-too-long' });
    const folderUid = typeof b.folderUid === 'string' ? b.folderUid : '';
    if (folderUid && !this.folders.has(folderUid))
      return send(res, 400, { message: 'folder not found', status: 'not-found' });
    const title = typeof dash.title === 'string' ? dash.title.trim() : '';
    if (!title) return send(res, 400, { message: 'Dashboard title cannot be empty', status: 'empty-name' });
    let uid = typeof dash.uid === 'string' && dash.uid ? dash.uid : '';
    const existing = uid ? this.dashboards.get(uid) : undefined;
    if (!existing && dash.id !== undefined && dash.id !== null && dash.id !== 0)
      return send(res, 404, { message: 'Dashboard not found', status: 'not-found' });
    if (existing) {
      if (b.overwrite !== true && dash.version !== existing.version) {
        return send(res, 412, {
          message: 'The dashboard has been changed by someone else',
          status: 'version-mismatch',
        });
      }
      if (existing.provisioned) return send(res, 400, { message: 'Cannot save provisioned dashboard' });
    }
    for (const other of this.dashboards.values()) {
      if (
        other.data.uid !== uid &&
        other.folderUid === folderUid &&
        String(other.data.title).toLowerCase() === title.toLowerCase() &&
        b.overwrite !== true
      ) {
        return send(res, 412, {
          message: 'A dashboard with the same name in the folder already exists',
          status: 'name-exists',
        });
      }
    }
    const now = new Date().toISOString();
    if (!uid) uid = `gen${this.nextId}`;
    const { id: _id, version: _v, ...data } = dash;
    const stored: StoredDashboard = existing
      ? {
          ...existing,
          data: { ...data, uid },
          version: existing.version + 1,
          folderUid,
          updated: now,
          v2: undefined,
          storedVersion: 'v1beta1',
          messages: [...existing.messages, String(b.message ?? '')],
        }
      : {
          data: { ...data, uid },
          id: this.nextId++,
          version: 1,
          folderUid,
          provisioned: false,
          created: now,
          updated: now,
          storedVersion: 'v1beta1',
          messages: [String(b.message ?? '')],
        };
    this.dashboards.set(uid, stored);
    send(res, 200, {
      id: stored.id,
      uid,
      url: `/d/${uid}/${slug(title)}`,
      status: 'success',
      version: stored.version,
      slug: slug(title),
      folderUid,
    });
  }

  private createDatasource(b: Json, res: ServerResponse): void {
    if (typeof b.name !== 'string' || !b.name || typeof b.type !== 'string')
      return send(res, 400, { message: 'Required fields are missing' });
    if (typeof b.url === 'string' && b.url && !validUrl(b.url))
      return send(res, 400, { message: 'Validation error, invalid URL' });
    if ([...this.datasources.values()].some((d) => d.name === b.name))
      return send(res, 409, { message: 'data source with the same name already exists' });
    const uid = typeof b.uid === 'string' && b.uid ? b.uid : `ds${this.nextId}`;
    if (!/^[a-zA-Z0-9\-_]{1,40}$/.test(uid)) return send(res, 400, { message: 'invalid UID for datasource' });
    if (this.datasources.has(uid)) return send(res, 409, { message: 'data source with the same uid already exists' });
    if (b.isDefault === true) for (const d of this.datasources.values()) d.isDefault = false;
    const ds: Json = {
      id: this.nextId++,
      uid,
      orgId: 1,
      name: b.name,
      type: b.type,
      typeLogoUrl: '',
      access: b.access ?? 'proxy',
      url: b.url ?? '',
      user: '',
      database: '',
      basicAuth: false,
      basicAuthUser: '',
      withCredentials: false,
      isDefault: b.isDefault === true,
      jsonData: b.jsonData ?? {},
      secureJsonFields: secureFields({}, b.secureJsonData),
      version: 1,
      readOnly: false,
    };
    this.datasources.set(uid, ds);
    send(res, 200, { datasource: ds, id: ds.id, message: 'Datasource added', name: ds.name });
  }

  private updateDatasource(ds: Json, b: Json, res: ServerResponse): void {
    if (ds.readOnly) return send(res, 403, { message: 'Cannot update read-only data source' });
    for (const key of ['name', 'type', 'access']) {
      if (typeof b[key] !== 'string' || b[key] === '') return send(res, 400, { message: 'bad request data' });
    }
    if (typeof b.url === 'string' && b.url && !validUrl(b.url))
      return send(res, 400, { message: 'Validation error, invalid URL' });
    if (typeof b.version === 'number' && b.version < Number(ds.version))
      return send(res, 409, {
        message: 'Datasource has already been updated by someone else. Please reload and try again',
      });
    if ([...this.datasources.values()].some((d) => d.uid !== ds.uid && d.name === b.name))
      return send(res, 409, {
        message: 'Failed to update datasource: data source with the same name already exists',
      });
    // Grafana keeps one default per org: saving one as default takes the flag off the others.
    if (b.isDefault === true) for (const d of this.datasources.values()) d.isDefault = false;
    // The body replaces the datasource: a field it leaves out is reset, not kept.
    const next: Json = {
      id: ds.id,
      uid: ds.uid,
      orgId: ds.orgId,
      name: b.name,
      type: b.type,
      typeLogoUrl: '',
      access: b.access,
      url: b.url ?? '',
      user: b.user ?? '',
      database: b.database ?? '',
      basicAuth: b.basicAuth === true,
      basicAuthUser: b.basicAuthUser ?? '',
      withCredentials: b.withCredentials === true,
      isDefault: b.isDefault === true,
      jsonData: b.jsonData ?? {},
      // secure values not in the body are kept (they are write-only: never sent back)
      secureJsonFields: secureFields((ds.secureJsonFields ?? {}) as Json, b.secureJsonData),
      version: Number(ds.version) + 1,
      readOnly: false,
    };
    this.datasources.set(String(ds.uid), next);
    send(res, 200, { datasource: next, id: next.id, message: 'Datasource updated', name: next.name });
  }

  /** Test hook: a datasource provisioned from a file is read-only in Grafana. */
  markReadOnly(uid: string): void {
    const ds = this.datasources.get(uid);
    if (ds) ds.readOnly = true;
  }

  private listLibrary(url: URL, res: ServerResponse): void {
    const perPage = Number(url.searchParams.get('perPage') ?? '100');
    const page = Math.max(1, Number(url.searchParams.get('page') ?? '1'));
    const kind = url.searchParams.get('kind');
    const all = [...this.libraryElements.values()]
      .filter((e) => !kind || String(e.kind) === kind)
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    send(res, 200, {
      result: { totalCount: all.length, page, perPage, elements: all.slice((page - 1) * perPage, page * perPage) },
    });
  }

  private createLibrary(b: Json, res: ServerResponse): void {
    const uid = typeof b.uid === 'string' && b.uid ? b.uid : `lib${this.nextId}`;
    if (this.libraryElements.has(uid))
      return send(res, 400, { message: 'library element with that name or UID already exists' });
    const folderUid = typeof b.folderUid === 'string' ? b.folderUid : '';
    const el: Json = {
      id: this.nextId++,
      orgId: 1,
      folderUid,
      uid,
      name: b.name,
      kind: b.kind ?? 1,
      type: (b.model as Json)?.type ?? '',
      description: '',
      model: b.model ?? {},
      version: 1,
      meta: { folderName: this.folders.get(folderUid)?.title ?? 'General', folderUid, connectedDashboards: 0 },
    };
    this.libraryElements.set(uid, el);
    send(res, 200, { result: el });
  }

  private patchLibrary(el: Json, b: Json, res: ServerResponse): void {
    if (b.version !== el.version)
      return send(res, 412, { message: 'the library element has been changed by someone else' });
    const next: Json = {
      ...el,
      name: b.name ?? el.name,
      model: b.model ?? el.model,
      folderUid: b.folderUid ?? el.folderUid,
      version: Number(el.version) + 1,
    };
    this.libraryElements.set(String(el.uid), next);
    send(res, 200, { result: next });
  }

  private getResource(ver: string, name: string, res: ServerResponse): void {
    const d = this.dashboards.get(name);
    if (!d)
      return send(res, 404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: `dashboards.dashboard.grafana.app "${name}" not found`,
        reason: 'NotFound',
        code: 404,
      });
    const spec = ver.startsWith('v2') ? (d.v2 ?? {}) : d.v2 ? downConvert(d.v2, name) : d.data;
    send(res, 200, {
      kind: 'Dashboard',
      apiVersion: `dashboard.grafana.app/${ver}`,
      metadata: {
        name,
        namespace: 'default',
        resourceVersion: String(d.version * 1000),
        generation: d.version,
        annotations: { 'grafana.app/folder': d.folderUid },
      },
      spec,
      status: d.storedVersion !== ver ? { conversion: { failed: false, storedVersion: d.storedVersion } } : {},
    });
  }

  private createResource(ver: string, b: Json, res: ServerResponse): void {
    const meta = (b.metadata ?? {}) as Json;
    const name = typeof meta.name === 'string' && meta.name ? meta.name : `gen${this.nextId}`;
    if (this.dashboards.has(name))
      return send(res, 409, {
        kind: 'Status',
        status: 'Failure',
        message: `dashboards.dashboard.grafana.app "${name}" already exists`,
        reason: 'AlreadyExists',
        code: 409,
      });
    const spec = (b.spec ?? {}) as Json;
    const now = new Date().toISOString();
    const folderUid = String(((meta.annotations ?? {}) as Json)['grafana.app/folder'] ?? '');
    const v2 = ver.startsWith('v2');
    this.dashboards.set(name, {
      data: v2 ? { uid: name, title: spec.title } : { ...spec, uid: name },
      v2: v2 ? spec : undefined,
      id: this.nextId++,
      version: 1,
      folderUid,
      provisioned: false,
      created: now,
      updated: now,
      storedVersion: ver,
      messages: [],
    });
    this.getResource(ver, name, res);
  }
}

/** What the legacy API hands out for a V2 dashboard: the title survives, the panels do not (lossy). */
function downConvert(v2: Json, uid: string): Json {
  return { uid, title: v2.title, schemaVersion: 41, panels: [], templating: { list: [] }, annotations: { list: [] } };
}

function secureFields(have: Json, secure: unknown): Json {
  const out: Json = { ...have };
  if (secure && typeof secure === 'object') for (const k of Object.keys(secure)) out[k] = true;
  return out;
}

/** pkg/api/datasource ValidateURL: an absolute URL, or host[:port] taken as http://. */
function validUrl(u: string): boolean {
  try {
    new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `http://${u}`);
    return true;
  } catch {
    return false;
  }
}

function listDatasource(d: Json): Json {
  const { secureJsonFields: _s, version: _v, ...rest } = d;
  return rest;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
