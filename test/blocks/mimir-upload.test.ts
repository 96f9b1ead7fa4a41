import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BlockWriter, MimirBlockUploader, ulidFrom, type BlocksReport } from '../../src/blocks/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient, HttpError } from '../../src/http/index.js';
import { ChunkEncoding } from '../../src/wire/index.js';
import { encodeXorChunks } from '../../src/blocks/index.js';
import { STACK_LINE, runCli, startServer, tempDir } from '../harness/index.js';
import {
  startMimirBlocksDouble,
  type MimirBlocksDouble,
  type MimirBlocksDoubleOptions,
} from '../doubles/mimir-blocks-double.js';

/**
 * Block upload into Mimir: the contract double by default; a real Mimir (block upload enabled for the tenant)
 * when STACKSHIFT_TEST_MIMIR_URL is set. Cases that need a Mimir configured otherwise (a busy validator, a
 * short block range) run against the double only.
 */
const REAL_MIMIR = process.env.STACKSHIFT_TEST_MIMIR_URL;
const DAY = 86_400_000;
const END = Date.UTC(2026, 1, 1);
const SPEC = { series: 20, durationMs: 2 * DAY, intervalMs: 60_000, seed: 5, endMs: END };

async function mimir(
  t: TestContext,
  o: MimirBlocksDoubleOptions = {},
): Promise<{ url: string; double?: MimirBlocksDouble; tenant: string }> {
  const tenant = `stackshift-${Date.now().toString(36)}`;
  if (REAL_MIMIR) return { url: REAL_MIMIR, tenant };
  const double = await startMimirBlocksDouble(o);
  t.after(() => double.close());
  return { url: double.url, double, tenant };
}

function args(source: string, m: { url: string; tenant: string }, dir: string, extra: string[] = []): string[] {
  return [
    'backfill',
    'blocks',
    '--source-url',
    source,
    '--start',
    String((END - 2 * DAY + 3 * 3_600_000) / 1000),
    '--end',
    String(END / 1000),
    '--mimir-url',
    m.url,
    '--tenant',
    m.tenant,
    '--state',
    join(dir, 'state.db'),
    '--upload-poll',
    '100ms',
    '--output',
    'json',
    ...extra,
  ];
}

test(
  'backfill blocks -> Mimir: day-aligned blocks uploaded (start, files, finish, check), staging emptied; a re-run after a crash gets 409 and skips them',
  { timeout: 240_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-mimir-src', history: SPEC });
    const m = await mimir(t);
    const dir = tempDir(t);
    const res = await runCli(args(source.url, m, dir));
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as BlocksReport;
    assert.equal(r.blockDurationMs, DAY, '24h blocks by default for Mimir');
    assert.equal(r.totals.blocks, 2, 'the partial first day and the whole second day');
    assert.ok(
      r.blocks.every((b) => Math.floor(b.minTime / DAY) === Math.floor((b.maxTime - 1) / DAY)),
      'no block crosses a UTC midnight',
    );
    assert.equal(r.run.uploadsSkipped, 0);
    assert.deepEqual(readdirSync(join(dir, 'state.db.staging')), [], 'staged blocks removed after upload');
    const ulids = r.blocks.map((b) => b.ulid).sort();
    if (m.double) {
      assert.deepEqual(
        m.double.complete(m.tenant),
        ulids,
        'both blocks validated by the double (index, chunk CRCs, stats)',
      );
      for (const u of ulids) {
        const seq: string[] = m.double.calls.filter((c) => c.endsWith(u)).map((c) => c.split(' ')[1]);
        assert.deepEqual(seq.slice(0, 4), ['start', 'files', 'files', 'finish']);
        assert.equal(seq.at(-1), 'check');
      }
    }

    // kill -9 between the upload and its record: the units are 'running' again, so the re-run redoes them
    const db = new Database(join(dir, 'state.db'));
    db.prepare("UPDATE backfill_units SET status = 'running'").run();
    db.close();
    const before = m.double?.calls.length ?? 0;
    const again = await runCli(args(source.url, m, dir));
    assert.equal(again.code, 0, again.stderr);
    const r2 = JSON.parse(again.stdout) as BlocksReport;
    assert.equal(r2.run.uploadsSkipped, 2, 'Mimir answered 409 for both: already there');
    assert.deepEqual(r2.blocks.map((b) => b.ulid).sort(), ulids, 'the same block IDs as the first run');
    if (m.double)
      assert.deepEqual(
        m.double.calls.slice(before).map((c) => c.split(' ')[1]),
        ['start', 'start'],
        'nothing uploaded twice',
      );
  },
);

