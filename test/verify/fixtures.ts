import type { TestContext } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import { RemoteWriteClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import {
  historyWithStaleMarkers,
  resolveSpec,
  type HistorySeries,
  type HistorySpec,
  type LabServer,
} from '../../src/lab/index.js';
import { encodeWriteRequest, isStaleMarker, snappyEncode, sortLabels } from '../../src/wire/index.js';
import { startServer } from '../harness/index.js';

/**
 * Two real Prometheus receivers holding the same generated history (stale markers included), the second one
 * with deliberately injected differences. Remote write is the only way to place stale markers (and to drop
 * exactly one), which the OpenMetrics/promtool path cannot carry.
 */
export const DIFF_SPEC: HistorySpec = {
  series: 24,
  durationMs: 12 * 3_600_000,
  intervalMs: 60_000,
  seed: 3,
  endMs: Date.UTC(2026, 0, 14),
};
const HOUR = 3_600_000;

export interface Injected {
  source: HistorySeries[];
  target: HistorySeries[];
  startMs: number;
  endMs: number;
  missing: HistorySeries;
  extra: HistorySeries;
  gap: { series: HistorySeries; fromMs: number; toMs: number; samples: number };
  altered: { series: HistorySeries; atMs: number; source: number; target: number };
  shifted: { series: HistorySeries; fromMs: number; toMs: number };
  stale: { series: HistorySeries; atMs: number };
  /** The hand count. */
  expected: number;
  matched: number;
  unexpected: number;
}

const copy = (s: HistorySeries): HistorySeries => ({
  labels: s.labels.map((l) => ({ ...l })),
  timestamps: s.timestamps.slice(),
  values: s.values.slice(),
  staleMarkers: s.staleMarkers,
});

function without(s: HistorySeries, drop: (i: number) => boolean): HistorySeries {
  const keep: number[] = [];
  for (let i = 0; i < s.timestamps.length; i++) if (!drop(i)) keep.push(i);
  const ts = new Float64Array(keep.length);
  const vs = new Float64Array(keep.length);
  const src = new Uint32Array(s.values.buffer, s.values.byteOffset, s.values.length * 2);
  const dst = new Uint32Array(vs.buffer);
  keep.forEach((k, j) => {
    ts[j] = s.timestamps[k];
    dst[2 * j] = src[2 * k];
    dst[2 * j + 1] = src[2 * k + 1];
  });
  return { labels: s.labels, timestamps: ts, values: vs, staleMarkers: s.staleMarkers };
}

const hasGap = (s: HistorySeries, interval: number) =>
  s.timestamps.some((t, i) => i > 0 && t - s.timestamps[i - 1] > interval);

export function injectDifferences(spec = DIFF_SPEC): Injected {
  const rs = resolveSpec(spec);
  const source = [...historyWithStaleMarkers(spec)];
  const clean = source
    .map((s, i) => ({ s, i }))
    .filter(({ s, i }) => i > 0 && s.staleMarkers === 0 && !hasGap(s, spec.intervalMs));
  const withStale = source.findIndex((s) => s.staleMarkers > 0);
  if (clean.length < 3 || withStale < 0) throw new Error('history spec has too few clean series or no stale marker');
  const target = source.map(copy);

  const missing = source[0];
  const [g, a, sh] = clean.slice(0, 3).map((x) => x.i);

  const fromMs = rs.startMs + 3 * HOUR;
  const gapped = without(
    target[g],
    (i) => target[g].timestamps[i] >= fromMs && target[g].timestamps[i] < fromMs + HOUR,
  );
  const gapSamples = target[g].timestamps.length - gapped.timestamps.length;
  target[g] = gapped;

  const ai = 100;
  const altered = {
    series: source[a],
    atMs: source[a].timestamps[ai],
    source: source[a].values[ai],
    target: source[a].values[ai] + 1,
  };
  target[a].values[ai] = altered.target;

  const si = 200;
  const shifted = { series: source[sh], fromMs: source[sh].timestamps[si], toMs: source[sh].timestamps[si] + 15_000 };
  target[sh].timestamps[si] = shifted.toMs;

  const staleIdx = [...source[withStale].values.keys()].find((i) => isStaleMarker(source[withStale].values, i))!;
  const stale = { series: source[withStale], atMs: source[withStale].timestamps[staleIdx] };
  target[withStale] = without(target[withStale], (i) => i === staleIdx);

  const extra = copy(source[1]);
  extra.labels = sortLabels(extra.labels.map((l) => (l.name === 'series' ? { name: 'series', value: 'extra' } : l)));
  target.splice(0, 1);
  target.push(extra);

  const expected = source.reduce((n, s) => n + s.timestamps.length, 0);
  const matched = expected - missing.timestamps.length - gapSamples - 1 - 1 - 1;
  const unexpected = extra.timestamps.length + 1;
  return {
    source,
    target,
    startMs: rs.startMs,
    endMs: rs.endMs,
    missing,
    extra,
    gap: { series: source[g], fromMs, toMs: fromMs + HOUR - spec.intervalMs, samples: gapSamples },
    altered,
    shifted,
    stale,
    expected,
    matched,
    unexpected,
  };
}

/** Writes series into a receiver through remote write 1.0, series by series in batches. */
export async function writeSeries(server: LabServer, series: HistorySeries[], batchSamples = 20_000): Promise<void> {
  const http = new HttpClient(endpointFromUrl(server.url));
  const rw = new RemoteWriteClient(http, { path: '/api/v1/write' });
  try {
    let batch: Array<{ labels: HistorySeries['labels']; timestamps: Float64Array; values: Float64Array }> = [];
    let n = 0;
    const flush = async () => {
      if (!batch.length) return;
      const r = await rw.send(snappyEncode(encodeWriteRequest(batch)));
      if (r.outcome !== 'ok') throw new Error(`remote write refused: ${r.message}`);
      batch = [];
      n = 0;
    };
    for (const s of series) {
      batch.push(s);
      n += s.timestamps.length;
      if (n >= batchSamples) await flush();
    }
    await flush();
  } finally {
    await http.close();
  }
}

/** Two receivers: the source history and the injected copy. */
export async function diffServers(
  t: TestContext,
  inj: Injected,
  transform: (s: HistorySeries[]) => HistorySeries[] = (s) => s,
): Promise<[LabServer, LabServer]> {
  const [a, b] = await Promise.all([
    startServer(t, { receiver: true, name: 'source' }),
    startServer(t, { receiver: true, name: 'target' }),
  ]);
  await Promise.all([writeSeries(a, inj.source), writeSeries(b, transform(inj.target))]);
  return [a, b];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (a child process: real exit code, stdout and stderr). */
export function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], {
      env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1', NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Validates a report against its published JSON Schema. */
export function assertSchema(schema: object, doc: unknown): void {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, validateFormats: false });
  const ok = ajv.validate(schema, doc);
  assert.ok(ok, JSON.stringify(ajv.errors?.slice(0, 5)));
}
