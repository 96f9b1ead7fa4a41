import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { PROMETHEUS, prometheusBinary, writeHistoryRemote } from '../../src/lab/index.js';
import { localDriver, type RunReport } from '../../src/upgrade/index.js';
import type { Matcher } from '../../src/wire/index.js';
import { runCli, waitUntil } from '../harness/index.js';
import { HISTORY, TARGETS, digest, rollbackArgs, startLocal, upgradeArgs, type LocalServer } from './local.js';

/**
 * The 3.x stage on real binaries, 2.55.1 -> 3.8.1: a rule file with holt_winters (which 3.8.1's promtool and
 * rule loader reject) is fixed by the lint engine's cutover fix, with backups, and the stage is signed off; a
 * stage whose targets gate fails on 3.8.1 (targets that send no Content-Type, which 3.x refuses to scrape) is
 * rolled back by itself to 2.55.1 with every earlier sample; and `upgrade rollback` of a signed-off 3.8.1 stage
 * brings back 2.55.1, which reads what 3.8.1 wrote.
 */

const RULES = `groups:
  - name: smoothing
    rules:
      - record: app:lab_target_load:smoothed
        expr: holt_winters(lab_target_load[30s], 0.5, 0.5)
`;
const log = (m: string) => process.stderr.write(`${m}\n`);
const COUNTER: Matcher[] = [{ type: 'EQ', name: '__name__', value: 'lab_target_requests_total' }];
/** A sample at least this old has been appended (1 s scrapes, 1 s timeout): digests up to it are stable. */
const SETTLED_MS = 3000;

async function version(url: string): Promise<string> {
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    return (await c.buildInfo()).version;
  } finally {
    await c.close();
  }
}

async function instantCount(url: string, expr: string): Promise<number> {
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    const r = await c.query(expr, Date.now());
    return r.resultType === 'vector' ? r.result.length : 0;
  } finally {
    await c.close();
  }
}

async function upTargets(url: string): Promise<{ up: number; all: number; errors: string[] }> {
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    const t = await c.targets('active');
    return {
      up: t.activeTargets.filter((x) => x.health === 'up').length,
      all: t.activeTargets.length,
      errors: t.activeTargets.map((x) => x.lastError ?? '').filter(Boolean),
    };
  } finally {
    await c.close();
  }
}

/** History written through remote write, scrapes and the recording rule running: the state a stage starts from. */
async function prepared(s: LocalServer, targets: number): Promise<void> {
  await writeHistoryRemote(`${s.url}/api/v1/write`, HISTORY);
  await waitUntil(async () => (await upTargets(s.url)).up === targets, 30_000, `${targets} targets up`);
  await waitUntil(
    async () => (await instantCount(s.url, 'app:lab_target_load:smoothed')) === TARGETS,
    60_000,
    'the holt_winters rule to produce a series per target',
  );
  // a few scrapes of every target before the digests' cut-off (SETTLED_MS back)
  await new Promise((r) => setTimeout(r, SETTLED_MS + 3000));
}

