/**
 * TSDB verification throughput, as ratios against baselines measured in the same run:
 *   - inspect/verify of a generated data dir vs a plain sequential read of the same bytes (the I/O floor)
 *     and vs `promtool tsdb list` (which only reads meta.json and opens the index);
 *   - CRC-32C: the JavaScript slicing-by-8 table vs the SIMD library at chunk-sized and page-sized buffers
 *     (why src/tsdb/crc32c.ts switches at NATIVE_THRESHOLD).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyBlocks, installBlocks } from '../src/lab/index.js';
import { NATIVE_THRESHOLD, crc32cNative, crc32cTable, inspectTsdb } from '../src/tsdb/index.js';

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

function best(fn: () => void, runs = 3): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return min;
}

const mib = (bytes: number, ms: number) => `${(bytes / 1048576 / (ms / 1000)).toFixed(0)} MiB/s`;

async function main(): Promise<void> {
  // The rehearsal's default history (400 series, 2d, 30s, seed 42), so both share the cached blocks.
  const series = Number(process.env.BENCH_SERIES ?? 400);
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-bench-'));
  try {
    installBlocks(await historyBlocks({ series, durationMs: 2 * 86_400_000, intervalMs: 30_000, seed: 42 }), dir);
    const all = files(dir);
    const bytes = all.reduce((a, f) => a + statSync(f).size, 0);
    console.log(
      `data: ${series} series over 2d at 30s, ${readdirSync(dir).length} blocks, ${(bytes / 1048576).toFixed(1)} MiB (page cache warm after the first run)`,
    );

    const buf = Buffer.allocUnsafe(1 << 20);
    const readAll = () => {
      for (const f of all) {
        const fd = openSync(f, 'r');
        let off = 0;
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, off);
          if (n === 0) break;
          off += n;
        }
        closeSync(fd);
      }
    };
    const base = best(readAll);
    const promtool = best(() => {
      spawnSync(process.env.STACKSHIFT_PROMTOOL_BIN ?? 'promtool', ['tsdb', 'list', dir]);
    });
    const headers = best(() => inspectTsdb(dir, { level: 'headers' }));
    const scan = best(() => inspectTsdb(dir, { level: 'scan' }));
    const full = best(() => inspectTsdb(dir, { level: 'full' }));
    (globalThis as { gc?: () => void }).gc?.();
    const m0 = process.memoryUsage();
    const r = inspectTsdb(dir, { level: 'full' });
    const m1 = process.memoryUsage();
    console.log(`baseline  plain sequential read      ${base.toFixed(1)} ms  ${mib(bytes, base)}`);
    console.log(`baseline  promtool tsdb list         ${promtool.toFixed(1)} ms`);
    console.log(
      `inspect   headers (meta, index TOC)  ${headers.toFixed(1)} ms  ${(promtool / headers).toFixed(2)}x promtool tsdb list`,
    );
    console.log(
      `inspect   scan (every chunk header)  ${scan.toFixed(1)} ms  ${mib(bytes, scan)}  ${(base / scan).toFixed(2)}x plain read speed`,
    );
    console.log(
      `verify    full (every CRC32C)        ${full.toFixed(1)} ms  ${mib(bytes, full)}  ${(base / full).toFixed(2)}x plain read speed, ${r.totals.chunks} chunks (${(r.totals.chunks / (full / 1000) / 1e6).toFixed(2)} M chunks/s), ${r.problems.length} problems`,
    );
    console.log(
      `memory    one full verify allocates  heap +${((m1.heapUsed - m0.heapUsed) / 1048576).toFixed(1)} MiB (garbage included), buffers +${((m1.arrayBuffers - m0.arrayBuffers) / 1048576).toFixed(1)} MiB, rss +${((m1.rss - m0.rss) / 1048576).toFixed(1)} MiB for ${(bytes / 1048576).toFixed(1)} MiB of data`,
    );

    const big = Buffer.alloc(32 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    for (const size of [150, 512, NATIVE_THRESHOLD, 4096, 32768, 1 << 20]) {
      const run = (f: (b: Buffer, s: number, e: number) => number) =>
        best(() => {
          let x = 0;
          for (let o = 0; o + size <= big.length; o += size) x ^= f(big, o, o + size);
          if (x === -1) console.log(x);
        });
      const js = run(crc32cTable);
      const nat = run(crc32cNative);
      console.log(
        `crc32c    ${String(size).padStart(7)} B buffers: table ${mib(big.length, js)}, native ${mib(big.length, nat)}  native = ${(js / nat).toFixed(2)}x table`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
