import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { PrometheusClient, RemoteReadClient, RemoteWriteClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpClient } from '../http/index.js';
import { encodeWriteRequest, isStaleMarker, labelsKey, snappyEncode, type WriteSeries } from '../wire/index.js';
import { localDriver, type ServerDriver } from './driver.js';

/**
 * `--zero-gap`: the window a restart leaves empty, filled from a shadow scraper.
 *
 * Choice (of the three the issue names): a shadow *server* scraping the same targets, copied into the upgraded
 * server afterwards by remote read -> remote write into its out-of-order window. An agent-mode shadow would
 * need a remote-write receiver that is up while the server is down (it is not), and blocks would need the
 * shadow's head compacted first (minutes). The copy writes only the shadow's samples that fall strictly
 * between the server's own last sample before the stop and its first sample after the restart, per series,
 * so nothing the server scraped itself is written twice.
 *
 * The shadow runs the old binary with only the scrape part of the config (no rules: no duplicate alerts; no
 * remote_write: no duplicate writes to Mimir; no external labels: remote read would add them to every series).
 * Its config sits beside the original so relative paths (file_sd, credentials files) resolve the same way.
 * It runs detached through the local driver, so a kill -9 of stackshift leaves it scraping for the rerun.
 */
export interface Shadow {
  unit: string;
  config: string;
  url: string;
  dataDir: string;
}

export function shadowConfig(original: string): string {
  const doc = (parse(original) ?? {}) as Record<string, unknown>;
  const global = { ...((doc.global as Record<string, unknown> | undefined) ?? {}) };
  delete global.external_labels;
  const out: Record<string, unknown> = { global };
  for (const k of ['scrape_configs', 'scrape_config_files']) if (doc[k] !== undefined) out[k] = doc[k];
  return stringify(out);
}

/** Checks that the server can take the filled window: a remote-write receiver with an out-of-order window. */
export async function checkZeroGapTarget(client: PrometheusClient): Promise<void> {
  const flags = await client.flags();
  const receiver =
    flags['web.enable-remote-write-receiver'] === 'true' ||
    (flags['enable-feature'] ?? '').split(',').includes('remote-write-receiver');
  const ooo = /out_of_order_time_window:\s*([1-9]\d*[smhdwy])/.exec(await client.config());
  if (!receiver || !ooo) {
    throw new StackshiftError(
      'upgrade-zero-gap',
      `--zero-gap needs the server to take the gap's samples afterwards: ${[!receiver && 'start it with --web.enable-remote-write-receiver', !ooo && 'set storage.tsdb.out_of_order_time_window (e.g. 1h) in prometheus.yml'].filter(Boolean).join(' and ')}`,
      {
        hint: 'add both before the stage (they are valid on 2.39+ and 3.x), or run without --zero-gap: the gap is then measured and reported',
      },
    );
  }
}

export function startShadow(o: {
  dir: string;
  runId: number;
  binary: string;
  configFile: string;
  port: number;
}): Shadow {
  const config = join(dirname(o.configFile), `.stackshift-shadow-${o.runId}.yml`);
  writeFileSync(config, shadowConfig(readFileSync(o.configFile, 'utf8')));
  const dataDir = join(o.dir, `upgrade-${o.runId}-shadow-data`);
  const unit = join(o.dir, `upgrade-${o.runId}-shadow.args`);
  writeFileSync(
    unit,
    [
      o.binary,
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${o.port}`,
      '--storage.tsdb.retention.time=1d',
      '',
    ].join('\n'),
  );
  localDriver(unit).start();
  return { unit, config, url: `http://127.0.0.1:${o.port}`, dataDir };
}

/** Waits until the shadow has scraped every target it knows at least twice. */
export async function waitShadowScraping(shadow: Shadow, timeoutMs = 120_000): Promise<number> {
  const c = new PrometheusClient(endpointFromUrl(shadow.url));
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await c.ensureReady();
        const t = await c.targets('active');
        if (t.activeTargets.length > 0 && t.activeTargets.every((x) => x.health !== 'unknown')) {
          const r = await c.query('min(count_over_time(up[5m]))');
          if (r.resultType === 'vector' && Number(r.result[0]?.value[1] ?? 0) >= 2) return t.activeTargets.length;
        }
      } catch {
        /* starting */
      }
      if (Date.now() > deadline)
        throw new StackshiftError(
          'upgrade-zero-gap',
          `the shadow scraper at ${shadow.url} did not scrape its targets within ${timeoutMs / 1000} s`,
          { hint: `see ${shadow.unit}.log` },
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await c.close();
  }
}

export async function stopShadow(shadow: Shadow): Promise<void> {
  const d: ServerDriver | undefined = existsSync(shadow.unit) ? localDriver(shadow.unit) : undefined;
  await d?.stop();
  for (const p of [shadow.config, shadow.dataDir, shadow.unit, `${shadow.unit}.pid`, `${shadow.unit}.log`])
    rmSync(p, { recursive: true, force: true });
}

function medianSpacing(ts: Float64Array): number {
  if (ts.length < 2) return 0;
  const d: number[] = [];
  for (let i = 1; i < ts.length; i++) d.push(ts[i]! - ts[i - 1]!);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)]!;
}

