import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  truncateSync,
  writeSync,
  statSync,
  existsSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { StackshiftError } from '../../src/errors/index.js';
import { openState } from '../../src/state/index.js';
import {
  SNAPSHOT_MIGRATION,
  applyPrune,
  createSnapshot,
  latestVerifications,
  planPrune,
  recordVerification,
  verifySnapshot,
} from '../../src/snapshot/index.js';
import { listSnapshots } from '../../src/tsdb/index.js';
import { countSamples, freePort, launch, prometheusBinary, waitReady } from '../../src/lab/index.js';
import { startServer, tempDir } from '../harness/index.js';

const HISTORY = { series: 40, durationMs: 8 * 3_600_000, intervalMs: 60_000, seed: 7 };
const SELF =
  "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{{port}}']\n";

/** Offset of the second chunk of a block chunk segment, found from the first chunk's length (uvarint). */
function secondChunkOffset(file: string): number {
  const buf = readFileSync(file);
  let len = 0;
  let shift = 0;
  let p = 8;
  for (;;) {
    const b = buf[p++];
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return p + 1 + len + 4;
}

function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] ^= 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

test('snapshot through the admin API of a real 2.42 server: created, found, verified, deep-checked against the live series', async (t) => {
  const server = await startServer(t, { history: HISTORY, config: SELF });
  const client = new PrometheusClient(endpointFromUrl(server.url));
  t.after(() => client.close());
  await new Promise((r) => setTimeout(r, 2500)); // a few scrapes, so the head block is not empty
  const s = await createSnapshot(client);
  assert.match(s.name, /^\d{8}T\d{6}Z-[0-9a-f]{16}$/);
  assert.equal(s.dataDir, server.dataDir, 'data dir found from --storage.tsdb.path and the server CWD');
  assert.equal(s.path, join(server.dataDir, 'snapshots', s.name));
  assert.deepEqual(
    listSnapshots(server.dataDir).map((x) => x.name),
    [s.name],
  );

  const v = await verifySnapshot(s.path!, { deep: true, live: client });
  assert.equal(v.ok, true, JSON.stringify(v.problems));
  // Block count depends on how the 8h align with 2h ranges and on startup compaction; the samples do not.
  assert.ok(v.blocks.length >= 2, `${v.blocks.length} blocks (history + head)`);
  const samples = v.blocks.reduce((n, b) => n + (b.samples ?? 0), 0);
  assert.ok(samples >= countSamples(HISTORY), `${samples} samples in the snapshot, ${countSamples(HISTORY)} generated`);
  assert.ok(v.blocks.every((b) => b.ok));
  assert.ok(v.deep?.opened, v.deep?.error);
  assert.ok(v.deep!.snapshotSeries >= HISTORY.series, `${v.deep!.snapshotSeries} series`);
  assert.equal(v.deep!.liveSeries, v.deep!.snapshotSeries);
  assert.deepEqual(v.deep!.mismatches, []);
  assert.equal(
    existsSync(join(server.dataDir, 'snapshots', `.stackshift-deep-${s.name}-${process.pid}`)),
    false,
    'the throwaway copy is removed',
  );

  const db = openState(join(tempDir(t), 'state.db'), [SNAPSHOT_MIGRATION]);
  recordVerification(db, v);
  assert.equal(latestVerifications(db).get(s.path!)?.ok, true);
  db.close();
});