test(
  'upgrade run 2.55.1 -> 3.8.1: the cutover fixes (holt_winters, the experimental-functions flag) applied with backups, signed off, every earlier sample kept; upgrade rollback returns to 2.55.1, which reads what 3.8.1 wrote',
  { timeout: 420_000 },
  async (t) => {
    const promtool3 = join(prometheusBinary(PROMETHEUS.target), '..', 'promtool');
    const s = await startLocal(t, PROMETHEUS.bridge, { rules: RULES });
    // the premise: 3.8.1 rejects the rule file as it is
    const pre = spawnSync(promtool3, ['check', 'rules', s.rules!], { encoding: 'utf8' });
    assert.notEqual(pre.status, 0, 'promtool 3.8.1 rejects holt_winters');
    assert.match(pre.stdout + pre.stderr, /holt_winters/);
    const unitBefore = readFileSync(s.unit, 'utf8');

    await prepared(s, TARGETS);
    const beforeAt = Date.now() - SETTLED_MS;
    const gen = await digest(s.url);
    const scraped = await digest(s.url, COUNTER, beforeAt);
    assert.equal(gen.size, HISTORY.series);
    assert.equal(scraped.size, TARGETS);
    assert.ok(
      [...scraped.values()].every((d) => d.split(';').length > 3),
      'every target scraped a few times before the cut-off',
    );

    const r = await runCli(upgradeArgs(s, PROMETHEUS.target, prometheusBinary(PROMETHEUS.target)), {
      timeoutMs: 300_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.deepEqual(
      report.gates?.filter((g) => !g.passed),
      [],
    );
    assert.deepEqual(report.gates?.map((g) => g.id).sort(), ['feature-flags', 'rules', 'series', 'targets', 'version']);

    // the changes step: the rule renamed and the flag added, each file backed up first with its exact old bytes
    const changed = (
      report.steps.find((x) => x.step === 'changes')?.detail as {
        files: Array<{ file: string; backup: string; changes: string[] }>;
      }
    ).files;
    const ruleChange = changed.find((f) => f.file === s.rules);
    const unitChange = changed.find((f) => f.file === s.unit);
    assert.deepEqual(ruleChange?.changes, ['holt-winters-removed']);
    assert.deepEqual(unitChange?.changes, ['experimental-functions-flag']);
    assert.equal(readFileSync(ruleChange!.backup, 'utf8'), RULES);
    assert.equal(readFileSync(unitChange!.backup, 'utf8'), unitBefore);
    assert.equal(
      (report.steps.find((x) => x.step === 'changes')?.detail as { validated?: string }).validated,
      'promtool 3.8.1 --enable-feature=promql-experimental-functions check config: ok',
    );
    assert.match(
      readFileSync(s.rules!, 'utf8'),
      /expr: double_exponential_smoothing\(lab_target_load\[30s\], 0\.5, 0\.5\)/,
    );
    assert.doesNotMatch(readFileSync(s.rules!, 'utf8'), /holt_winters/);
    assert.ok(
      localDriver(s.unit).unit().args.includes('--enable-feature=promql-experimental-functions'),
      'the flag is in the unit',
    );
    const flagLines = (text: string) => text.split('\n').filter(Boolean).slice(1);
    assert.deepEqual(
      flagLines(readFileSync(s.unit, 'utf8')),
      [...flagLines(unitBefore), '--enable-feature=promql-experimental-functions'],
      'still one flag per line: the added flag on a line of its own',
    );
    assert.equal(
      spawnSync(promtool3, ['check', 'rules', '--enable-feature=promql-experimental-functions', s.rules!], {
        encoding: 'utf8',
      }).status,
      0,
      'the fixed rule file passes promtool 3.8.1',
    );

    // 3.8.1 runs, from the unit, evaluates the renamed rule, and holds every sample written before the stage
    assert.match(await version(s.url), /^3\.8\.1/);
    assert.equal(localDriver(s.unit).unit().binary, prometheusBinary(PROMETHEUS.target));
    await waitUntil(
      async () => (await instantCount(s.url, 'app:lab_target_load:smoothed')) === TARGETS,
      60_000,
      'double_exponential_smoothing evaluated on 3.8.1',
    );
    assert.deepEqual(await digest(s.url), gen);
    assert.deepEqual(await digest(s.url, COUNTER, beforeAt), scraped);

    // back to 2.55.1 after the sign-off: the files and the binary as they were, and what 3.8.1 scraped readable
    await new Promise((res) => setTimeout(res, 4000));
    const on3At = Date.now() - SETTLED_MS;
    const with3 = await digest(s.url, COUNTER, on3At);
    assert.ok(
      [...with3.values()].every((d) => d.length > (scraped.values().next().value ?? '').length),
      'samples scraped by 3.8.1 are part of the comparison',
    );
    const rb = await runCli(rollbackArgs(s), { timeoutMs: 300_000 });
    assert.equal(rb.code, 0, rb.stderr + rb.stdout);
    const back = JSON.parse(rb.stdout) as {
      from: string;
      to: string;
      restored: string[];
      verdict: string;
      lost: string[];
    };
    assert.equal(back.from, PROMETHEUS.target);
    assert.equal(back.to, PROMETHEUS.bridge);
    assert.equal(back.verdict, 'opens');
    assert.deepEqual(back.lost, []);
    assert.match(await version(s.url), /^2\.55\.1/);
    assert.equal(readFileSync(s.rules!, 'utf8'), RULES);
    assert.equal(readFileSync(s.unit, 'utf8'), unitBefore);
    assert.deepEqual(
      await digest(s.url, COUNTER, on3At),
      with3,
      'every sample, those written by 3.8.1 included, read back by 2.55.1',
    );
    assert.deepEqual(await digest(s.url), gen);
    await waitUntil(
      async () => (await instantCount(s.url, 'app:lab_target_load:smoothed')) === TARGETS,
      60_000,
      'holt_winters evaluated again on 2.55.1',
    );
    const db = new Database(s.state, { readonly: true });
    t.after(() => db.close());
    assert.equal(
      (db.prepare('SELECT status FROM upgrade_runs ORDER BY id DESC LIMIT 1').get() as { status: string }).status,
      'rolled-back',
    );
  },
);

test(
  'upgrade run 2.55.1 -> 3.8.1 whose targets gate fails (targets without a Content-Type, which 3.x refuses) is rolled back by itself to 2.55.1 with every earlier sample',
  { timeout: 420_000 },
  async (t) => {
    const LEGACY = 2;
    const s = await startLocal(t, PROMETHEUS.bridge, { rules: RULES, blankContentTypeTargets: LEGACY });
    const unitBefore = readFileSync(s.unit, 'utf8');
    await prepared(s, TARGETS + LEGACY);
    const beforeAt = Date.now() - SETTLED_MS;
    const gen = await digest(s.url);
    const scraped = await digest(s.url, COUNTER, beforeAt);
    assert.equal(scraped.size, TARGETS + LEGACY, '2.55.1 scrapes the targets without a Content-Type');

    const r = await runCli(upgradeArgs(s, PROMETHEUS.target, prometheusBinary(PROMETHEUS.target)), {
      timeoutMs: 300_000,
    });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'rolled-back');
    const failed = report.gates?.filter((g) => !g.passed) ?? [];
    assert.deepEqual(
      failed.map((g) => g.id),
      ['targets'],
    );
    assert.match(failed[0]!.detail, new RegExp(`${TARGETS} up now, ${TARGETS + LEGACY} before the stop`));
    assert.match(failed[0]!.detail, /Content-Type/);
    assert.match(failed[0]!.detail, /set fallback_scrape_protocol: PrometheusText0\.0\.4 on those jobs/);
    log(`targets gate on 3.8.1: ${failed[0]!.detail}`);
    assert.match(report.rollback?.reason ?? '', /post-upgrade gate failed: targets/);
    assert.deepEqual(
      report.steps.map((x) => [x.step, x.status]),
      [
        ['snapshot', 'done'],
        ['preflight', 'done'],
        ['changes', 'done'],
        ['shadow', 'skipped'],
        ['stop', 'done'],
        ['install', 'done'],
        ['start', 'done'],
        ['replay', 'done'],
        ['gates', 'failed'],
      ],
    );

    // back on 2.55.1 (per buildinfo), from the unit as it was, with the rule file as it was
    assert.match(await version(s.url), /^2\.55\.1/);
    assert.equal(readFileSync(s.unit, 'utf8'), unitBefore);
    assert.equal(readFileSync(s.rules!, 'utf8'), RULES);
    assert.deepEqual(
      report.rollback?.restored.sort(),
      [s.rules!, s.unit, `binary ${prometheusBinary(PROMETHEUS.bridge)}`].sort(),
    );
    // every sample written before the stop is still there, bit for bit
    assert.deepEqual(await digest(s.url), gen);
    assert.deepEqual(await digest(s.url, COUNTER, beforeAt), scraped);
    // and the targets 3.8.1 refused are scraped again
    await waitUntil(
      async () => (await upTargets(s.url)).up === TARGETS + LEGACY,
      30_000,
      'every target up again on 2.55.1',
    );
    const db = new Database(s.state, { readonly: true });
    t.after(() => db.close());
    assert.equal((db.prepare('SELECT status FROM upgrade_runs').get() as { status: string }).status, 'rolled-back');
  },
);

test(
  'upgrade run 2.55.1 -> 3.8.1 whose fixed config the new promtool still rejects stops at the changes step: every file put back, the server never stopped',
  { timeout: 180_000 },
  async (t) => {
    const s = await startLocal(t, PROMETHEUS.bridge, { rules: RULES });
    const unitBefore = readFileSync(s.unit, 'utf8');
    const pidBefore = localDriver(s.unit).status().pid;
    // the 3.8.1 release, with a promtool that refuses every check (what the fixes do not cover)
    const rel = join(s.dir, 'release');
    mkdirSync(rel);
    symlinkSync(prometheusBinary(PROMETHEUS.target), join(rel, 'prometheus'));
    writeFileSync(
      join(rel, 'promtool'),
      `#!/bin/sh\ncase "$*" in *check*) echo "  FAILED: rules.yml: something no fix covers" >&2; exit 1;; esac\nexec ${join(prometheusBinary(PROMETHEUS.target), '..', 'promtool')} "$@"\n`,
    );
    chmodSync(join(rel, 'promtool'), 0o755);

    const r = await runCli(upgradeArgs(s, PROMETHEUS.target, join(rel, 'prometheus')), { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /promtool 3\.8\.1 --enable-feature=promql-experimental-functions check config rejects the config after the cutover fixes: FAILED: rules\.yml: something no fix covers/,
    );
    assert.match(r.stderr, /nothing was stopped and every fixed file is back as it was/);
    assert.equal(readFileSync(s.rules!, 'utf8'), RULES, 'the rule file is back');
    assert.equal(readFileSync(s.unit, 'utf8'), unitBefore, 'the unit is back');
    assert.match(await version(s.url), /^2\.55\.1/);
    assert.equal(localDriver(s.unit).status().pid, pidBefore, 'the same 2.55.1 process, never stopped');
    const db = new Database(s.state, { readonly: true });
    t.after(() => db.close());
    assert.deepEqual(db.prepare('SELECT step, status FROM upgrade_steps ORDER BY rowid').all(), [
      { step: 'snapshot', status: 'done' },
      { step: 'preflight', status: 'done' },
      { step: 'changes', status: 'failed' },
    ]);
    assert.equal((db.prepare('SELECT status FROM upgrade_runs').get() as { status: string }).status, 'failed');
  },
);
