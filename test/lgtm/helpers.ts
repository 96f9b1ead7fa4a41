import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LokiClient, PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { startPrometheus, type LabServer } from '../../src/lab/index.js';
import type { Trace } from '../../src/traces/index.js';
import { LokiDouble } from '../doubles/loki-double.js';
import { tempDir, waitUntil } from '../harness/index.js';

/**
 * The metrics and logs side of the correlation tests: an OpenMetrics target whose counters carry one
 * trace_id exemplar each, a real Prometheus (Debian 2.42 by default) scraping it every second with exemplar
 * storage on, and log lines naming the same trace IDs in the Loki double (tenant TENANT, stream
 * {job, service_name, host} from the root span of each trace when `traces` is given).
 */
export const TENANT = 'team-a';

export function openMetrics(ids: string[]): string {
  const lines = ['# TYPE app_requests counter', '# HELP app_requests Requests handled.'];
  ids.forEach((id, i) => lines.push(`app_requests_total{route="/r${i}"} ${10 + i} # {trace_id="${id}"} 1.0`));
  lines.push('# EOF', '');
  return lines.join('\n');
}

export interface Signals {
  prom: LabServer;
  loki: LokiDouble;
}

/** The exemplar target, a Prometheus 2.42 scraping it with exemplar storage on, and the log lines in the Loki double. */
export async function startSignals(
  ids: string[],
  cleanups: Array<() => Promise<void>>,
  traces?: Trace[],
): Promise<Signals> {
  const target: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(openMetrics(ids));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => target.close(() => r())));
  const port = (target.address() as AddressInfo).port;
  const dir = tempDir(undefined, 'stackshift-corr-');
  const prom = await startPrometheus({
    name: 'exemplars',
    dataDir: `${dir}/data`,
    extraArgs: ['--enable-feature=exemplar-storage'],
    config: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
  });
  cleanups.push(() => prom.stop());
  const loki = new LokiDouble();
  await loki.start();
  cleanups.push(() => loki.stop());
  const client = new LokiClient(endpointFromUrl(loki.url, 'loki', { tenant: TENANT }));
  // each trace's lines in the stream of its root span's service and host, at the span's start time (so the
  // traces-to-logs query over the span's time finds them); one line without a trace ID
  const streams = new Map<string, { labels: Record<string, string>; entries: Array<{ tsNs: bigint; line: string }> }>();
  const stream = (labels: Record<string, string>) => {
    const k = JSON.stringify(labels);
    if (!streams.has(k)) streams.set(k, { labels, entries: [] });
    return streams.get(k)!;
  };
  const base = BigInt(Date.now() - 120_000) * 1_000_000n;
  ids.forEach((id, i) => {
    const root = traces?.[i]?.spans[0];
    const res = (key: string, dflt: string) =>
      String(
        (root?.resource.attributes.find((a) => a.key === key)?.value as { value?: unknown } | undefined)?.value ?? dflt,
      );
    const s = stream({
      job: 'app',
      service_name: res('service.name', 'synth-svc-0'),
      host: res('host.name', 'host-0.lab'),
    });
    const t0 = root ? root.startNs + 1_000_000_000n : base + BigInt(i * 2) * 1_000_000_000n;
    s.entries.push(
      { tsNs: t0, line: `level=info msg="GET /r${i}" trace_id=${id} status=200` },
      { tsNs: t0 + 1_000_000n, line: `level=debug msg="cache hit" trace_id=${id}` },
    );
  });
  stream({ job: 'app', service_name: 'synth-svc-0', host: 'host-0.lab' }).entries.push({
    tsNs: base + 100_000_000_000n,
    line: 'level=info msg="startup complete"',
  });
  for (const s of streams.values()) s.entries.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
  await client.push([...streams.values()]);
  await client.close();
  // the exemplars are in once every series has one
  const api = new PrometheusClient(endpointFromUrl(prom.url));
  await waitUntil(
    async () => {
      const d = await api.api<Array<{ exemplars: unknown[] }>>('/api/v1/query_exemplars', {
        query: 'app_requests_total',
        start: (Date.now() - 600_000) / 1000,
        end: Date.now() / 1000,
      });
      return d.length === ids.length && d.every((x) => x.exemplars.length > 0);
    },
    30_000,
    'exemplars scraped',
  );
  await api.close();
  return { prom, loki };
}
