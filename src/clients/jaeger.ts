import { HttpClient, HttpError, type Query } from '../http/index.js';
import type { ResolvedEndpoint } from '../config/index.js';

/**
 * Jaeger query (:16686) over both of its HTTP APIs:
 * - the internal v1 JSON API (`/api/services`, `/api/traces?service=...`, `/api/traces/{id}`), the only one
 *   of old Jaeger 1.x, and removed from Jaeger main after v2.20 except for get-by-ID (#9260);
 * - api_v3 (`/api/v3/services`, `/api/v3/traces`, `/api/v3/traces/{id}`), OTLP-JSON, the stable API.
 * `probe()` finds which the server has. Parameters are sent in the snake_case spelling every version
 * from 1.60 on accepts (v2.19 renamed them to camelCase and kept these as aliases). Responses are returned as
 * parsed JSON; src/traces converts them.
 */
export type JaegerApi = 'v1' | 'v3';

export interface JaegerProbe {
  apis: JaegerApi[];
  services: string[];
}

export interface JaegerSearch {
  service: string;
  /** Window on span start times, µs since the epoch, both inclusive. */
  startUs: bigint;
  endUs: bigint;
  limit: number;
  raw: boolean;
}

const NOT_JAEGER_HINT =
  'point the URL at Jaeger query (the UI/API port, 16686 by default), not at the collector or another server';

