import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';
import { CLI, runCli, startServer, tempDir, waitUntil } from '../harness/index.js';
import { CHROMIUM } from '../migrate/browser.js';

/*
 * `migrate serve` beside real runs: the page in headless Chromium follows a two-run migration (a wait, then a
 * gate) over server-sent events; a real Prometheus scrapes /metrics; a second server is killed -9 while a run
 * writes, and neither server holds the run up or leaves the state damaged.
 */

const PLAN = `version: 1
name: live
phases:
  - name: Soak
    steps:
      - id: soak
        kind: wait
        params: { duration: 3s }
      - id: check
        kind: gate
        gates: ["soak.waited_hours >= 0"]
`;

function serve(
  dir: string,
  state: string,
): { child: ChildProcess; url: Promise<string>; exit: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [CLI, 'migrate', 'serve', '--state', state, '--listen', '127.0.0.1:0', '-o', 'json'],
    {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', STACKSHIFT_NO_PROGRESS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"url": "([^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited before listening: ${out}`)));
  });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, url, exit };
}

test(
  'migrate serve: the page follows a running migration over SSE, Prometheus scrapes /metrics, no lease taken, kill -9 harmless',
  { timeout: 240_000 },
  async (t) => {
    assert.ok(CHROMIUM, 'chromium is needed (bash scripts/install-chromium.sh)');
    const dir = tempDir(t, 'stackshift-serve-');
    const file = join(dir, 'stackshift-migration.yaml');
    const state = join(dir, 'migrate.db');
    writeFileSync(file, PLAN);
    const run = () => runCli(['migrate', 'run', '--file', file, '--state', state], { cwd: dir, timeoutMs: 60_000 });

    // started before any run: the state file does not exist yet
    const server = serve(dir, state);
    t.after(() => server.child.kill('SIGKILL'));
    const url = await server.url;
    const port = new URL(url).port;
    const prom = await startServer(t, {
      name: 'scraper',
      config: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: stackshift\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`,
    });

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    t.after(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1024, height: 1400 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'assert') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });
    // evaluated in the page (strings: the tests compile without the DOM's types)
    const live = () =>
      page.evaluate(`(() => {
        const l = window.stackshiftLive;
        return {
          updates: l.updates,
          available: l.last ? l.last.available : undefined,
          steps: Object.fromEntries((l.last ? l.last.steps : []).map((s) => [s.id, s.status])),
        };
      })()`) as Promise<{ updates: number; available?: boolean; steps: Record<string, string> }>;
    await waitUntil(async () => (await live()).updates >= 1, 20_000, 'the first state message');
    assert.equal((await live()).available, false, 'no state file yet');

    // run 1 starts the wait and stops at it; the page shows the step running
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /waiting until/);
    await waitUntil(async () => (await live()).steps.soak === 'running', 20_000, 'soak running on the page');

    // a second server, killed -9 while run 2 writes the state
    const doomed = serve(dir, state);
    await doomed.url;
    await new Promise((r) => setTimeout(r, 3_200));
    const second = run();
    await new Promise((r) => setTimeout(r, 300));
    doomed.child.kill('SIGKILL');
    const r2 = await second;
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /every selected step is done/);

    await waitUntil(async () => (await live()).steps.check === 'done', 20_000, 'check done on the page');
    const seen = await live();
    assert.deepEqual(seen.steps, { soak: 'done', check: 'done' });
    assert.ok(seen.updates >= 3, `updates over SSE: ${seen.updates}`);
    const points = await page.evaluate(`({
      timeline: document.querySelectorAll('#chart-timeline [data-point=timeline]').length,
      gates: document.querySelectorAll('#chart-gates [data-point=gate]').length,
      rows: document.querySelectorAll('#steps tr').length,
      progress: document.getElementById('progress').textContent,
    })`);
    assert.deepEqual(points, { timeline: 2, gates: 1, rows: 2, progress: '2 of 2 steps done (100 %)' });
    assert.deepEqual(errors, []);
    const shot = join(dir, 'status-page.png');
    writeFileSync(shot, await page.screenshot({ fullPage: true, type: 'png' }));
    assert.ok(statSync(shot).size > 10_000, 'a real screenshot');
    t.diagnostic(
      `updates ${seen.updates}; screenshot ${shot} (${statSync(shot).size} bytes; kept with STACKSHIFT_KEEP_TMP=1)`,
    );

    // the state is whole, every step recorded once, no lease left behind by a reader
    const db = new Database(state, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(
        (db.prepare("SELECT count(*) AS n FROM migrate_steps WHERE status = 'done'").get() as { n: number }).n,
        2,
      );
      assert.equal((db.prepare('SELECT count(*) AS n FROM state_lease').get() as { n: number }).n, 0);
    } finally {
      db.close();
    }

    // a real Prometheus parses /metrics: the target is up and the done steps come back from a query
    const query = async (q: string) => {
      const r = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      return r.data.result.map((x) => Number(x.value[1]));
    };
    await waitUntil(
      async () => (await query('stackshift_migrate_steps{status="done"}'))[0] === 2,
      30_000,
      'Prometheus to scrape 2 done steps',
    );
    assert.deepEqual(await query('up{job="stackshift"}'), [1]);
    assert.deepEqual(await query('stackshift_migrate_gates{result="passed"}'), [1]);
    assert.ok((await query('stackshift_serve_requests_total{path="/metrics"}'))[0] >= 1);

    server.child.kill('SIGTERM');
    assert.equal(await server.exit, 0, 'SIGTERM stops it, exit 0');
  },
);

test('migrate serve refuses an address that names no host, and a state file of another kind', async (t) => {
  const dir = tempDir(t, 'stackshift-serve-bad-');
  const all = await runCli(['migrate', 'serve', '--listen', ':9466'], { cwd: dir });
  assert.equal(all.code, 2);
  assert.match(all.stderr, /--listen ":9466" names no address/);
  const other = join(dir, 'other.db');
  const db = new Database(other);
  db.exec('CREATE TABLE t (x)');
  db.close();
  const wrong = await runCli(['migrate', 'serve', '--state', other], { cwd: dir });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /is not the state of a migration \(no migrate_steps table\)/);
  assert.doesNotMatch(wrong.stderr, /^\s+at /m);
});

const UI_END = Date.UTC(2026, 0, 2);
const UI_SPEC = { series: 4, durationMs: 2 * 3_600_000, intervalMs: 60_000, seed: 11, endMs: UI_END };

test(
  'migrate run --ui: the page, its SSE stream and /metrics are served on 127.0.0.1 during the run; samples copied move on /metrics; the server stops with the run',
  { timeout: 240_000 },
  async (t) => {
    const [source, target] = await Promise.all([
      startServer(t, { name: 'ui-source', history: UI_SPEC }),
      startServer(t, { name: 'ui-target', receiver: true }),
    ]);
    const dir = tempDir(t, 'stackshift-run-ui-');
    const file = join(dir, 'stackshift-migration.yaml');
    const state = join(dir, 'migrate.db');
    // 480 samples in 30-minute units (4 series x 120), written at 60 samples/s: the run lasts ~8 s
    writeFileSync(
      file,
      `version: 1
name: ui
endpoints:
  old: { url: "${source.url}", type: prometheus }
  new: { url: "${target.url}", type: prometheus }
phases:
  - name: Mimir and backfill
    steps:
      - id: backfill
        kind: backfill-metrics
        params: { from: old, to: new, start: "2026-01-01T22:00:00Z", end: "2026-01-02T00:00:00Z", write_rate: 60 }
`,
    );
    const child = spawn(process.execPath, [CLI, 'migrate', 'run', '--ui', '--file', file, '--state', state], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', STACKSHIFT_NO_PROGRESS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let ended = false;
    void exit.then(() => (ended = true));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        const m = /live status page (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exit.then(() => reject(new Error(`the run ended before its page was served: ${stderr}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback only');

    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<html/i);

    // the event stream: state frames, the first before the run has recorded its plan, then one with its step
    const ac = new AbortController();
    const events = await fetch(`${url}events`, { signal: ac.signal });
    assert.match(events.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = events.body!.getReader();
    let sse = '';
    const frames = () =>
      [...sse.matchAll(/event: state\ndata: (.*)\n\n/g)].map(
        (m) => JSON.parse(m[1]!) as { status: { steps: Array<{ id: string }> } },
      );
    while (!frames().some((f) => f.status.steps.some((s) => s.id === 'backfill'))) {
      const chunk = await reader.read();
      assert.ok(!chunk.done, `the stream ended before the step appeared: ${sse}`);
      sse += new TextDecoder().decode(chunk.value);
    }
    ac.abort();

    // /metrics while the backfill writes: samples copied, read from the units the run commits
    const seen: number[] = [];
    while (!ended) {
      const r = await fetch(`${url}metrics`).catch(() => undefined);
      if (!r) break;
      const m = /^stackshift_backfill_samples_copied_total\{step="backfill"\} (\d+)$/m.exec(await r.text());
      if (m && seen[seen.length - 1] !== Number(m[1])) seen.push(Number(m[1]));
      await new Promise((res) => setTimeout(res, 150));
    }
    assert.equal(await exit, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /every selected step is done/);
    t.diagnostic(`samples copied as /metrics showed them during the run: ${seen.join(' -> ')}`);
    assert.ok(
      seen.some((v) => v > 0 && v < 480),
      `a value between none and all seen during the run: ${seen.join(', ')}`,
    );
    assert.ok(seen.length >= 3, `the counter moved at least twice: ${seen.join(', ')}`);
    assert.deepEqual(
      seen.slice(1).every((v, i) => v > seen[i]!),
      true,
      'the counter only grows',
    );
    // the run is over: so is its page
    await assert.rejects(fetch(url), 'nothing listens after the run');
  },
);