test(
  'Mimir 422: a block crossing the compactor range is refused at once, with advice, and nothing retried',
  { timeout: 60_000 },
  async (t) => {
    const m = await mimir(t);
    const dir = tempDir(t);
    // 23:00 .. 01:00 UTC: crosses midnight, the boundary of Mimir's default 24h range
    const minT = END - 3_600_000;
    const ulid = ulidFrom(Date.now(), 'crossing');
    const w = new BlockWriter(dir, ulid, minT, minT + 2 * 3_600_000, { source: 'stackshift' });
    const ts = Float64Array.from({ length: 120 }, (_, i) => minT + i * 60_000);
    const vs = new Float64Array(120).fill(1);
    for (const c of encodeXorChunks(ts, new Uint32Array(vs.buffer), 0, 120))
      w.addChunk(
        [{ name: '__name__', value: 'x' }],
        undefined,
        ChunkEncoding.XOR,
        c.minTimeMs,
        c.maxTimeMs,
        c.data,
        120,
        false,
      );
    const block = await w.finish();
    const http = new HttpClient(endpointFromUrl(m.url, 'mimir', { tenant: m.tenant, retries: 3 }));
    t.after(() => http.close());
    const up = new MimirBlockUploader(http, { pollMs: 100, validationTimeoutMs: 10_000, retries: 3 });
    await assert.rejects(up.upload(block), (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.status, 422);
      assert.match(e.message, /crosses boundary/);
      assert.match(e.hint ?? '', /--block-duration 24h/);
      return true;
    });
    if (m.double) assert.deepEqual(m.double.calls, [`POST start ${ulid}`], '422 is not retried');
  },
);

test(
  'Mimir 422 through the CLI: one clear line, exit 2, and the run resumes once the cause is fixed',
  { skip: REAL_MIMIR ? 'needs a Mimir with a 12h compactor range' : false, timeout: 240_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-mimir-422', history: SPEC });
    const m = await mimir(t, { blockRangeMs: 12 * 3_600_000 });
    const dir = tempDir(t);
    const res = await runCli(args(source.url, m, dir, ['--read-concurrency', '1']));
    assert.equal(res.code, 2);
    assert.doesNotMatch(res.stderr, STACK_LINE);
    assert.match(
      res.stderr,
      /HTTP 422: block (duration \(\d+s\) is larger than the maximum compactor time range \(43200s\)|time range crosses boundary)/,
    );
    assert.match(res.stderr, /--block-duration .*re-run the same command to resume/s);
    assert.equal(m.double!.calls.filter((c) => c.startsWith('POST start')).length, 1, 'stopped at the first refusal');
    // the operator follows the advice for this Mimir: 12h blocks (a new plan, so a new state file)
    const ok = await runCli(args(source.url, m, dir, ['--block-duration', '12h', '--state', join(dir, 'state12.db')]));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as BlocksReport).totals.blocks, 4);
    assert.equal(m.double!.complete(m.tenant).length, 4);
  },
);

test(
  'Mimir 429 on finish: retried with backoff until validation has room; when it stays busy, a clear message and a resumable stop',
  { skip: REAL_MIMIR ? 'needs a Mimir whose validation concurrency is taken' : false, timeout: 240_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-mimir-429', history: SPEC });
    const m = await mimir(t, { busyFinishes: 2 });
    const dir = tempDir(t);
    const res = await runCli(args(source.url, m, dir, ['--read-concurrency', '1']));
    assert.equal(res.code, 0, res.stderr);
    const finishes = m.double!.calls.filter((c) => c.startsWith('POST finish'));
    assert.equal(finishes.length, 4, 'two 429s, then one accepted finish per block');
    assert.equal(m.double!.complete(m.tenant).length, 2);

    const m2 = await mimir(t, { busyFinishes: 1000 });
    const dir2 = tempDir(t);
    const busy = await runCli(args(source.url, m2, dir2, ['--retries', '2', '--read-concurrency', '1']));
    assert.equal(busy.code, 2);
    assert.doesNotMatch(busy.stderr, STACK_LINE);
    assert.match(busy.stderr, /finish .*HTTP 429/);
    assert.match(busy.stderr, /max-block-upload-validation-concurrency/);
    assert.equal(m2.double!.calls.filter((c) => c.startsWith('POST finish')).length, 3, 'the first try and 2 retries');
    m2.double!.setBusyFinishes(0);
    const resumed = await runCli(args(source.url, m2, dir2, ['--read-concurrency', '1']));
    assert.equal(resumed.code, 0, resumed.stderr);
    const r = JSON.parse(resumed.stdout) as BlocksReport;
    assert.equal(r.plan.resumed, true);
    assert.equal(r.totals.blocks, 2);
    assert.equal(m2.double!.complete(m2.tenant).length, 2);
  },
);

test(
  'Mimir without a tenant: 401 names the tenant flag',
  { skip: REAL_MIMIR ? 'a real Mimir may run without auth' : false, timeout: 120_000 },
  async (t) => {
    const source = await startServer(t, { name: 'blk-mimir-401', history: SPEC });
    const m = await mimir(t);
    const dir = tempDir(t);
    const a = args(source.url, m, dir).filter((x, i, all) => x !== '--tenant' && all[i - 1] !== '--tenant');
    const res = await runCli(a);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /HTTP 401: no org id/);
    assert.match(res.stderr, /--tenant/);
    assert.ok(
      !existsSync(join(dir, 'state.db.staging')) ||
        readdirSync(join(dir, 'state.db.staging')).every((d) => !d.endsWith('.tmp-for-creation')),
      'no half-written block left behind',
    );
  },
);
