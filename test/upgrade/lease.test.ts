import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openState, StateLease } from '../../src/state/index.js';
import { UPGRADE_LEASE, UPGRADE_MIGRATIONS } from '../../src/upgrade/index.js';
import { runCli, tempDir } from '../harness/index.js';

/**
 * One writer per state file: while another process holds the upgrade lease, `upgrade run` and `upgrade
 * rollback` on the same state are refused at once (exit 2), naming the holder, and change nothing. (The same
 * refusal against a real `upgrade run` in flight is in run.test.ts, in the kill -9 test.)
 */
test(
  "upgrade run and upgrade rollback are refused at once while another process holds the state's upgrade lease",
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const state = join(dir, 'state.db');
    const unit = join(dir, 'prometheus.args');
    writeFileSync(unit, `${process.execPath}\n--web.listen-address=127.0.0.1:1\n`);
    mkdirSync(join(dir, 'data'));
    const db = openState(state, UPGRADE_MIGRATIONS);
    t.after(() => db.close());
    const lease = new StateLease(db, state, UPGRADE_LEASE);
    t.after(() => lease.release());
    const url = 'http://127.0.0.1:1';
    const holder = new RegExp(`state file .*state\\.db is in use by another upgrade \\(pid ${process.pid} on `);

    const t0 = Date.now();
    const run = await runCli(
      [
        'upgrade',
        'run',
        '--prometheus-url',
        url,
        '--to',
        '2.55.1',
        '--binary',
        process.execPath,
        '--unit',
        unit,
        '--data-dir',
        join(dir, 'data'),
        '--state',
        state,
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, holder);
    assert.match(run.stderr, /one upgrade run or rollback per state file/);
    assert.ok(Date.now() - t0 < 15_000, 'refused at once, not after a wait');
    assert.equal((db.prepare('SELECT count(*) AS n FROM upgrade_runs').get() as { n: number }).n, 0, 'no run recorded');

    const rb = await runCli(
      [
        'upgrade',
        'rollback',
        '--prometheus-url',
        url,
        '--unit',
        unit,
        '--data-dir',
        join(dir, 'data'),
        '--state',
        state,
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(rb.code, 2, rb.stderr);
    assert.match(rb.stderr, holder);

    // the lease was the reason: released, the same rollback gets as far as the state's content
    lease.release();
    const free = await runCli(
      [
        'upgrade',
        'rollback',
        '--prometheus-url',
        url,
        '--unit',
        unit,
        '--data-dir',
        join(dir, 'data'),
        '--state',
        state,
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(free.code, 2, free.stderr);
    assert.doesNotMatch(free.stderr, /in use by another/);
    assert.match(free.stderr, /no upgrade of http:\/\/127\.0\.0\.1:1 to roll back/);
    // and a finished command leaves no lease behind
    assert.equal(
      (db.prepare('SELECT count(*) AS n FROM state_lease WHERE module = ?').get(UPGRADE_LEASE) as { n: number }).n,
      0,
    );
  },
);
