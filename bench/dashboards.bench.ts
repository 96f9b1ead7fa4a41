/**
 * Files-mode migration of 1,000 dashboards (target: under 10 s), against a baseline measured in the same
 * run on the same files: read, JSON.parse, JSON.stringify, write, which is the least any tool that
 * rewrites dashboard files must do. The dashboards are the rehearsal fixtures grown to a realistic size
 * (30 to 230 panels, ~47 KB on average); a third are laid out like jsonnet output so the byte-preserving
 * writer is measured too. A second baseline writes like stackshift does (temp file, fsync, rename), to
 * separate the cost of durability from the cost of the rewrite.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasourceCatalog, migrateFiles, type GrafanaDatasource } from '../src/dashboards/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from '../src/rehearsal/fixtures/dashboards.js';
import { formatBytes } from '../src/progress/index.js';
import { writeFileAtomic } from '../src/fsutil/index.js';

const COUNT = Number(process.env.BENCH_DASHBOARDS ?? 1000);
const TARGET_MS = 10_000;
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function grow(base: J, i: number): J {
  const d = structuredClone(base);
  d.uid = `bench-${i}`;
  d.title = `${String(d.title)} #${i}`;
  const copies = 10 + (i % 5) * 4;
  if (Array.isArray(d.rows)) {
    const rows = d.rows as J[];
    d.rows = Array.from({ length: copies }, (_, k) => ({
      ...structuredClone(rows[k % rows.length]),
      title: `Row ${k}`,
    }));
    let id = 1;
    for (const r of d.rows) for (const p of r.panels ?? []) p.id = id++;
  } else {
    const panels = d.panels as J[];
    const out: J[] = [];
    let id = 1;
    for (let k = 0; k < copies; k++)
      for (const p of panels)
        out.push({ ...structuredClone(p), id: id++, gridPos: { ...(p.gridPos ?? {}), y: k * 10 } });
    d.panels = out;
  }
  return d;
}

function generate(dir: string): number {
  let bytes = 0;
  for (let i = 0; i < COUNT; i++) {
    const base = JSON.parse(FIXTURE_DASHBOARDS[i % FIXTURE_DASHBOARDS.length].text) as J;
    const d = grow(base, i);
    const text = i % 3 === 0 ? JSON.stringify(d, null, 4).replace(/\[\]/g, '[ ]') : JSON.stringify(d, null, 2) + '\n';
    writeFileSync(join(dir, `d${String(i).padStart(4, '0')}.json`), text);
    bytes += Buffer.byteLength(text);
  }
  return bytes;
}

function baseline(input: string, output: string, atomic = false): number {
  const t0 = performance.now();
  mkdirSync(output, { recursive: true });
  for (const f of readdirSync(input)) {
    if (!f.endsWith('.json')) continue;
    const v = JSON.parse(readFileSync(join(input, f), 'utf8'));
    (atomic ? writeFileAtomic : writeFileSync)(join(output, f), JSON.stringify(v, null, 2) + '\n');
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'stackshift-bench-dash-'));
  try {
    const input = join(root, 'in');
    mkdirSync(input);
    const bytes = generate(input);
    const catalog = new DatasourceCatalog(FIXTURE_DATASOURCES as GrafanaDatasource[]);
    const [from, to] = [catalog.list[0], catalog.list[1]];
    globalThis.gc?.();
    // Warm-up on a few files so both sides run JIT-compiled code.
    baseline(input, join(root, 'warm-base'));
    const base = Math.min(baseline(input, join(root, 'base1')), baseline(input, join(root, 'base2')));
    const durable = baseline(input, join(root, 'base3'), true);
    globalThis.gc?.();
    const t0 = performance.now();
    const report = await migrateFiles({ input, output: join(root, 'out'), catalog, from, to, exemplars: true });
    const migrate = performance.now() - t0;
    const t1 = performance.now();
    const dry = await migrateFiles({ input, catalog, from, to, exemplars: true, dryRun: true, diff: true });
    const dryMs = performance.now() - t1;
    const rss = process.resourceUsage().maxRSS * 1024;
    const changed = report.totals.byStatus.changed ?? 0;
    const ok = changed === COUNT && report.totals.remaining === 0 && migrate < TARGET_MS;
    console.log(
      `dashboards: ${COUNT} files, ${formatBytes(bytes)} (${formatBytes(bytes / COUNT)} average, a third in jsonnet layout)`,
    );
    console.log(
      `references rewritten: ${report.totals.rewritten} (+${report.totals.exemplars} exemplar toggles), left: ${report.totals.remaining}`,
    );
    console.log(
      `baseline  read+JSON.parse+JSON.stringify+write: ${base.toFixed(0)} ms (${(bytes / 1048576 / (base / 1000)).toFixed(1)} MiB/s)`,
    );
    console.log(`baseline  same, written atomically with fsync:    ${durable.toFixed(0)} ms`);
    console.log(
      `migrate   files mode, --out, exemplars, re-count: ${migrate.toFixed(0)} ms (${(COUNT / (migrate / 1000)).toFixed(0)} dashboards/s, ${(bytes / 1048576 / (migrate / 1000)).toFixed(1)} MiB/s) = ${(migrate / base).toFixed(2)}x baseline, ${(migrate / durable).toFixed(2)}x the durable baseline`,
    );
    console.log(
      `dry run   with unified diffs of every file:       ${dryMs.toFixed(0)} ms = ${(dryMs / base).toFixed(2)}x baseline (${dry.outcomes.filter((o) => o.diff).length} diffs)`,
    );
    console.log(`peak RSS: ${formatBytes(rss)}`);
    console.log(`target: ${COUNT} dashboards under ${TARGET_MS / 1000} s: ${ok ? 'PASS' : 'FAIL'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
