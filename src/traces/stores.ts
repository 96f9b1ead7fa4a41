import { JaegerClient, TempoClient, type JaegerApi } from '../clients/index.js';
import { StackshiftError } from '../errors/index.js';
import { log } from '../log/index.js';
import { traceFromJaegerV1, type JaegerTrace } from './from-jaeger.js';
import { tracesFromOtlpJson } from './from-otlp.js';
import { idHex, jaegerTraceIdHex } from './ids.js';
import type { Trace } from './model.js';

/**
 * A system traces are read from, behind one interface: Jaeger through v1 JSON or api_v3, Tempo through its
 * trace-by-ID and search APIs. Searches are paged by time: a window whose result fills the page limit is
 * split in two and both halves read again, so nothing is cut off by the server's limit.
 */
export interface TraceStore {
  readonly kind: 'jaeger' | 'tempo';
  readonly describe: string;
  services(): Promise<string[]>;
  /** Pages of traces with spans of `service` (every service when undefined) starting in [startUs, endUs]. */
  search(service: string | undefined, startUs: bigint, endUs: bigint): AsyncGenerator<Trace[]>;
  /** One trace by ID, undefined when the store does not have it. The window hint narrows lookups where it helps. */
  get(id: Uint8Array, hint?: { startUs: bigint; endUs: bigint }): Promise<Trace | undefined>;
  close(): Promise<void>;
}

export interface JaegerStoreOptions {
  /** Which API to use; undefined: api_v3 when the server has it, else v1. */
  api?: JaegerApi;
  /** raw=true: no adjusters (clock skew, dedupe), spans exactly as stored. */
  raw: boolean;
  pageLimit: number;
  /** Send the window on get-by-ID (Jaeger 1.65+/2.2+): needed for Elasticsearch-backed Jaeger beyond 72 h. */
  windowOnGet?: boolean;
}

export class JaegerStore implements TraceStore {
  readonly kind = 'jaeger' as const;
  readonly client: JaegerClient;
  api: JaegerApi = 'v3';
  available: JaegerApi[] = [];
  private serviceList: string[] = [];
  private readonly opts: JaegerStoreOptions;

  private constructor(client: JaegerClient, opts: JaegerStoreOptions) {
    this.client = client;
    this.opts = opts;
  }

  /** Probes the server and picks the API; throws (exit 2) when it is not Jaeger or lacks the API asked for. */
  static async open(client: JaegerClient, opts: JaegerStoreOptions): Promise<JaegerStore> {
    const s = new JaegerStore(client, opts);
    const p = await client.probe();
    s.available = p.apis;
    s.serviceList = p.services;
    if (opts.api && !p.apis.includes(opts.api)) {
      throw new StackshiftError(
        'jaeger-api',
        `${client.url} does not serve the Jaeger ${opts.api === 'v1' ? 'v1 JSON API (/api/services, /api/traces: removed from Jaeger after v2.20)' : 'api_v3 (/api/v3/*)'}; it has ${p.apis.join(', ')}`,
        {
          hint: `use --*-api ${p.apis[0]} or leave the API choice to the probe`,
        },
      );
    }
    s.api = opts.api ?? p.apis[0];
    log.debug('jaeger API chosen', { url: client.url, api: s.api, available: p.apis.join(',') });
    return s;
  }

  get describe(): string {
    return `Jaeger ${this.client.url} (${this.api === 'v1' ? 'v1 JSON' : 'api_v3'}${this.opts.raw ? ', raw' : ''})`;
  }

  async services(): Promise<string[]> {
    this.serviceList = this.api === 'v1' ? await this.client.servicesV1() : await this.client.servicesV3();
    return this.serviceList;
  }

  private async page(service: string, startUs: bigint, endUs: bigint): Promise<Trace[]> {
    const q = { service, startUs, endUs, limit: this.opts.pageLimit, raw: this.opts.raw };
    if (this.api === 'v1') return (await this.client.searchV1(q)).map((t) => traceFromJaegerV1(t as JaegerTrace));
    const data = await this.client.searchV3(q);
    return data === undefined ? [] : tracesFromOtlpJson(data);
  }

