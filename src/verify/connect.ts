import { parse as parseYaml } from 'yaml';
import { PrometheusClient, RemoteReadClient } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { HttpClient, HttpError } from '../http/index.js';
import { RawChunkReader, classifiedStream } from './chunks.js';
import { labelsFromRecord } from './labels.js';
import type { VerifySide } from './metrics.js';
import type { Label, SeriesReader } from './types.js';

export interface OpenedSide extends VerifySide {
  close(): Promise<void>;
}

/** Connections per side for `verify queries`: one per query in flight, so no request waits in the pool. */
export const queryConnections = (concurrency: number): number => Math.max(8, concurrency);

/**
 * Connections per side for `verify metrics`: each metric in flight holds one open remote-read stream and may
 * read one series again while it is open, or keeps four exact reads ahead when sampling or re-checking. A
 * pool smaller than that waits for a connection its own open stream holds, forever.
 */
export const metricsConnections = (concurrency: number): number => Math.max(8, 4 * concurrency + 2);

/**
 * One side of a comparison: its Prometheus HTTP API and its remote-read endpoint (Mimir serves both under
 * /prometheus), checked to answer before any work starts so a wrong URL fails in a second, not mid-run.
 * `connections` sizes the pool (default 8): give queryConnections / metricsConnections of the concurrency.
 */
export async function openSide(
  ep: ResolvedEndpoint,
  opts: { readPath?: string; check?: boolean; connections?: number; signal?: AbortSignal } = {},
): Promise<OpenedSide> {
  const prefix = ep.type === 'mimir' && !/\/prometheus\/?$/.test(ep.url) ? '/prometheus' : '';
  const connections = opts.connections ?? 8;
  // `signal` aborts every request of this side (a stopped run, after its grace period)
  const http = new HttpClient(ep, { connections, signal: opts.signal });
  const api = new PrometheusClient(
    prefix ? new HttpClient({ ...ep, url: ep.url + prefix }, { connections, signal: opts.signal }) : http,
  );
  const rr = new RemoteReadClient(http, { path: opts.readPath ?? `${prefix}/api/v1/read` });
  const readUrl = `${ep.url.replace(/\/+$/, '')}${rr.path}`;
  // decoding failures of garbled bodies surface as wire errors naming the server, never as internal errors
  const reader: SeriesReader = { streamSeries: (q) => classifiedStream(rr.streamSeries(q), readUrl) };
  const side: OpenedSide = {
    url: ep.url,
    api,
    reader,
    chunks: new RawChunkReader(rr),
    externalLabels: [],
    async close() {
      await http.close();
      if (api.http !== http) await api.http.close();
    },
  };
  try {
    if (opts.check !== false) await api.buildInfo();
    side.externalLabels = await externalLabels(api);
  } catch (e) {
    await side.close();
    throw e;
  }
  return side;
}

/** global.external_labels of a Prometheus; none for servers without the config API (Mimir). */
async function externalLabels(client: PrometheusClient): Promise<Label[]> {
  try {
    const cfg = parseYaml(await client.config()) as { global?: { external_labels?: Record<string, unknown> } } | null;
    const rec: Record<string, string> = {};
    for (const [k, v] of Object.entries(cfg?.global?.external_labels ?? {})) rec[k] = String(v);
    return labelsFromRecord(rec);
  } catch (e) {
    if (e instanceof HttpError && (e.status === 404 || e.status === 405 || e.kind === 'protocol')) return [];
    throw e;
  }
}
