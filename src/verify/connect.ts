import { parse as parseYaml } from 'yaml';
import { PrometheusClient, RemoteReadClient } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { HttpClient, HttpError } from '../http/index.js';
import { RawChunkReader } from './chunks.js';
import { labelsFromRecord } from './labels.js';
import type { VerifySide } from './metrics.js';
import type { Label } from './types.js';

export interface OpenedSide extends VerifySide {
  close(): Promise<void>;
}

/**
 * One side of a comparison: its Prometheus HTTP API and its remote-read endpoint (Mimir serves both under
 * /prometheus), checked to answer before any work starts so a wrong URL fails in a second, not mid-run.
 */
export async function openSide(ep: ResolvedEndpoint, opts: { readPath?: string; check?: boolean } = {}): Promise<OpenedSide> {
  const prefix = ep.type === 'mimir' && !/\/prometheus\/?$/.test(ep.url) ? '/prometheus' : '';
  const http = new HttpClient(ep, { connections: 8 });
  const api = new PrometheusClient(prefix ? new HttpClient({ ...ep, url: ep.url + prefix }, { connections: 8 }) : http);
  const reader = new RemoteReadClient(http, { path: opts.readPath ?? `${prefix}/api/v1/read` });
  const side: OpenedSide = {
    url: ep.url,
    api,
    reader,
    chunks: new RawChunkReader(reader),
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
