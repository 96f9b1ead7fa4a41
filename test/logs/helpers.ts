import type { TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { LokiClient, type LokiEntry, type LokiStream } from '../../src/clients/index.js';
import { generateLogs } from '../../src/logs/index.js';
import { endpointFromUrl, type ResolvedEndpoint } from '../../src/config/index.js';
import { LokiDouble, type LokiDoubleOptions } from '../doubles/loki-double.js';

/**
 * The Loki a test talks to: the contract double by default, or a real Loki when STACKSHIFT_TEST_LOKI_URL
 * is set (auth_enabled: true, so that the "old" and "new" Loki are two fresh tenants of it; the tenants get
 * a random suffix per test, so runs never see each other's lines). Everything is seeded through the push
 * API, so the same test code runs against both.
 */
export const REAL_LOKI = process.env.STACKSHIFT_TEST_LOKI_URL;

export interface LokiUnderTest {
  url: string;
  double?: LokiDouble;
  source: ResolvedEndpoint;
  target: ResolvedEndpoint;
  /** CLI flags naming both sides. */
  flags: string[];
  real: boolean;
}

export async function lokiUnderTest(t: TestContext, opts: LokiDoubleOptions = {}): Promise<LokiUnderTest> {
  const id = randomBytes(3).toString('hex');
  let url: string;
  let double: LokiDouble | undefined;
  if (REAL_LOKI) url = REAL_LOKI.replace(/\/+$/, '');
  else {
    double = new LokiDouble(opts);
    url = await double.start();
    t.after(() => double!.stop());
  }
  const source = endpointFromUrl(url, 'loki', { tenant: `old-${id}`, retries: 4 });
  const target = endpointFromUrl(url, 'loki', { tenant: `new-${id}`, retries: 4 });
  const flags = [
    '--source-url',
    url,
    '--source-tenant',
    source.tenant!,
    '--target-url',
    url,
    '--target-tenant',
    target.tenant!,
  ];
  return { url, double, source, target, flags, real: Boolean(REAL_LOKI) };
}

export { generateLogs, type LogSpec, type GeneratedLogs } from '../../src/logs/index.js';

/** Pushes streams in time order per stream, in batches, as a shipper would. */
export async function seed(endpoint: ResolvedEndpoint, streams: LokiStream[], batch = 5000): Promise<void> {
  const c = new LokiClient(endpoint);
  try {
    const jobs = streams.map((s) => async () => {
      for (let i = 0; i < s.entries.length; i += batch)
        await c.push([{ labels: s.labels, entries: s.entries.slice(i, i + batch) }]);
    });
    const queue = jobs.slice();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let j = queue.shift(); j; j = queue.shift()) await j();
      }),
    );
  } finally {
    await c.close();
  }
}

/** Every line of every stream on a side, as (stream, ts, line, metadata) keys with their multiplicity. */
export async function readAll(
  endpoint: ResolvedEndpoint,
  selector: string,
  startMs: number,
  endMs: number,
): Promise<Map<string, number>> {
  const c = new LokiClient(endpoint);
  const out = new Map<string, number>();
  try {
    const { readStream } = await import('../../src/logs/index.js');
    const streams = await c.series([selector], BigInt(startMs) * 1_000_000n, BigInt(endMs) * 1_000_000n);
    for (const labels of streams) {
      for await (const page of readStream(c, labels, BigInt(startMs) * 1_000_000n, BigInt(endMs) * 1_000_000n, 5000)) {
        for (const e of page) {
          const k = keyOf(labels, e);
          out.set(k, (out.get(k) ?? 0) + 1);
        }
      }
    }
  } finally {
    await c.close();
  }
  return out;
}

/**
 * Checks that a side holds exactly the generated streams, every line once with its metadata, reading one
 * stream at a time so that memory stays that of one stream (a 1 M-line check holds no 1 M-key map). Returns
 * the first few problems (empty when exact) and the lines read.
 */
export async function exactlyOnce(
  endpoint: ResolvedEndpoint,
  selector: string,
  streams: LokiStream[],
  startMs: number,
  endMs: number,
): Promise<{ lines: number; problems: string[] }> {
  const c = new LokiClient(endpoint);
  const problems: string[] = [];
  const fromNs = BigInt(startMs) * 1_000_000n;
  const toNs = BigInt(endMs) * 1_000_000n;
  let lines = 0;
  try {
    const { readStream } = await import('../../src/logs/index.js');
    const labelsKey = (l: Record<string, string>) => keyOf(l, { tsNs: 0n, line: '' });
    const held = new Set((await c.series([selector], fromNs, toNs)).map(labelsKey));
    const want = new Set(streams.map((s) => labelsKey(s.labels)));
    for (const k of held) if (!want.has(k)) problems.push(`extra stream ${k}`);
    for (const s of streams) {
      if (problems.length >= 5) break;
      if (!held.has(labelsKey(s.labels))) {
        problems.push(`missing stream ${labelsKey(s.labels)}`);
        continue;
      }
      const bag = new Map<string, number>();
      for (const e of s.entries) {
        const k = keyOf(s.labels, e);
        bag.set(k, (bag.get(k) ?? 0) + 1);
      }
      for await (const page of readStream(c, s.labels, fromNs, toNs, 5000))
        for (const e of page) {
          lines++;
          const k = keyOf(s.labels, e);
          const n = bag.get(k);
          if (n === undefined) problems.push(`extra line ${k.slice(0, 160)}`);
          else if (n === 1) bag.delete(k);
          else bag.set(k, n - 1);
        }
      for (const [k, n] of bag) if (problems.length < 5) problems.push(`line ${k.slice(0, 160)} short by ${n}`);
    }
  } finally {
    await c.close();
  }
  return { lines, problems: problems.slice(0, 5) };
}

export function keyOf(labels: Record<string, string>, e: LokiEntry): string {
  const l = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
  const m = e.metadata
    ? Object.keys(e.metadata)
        .sort()
        .map((k) => `${k}=${e.metadata![k]}`)
        .join(',')
    : '';
  return `${l}|${e.tsNs}|${e.line}|${m}`;
}

export function expectedKeys(streams: LokiStream[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of streams)
    for (const e of s.entries) {
      const k = keyOf(s.labels, e);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  return out;
}

/** Lines per test run: STACKSHIFT_TEST_LOG_LINES overrides the default. */
export function testLines(dflt: number): number {
  const v = Number(process.env.STACKSHIFT_TEST_LOG_LINES);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}
