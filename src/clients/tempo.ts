import { HttpClient, HttpError, type Query } from '../http/index.js';
import type { ResolvedEndpoint } from '../config/index.js';

/**
 * Tempo's query API (query-frontend or single binary, :3200), from docs/sources/tempo/api_docs/_index.md:
 * trace by ID (`/api/traces/{id}` and, since 2.6, `/api/v2/traces/{id}`; 404 when unknown), search
 * (`/api/search`, start/end in Unix seconds), `/api/echo` and `/api/status/buildinfo`. The tenant goes
 * in X-Scope-OrgID (the endpoint's tenant, added by the http/ client). Query JSON is gogo jsonpb: base64
 * IDs, enum names; search trace IDs are hex with leading zeros trimmed. Responses are returned parsed;
 * src/traces converts them.
 */
export interface TempoSearchHit {
  traceID: string;
  rootServiceName?: string;
  rootTraceName?: string;
  startTimeUnixNano?: string;
  durationMs?: number;
}

export interface TempoSearch {
  /** TraceQL, e.g. `{ resource.service.name = "api" }`; or logfmt `tags`. */
  q?: string;
  tags?: string;
  startS?: number;
  endS?: number;
  limit?: number;
  spss?: number;
}

const HINT = "point --tempo-url at Tempo's HTTP API (query-frontend or single binary, port 3200)";

export class TempoClient {
  readonly http: HttpClient;

  constructor(endpointOrHttp: ResolvedEndpoint | HttpClient, opts: { connections?: number } = {}) {
    this.http = endpointOrHttp instanceof HttpClient ? endpointOrHttp : new HttpClient(endpointOrHttp, opts);
  }

  get url(): string {
    return this.http.endpoint.url;
  }

  /** GET /api/echo answers "echo": the cheapest proof that this is Tempo's query frontend. */
  async echo(): Promise<void> {
    const r = await this.http.text({ path: '/api/echo', accept: () => true, retries: 1 });
    if (r.status !== 200 || r.text.trim() !== 'echo') {
      throw new HttpError(
        'protocol',
        this.url,
        `${this.url} is not Tempo: GET /api/echo answered HTTP ${r.status}${r.status === 200 ? ` "${r.text.trim().slice(0, 40)}"` : ''}, not "echo"`,
        { hint: HINT },
      );
    }
  }

  async buildInfo(): Promise<{ version?: string }> {
    const r = await this.http.text({ path: '/api/status/buildinfo', headers: { accept: 'application/json' } });
    return JSON.parse(r.text) as { version?: string };
  }

  private async getJson(path: string, query: Query | undefined, notFoundOk: boolean): Promise<unknown | undefined> {
    const r = await this.http.text({
      path,
      query,
      headers: { accept: 'application/json' },
      accept: (s) => s === 200 || (notFoundOk && s === 404),
    });
    if (r.status === 404) return undefined;
    try {
      return JSON.parse(r.text);
    } catch {
      throw new HttpError(
        'protocol',
        this.url + path,
        `GET ${this.url}${path} answered with something that is not JSON`,
        { hint: HINT },
      );
    }
  }

  /**
   * A trace by ID (hex). `v2` uses /api/v2/traces (Tempo >= 2.6; `{trace, status, message}`), else /api/traces
   * (`batches` <= 2.5, `resourceSpans` >= 2.6). Undefined on 404. No start/end by default: a copied historical
   * trace is only found without them (ingestion slack, see docs).
   */
  async trace(
    idHex: string,
    opts: { v2?: boolean; startS?: number; endS?: number } = {},
  ): Promise<unknown | undefined> {
    const q: Query = { start: opts.startS, end: opts.endS };
    if (opts.v2) {
      const b = (await this.getJson(`/api/v2/traces/${idHex}`, q, true)) as { trace?: unknown } | undefined;
      return b?.trace;
    }
    return this.getJson(`/api/traces/${idHex}`, q, true);
  }

  async search(s: TempoSearch): Promise<TempoSearchHit[]> {
    const b = (await this.getJson(
      '/api/search',
      { q: s.q, tags: s.tags, start: s.startS, end: s.endS, limit: s.limit, spss: s.spss },
      false,
    )) as { traces?: TempoSearchHit[] } | undefined;
    return b?.traces ?? [];
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
