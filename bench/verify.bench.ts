/**
 * Sample verification of an already-equal copy, one run, real Prometheus servers on loopback (two servers
 * holding the same TSDB blocks):
 *   read-only   the backfill's read path: remote read (streamed XOR chunks) + decode of the source, one
 *               reader per metric name, 6h windows (the baseline)
 *   verify      verifyMetrics, full sample parity: reads both sides, joins, compares (equal chunk bytes are
 *               proven equal without decoding)
 *   verify after backfill   the same against a copy made by runBackfill into a remote-write receiver,
 *               whose chunks are cut differently, so every sample is decoded and compared (informative)
 * and peak RSS of the CLI (child process) when the data grows 8x.
 * Bars (issue 4): verify's source-samples/s >= the read-only rate (ratio >= 1.0); peak RSS flat as data grows.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runBackfill } from '../src/backfill/index.js';
import { RemoteReadClient } from '../src/clients/index.js';
import { endpointFromUrl } from '../src/config/index.js';
import { HttpClient } from '../src/http/index.js';
import {
  countSamples,
  historyBlocks,
  installBlocks,
  prometheusVersion,
  resolveSpec,
  startPrometheus,
  type HistorySpec,
  type LabServer,
} from '../src/lab/index.js';
import { openSide, verifyMetrics, type MetricsReport } from '../src/verify/index.js';
import type { Matcher } from '../src/wire/index.js';
import { fmtRate } from './util.js';

const MAIN: HistorySpec = {
  series: 500,
  durationMs: 86_400_000,
  intervalMs: 15_000,
  seed: 91,
  endMs: Date.UTC(2026, 0, 1),
};
const RSS_1X: HistorySpec = {
  series: 200,
  durationMs: 86_400_000,
  intervalMs: 15_000,
  seed: 92,
  endMs: Date.UTC(2026, 0, 1),
};
const RSS_8X: HistorySpec = { ...RSS_1X, durationMs: 8 * 86_400_000 };
const ROUNDS = 3;
const CLI = resolve('dist/src/cli/main.js');

const work = mkdtempSync(join(tmpdir(), 'stackshift-bench-verify-'));
const servers: LabServer[] = [];
const log = (s: string) => process.stderr.write(s + '\n');

async function pair(spec: HistorySpec): Promise<[LabServer, LabServer]> {
  const blocks = await historyBlocks(spec);
  const out: LabServer[] = [];
  for (const name of ['a', 'b']) {
    const dataDir = join(work, `${name}-${spec.seed}-${spec.durationMs}`);
    installBlocks(blocks, dataDir);
    const s = await startPrometheus({
      name: `${name}-${spec.seed}-${spec.durationMs}`,
      config: 'global: {}\n',
      dataDir,
    });
    servers.push(s);
    out.push(s);
  }
  return [out[0], out[1]];
}

const names = (spec: HistorySpec) => [
  `${spec.prefix ?? 'stackshift_gen'}_requests_total`,
  `${spec.prefix ?? 'stackshift_gen'}_temperature_celsius`,
];

/** The backfill's read-only path (as bench/backfill.bench.ts measures it): one reader per metric name, 6h windows. */
async function readOnly(url: string, spec: HistorySpec): Promise<{ samples: number; ms: number }> {
  const s = resolveSpec(spec);
  const http = new HttpClient(endpointFromUrl(url), { connections: 3 });
  const rr = new RemoteReadClient(http);
  const t0 = performance.now();
  let samples = 0;
  await Promise.all(
    names(spec).map(async (name) => {
      for (let w = s.startMs; w < s.endMs; w += 6 * 3_600_000) {
        const m: Matcher[] = [{ type: 'EQ', name: '__name__', value: name }];
        for await (const x of rr.streamSeries({
          startMs: w,
          endMs: Math.min(s.endMs, w + 6 * 3_600_000) - 1,
          matchers: m,
        }))
          samples += x.timestamps.length;
      }
    }),
  );
  const ms = performance.now() - t0;
  await http.close();
  return { samples, ms };
}

async function verify(
  a: string,
  b: string,
  spec: HistorySpec,
  recheck?: { rounds: number; delayMs: number },
): Promise<MetricsReport> {
  const s = resolveSpec(spec);
  const [source, target] = [await openSide(endpointFromUrl(a)), await openSide(endpointFromUrl(b))];
  try {
    return await verifyMetrics({
      source,
      target,
      startMs: s.startMs,
      endMs: s.endMs,
      selectors: [[{ type: 'RE', name: '__name__', value: 'stackshift_gen_.+' }]],
      mapping: { add: {}, drop: [] },
      equality: { relativeTolerance: 0 },
      samples: true,
      readWindowMs: 86_400_000,
      concurrency: 2,
      top: 10,
      recheck,
    });
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

function cliVerify(a: string, b: string, spec: HistorySpec): Promise<MetricsReport> {
  const s = resolveSpec(spec);
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'verify',
        'metrics',
        '--source-url',
        a,
        '--target-url',
        b,
        '--start',
        String(s.startMs / 1000),
        '--end',
        String(s.endMs / 1000),
        '--match',
        '{__name__=~"stackshift_gen_.+"}',
        '--output',
        'json',
      ],
      { env: { ...process.env, STACKSHIFT_NO_PROGRESS: '1' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) =>
      code === 0 ? res(JSON.parse(out) as MetricsReport) : rej(new Error(`verify CLI exited ${code}: ${err}`)),
    );
  });
}

const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;

