import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { StackshiftError } from '../errors/index.js';

/**
 * Deterministic synthetic history: the same spec always yields the same series and samples, so tests can
 * compute what a server must hold, and generated TSDB blocks can be cached by the spec's hash.
 */
export interface HistorySpec {
  series: number;
  durationMs: number;
  intervalMs: number;
  seed: number;
  /** Last timestamp (exclusive upper bound); default: start of the current UTC hour, so caches stay valid for a while. */
  endMs?: number;
  /** Metric name prefix. */
  prefix?: string;
  /** Counter resets and gaps; default true. */
  irregular?: boolean;
  /** Extra label added to every series (e.g. for sharding tests). */
  extraLabels?: Record<string, string>;
}

export interface GeneratedSeries {
  labels: Record<string, string>;
  kind: 'counter' | 'gauge';
  /** Time-ordered [timestampMs, value] pairs. */
  samples(): Iterable<[number, number]>;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;

export function resolveSpec(
  spec: HistorySpec,
  now = Date.now(),
): Required<Omit<HistorySpec, 'extraLabels'>> & { extraLabels: Record<string, string>; startMs: number } {
  const endMs = spec.endMs ?? Math.floor(now / HOUR) * HOUR;
  const interval = spec.intervalMs;
  const startMs = Math.ceil((endMs - spec.durationMs) / interval) * interval;
  return { prefix: 'stackshift_gen', irregular: true, extraLabels: {}, ...spec, endMs, startMs };
}

const JOBS = ['api', 'db', 'cache', 'worker'];

export function generateHistory(spec: HistorySpec, now = Date.now()): GeneratedSeries[] {
  const s = resolveSpec(spec, now);
  const out: GeneratedSeries[] = [];
  for (let i = 0; i < s.series; i++) {
    const rnd = mulberry32(s.seed * 1_000_003 + i);
    const kind: 'counter' | 'gauge' = i % 2 === 0 ? 'counter' : 'gauge';
    const job = JOBS[i % JOBS.length];
    const labels: Record<string, string> = {
      __name__: kind === 'counter' ? `${s.prefix}_requests_total` : `${s.prefix}_temperature_celsius`,
      job,
      instance: `host-${String(Math.floor(i / 8)).padStart(4, '0')}:9100`,
      series: String(i),
      ...s.extraLabels,
    };
    // Irregularities, chosen per series from its own PRNG: ~1 in 10 counters resets, ~1 in 10 series has a gap.
    const resetAt =
      s.irregular && kind === 'counter' && rnd() < 0.1 ? s.startMs + Math.floor(rnd() * (s.endMs - s.startMs)) : -1;
    const gapStart = s.irregular && rnd() < 0.1 ? s.startMs + Math.floor(rnd() * (s.endMs - s.startMs)) : -1;
    const gapLen = Math.min(HOUR, (s.endMs - s.startMs) / 10);
    const seriesSeed = s.seed * 7919 + i;
    out.push({
      labels,
      kind,
      *samples() {
        const r = mulberry32(seriesSeed);
        let v = kind === 'counter' ? Math.floor(r() * 1000) : 20 + r() * 10;
        for (let t = s.startMs; t < s.endMs; t += s.intervalMs) {
          if (gapStart >= 0 && t >= gapStart && t < gapStart + gapLen) continue;
          if (kind === 'counter') {
            if (resetAt >= 0 && t >= resetAt && t - s.intervalMs < resetAt) v = 0;
            v += Math.floor(r() * 50);
          } else {
            v += (r() - 0.5) * 0.5;
          }
          yield [t, kind === 'counter' ? v : Math.round(v * 1e6) / 1e6];
        }
      },
    });
  }
  return out;
}

export function countSamples(spec: HistorySpec, now = Date.now()): number {
  let n = 0;
  for (const series of generateHistory(spec, now)) for (const _ of series.samples()) n++;
  return n;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Writes the history as OpenMetrics text (what `promtool tsdb create-blocks-from openmetrics` reads). */
export async function writeOpenMetrics(spec: HistorySpec, file: string, now = Date.now()): Promise<void> {
  const out = createWriteStream(file);
  const series = generateHistory(spec, now);
  const families = new Map<string, GeneratedSeries[]>();
  for (const g of series) {
    const fam = g.labels.__name__.replace(/_total$/, '');
    if (!families.has(fam)) families.set(fam, []);
    families.get(fam)!.push(g);
  }
  let buf = '';
  const flush = async () => {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  };
  for (const [fam, members] of families) {
    buf += `# TYPE ${fam} ${members[0].kind}\n`;
    for (const g of members) {
      const { __name__, ...rest } = g.labels;
      const lbl = Object.entries(rest)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      for (const [t, v] of g.samples()) {
        buf += `${__name__}{${lbl}} ${v} ${(t / 1000).toFixed(3)}\n`;
        if (buf.length > 1 << 20) await flush();
      }
    }
  }
  buf += '# EOF\n';
  await flush();
  out.end();
  await once(out, 'finish');
}

export function specHash(spec: HistorySpec, now = Date.now()): string {
  const s = resolveSpec(spec, now);
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, ...s }))
    .digest('hex')
    .slice(0, 16);
}

function cacheRoot(): string {
  return resolve(process.env.STACKSHIFT_CACHE ?? join(process.cwd(), '.cache'), 'history');
}

/**
 * Returns a directory of TSDB blocks holding the history, building it with promtool on first use and
 * caching it by the spec's hash. The cache entry appears atomically (built in a temp dir, then renamed).
 */
export async function historyBlocks(spec: HistorySpec, now = Date.now()): Promise<string> {
  const dir = join(cacheRoot(), specHash(spec, now));
  if (existsSync(join(dir, '.complete'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'blocks'), { recursive: true });
  const om = join(tmp, 'history.om');
  await writeOpenMetrics(spec, om, now);
  const promtool = process.env.STACKSHIFT_PROMTOOL_BIN ?? 'promtool';
  const r = spawnSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', om, join(tmp, 'blocks')], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error || r.status !== 0) {
    throw new StackshiftError(
      'lab',
      `promtool create-blocks-from openmetrics failed: ${r.error?.message ?? r.stderr.slice(-500)}`,
      { hint: 'install promtool with: bash scripts/install-prometheus.sh' },
    );
  }
  rmSync(om);
  writeFileSync(join(tmp, 'spec.json'), JSON.stringify(resolveSpec(spec, now), null, 2));
  writeFileSync(join(tmp, '.complete'), '');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(cacheRoot(), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    // another process built the same entry meanwhile; theirs is as good as ours
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Places cached blocks into a data dir by hard links (blocks are immutable), copying across filesystems. */
export function installBlocks(cacheDir: string, dataDir: string): number {
  const src = join(cacheDir, 'blocks');
  mkdirSync(dataDir, { recursive: true });
  let n = 0;
  for (const block of readdirSync(src)) {
    if (!statSync(join(src, block)).isDirectory()) continue;
    linkTree(join(src, block), join(dataDir, block));
    n++;
  }
  return n;
}

function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const a = join(from, name);
    const b = join(to, name);
    if (statSync(a).isDirectory()) linkTree(a, b);
    else {
      try {
        linkSync(a, b);
      } catch {
        copyFileSync(a, b);
      }
    }
  }
}