test('a corrupted chunk and a truncated index in a copy are detected, naming the block and the byte offset', async (t) => {
  const server = await startServer(t, { history: HISTORY });
  const client = new PrometheusClient(endpointFromUrl(server.url));
  t.after(() => client.close());
  const s = await createSnapshot(client, { skipHead: true });
  // A real copy (not hard links): corrupting a link would corrupt the server's own blocks.
  const copy = join(tempDir(t), 'copy');
  cpSync(s.path!, copy, { recursive: true });
  const clean = await verifySnapshot(copy);
  assert.equal(clean.ok, true);
  const [b1, b2] = clean.blocks.map((b) => b.ulid);

  const seg = join(copy, b1, 'chunks', '000001');
  const at = secondChunkOffset(seg);
  flipByte(seg, at + 5);
  const indexFile = join(copy, b2, 'index');
  const size = statSync(indexFile).size;
  truncateSync(indexFile, Math.floor(size / 2));

  const v = await verifySnapshot(copy);
  assert.equal(v.ok, false);
  const chunkErr = v.problems.find((p) => p.block === b1);
  assert.ok(chunkErr, 'the chunk corruption is reported');
  assert.equal(chunkErr.file, `${b1}/chunks/000001`);
  assert.equal(chunkErr.offset, at);
  assert.match(chunkErr.message, new RegExp(`^chunk at offset ${at} \\(encoding XOR, \\d+ bytes\\) fails its CRC32C`));
  const idxErr = v.problems.find((p) => p.block === b2);
  assert.ok(idxErr, 'the truncated index is reported');
  assert.equal(idxErr.file, `${b2}/index`);
  assert.equal(idxErr.offset, Math.floor(size / 2) - 52);
  assert.match(idxErr.message, /table of contents .* fails its CRC32C .*truncated or corrupt/);
  assert.deepEqual(
    v.blocks
      .filter((b) => !b.ok)
      .map((b) => b.ulid)
      .sort(),
    [b1, b2].sort(),
  );

  // the same through the CLI: one line per problem, exit code 1
  const cli = spawnSync(
    process.execPath,
    ['dist/src/cli/main.js', 'snapshot', 'verify', copy, '--state', join(tempDir(t), 's.db')],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(cli.stdout, new RegExp(`ERROR ${b1}/chunks/000001 at byte ${at}: chunk at offset ${at}`));
  assert.match(cli.stdout, new RegExp(`ERROR ${b2}/index at byte \\d+: index table of contents`));
});

/**
 * A real Prometheus started without --web.enable-admin-api (src/lab always enables it, and kingpin refuses a
 * repeated bool flag, so this one is spawned here).
 */
async function startWithoutAdminApi(t: TestContext): Promise<string> {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  const port = await freePort();
  const child = launch({
    what: 'prometheus without admin API',
    bin: prometheusBinary(),
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    cwd: dir,
    logFile: join(dir, 'prometheus.log'),
  });
  t.after(() => child.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, 60_000, child);
  return url;
}

test('admin API disabled: the HTTP 500 answer becomes advice, exit code 1', async (t) => {
  const url = await startWithoutAdminApi(t);
  const server = { url };
  const client = new PrometheusClient(endpointFromUrl(server.url));
  t.after(() => client.close());
  await assert.rejects(createSnapshot(client), (e: unknown) => {
    assert.ok(e instanceof StackshiftError);
    assert.equal(e.code, 'admin-api-disabled');
    assert.equal(e.exitCode, 1);
    assert.match(e.hint!, /--web\.enable-admin-api/);
    assert.match(e.hint!, /cp -al/);
    return true;
  });
  const cli = spawnSync(
    process.execPath,
    ['dist/src/cli/main.js', 'snapshot', 'create', '--prometheus-url', server.url],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 1);
  assert.match(
    cli.stderr,
    /^error: .*refused the snapshot: the admin API is disabled\n  hint: Prometheus answers HTTP 500 "admin APIs disabled"/,
  );
});

test('prune keeps the newest N and the newest verified snapshot; without --yes nothing is deleted', (t) => {
  const data = tempDir(t);
  const names = [
    '20260101T000000Z-00000000000000aa',
    '20260102T000000Z-00000000000000bb',
    '20260103T000000Z-00000000000000cc',
    '20260104T000000Z-00000000000000dd',
  ];
  for (const n of names) mkdirSync(join(data, 'snapshots', n, '01HZZZZZZZZZZZZZZZZZZZZZZZ'), { recursive: true });
  const now = Date.parse('2026-01-10T00:00:00Z');
  const plan = planPrune(data, { keepLast: 1, olderThanMs: 7.5 * 86_400_000, now, protect: [names[0]] });
  assert.deepEqual(
    plan.keep.map((s) => s.name),
    [names[3], names[2], names[0]],
  );
  assert.deepEqual(
    plan.remove.map((s) => s.name),
    [names[1]],
  );
  assert.equal(listSnapshots(data).length, 4, 'planning deletes nothing');
  applyPrune(plan);
  assert.deepEqual(
    listSnapshots(data).map((s) => s.name),
    [names[0], names[2], names[3]],
  );
});