try {
  log(`Prometheus ${prometheusVersion()}; generating history (cached after the first run)...`);
  const [a, b] = await pair(MAIN);
  const expected = countSamples(MAIN);
  // warm both servers' page cache and the JIT once, then alternate so neither side of the ratio gets the warmer run
  await readOnly(a.url, MAIN);
  await verify(a.url, b.url, MAIN);
  const reads: number[] = [];
  const verifies: number[] = [];
  let last: MetricsReport | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await readOnly(a.url, MAIN);
    if (r.samples !== expected) throw new Error(`read-only read ${r.samples} samples, expected ${expected}`);
    reads.push((r.samples * 1000) / r.ms);
    const t0 = performance.now();
    last = await verify(a.url, b.url, MAIN);
    const ms = performance.now() - t0;
    if (last.samples!.matched !== expected || last.consistency.percent !== 100)
      throw new Error(`verify: ${last.samples!.matched} of ${expected} matched`);
    verifies.push((last.samples!.expected * 1000) / ms);
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
  const readRate = med(reads);
  const verifyRate = med(verifies);

  log('backfilling a copy into a remote-write receiver...');
  const receiver = await startPrometheus({
    name: 'receiver',
    config: 'global: {}\nstorage:\n  tsdb:\n    out_of_order_time_window: 3650d\n',
    dataDir: join(work, 'receiver'),
    extraArgs: ['--web.enable-remote-write-receiver'],
  });
  servers.push(receiver);
  const ms = resolveSpec(MAIN);
  await runBackfill({
    source: endpointFromUrl(a.url),
    target: endpointFromUrl(`${receiver.url}/api/v1/write`, 'prometheus'),
    selectors: ['{__name__=~"stackshift_gen_.+"}'],
    startMs: ms.startMs,
    endMs: ms.endMs,
    keepExternalLabels: true,
    remoteWriteVersion: '1.0',
    responseType: 'streamed',
    readConcurrency: 2,
    writeConcurrency: 4,
    batchSamples: 20_000,
    windowMs: 6 * 3_600_000,
    minWindowMs: 60_000,
    maxWindowMs: 24 * 3_600_000,
    unitSamples: 2_000_000,
    namesPerGroup: 1,
    statePath: join(work, 'backfill.db'),
    dryRun: false,
    preflight: false,
    retries: 10,
  });
  // the receiver serves holes while it compacts its out-of-order head: wait until a first read is complete
  const settle0 = performance.now();
  let transient = 0;
  for (let i = 0; i < 30; i++) {
    const r = await verify(a.url, receiver.url, MAIN);
    if (r.consistency.percent === 100) break;
    transient = Math.max(transient, r.samples!.seriesDifferent + r.samples!.seriesMissing);
    await new Promise((res) => setTimeout(res, 2000));
  }
  const settleMs = performance.now() - settle0;
  const decoded: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    // a receiver compacting its out-of-order head can serve holes for seconds: differences are read again
    const r = await verify(a.url, receiver.url, MAIN, { rounds: 3, delayMs: 2000 });
    if (r.consistency.percent !== 100)
      throw new Error(
        `verify after backfill: ${r.consistency.percent} %: ${JSON.stringify({ s: r.samples, d: r.discrepancies.slice(0, 3) })}`,
      );
    decoded.push((r.samples!.expected * 1000) / (performance.now() - t0));
  }
  const decodedRate = med(decoded);

  log('peak RSS at 1x and 8x data (CLI child process)...');
  const rss: Array<{ spec: HistorySpec; samples: number; peak: number; ms: number }> = [];
  for (const spec of [RSS_1X, RSS_8X]) {
    const [x, y] = await pair(spec);
    const r = await cliVerify(x.url, y.url, spec);
    rss.push({ spec, samples: r.samples!.expected, peak: r.peakRssBytes, ms: r.durationMs });
  }

  console.log(
    `verify.bench: ${MAIN.series} series x 1d at 15s = ${expected} samples per side, median of ${ROUNDS} rounds, Prometheus ${prometheusVersion()} on loopback, ${(await import('node:os')).cpus().length} cores`,
  );
  console.log(`read-only (backfill read path, baseline)  ${fmtRate(readRate).padStart(10)} source samples`);
  console.log(
    `verify metrics (both sides, compared)     ${fmtRate(verifyRate).padStart(10)} source samples  (${fmtRate(verifyRate * 2)} samples read)`,
  );
  console.log(`ratio verify / read-only: ${(verifyRate / readRate).toFixed(2)}  [bar: >= 1.0]`);
  console.log(
    `verify after backfill (re-chunked copy, every sample decoded on both sides) ${fmtRate(decodedRate)} source samples: ratio ${(decodedRate / readRate).toFixed(2)} (informative: two decodes on ${(await import('node:os')).cpus().length} cores; measured after the receiver settled: for ${(settleMs / 1000).toFixed(0)}s after the backfill its reads had holes in up to ${transient} series while it compacted)`,
  );
  for (const r of rss)
    console.log(
      `peak RSS ${mb(r.peak).padStart(7)} verifying ${r.samples} samples per side (${r.spec.series} series x ${r.spec.durationMs / 86_400_000}d) in ${(r.ms / 1000).toFixed(1)}s`,
    );
  console.log(`peak RSS 8x / 1x: ${(rss[1].peak / rss[0].peak).toFixed(2)}  [bar: flat]`);
  if (verifyRate < readRate || rss[1].peak > rss[0].peak * 1.5) process.exitCode = 1;
} finally {
  for (const s of servers) await s.stop();
  rmSync(work, { recursive: true, force: true });
}
