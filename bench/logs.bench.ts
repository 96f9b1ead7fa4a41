/**
 * Logs copy and verify against the Loki contract double (Loki is AGPL and cannot run here), one run:
 *   read-only   the copy's read path alone: paged query_range (forward, 5000 lines) over the same stream
 *               groups and windows, JSON decoded, nothing pushed (the baseline)
 *   copy        `stackshift logs copy` (CLI child process): read + protobuf/snappy push + SQLite units
 *   verify      `stackshift logs verify --sample 100%` (CLI child): counts on both sides + every line compared
 * and the CLI's peak RSS (GNU time %M) for copy at 1x and 10x the lines.
 * The double runs in this process and serves both sides, so its cost is in every figure alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LokiClient } from '../src/clients/index.js';
import { endpointFromUrl } from '../src/config/index.js';
import {
  LOGS_COPY_DEFAULTS,
  alignRange,
  generateLogs,
  groupStreams,
  logQuery,
  parseStreamSelector,
  readLines,
  type GeneratedLogs,
} from '../src/logs/index.js';
import { LokiDouble } from '../test/doubles/loki-double.js';
import { fmtRate } from './util.js';

const CLI = resolve('dist/src/cli/main.js');
const SELECTOR = '{job="stackshift-gen"}';
const work = mkdtempSync(join(tmpdir(), 'stackshift-bench-logs-'));
const log = (s: string) => process.stderr.write(s + '\n');

async function seed(url: string, tenant: string, data: GeneratedLogs): Promise<void> {
  const c = new LokiClient(endpointFromUrl(url, 'loki', { tenant }));
  for (const s of data.streams)
    for (let i = 0; i < s.entries.length; i += 5000)
      await c.push([{ labels: s.labels, entries: s.entries.slice(i, i + 5000) }]);
  await c.close();
}

async function readOnly(url: string, tenant: string, data: GeneratedLogs): Promise<{ lines: number; ms: number }> {
  const c = new LokiClient(endpointFromUrl(url, 'loki', { tenant }));
  const sel = parseStreamSelector(SELECTOR);
  const streams = await c.series([logQuery(sel)], BigInt(data.startMs) * 1_000_000n, BigInt(data.endMs) * 1_000_000n);
  const groups = groupStreams(sel, streams, Math.ceil(streams.length / LOGS_COPY_DEFAULTS.concurrency));
  const r = alignRange(data.startMs, data.endMs, LOGS_COPY_DEFAULTS.windowMs);
  const t0 = performance.now();
  let lines = 0;
  await Promise.all(
    groups.map(async (g) => {
      for (let w = r.startMs; w < r.endMs; w += LOGS_COPY_DEFAULTS.windowMs) {
        for await (const pages of readLines(
          c,
          logQuery(g.matchers),
          BigInt(w) * 1_000_000n,
          BigInt(w + LOGS_COPY_DEFAULTS.windowMs) * 1_000_000n,
          5000,
        ))
          for (const p of pages) lines += p.entries.length;
      }
    }),
  );
  const ms = performance.now() - t0;
  await c.close();
  return { lines, ms };
}

/** Runs the CLI under GNU time; resolves with its stdout, wall ms and peak RSS in KiB. Async so the in-process double keeps serving. */
function cli(args: string[]): Promise<{ stdout: string; ms: number; rssKiB: number }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', process.execPath, CLI, ...args], {
      // STACKSHIFT_BENCH_CLI_NODE_OPTIONS: V8 flags for the CLI only (e.g. a heap cap, to tell retained data from lazy GC)
      env: {
        ...process.env,
        STACKSHIFT_NO_PROGRESS: '1',
        NODE_OPTIONS: process.env.STACKSHIFT_BENCH_CLI_NODE_OPTIONS ?? process.env.NODE_OPTIONS,
      },
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code: number) => {
      const ms = performance.now() - t0;
      const rss = Number(stderr.trim().split('\n').pop());
      if (code !== 0 && code !== 1)
        return rej(new Error(`stackshift ${args.slice(0, 2).join(' ')} exited ${code}: ${stderr.slice(0, 500)}`));
      res({ stdout, ms, rssKiB: rss });
    });
  });
}

async function round(double: LokiDouble, name: string, data: GeneratedLogs, withVerify: boolean) {
  const src = `old-${name}`,
    dst = `new-${name}`;
  await seed(double.url, src, data);
  const ro = await readOnly(double.url, src, data);
  const range = ['--start', String(data.startMs / 1000), '--end', String(data.endMs / 1000)];
  const sides = [
    '--source-url',
    double.url,
    '--source-tenant',
    src,
    '--target-url',
    double.url,
    '--target-tenant',
    dst,
    '--selector',
    SELECTOR,
  ];
  const copy = await cli(['logs', 'copy', ...sides, ...range, '--state', join(work, `${name}.db`), '--output', 'json']);
  const copied = (JSON.parse(copy.stdout) as { lines: number }).lines;
  if (copied !== data.lines) throw new Error(`copy moved ${copied} of ${data.lines} lines`);
  let verify: { ms: number; rssKiB: number; percent: number } | undefined;
  if (withVerify) {
    const v = await cli(['logs', 'verify', ...sides, ...range, '--sample', '100%', '--output', 'json']);
    verify = {
      ms: v.ms,
      rssKiB: v.rssKiB,
      percent: (JSON.parse(v.stdout) as { consistency: { percent: number } }).consistency.percent,
    };
  }
  double.tenants.clear();
  return { ro, copy, verify };
}

try {
  const double = new LokiDouble();
  await double.start();
  const one = generateLogs({ streams: 100, linesPerStream: 1000, hours: 4, seed: 1 });
  log(`1x: ${one.lines} lines in 100 streams`);
  const a = await round(double, 'x1', one, true);
  const ten = generateLogs({ streams: 100, linesPerStream: 10_000, hours: 4, seed: 2 });
  log(`10x: ${ten.lines} lines`);
  const b = await round(double, 'x10', ten, false);
  await double.stop();
  const roRate = (a.ro.lines * 1000) / a.ro.ms;
  const copyRate = (one.lines * 1000) / a.copy.ms;
  const verifyRate = (one.lines * 1000) / a.verify!.ms;
  console.log(
    `read-only baseline      ${fmtRate(roRate)} lines (${a.ro.lines} lines in ${(a.ro.ms / 1000).toFixed(1)} s)`,
  );
  console.log(
    `logs copy (CLI)         ${fmtRate(copyRate)} lines, ratio to read-only ${(copyRate / roRate).toFixed(2)} (wall time incl. process start and planning)`,
  );
  console.log(
    `logs verify 100% (CLI)  ${fmtRate(verifyRate)} source lines, ratio ${(verifyRate / roRate).toFixed(2)} (both sides read), consistency ${a.verify!.percent} %`,
  );
  console.log(
    `peak RSS copy           1x ${(a.copy.rssKiB / 1024).toFixed(0)} MiB, 10x ${(b.copy.rssKiB / 1024).toFixed(0)} MiB (ratio ${(b.copy.rssKiB / a.copy.rssKiB).toFixed(2)}); 10x copy ${fmtRate((ten.lines * 1000) / b.copy.ms)} lines`,
  );
  console.log(`peak RSS verify 1x      ${(a.verify!.rssKiB / 1024).toFixed(0)} MiB`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