function rfc3339Nano(us: bigint): string {
  const ms = Number(us / 1000n);
  const frac = (us % 1_000_000n).toString().padStart(6, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

export class JaegerClient {
  readonly http: HttpClient;

  constructor(endpointOrHttp: ResolvedEndpoint | HttpClient, opts: { connections?: number } = {}) {
    this.http = endpointOrHttp instanceof HttpClient ? endpointOrHttp : new HttpClient(endpointOrHttp, opts);
  }

  get url(): string {
    return this.http.endpoint.url;
  }

  private async json(path: string, query?: Query, accept404 = false): Promise<{ status: number; body: unknown }> {
    const r = await this.http.text({
      path,
      query,
      accept: (s) => (s >= 200 && s < 300) || (accept404 && s === 404),
      headers: { accept: 'application/json' },
    });
    try {
      return { status: r.status, body: r.text ? JSON.parse(r.text) : undefined };
    } catch {
      throw new HttpError(
        'protocol',
        this.url + path,
        `GET ${this.url}${path} answered HTTP ${r.status} with something that is not JSON (${r.text.replace(/\s+/g, ' ').slice(0, 80)})`,
        { hint: NOT_JAEGER_HINT },
      );
    }
  }

  /**
   * Which APIs answer: api_v3 first (the one that stays), then v1. A server with neither is not Jaeger query.
   * A 404, or a 200 that is not the API's JSON (the UI's index.html on unknown paths), means "not this API".
   */
  async probe(): Promise<JaegerProbe> {
    const apis: JaegerApi[] = [];
    let services: string[] | undefined;
    const tries: string[] = [];
    for (const [api, path] of [
      ['v3', '/api/v3/services'],
      ['v1', '/api/services'],
    ] as const) {
      try {
        const r = await this.http.text({
          path,
          accept: () => true,
          retries: 1,
          headers: { accept: 'application/json' },
        });
        let body: { services?: unknown; data?: unknown } | undefined;
        try {
          body = JSON.parse(r.text) as typeof body;
        } catch {
          body = undefined;
        }
        const list = api === 'v3' ? body?.services : body?.data;
        // api_v3 omits an empty list (grpc-gateway JSON leaves out unpopulated fields): `{}` is "no services yet"
        const emptyV3 = api === 'v3' && r.text.trim() === '{}';
        // v1 answers `"data": null` when no service has been seen yet
        const emptyV1 =
          api === 'v1' &&
          body !== undefined &&
          body !== null &&
          typeof body === 'object' &&
          'data' in body &&
          list === null;
        if (r.status === 200 && (Array.isArray(list) || emptyV3 || emptyV1)) {
          apis.push(api);
          services ??= Array.isArray(list) ? (list as string[]) : [];
        } else tries.push(`${path}: HTTP ${r.status}${r.status === 200 ? ' but not Jaeger JSON' : ''}`);
      } catch (e) {
        if (e instanceof HttpError && e.kind !== 'status' && e.kind !== 'protocol') throw e;
        tries.push(`${path}: ${(e as Error).message}`);
      }
    }
    if (apis.length === 0) {
      throw new HttpError('protocol', this.url, `${this.url} is not a Jaeger query service (${tries.join('; ')})`, {
        hint: NOT_JAEGER_HINT,
      });
    }
    return { apis, services: [...new Set(services ?? [])].sort() };
  }

  async servicesV1(): Promise<string[]> {
    const r = await this.json('/api/services');
    return ((r.body as { data?: string[] | null })?.data ?? []).slice().sort();
  }

  async servicesV3(): Promise<string[]> {
    const r = await this.json('/api/v3/services');
    return ((r.body as { services?: string[] | null })?.services ?? []).slice().sort();
  }

  /** v1 search: full traces whose spans of `service` start in the window (`data` of GET /api/traces). */
  async searchV1(q: JaegerSearch): Promise<unknown[]> {
    const r = await this.json('/api/traces', {
      service: q.service,
      start: q.startUs.toString(),
      end: q.endUs.toString(),
      limit: q.limit,
      raw: q.raw ? 'true' : undefined,
    });
    const b = r.body as { data?: unknown[] | null; errors?: Array<{ msg?: string }> | null };
    if (b?.errors?.length)
      throw new HttpError(
        'status',
        this.url,
        `Jaeger search for service ${q.service} reported: ${b.errors.map((e) => e.msg).join('; ')}`,
        { hint: 'see the Jaeger query log' },
      );
    return b?.data ?? [];
  }

  /** api_v3 search: one OTLP TracesData holding every matching trace (group by traceId). Empty when none. */
  async searchV3(q: JaegerSearch): Promise<unknown> {
    const r = await this.json(
      '/api/v3/traces',
      {
        'query.service_name': q.service,
        'query.start_time_min': rfc3339Nano(q.startUs),
        'query.start_time_max': rfc3339Nano(q.endUs),
        'query.num_traces': q.limit,
        'query.raw_traces': q.raw ? 'true' : undefined,
      },
      true,
    );
    return this.v3Result(r, 'search');
  }

  private v3Result(r: { status: number; body: unknown }, what: string): unknown {
    const b = r.body as { result?: unknown; error?: { httpCode?: number; message?: string } } | undefined;
    if (r.status === 404) {
      // v2.x answers "No traces found" with 404; any other 404 means the API itself is missing
      if (b?.error && /no traces found|not found/i.test(b.error.message ?? '')) return undefined;
      throw new HttpError('status', this.url, `${this.url} has no api_v3 ${what} (HTTP 404)`, {
        status: 404,
        hint: 'use the v1 API (--*-api v1) or a Jaeger with api_v3 (1.60+ / 2.x)',
      });
    }
    return b?.result;
  }

  /** v1 trace by ID (hex); undefined on 404. `startUs`/`endUs` narrow the lookup (ES's 72 h lookback otherwise). */
  async traceV1(idHex: string, opts: { raw: boolean; startUs?: bigint; endUs?: bigint }): Promise<unknown | undefined> {
    const r = await this.json(
      `/api/traces/${idHex}`,
      { raw: opts.raw ? 'true' : undefined, start: opts.startUs?.toString(), end: opts.endUs?.toString() },
      true,
    );
    if (r.status === 404) return undefined;
    const data = (r.body as { data?: unknown[] | null })?.data ?? [];
    return data[0];
  }

  /** api_v3 trace by ID (hex); OTLP TracesData or undefined when not found. */
  async traceV3(idHex: string, opts: { raw: boolean; startUs?: bigint; endUs?: bigint }): Promise<unknown | undefined> {
    const r = await this.json(
      `/api/v3/traces/${idHex}`,
      {
        start_time: opts.startUs !== undefined ? rfc3339Nano(opts.startUs) : undefined,
        end_time: opts.endUs !== undefined ? rfc3339Nano(opts.endUs) : undefined,
        raw_traces: opts.raw ? 'true' : undefined,
      },
      true,
    );
    return this.v3Result(r, 'trace-by-ID');
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
