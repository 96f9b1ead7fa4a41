import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, STACK_LINE, tempDir } from '../harness/index.js';
import { generateLogs, lokiUnderTest, seed } from './helpers.js';

const SELECTOR = '{job="stackshift-gen"}';

function oneLine(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() && !l.startsWith('info') && !l.startsWith('debug'));
}

test(
  'logs copy and verify: bad flags are one clear line, exit 2, no state file, nothing written',
  { timeout: 120_000 },
  async (t) => {
    const loki = await lokiUnderTest(t);
    const dir = tempDir(t);
    const state = join(dir, 'copy.db');
    const cases: Array<{ args: string[]; message: RegExp }> = [
      {
        args: ['copy', '--selector', '{job="a"', '--start', '1h'],
        message: /--selector "\{job=\\"a\\"": LogQL syntax error at column/,
      },
      { args: ['copy', '--selector', '{job="a"} |= "x"', '--start', '1h'], message: /is not a plain stream selector/ },
      {
        args: ['copy', '--selector', '{job=~".*"}', '--start', '1h'],
        message: /matches the empty value with every matcher/,
      },
      { args: ['copy', '--selector', '{job=~"("}', '--start', '1h'], message: /is not a valid regular expression/ },
      { args: ['copy', '--selector', SELECTOR], message: /--start is required/ },
      { args: ['copy', '--selector', SELECTOR, '--start', 'yesterday'], message: /invalid --start "yesterday"/ },
      {
        args: ['copy', '--selector', SELECTOR, '--start', '1h', '--end', '2h'],
        message: /--start .* must be before --end/,
      },
      {
        args: ['copy', '--selector', SELECTOR, '--start', '1h', '--window', '2h'],
        message: /--window must be whole seconds from 1m to 60m/,
      },
      {
        args: ['copy', '--selector', SELECTOR, '--start', '1h', '--batch-bytes', '10'],
        message: /--batch-bytes must be an integer from 1024/,
      },
      { args: ['copy', '--selector', SELECTOR, '--start', '1h', '--encoding', 'xml'], message: /--encoding/ },
      {
        args: ['verify', '--selector', SELECTOR, '--start', '1h', '--min-consistency', '101'],
        message: /--min-consistency must be a percentage/,
      },
      {
        args: ['verify', '--selector', SELECTOR, '--start', '1h', '--add-label', 'cluster'],
        message: /--add-label "cluster" is not name=value/,
      },
    ];
    for (const c of cases) {
      const r = await runCli([
        'logs',
        c.args[0]!,
        ...loki.flags,
        ...(c.args[0] === 'copy' ? ['--state', state] : []),
        ...c.args.slice(1),
      ]);
      assert.equal(r.code, 2, `${c.args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, c.message, c.args.join(' '));
      assert.equal(
        oneLine(r.stderr).filter((l) => !/^\s*hint:/.test(l) && !l.startsWith('(run with --help')).length,
        1,
        `one line: ${r.stderr}`,
      );
      assert.doesNotMatch(r.stderr, STACK_LINE);
      assert.equal(r.stdout, '');
    }
    const noUrl = await runCli(['logs', 'copy', '--selector', SELECTOR, '--start', '1h', '--state', state], {
      cwd: dir,
    });
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /no source: endpoint "old_loki" is not in the config and --source-url is not given/);
    assert.equal(existsSync(state), false, 'no state file for bad input');
    if (loki.double) assert.equal(loki.double.stats.pushes, 0, 'nothing pushed');
  },
);

test(
  'logs copy: a page size above the source limit is refused before anything is written',
  { timeout: 120_000 },
  async (t) => {
    const loki = await lokiUnderTest(t);
    const data = generateLogs({ streams: 3, linesPerStream: 50, hours: 1, seed: 3 });
    await seed(loki.source, data.streams);
    const dir = tempDir(t);
    const state = join(dir, 'copy.db');
    const r = await runCli([
      'logs',
      'copy',
      ...loki.flags,
      '--selector',
      SELECTOR,
      '--start',
      String(data.startMs / 1000),
      '--end',
      String(data.endMs / 1000),
      '--page-size',
      '6000',
      '--state',
      state,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /the source refused .*--page-size 6000: HTTP 400: max entries limit per query exceeded, limit > max_entries_limit_per_query \(6000 > 5000\)/,
    );
    assert.match(r.stderr, /lower --page-size to the source's max_entries_limit_per_query/);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assert.equal(existsSync(state), false);
    if (loki.double) assert.equal(loki.double.lineCount(loki.target.tenant!), 0);
  },
);

test(
  'logs copy: lines older than the target accepts are refused with the setting that fixes it, exit 2, nothing stored',
  { timeout: 120_000 },
  async (t) => {
    // the source keeps 30 days; the target has Loki's default reject_old_samples_max_age of 1 week
    const loki = await lokiUnderTest(t, {});
    if (loki.real) return t.skip('needs a source holding lines older than a week');
    const old = generateLogs({
      streams: 2,
      linesPerStream: 20,
      hours: 1,
      seed: 9,
      endMs: Math.floor(Date.now() / 3_600_000) * 3_600_000 - 9 * 86_400_000,
    });
    loki.double!.opts.rejectOldSamplesMaxAgeMs = 30 * 86_400_000;
    await seed({ ...loki.source }, old.streams);
    loki.double!.opts.rejectOldSamplesMaxAgeMs = 7 * 86_400_000;
    const dir = tempDir(t);
    const r = await runCli([
      'logs',
      'copy',
      ...loki.flags,
      '--selector',
      SELECTOR,
      '--start',
      String(old.startMs / 1000),
      '--end',
      String(old.endMs / 1000),
      '--state',
      join(dir, 'c.db'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    const lines = oneLine(r.stderr);
    assert.match(
      lines[0]!,
      /the target refused lines of .* \(too-old\): HTTP 400: entry for stream '\{app="app-\d", (env="prod", )?job="stackshift-gen", pod="pod-000\d"\}' has timestamp too old: /,
    );
    assert.match(r.stderr, /reject_old_samples: false/);
    assert.equal(loki.double!.lineCount(loki.target.tenant!), 0, 'nothing stored');
  },
);

test(
  'logs copy: a target that keeps answering 429 ends in a rate-limit error naming ingestion_rate_mb',
  { timeout: 120_000 },
  async (t) => {
    const loki = await lokiUnderTest(t);
    if (loki.real) return t.skip('needs a throttling target');
    const data = generateLogs({ streams: 2, linesPerStream: 20, hours: 1, seed: 9 });
    await seed(loki.source, data.streams);
    loki.double!.throttle(100, 0);
    const dir = tempDir(t);
    const r = await runCli([
      'logs',
      'copy',
      ...loki.flags,
      '--selector',
      SELECTOR,
      '--start',
      String(data.startMs / 1000),
      '--end',
      String(data.endMs / 1000),
      '--state',
      join(dir, 'c.db'),
      '--concurrency',
      '1',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\(rate-limit\): HTTP 429: Ingestion rate limit exceeded/);
    assert.match(r.stderr, /ingestion_rate_mb/);
  },
);
