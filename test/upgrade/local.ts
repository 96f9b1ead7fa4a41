import type { TestContext } from 'node:test';
import { createServer, type Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient, RemoteReadClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import { freePort, prometheusBinary, type HistorySpec } from '../../src/lab/index.js';
import { localDriver } from '../../src/upgrade/index.js';
import type { Matcher } from '../../src/wire/index.js';
import { labelsKey, valueBitsHex } from '../../src/wire/index.js';
import { tempDir, waitUntil } from '../harness/index.js';

/**
 * A real Prometheus run by the local driver from an args file, scraping real HTTP targets every second: what
 * the `upgrade run` tests upgrade, break and roll back.
 */

export const TARGETS = 10;
export const HISTORY: HistorySpec = {
  series: 40,
  durationMs: 6 * 3_600_000,
  intervalMs: 60_000,
  seed: 5,
  endMs: Date.UTC(2026, 10, 20),
};
export const GEN: Matcher[] = [{ type: 'RE', name: '__name__', value: 'stackshift_gen_.+' }];

/**
 * `n` scrape targets. Each exposes a counter (its requests) and, with `gauge`, a gauge; `contentType: false` answers without a
 * Content-Type header, which 2.x scrapes as text and 3.x refuses without fallback_scrape_protocol.
 */
export async function startTargets(
  t: TestContext,
  n = TARGETS,
  o: { contentType?: boolean; gauge?: boolean } = {},
): Promise<number[]> {
  const contentType = o.contentType ?? true;
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    let count = 0;
    const srv: Server = createServer((_req, res) => {
      count++;
      if (contentType) res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        `# TYPE lab_target_requests_total counter\nlab_target_requests_total ${count}\n${o.gauge ? `# TYPE lab_target_load gauge\nlab_target_load ${(count % 7) + i}\n` : ''}`,
      );
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.after(
      () =>
        new Promise<void>((r) => {
          srv.closeAllConnections();
          srv.close(() => r());
        }),
    );
    ports.push((srv.address() as { port: number }).port);
  }
  return ports;
}

export interface LocalServer {
  url: string;
  unit: string;
  dataDir: string;
  state: string;
  dir: string;
  config: string;
  rules?: string;
}

export interface LocalOptions {
  /** A rule file, named by the config's rule_files as rules.yml. */
  rules?: string;
  /** Targets of a second job ("legacy") that answer without a Content-Type header. */
  blankContentTypeTargets?: number;
}

export async function startLocal(t: TestContext, version: string, o: LocalOptions = {}): Promise<LocalServer> {
  // removed only after the server stops (after-hooks run in registration order; a live server still writes)
  const dir = tempDir(undefined);
  const ports = await startTargets(t, TARGETS, { gauge: o.rules !== undefined });
  const legacy = o.blankContentTypeTargets
    ? await startTargets(t, o.blankContentTypeTargets, { contentType: false })
    : [];
  const port = await freePort();
  const dataDir = join(dir, 'data');
  const rules = o.rules !== undefined ? join(dir, 'rules.yml') : undefined;
  if (rules) writeFileSync(rules, o.rules!);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
${rules ? 'rule_files: [rules.yml]\n' : ''}scrape_configs:
  - job_name: app
    static_configs:
      - targets: [${ports.map((p) => `'127.0.0.1:${p}'`).join(', ')}]
${
  legacy.length
    ? `  - job_name: legacy
    static_configs:
      - targets: [${legacy.map((p) => `'127.0.0.1:${p}'`).join(', ')}]
`
    : ''
}storage:
  tsdb:
    out_of_order_time_window: 3650d
`,
  );
  const unit = join(dir, 'prometheus.args');
  writeFileSync(
    unit,
    [
      prometheusBinary(version),
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-admin-api',
      '--web.enable-lifecycle',
      '--web.enable-remote-write-receiver',
      '--storage.tsdb.retention.time=3650d',
      '',
    ].join('\n'),
  );
  const driver = localDriver(unit);
  driver.start();
  t.after(async () => {
    await driver.stop();
    if (!process.env.STACKSHIFT_KEEP_TMP) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  const url = `http://127.0.0.1:${port}`;
  const client = new PrometheusClient(endpointFromUrl(url));
  await waitUntil(
    async () => {
      try {
        await client.ensureReady();
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    `prometheus ${version} ready`,
  );
  await client.close();
  return { url, unit, dataDir, state: join(dir, 'state.db'), dir, config, rules };
}

/** Every sample of the matched series up to `endMs`, bit for bit, per series. */
export async function digest(url: string, matchers: Matcher[] = GEN, endMs = Date.now()): Promise<Map<string, string>> {
  const http = new HttpClient(endpointFromUrl(url));
  try {
    const out = new Map<string, string>();
    for await (const s of new RemoteReadClient(http).streamSeries({ startMs: 0, endMs, matchers })) {
      let d = '';
      for (let i = 0; i < s.timestamps.length; i++)
        if (s.timestamps[i]! <= endMs) d += `${s.timestamps[i]}=${valueBitsHex(s.values, i)};`;
      out.set(labelsKey(s.labels), d);
    }
    return out;
  } finally {
    await http.close();
  }
}

/** The largest pause between two scrapes of each target's own counter, in missed scrape intervals. */
export async function gapsFromData(url: string, fromMs: number, toMs: number): Promise<Map<string, number>> {
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    const r = await c.query(`lab_target_requests_total[${Math.ceil((toMs - fromMs) / 1000)}s]`, toMs);
    const out = new Map<string, number>();
    if (r.resultType !== 'matrix') return out;
    for (const s of r.result) {
      const ts = s.values.map((v) => Math.round(Number(v[0]) * 1000));
      const d = ts.slice(1).map((x, i) => x - ts[i]!);
      const interval = [...d].sort((a, b) => a - b)[Math.floor(d.length / 2)]!;
      out.set(s.metric.instance!, Math.max(0, Math.round((Math.max(...d) - interval) / interval)));
    }
    return out;
  } finally {
    await c.close();
  }
}

export function upgradeArgs(s: LocalServer, to: string, binary: string): string[] {
  return [
    'upgrade',
    'run',
    '--prometheus-url',
    s.url,
    '--to',
    to,
    '--binary',
    binary,
    '--unit',
    s.unit,
    '--data-dir',
    s.dataDir,
    '--state',
    s.state,
    '--output',
    'json',
  ];
}

export function rollbackArgs(s: LocalServer): string[] {
  return [
    'upgrade',
    'rollback',
    '--prometheus-url',
    s.url,
    '--unit',
    s.unit,
    '--data-dir',
    s.dataDir,
    '--state',
    s.state,
    '--output',
    'json',
  ];
}

/**
 * For a failure message: around the largest pause of one target's counter, its raw samples (stale markers
 * shown as "stale"), and every `up` sample of it that is not 1.
 */
export async function explainGap(url: string, instance: string, fromMs: number, toMs: number): Promise<string> {
  const http = new HttpClient(endpointFromUrl(url));
  try {
    const parts: string[] = [];
    for await (const s of new RemoteReadClient(http).streamSeries({
      startMs: fromMs,
      endMs: toMs,
      matchers: [
        { type: 'RE', name: '__name__', value: 'lab_target_requests_total|up' },
        { type: 'EQ', name: 'instance', value: instance },
      ],
    })) {
      const name = s.labels.find((l) => l.name === '__name__')?.value;
      const ts = Array.from(s.timestamps);
      let at = 1;
      for (let i = 2; i < ts.length; i++) if (ts[i]! - ts[i - 1]! > ts[at]! - ts[at - 1]!) at = i;
      const show = (i: number) =>
        `${ts[i]}=${valueBitsHex(s.values, i) === '7ff0000000000002' ? 'stale' : s.values[i]}`;
      if (name === 'up')
        parts.push(
          `up not 1: ${
            ts
              .map((_, i) => i)
              .filter((i) => s.values[i] !== 1)
              .map(show)
              .join(', ') || 'none'
          }`,
        );
      else
        parts.push(
          `counter around its largest pause: ${ts
            .map((_, i) => i)
            .filter((i) => i >= at - 3 && i <= at + 3)
            .map(show)
            .join(', ')}`,
        );
    }
    return parts.join('; ');
  } finally {
    await http.close();
  }
}
