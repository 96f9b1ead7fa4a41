/**
 * Peer table (issue 14): the same history copied in one run by
 *   backfill metrics -> VictoriaMetrics   stackshift, remote read (streamed) -> remote write
 *   vmctl remote-read -> VictoriaMetrics  streamed remote read, 1h steps
 *   vmctl prometheus  -> VictoriaMetrics  snapshot mode (reads the TSDB blocks of a Prometheus snapshot)
 *   promtool openmetrics                  OpenMetrics export + promtool tsdb create-blocks-from openmetrics
 *   backfill blocks                       stackshift, remote read (raw chunks) -> TSDB blocks on disk
 * with samples/s for each, the source's streamed read-only rate as the ceiling, and a completeness check per
 * row: the samples the target serves through its own API (VictoriaMetrics /api/v1/export; blocks loaded into a
 * Prometheus and read back by remote read) equal the source's. Peak RSS of `backfill blocks` (child process).
 *
 * Scale: 1,000 series x 7 days at 15 s by default (STACKSHIFT_BENCH_PEERS=small: 100 series x 1 day). Rows
 * whose tool is not built in the lab yet are printed as "not run" with the reason. One run, never in a loop.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RemoteReadClient } from '../src/clients/index.js';
import { endpointFromUrl } from '../src/config/index.js';
import { HttpClient } from '../src/http/index.js';
import {
  countSamples,
  countVictoriaSamples,
  historyBlocks,
  installBlocks,
  labHas,
  promtoolBinary,
  resolveSpec,
  startPrometheus,
  startVictoriaMetrics,
  vmctlBinary,
  writeOpenMetrics,
  victoriaMetricsVersion,
  type HistorySpec,
  type LabServer,
  type VictoriaMetricsServer,
} from '../src/lab/index.js';
import { fmtRate } from './util.js';

const SMALL = process.env.STACKSHIFT_BENCH_PEERS === 'small';
const SPEC: HistorySpec = SMALL
  ? { series: 100, durationMs: 86_400_000, intervalMs: 15_000, seed: 141, endMs: Date.UTC(2026, 0, 1) }
  : { series: 1000, durationMs: 7 * 86_400_000, intervalMs: 15_000, seed: 141, endMs: Date.UTC(2026, 0, 1) };
const MATCH = '{__name__=~"stackshift_gen_.+"}';
const CLI = resolve('dist/src/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'stackshift-peers-'));
const log = (s: string) => process.stderr.write(s + '\n');
const stops: Array<() => Promise<void>> = [];

interface Row {
  tool: string;
  samples: number;
  ms: number;
  complete: string;
  note?: string;
}
const rows: Row[] = [];

function run(
  cmd: string,
  args: string[],
): Promise<{ code: number | null; stderr: string; stdout: string; peakRssKb: number }> {
  // /usr/bin/time -f %M gives the child's peak RSS where installed; otherwise 0
  const timed = spawnSync('sh', ['-c', 'command -v /usr/bin/time'], { encoding: 'utf8' }).status === 0;
  return new Promise((res) => {
    const child = timed ? spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', cmd, ...args]) : spawn(cmd, args);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (code) =>
      res({ code, stderr, stdout, peakRssKb: Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) }),
    );
  });
}

async function remoteReadCount(url: string, startMs: number, endMs: number): Promise<{ samples: number; ms: number }> {
  const http = new HttpClient(endpointFromUrl(url));
  const rr = new RemoteReadClient(http);
  const t0 = performance.now();
  let samples = 0;
  for (let w = startMs; w < endMs; w += 86_400_000) {
    for await (const x of rr.streamSeries(
      {
        startMs: w,
        endMs: Math.min(endMs, w + 86_400_000) - 1,
        matchers: [{ type: 'RE', name: '__name__', value: 'stackshift_gen_.+' }],
      },
      { reuse: true },
    ))
      samples += x.timestamps.length;
  }
  const ms = performance.now() - t0;
  await http.close();
  return { samples, ms };
}

async function vm(name: string): Promise<VictoriaMetricsServer> {
  const s = await startVictoriaMetrics({ dataDir: join(work, name) });
  stops.push(() => s.stop());
  return s;
}

async function prometheusWithBlocks(name: string, blocksDir: string): Promise<LabServer> {
  const data = join(work, name);
  for (const d of readdirSync(blocksDir)) cpSync(join(blocksDir, d), join(data, d), { recursive: true });
  const s = await startPrometheus({ name, config: 'global: {}\n', dataDir: data });
  stops.push(() => s.stop());
  return s;
}

const completeness = (got: number, want: number) =>
  got === want ? 'complete' : `MISSING ${want - got} of ${want} (${(((want - got) / want) * 100).toFixed(3)} %)`;

async function main(): Promise<void> {
  const s = resolveSpec(SPEC);
  const want = countSamples(SPEC);
  log(
    `history: ${SPEC.series} series x ${SPEC.durationMs / 86_400_000} d at ${SPEC.intervalMs / 1000} s = ${want} samples`,
  );
  const srcData = join(work, 'source');
  installBlocks(await historyBlocks(SPEC), srcData);
  const source = await startPrometheus({ name: 'source', config: 'global: {}\n', dataDir: srcData });
  stops.push(() => source.stop());

  // the faster of two passes: the first one also pages the blocks in
  const passes = [
    await remoteReadCount(source.url, s.startMs, s.endMs),
    await remoteReadCount(source.url, s.startMs, s.endMs),
  ];
  const ceiling = passes[0].ms < passes[1].ms ? passes[0] : passes[1];
  log(`read-only (streamed remote read): ${fmtRate((ceiling.samples * 1000) / ceiling.ms)}`);
  if (ceiling.samples !== want) throw new Error(`source serves ${ceiling.samples} samples, history has ${want}`);
  const range = ['--start', String(s.startMs / 1000), '--end', String(s.endMs / 1000)];
  const haveVm =
    labHas('victoria-metrics', victoriaMetricsVersion()) &&
    labHas('victoria-metrics', victoriaMetricsVersion(), 'vmctl');

  // 1. backfill metrics -> VictoriaMetrics
  if (haveVm) {
    const v = await vm('vm-backfill');
    const t0 = performance.now();
    const r = await run(process.execPath, [
      CLI,
      'backfill',
      'metrics',
      '--source-url',
      source.url,
      '--target-url',
      `${v.url}/api/v1/write`,
      ...range,
      '--match',
      MATCH,
      '--state',
      join(work, 'bm.db'),
      '--no-preflight',
      '--no-readback',
    ]);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`backfill metrics: ${r.stderr}`);
    rows.push({
      tool: 'stackshift backfill metrics -> VictoriaMetrics',
      samples: want,
      ms,
      complete: completeness(await countVictoriaSamples(v.url, MATCH, s.startMs, s.endMs), want),
    });
  } else
    rows.push({
      tool: 'stackshift backfill metrics -> VictoriaMetrics',
      samples: 0,
      ms: 0,
      complete: 'not run',
      note: `victoria-metrics ${victoriaMetricsVersion()} not built in the lab`,
    });

  // 2. vmctl remote-read (streamed) -> VictoriaMetrics
  if (haveVm) {
    const v = await vm('vm-vmctl-rr');
    const t0 = performance.now();
    const r = await run(vmctlBinary(), [
      'remote-read',
      '-s',
      '--disable-progress-bar',
      `--remote-read-src-addr=${source.url}`,
      `--remote-read-filter-time-start=${new Date(s.startMs).toISOString()}`,
      `--remote-read-filter-time-end=${new Date(s.endMs).toISOString()}`,
      '--remote-read-step-interval=hour',
      '--remote-read-use-stream=true',
      '--remote-read-filter-label=__name__',
      '--remote-read-filter-label-value=stackshift_gen_.+',
      `--vm-addr=${v.url}`,
    ]);
    const ms = performance.now() - t0;
    rows.push({
      tool: 'vmctl remote-read (streamed) -> VictoriaMetrics',
      samples: want,
      ms,
      complete:
        r.code === 0
          ? completeness(await countVictoriaSamples(v.url, MATCH, s.startMs, s.endMs), want)
          : `FAILED (exit ${r.code}): ${r.stderr.slice(-200)}`,
    });
  } else
    rows.push({
      tool: 'vmctl remote-read (streamed) -> VictoriaMetrics',
      samples: 0,
      ms: 0,
      complete: 'not run',
      note: 'vmctl not built in the lab',
    });

  // 3. vmctl prometheus (snapshot) -> VictoriaMetrics
  if (haveVm) {
    const snap = (await fetch(`${source.url}/api/v1/admin/tsdb/snapshot`, { method: 'POST' }).then((r) =>
      r.json(),
    )) as { data: { name: string } };
    const v = await vm('vm-vmctl-snap');
    const t0 = performance.now();
    const r = await run(vmctlBinary(), [
      'prometheus',
      '-s',
      '--disable-progress-bar',
      `--prom-snapshot=${join(srcData, 'snapshots', snap.data.name)}`,
      `--vm-addr=${v.url}`,
    ]);
    const ms = performance.now() - t0;
    rows.push({
      tool: 'vmctl prometheus (snapshot) -> VictoriaMetrics',
      samples: want,
      ms,
      complete:
        r.code === 0
          ? completeness(await countVictoriaSamples(v.url, MATCH, s.startMs, s.endMs), want)
          : `FAILED (exit ${r.code}): ${r.stderr.slice(-200)}`,
    });
  } else
    rows.push({
      tool: 'vmctl prometheus (snapshot) -> VictoriaMetrics',
      samples: 0,
      ms: 0,
      complete: 'not run',
      note: 'vmctl not built in the lab',
    });

  // 4. promtool: OpenMetrics export + create-blocks-from openmetrics (the export is timed too: it is part of the path)
  {
    const dir = join(work, 'promtool');
    const t0 = performance.now();
    await writeOpenMetrics(SPEC, join(work, 'h.om'));
    const r = spawnSync(promtoolBinary(), ['tsdb', 'create-blocks-from', 'openmetrics', join(work, 'h.om'), dir], {
      encoding: 'utf8',
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`promtool: ${r.stderr}`);
    const p = await prometheusWithBlocks('promtool-target', dir);
    rows.push({
      tool: 'promtool OpenMetrics import (blocks)',
      samples: want,
      ms,
      complete: completeness((await remoteReadCount(p.url, s.startMs, s.endMs)).samples, want),
    });
  }

  // 5. backfill blocks
  let rssNote = '';
  {
    const out = join(work, 'stackshift-blocks');
    const t0 = performance.now();
    const r = await run(process.execPath, [
      CLI,
      'backfill',
      'blocks',
      '--source-url',
      source.url,
      ...range,
      '--match',
      MATCH,
      '--out',
      out,
      '--state',
      join(work, 'bb.db'),
    ]);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`backfill blocks: ${r.stderr}`);
    if (r.peakRssKb) rssNote = `peak RSS ${(r.peakRssKb / 1024).toFixed(0)} MB`;
    const p = await prometheusWithBlocks('blocks-target', out);
    rows.push({
      tool: 'stackshift backfill blocks',
      samples: want,
      ms,
      complete: completeness((await remoteReadCount(p.url, s.startMs, s.endMs)).samples, want),
      note: rssNote,
    });
  }

  const ceilingRate = (ceiling.samples * 1000) / ceiling.ms;
  console.log(
    `\npeers: ${SPEC.series} series x ${SPEC.durationMs / 86_400_000} d at ${SPEC.intervalMs / 1000} s (${want} samples), source Prometheus on loopback, one run\n`,
  );
  console.log('| tool | samples/s | x read-only | completeness | note |');
  console.log('|---|---|---|---|---|');
  console.log(`| source read-only (streamed remote read, the ceiling) | ${fmtRate(ceilingRate)} | 1.00 | - | |`);
  for (const r of rows) {
    const rate = r.ms ? (r.samples * 1000) / r.ms : 0;
    console.log(
      `| ${r.tool} | ${r.ms ? fmtRate(rate) : '-'} | ${r.ms ? (rate / ceilingRate).toFixed(2) : '-'} | ${r.complete} | ${r.note ?? ''} |`,
    );
  }
  const bm = rows[0];
  const rr = rows[1];
  if (bm.ms && rr.ms)
    console.log(`\nbackfill metrics / vmctl remote-read: ${(rr.ms / bm.ms).toFixed(2)}x (goal >= 1.5x)`);
  const bb = rows.at(-1)!;
  console.log(
    `backfill blocks / read-only: ${((bb.samples * 1000) / bb.ms / ceilingRate).toFixed(2)}x (goal >= 0.6x)${rssNote ? `; ${rssNote} (goal < 400 MB at 100k series)` : ''}`,
  );
}

try {
  await main();
} finally {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  if (!process.env.STACKSHIFT_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
