import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_FLAGS, versionVerdict } from '../../src/compat/index.js';
import { RemoteReadClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import {
  PROMETHEUS,
  freePort,
  launch,
  prometheusBinary,
  waitHttpReady,
  writeHistoryRemote,
  waitHeadCompacted,
  type HistorySpec,
  type LabServer,
} from '../../src/lab/index.js';
import { inspectTsdb } from '../../src/tsdb/index.js';
import { labelsKey, valueBitsHex, type Matcher } from '../../src/wire/index.js';
import { startServer, tempDir } from '../harness/index.js';

/**
 * Compatibility facts executed on the real binaries instead of only cited: each test settles one claim of
 * src/compat with the releases the lab builds. A claim that a binary contradicts fails here.
 */

const THREE_X = [PROMETHEUS.target, PROMETHEUS.latest];
const GEN: Matcher[] = [{ type: 'RE', name: '__name__', value: 'stackshift_gen_.+' }];

/** Starts a binary with one extra flag; resolves to how it ended: ready (then stopped) or exited with its log. */
async function startWith(
  t: TestContext,
  version: string,
  extra: string[],
): Promise<{ ready: boolean; log: string; url: string; stop: () => Promise<void> }> {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = launch({
    what: `prometheus ${version}`,
    bin: prometheusBinary(version),
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...extra,
    ],
    cwd: dir,
    logFile: join(dir, 'prometheus.log'),
  });
  t.after(() => proc.stop());
  try {
    await waitHttpReady(`${url}/-/ready`, 60_000, proc, `prometheus ${version}`);
    return { ready: true, log: proc.logs(), url, stop: () => proc.stop() };
  } catch {
    await proc.stop();
    return { ready: false, log: proc.logs(), url, stop: async () => undefined };
  }
}

// The removed command-line flags and the logged-only feature tokens are settled by test/unit/executed-facts.test.ts
// (parse-time checks); here, what a running 3.x server does with the token that used to turn a receiver on.
test(
  'fact: 3.x starts with a removed --enable-feature token, logs it as unknown, and the remote-write-receiver token leaves POST /api/v1/write at 404',
  { timeout: 180_000 },
  async (t) => {
    const removed = FEATURE_FLAGS.filter((f) => f.removedIn === '3.0.0').map((f) => f.name);
    assert.ok(removed.includes('remote-write-receiver') && removed.length >= 5);
    for (const v of THREE_X) {
      const r = await startWith(t, v, [`--enable-feature=${removed.join(',')}`]);
      assert.equal(r.ready, true, `${v} starts anyway:\n${r.log.slice(-600)}`);
      for (const name of removed)
        assert.match(r.log, new RegExp(`Unknown option for --enable-feature.*${name}`), `${v} warns about ${name}`);
      const write = await fetch(`${r.url}/api/v1/write`, { method: 'POST', body: new Uint8Array(0) });
      await write.arrayBuffer();
      assert.equal(write.status, 404, `${v}: the receiver stays off`);
      await r.stop();
    }
    // while 2.55.1 still honours the token: the receiver is on (an empty body is a 400, not a 404)
    const bridge = await startWith(t, PROMETHEUS.bridge, ['--enable-feature=remote-write-receiver']);
    const write = await fetch(`${bridge.url}/api/v1/write`, { method: 'POST', body: new Uint8Array(0) });
    await write.arrayBuffer();
    assert.notEqual(write.status, 404, '2.55.1 still enables the receiver with the token');
  },
);

// history in blocks (old samples, compacted out of the out-of-order head) and in the WAL (recent samples)
const OLD: HistorySpec = {
  series: 60,
  durationMs: 12 * 3_600_000,
  intervalMs: 120_000,
  seed: 21,
  endMs: Date.UTC(2026, 10, 1),
};

/** Every series of the lab's generated metrics, as timestamp/value-bit digests. */
async function digest(url: string): Promise<Map<string, string>> {
  const http = new HttpClient(endpointFromUrl(url));
  try {
    const out = new Map<string, string>();
    for await (const s of new RemoteReadClient(http).streamSeries({
      startMs: 0,
      endMs: Date.now() + 3_600_000,
      matchers: GEN,
    })) {
      let d = '';
      for (let i = 0; i < s.timestamps.length; i++) d += `${s.timestamps[i]}=${valueBitsHex(s.values, i)};`;
      out.set(labelsKey(s.labels), d);
    }
    return out;
  } finally {
    await http.close();
  }
}

const samplesIn = (m: Map<string, string>) => [...m.values()].reduce((n, d) => n + d.split(';').length - 1, 0);

async function writeBoth(server: LabServer): Promise<number> {
  const old = await writeHistoryRemote(`${server.url}/api/v1/write`, OLD);
  await waitHeadCompacted(server.url);
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const recent = await writeHistoryRemote(`${server.url}/api/v1/write`, {
    series: 20,
    durationMs: 3_600_000,
    intervalMs: 60_000,
    seed: 22,
    endMs: now - 60_000,
  });
  return old.samples + recent.samples;
}

const DOWNGRADES: Array<{ writer: string; reader: string }> = [
  { writer: PROMETHEUS.target, reader: PROMETHEUS.bridge },
  { writer: PROMETHEUS.latest, reader: PROMETHEUS.bridge },
  { writer: PROMETHEUS.bridge, reader: PROMETHEUS.start },
];

for (const { writer, reader } of DOWNGRADES) {
  test(
    `fact: a data dir written by ${writer} (blocks, WAL, head chunks) opens in ${reader} with every sample, as tsdb inspect predicts`,
    { timeout: 300_000 },
    async (t) => {
      const server = await startServer(t, { name: `written-by-${writer}`, version: writer, receiver: true });
      try {
        const written = await writeBoth(server);
        const before = await digest(server.url);
        assert.equal(samplesIn(before), written, `${writer} holds what was written`);
        await server.stop();

        // what the writer left on disk, and what the facts say the reader makes of it
        const onDisk = inspectTsdb(server.dataDir, { level: 'full' });
        assert.ok(onDisk.blocks.length > 0, 'blocks were written');
        assert.deepEqual([...new Set(onDisk.blocks.map((b) => b.indexVersion))], [2], `${writer} writes index v2`);
        assert.deepEqual(onDisk.formats.walRecordTypes.length > 0, true, 'the WAL holds records');
        const verdict = versionVerdict(reader, onDisk.formats);
        assert.equal(
          verdict.verdict,
          'opens',
          `facts: ${reader} opens what ${writer} wrote (${JSON.stringify([...verdict.blockers, ...verdict.losses])})`,
        );

        await server.restart({ version: reader });
        const after = await digest(server.url);
        assert.equal(after.size, before.size, `${reader} sees every series`);
        for (const [k, d] of before) assert.equal(after.get(k), d, `${reader} reads ${k} bit for bit`);
      } finally {
        await server.stop();
      }
    },
  );
}
