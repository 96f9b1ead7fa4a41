import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { PROMETHEUS, prometheusBinary, writeHistoryRemote } from '../../src/lab/index.js';
import { type RunReport } from '../../src/upgrade/index.js';
import type { Matcher } from '../../src/wire/index.js';
import { runCli, waitUntil } from '../harness/index.js';
import { HISTORY, TARGETS, digest, startLocal, upgradeArgs } from './local.js';

/**
 * The newest 3.x the lab builds (3.16.0) as a stage target: 2.55.1 -> 3.16.0 through `upgrade run`, with a
 * rule 3.x refuses (holt_winters) fixed by the facts' cutover set, every gate green and every sample written
 * before the stage (generated history and the targets' own scrapes) read back bit for bit afterwards.
 */

const RULES = `groups:
  - name: smoothing
    rules:
      - record: app:lab_target_load:smoothed
        expr: holt_winters(lab_target_load[30s], 0.5, 0.5)
`;
const COUNTER: Matcher[] = [{ type: 'EQ', name: '__name__', value: 'lab_target_requests_total' }];
/** A sample at least this old has been appended (1 s scrapes, 1 s timeout): digests up to it are stable. */
const SETTLED_MS = 3000;

test(
  'upgrade run 2.55.1 -> 3.16.0 (the newest 3.x): cutover fixes applied, gates green, every pre-upgrade sample kept bit for bit',
  { timeout: 420_000 },
  async (t) => {
    const promtool = join(prometheusBinary(PROMETHEUS.latest), '..', 'promtool');
    const s = await startLocal(t, PROMETHEUS.bridge, { rules: RULES });
    const pre = spawnSync(promtool, ['check', 'rules', s.rules!], { encoding: 'utf8' });
    assert.notEqual(pre.status, 0, 'the premise: promtool 3.16.0 rejects holt_winters');
    await writeHistoryRemote(`${s.url}/api/v1/write`, HISTORY);
    const c = new PrometheusClient(endpointFromUrl(s.url));
    t.after(() => c.close());
    await waitUntil(
      async () => {
        const r = await c.query('app:lab_target_load:smoothed', Date.now());
        return r.resultType === 'vector' && r.result.length === TARGETS;
      },
      60_000,
      'the holt_winters rule to produce a series per target',
    );
    await new Promise((r) => setTimeout(r, SETTLED_MS + 3000));
    const beforeAt = Date.now() - SETTLED_MS;
    const gen = await digest(s.url);
    const scraped = await digest(s.url, COUNTER, beforeAt);
    assert.equal(gen.size, HISTORY.series);
    assert.equal(scraped.size, TARGETS);

    const r = await runCli(upgradeArgs(s, PROMETHEUS.latest, prometheusBinary(PROMETHEUS.latest)), {
      timeoutMs: 300_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as RunReport;
    assert.equal(report.status, 'signed-off');
    assert.equal(report.to, '3.16.0');
    assert.deepEqual(
      report.gates?.filter((g) => !g.passed),
      [],
    );
    assert.deepEqual(report.gates?.map((g) => g.id).sort(), ['feature-flags', 'rules', 'series', 'targets', 'version']);
    const changes = (
      report.steps.find((x) => x.step === 'changes')?.detail as { files: Array<{ file: string; changes: string[] }> }
    ).files;
    assert.deepEqual(changes.find((f) => f.file === s.rules)?.changes, ['holt-winters-removed']);
    assert.doesNotMatch(readFileSync(s.rules!, 'utf8'), /holt_winters/);
    assert.match((await c.buildInfo()).version, /^3\.16\.0/);

    // 100 %: every sample of every series written before the stage, bit for bit
    const genAfter = await digest(s.url);
    const scrapedAfter = await digest(s.url, COUNTER, beforeAt);
    assert.equal(genAfter.size, gen.size);
    for (const [k, d] of gen) assert.equal(genAfter.get(k), d, `${k} kept bit for bit`);
    assert.equal(scrapedAfter.size, scraped.size);
    for (const [k, d] of scraped) assert.equal(scrapedAfter.get(k), d, `${k} (scraped) kept bit for bit`);
    // and the fixed rule evaluates on 3.16.0
    await waitUntil(
      async () => {
        const q = await c.query('app:lab_target_load:smoothed', Date.now());
        return q.resultType === 'vector' && q.result.length === TARGETS;
      },
      60_000,
      'the fixed rule to evaluate on 3.16.0',
    );
  },
);