const isUp = (labels: { name: string; value: string }[]) =>
  labels.some((l) => l.name === '__name__' && l.value === 'up');

export interface FillResult {
  series: number;
  samples: number;
  requests: number;
}

/** The index of the first element of sorted `ts` that is >= t. */
function lowerBound(ts: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distance from t to the nearest element of sorted `ts` (Infinity when empty). */
function nearest(ts: ArrayLike<number>, t: number): number {
  const i = lowerBound(ts, t);
  return Math.min(i < ts.length ? ts[i]! - t : Infinity, i > 0 ? t - ts[i - 1]! : Infinity);
}

/**
 * Copies the shadow's samples into every hole the server's own series have in [fromMs, toMs]: the restart
 * itself, and any scrape the server missed while it caught up after readiness. A shadow sample is written only
 * when the server has no sample within half a scrape interval of it: the two scrape the same targets on the same
 * schedule (or at a fixed phase offset, which is at most half an interval from one of the server's), so a
 * sample that near is the same scrape and nothing is written twice. A series the server lacks entirely (it
 * appeared during the restart) is copied whole. A failed scrape is a hole too: the server's stale markers and its
 * `up` 0 samples do not count as samples, and the shadow's are never copied. Remote read adds the server's external labels to what it
 * returns; they are removed before matching, as the shadow runs without them.
 */
export async function fillGap(
  shadowUrl: string,
  server: PrometheusClient,
  fromMs: number,
  toMs: number,
): Promise<FillResult> {
  const matchers = [{ type: 'RE' as const, name: '__name__', value: '.+' }];
  const external = new Set(
    Object.keys(
      ((parse(await server.config()) ?? {}) as { global?: { external_labels?: Record<string, string> } }).global
        ?.external_labels ?? {},
    ),
  );
  const withoutExternal = (labels: { name: string; value: string }[]) => labels.filter((l) => !external.has(l.name));
  const sh = new HttpClient(endpointFromUrl(shadowUrl));
  const sv = new HttpClient(endpointFromUrl(server.url));
  try {
    // the server's own sample times per series; bounded by series x scrapes in the window (minutes of data)
    const own = new Map<string, Float64Array>();
    for await (const s of new RemoteReadClient(sv).streamSeries({ startMs: fromMs, endMs: toMs, matchers })) {
      // a stale marker (a scrape that failed, or the end of a series) and up == 0 are not a scrape's data:
      // the place they mark is a hole, to be filled like any other
      const up = isUp(s.labels);
      const kept: number[] = [];
      for (let i = 0; i < s.timestamps.length; i++)
        if (!isStaleMarker(s.values, i) && !(up && s.values[i] === 0)) kept.push(s.timestamps[i]!);
      own.set(labelsKey(withoutExternal(s.labels)), Float64Array.from(kept).sort());
    }
    const rw = new RemoteWriteClient(sv, { path: '/api/v1/write' });
    const result: FillResult = { series: 0, samples: 0, requests: 0 };
    let batch: WriteSeries[] = [];
    let n = 0;
    const flush = async () => {
      if (!batch.length) return;
      const r = await rw.send(snappyEncode(encodeWriteRequest(batch)));
      result.requests++;
      if (r.outcome !== 'ok')
        throw new StackshiftError('upgrade-zero-gap', `${server.url} refused the gap's samples: ${r.message}`, {
          hint: r.reject?.advice,
        });
      batch = [];
      n = 0;
    };
    for await (const s of new RemoteReadClient(sh).streamSeries({ startMs: fromMs, endMs: toMs, matchers })) {
      const mine = own.get(labelsKey(s.labels)) ?? new Float64Array(0);
      const half = medianSpacing(mine.length >= 2 ? mine : s.timestamps) / 2;
      const up = isUp(s.labels);
      const timestamps: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < s.timestamps.length; i++) {
        const t = s.timestamps[i]!;
        if (t < fromMs || t > toMs || nearest(mine, t) <= half) continue;
        // only what the shadow did scrape fills a hole: not its stale markers, not its failed scrapes
        if (isStaleMarker(s.values, i) || (up && s.values[i] === 0)) continue;
        timestamps.push(t);
        values.push(s.values[i]!);
      }
      if (!timestamps.length) continue;
      batch.push({ labels: s.labels, timestamps: Float64Array.from(timestamps), values: Float64Array.from(values) });
      result.series++;
      result.samples += timestamps.length;
      n += timestamps.length;
      if (n >= 20_000) await flush();
    }
    await flush();
    return result;
  } finally {
    await sh.close();
    await sv.close();
  }
}