  async *search(service: string | undefined, startUs: bigint, endUs: bigint): AsyncGenerator<Trace[]> {
    const services = service === undefined ? await this.services() : [service];
    for (const svc of services) {
      const stack: Array<[bigint, bigint]> = [[startUs, endUs]];
      while (stack.length) {
        const [a, b] = stack.pop()!;
        const traces = await this.page(svc, a, b);
        if (traces.length >= this.opts.pageLimit && b > a) {
          const mid = a + (b - a) / 2n;
          stack.push([mid + 1n, b], [a, mid]);
          continue;
        }
        if (traces.length >= this.opts.pageLimit)
          log.warn('more traces start in one microsecond than the page limit: raise --page-limit', {
            service: svc,
            at: a.toString(),
          });
        if (traces.length) yield traces;
      }
    }
  }

  async get(id: Uint8Array, hint?: { startUs: bigint; endUs: bigint }): Promise<Trace | undefined> {
    const w = this.opts.windowOnGet && hint ? { startUs: hint.startUs, endUs: hint.endUs } : {};
    if (this.api === 'v1') {
      const t = await this.client.traceV1(jaegerTraceIdHex(id), { raw: this.opts.raw, ...w });
      return t === undefined ? undefined : traceFromJaegerV1(t as JaegerTrace);
    }
    const data = await this.client.traceV3(idHex(id), { raw: this.opts.raw, ...w });
    if (data === undefined) return undefined;
    const want = idHex(id);
    return tracesFromOtlpJson(data).find((t) => idHex(t.traceId) === want);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export interface TempoStoreOptions {
  /** /api/v2/traces (Tempo >= 2.6) instead of /api/traces. */
  v2?: boolean;
  pageLimit: number;
}

export class TempoStore implements TraceStore {
  readonly kind = 'tempo' as const;
  readonly client: TempoClient;
  private readonly opts: TempoStoreOptions;

  private constructor(client: TempoClient, opts: TempoStoreOptions) {
    this.client = client;
    this.opts = opts;
  }

  static async open(client: TempoClient, opts: TempoStoreOptions): Promise<TempoStore> {
    await client.echo();
    return new TempoStore(client, opts);
  }

  get describe(): string {
    return `Tempo ${this.client.url} (${this.opts.v2 ? '/api/v2/traces' : '/api/traces'})`;
  }

  async services(): Promise<string[]> {
    return [];
  }

  /**
   * Search by time (Unix seconds, Tempo's unit) and optionally service, paged by splitting the window.
   * Only finds what Tempo indexed in that range: copied historical traces are not (ingestion slack).
   */
  async *search(service: string | undefined, startUs: bigint, endUs: bigint): AsyncGenerator<Trace[]> {
    const q = service === undefined ? '{}' : `{ resource.service.name = ${JSON.stringify(service)} }`;
    const stack: Array<[number, number]> = [[Number(startUs / 1_000_000n), Number((endUs + 999_999n) / 1_000_000n)]];
    while (stack.length) {
      const [a, b] = stack.pop()!;
      const hits = await this.client.search({ q, startS: a, endS: b, limit: this.opts.pageLimit });
      if (hits.length >= this.opts.pageLimit && b - a > 1) {
        const mid = Math.floor((a + b) / 2);
        stack.push([mid, b], [a, mid]);
        continue;
      }
      const page: Trace[] = [];
      for (const h of hits) {
        const t = await this.client.trace(h.traceID.padStart(32, '0'), { v2: this.opts.v2 });
        if (t) page.push(...tracesFromOtlpJson(t));
      }
      if (page.length) yield page;
    }
  }

  async get(id: Uint8Array): Promise<Trace | undefined> {
    const data = await this.client.trace(idHex(id), { v2: this.opts.v2 });
    if (data === undefined) return undefined;
    const want = idHex(id);
    return tracesFromOtlpJson(data).find((t) => idHex(t.traceId) === want);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
