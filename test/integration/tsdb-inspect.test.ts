import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyBlocks, installBlocks, startPrometheus } from '../../src/lab/index.js';
import { inspectTsdb, type TsdbInspection } from '../../src/tsdb/index.js';
import { tempDir } from '../harness/index.js';

interface ListedBlock {
  ulid: string;
  minTime: number;
  maxTime: number;
  samples: number;
  chunks: number;
  series: number;
  size: number;
}

/** Parses `promtool tsdb list` (columns: BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE). */
function promtoolList(dir: string): ListedBlock[] {
  const r = spawnSync(process.env.STACKSHIFT_PROMTOOL_BIN ?? 'promtool', ['tsdb', 'list', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^BLOCK ULID\s+MIN TIME\s+MAX TIME\s+DURATION\s+NUM SAMPLES\s+NUM CHUNKS\s+NUM SERIES\s+SIZE/);
  return lines.slice(1).map((l) => {
    const f = l.trim().split(/\s+/);
    return {
      ulid: f[0],
      minTime: Number(f[1]),
      maxTime: Number(f[2]),
      samples: Number(f[4]),
      chunks: Number(f[5]),
      series: Number(f[6]),
      size: Number(f[7]),
    };
  });
}

function assertAgrees(r: TsdbInspection, listed: ListedBlock[]): void {
  assert.ok(listed.length > 0);
  assert.deepEqual(
    r.blocks.map((b) => b.ulid),
    listed.map((b) => b.ulid),
    'same blocks in the same (time) order',
  );
  for (const [i, p] of listed.entries()) {
    const b = r.blocks[i];
    assert.deepEqual(
      {
        ulid: b.ulid,
        minTime: b.minTime,
        maxTime: b.maxTime,
        samples: b.stats.numSamples,
        chunks: b.stats.numChunks,
        series: b.stats.numSeries,
        size: b.sizeBytes,
      },
      p,
      `block ${p.ulid}`,
    );
    // and our own count of the bytes agrees with what meta.json (and so promtool) says
    assert.equal(b.counted?.chunks, p.chunks, `chunks counted in ${p.ulid}`);
    assert.equal(b.counted?.samples, p.samples, `samples counted in ${p.ulid}`);
    assert.equal(b.counted?.series, p.series, `index series in ${p.ulid}`);
    assert.equal(b.indexVersion, 2, 'Prometheus 2.42 writes index v2');
    assert.deepEqual(b.chunkEncodings, { XOR: p.chunks });
  }
}

test('tsdb inspect agrees with promtool tsdb list on every block of promtool-generated history', async (t) => {
  const dir = join(tempDir(t), 'data');
  installBlocks(await historyBlocks({ series: 60, durationMs: 9 * 3_600_000, intervalMs: 60_000, seed: 11 }), dir);
  const r = inspectTsdb(dir, { level: 'full' });
  assert.equal(r.layout, 'snapshot', 'blocks without a wal/ look like a snapshot');
  assert.deepEqual(r.problems, []);
  assertAgrees(r, promtoolList(dir));
  assert.ok(r.blocks.length >= 5);
  // a single block is a layout of its own
  const one = inspectTsdb(r.blocks[1].dir, { level: 'full' });
  assert.equal(one.layout, 'block');
  assert.equal(one.blocks[0].ulid, r.blocks[1].ulid);
});

test('tsdb inspect agrees with promtool on a data dir written, compacted and checkpointed by a real Prometheus', async (t) => {
  const root = tempDir(t);
  const dataDir = join(root, 'data');
  // Tiny block ranges make the real server cut level-1 blocks, compact them into a level-2 block and
  // checkpoint its WAL within seconds (the hidden flags exist in 2.42).
  const server = await startPrometheus({
    name: 'compacting',
    dataDir,
    config:
      "global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{{port}}']\n",
    extraArgs: ['--storage.tsdb.min-block-duration=4s', '--storage.tsdb.max-block-duration=12s'],
  });
  t.after(() => server.stop());
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 2000));
    const names = readdirSync(join(dataDir, 'wal'));
    const blocks = readdirSync(dataDir).filter((n) => existsSync(join(dataDir, n, 'meta.json')));
    const level2 = blocks.some(
      (b) =>
        (JSON.parse(readFileSync(join(dataDir, b, 'meta.json'), 'utf8')) as { compaction: { level: number } })
          .compaction.level >= 2,
    );
    if (level2 && names.some((n) => n.startsWith('checkpoint.'))) break;
  }
  await server.stop();
  const r = inspectTsdb(dataDir, { level: 'full' });
  assert.equal(r.layout, 'data-dir');
  assert.deepEqual(
    r.problems.filter((p) => p.severity === 'error'),
    [],
  );
  assertAgrees(r, promtoolList(dataDir));
  const l2 = r.blocks.find((b) => (b.compactionLevel ?? 0) >= 2);
  assert.ok(l2, 'a compacted block exists');
  assert.ok(l2.sources.length >= 2);
  assert.ok(r.wal?.checkpoint, 'a WAL checkpoint was read');
  assert.ok(r.wal!.segments.length >= 1);
  assert.ok(r.formats.walRecordTypes.includes(1) && r.formats.walRecordTypes.includes(2), 'series and samples records');
  assert.deepEqual(r.formats.walCompression, ['snappy']);
  assert.ok((r.chunksHead?.chunks ?? 0) > 0, 'm-mapped head chunks');
  assert.deepEqual(r.formats.indexVersions, [2]);
  assert.equal(r.compatibility.verdicts.find((v) => v.version === '2.55.1')?.verdict, 'opens');
  assert.equal(r.compatibility.verdicts.find((v) => v.version === '3.13.2')?.verdict, 'opens');

  // corrupt a copy: one byte in the first WAL record's data and one in the first head chunk's data
  const copy = join(root, 'copy');
  cpSync(dataDir, copy, { recursive: true });
  const seg = r.wal!.segments.find((x) => x.records > 0)!;
  flip(join(copy, 'wal', seg.name), 7 + 2);
  const head = r.chunksHead!.files.find((x) => x.chunks > 0)!;
  flip(join(copy, 'chunks_head', head.name), 8 + 25 + 3);
  const bad = inspectTsdb(copy, { level: 'full' });
  const walErr = bad.problems.find((p) => p.file === `wal/${seg.name}`);
  assert.deepEqual([walErr?.offset, walErr?.severity], [0, 'error']);
  assert.match(walErr!.message, /^WAL fragment at offset 0 fails its CRC32C/);
  const headErr = bad.problems.find((p) => p.file === `chunks_head/${head.name}`);
  assert.equal(headErr?.offset, 8);
  assert.match(headErr!.message, /^head chunk at offset 8 fails its CRC32C/);
});

function flip(file: string, at: number): void {
  const b = readFileSync(file);
  b[at] ^= 0xff;
  writeFileSync(file, b);
}

test('tsdb inspect on a path that is not a TSDB exits 2 with a one-line error naming it', (t) => {
  const dir = tempDir(t);
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'tsdb', 'inspect', dir], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`^error: ${dir}: does not look like a Prometheus data dir`));
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('the lock file of a running Prometheus is reported with the pid that holds it (/proc/locks)', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  // Debian's 2.42 creates the lock file only on request (upstream 2.x: unless --storage.tsdb.no-lockfile).
  const server = await startPrometheus({
    name: 'locked',
    dataDir,
    config: 'global:\n  scrape_interval: 15s\nscrape_configs: []\n',
    extraArgs: ['--storage.tsdb.use-lockfile'],
  });
  t.after(() => server.stop());
  const running = inspectTsdb(dataDir, { level: 'headers' });
  assert.deepEqual(running.lock, { present: true, heldByPid: server.pid });
  await server.stop();
  assert.deepEqual(inspectTsdb(dataDir, { level: 'headers' }).lock, { present: false }, 'removed on clean shutdown');
});
