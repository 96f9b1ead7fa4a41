import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LokiStream } from '../../src/clients/index.js';
import { LOGS_VERIFY_DEFAULTS, parseStreamSelector, verifyLogs, type LogsVerifyReport } from '../../src/logs/index.js';
import { runCli, STACK_LINE, tempDir } from '../harness/index.js';
import { generateLogs, lokiUnderTest, seed } from './helpers.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const SELECTOR = '{job="stackshift-gen"}';
const HOUR = 3_600_000;

/**
 * The source holds 30 streams over 4 hours; the target the same minus one whole stream, minus one hour of
 * another, and with one line of a third altered. Each difference must be named exactly, and the figure
 * must be the hand count.
 */
async function injected(t: Parameters<typeof lokiUnderTest>[0]) {
  const loki = await lokiUnderTest(t);
  const data = generateLogs({ streams: 30, linesPerStream: 400, hours: 4, seed: 7 });
  const missingStream = data.streams[3]!;
  const gapStream = data.streams[10]!;
  const gapFrom = data.startMs + HOUR,
    gapTo = data.startMs + 2 * HOUR;
  const inGap = (ns: bigint) => ns > BigInt(gapFrom) * 1_000_000n && ns <= BigInt(gapTo) * 1_000_000n;
  const gapLines = gapStream.entries.filter((e) => inGap(e.tsNs)).length;
  const alteredStream = data.streams[20]!;
  const alteredIndex = 123;
  const original = alteredStream.entries[alteredIndex]!;
  const target: LokiStream[] = data.streams
    .filter((s) => s !== missingStream)
    .map((s) => {
      if (s === gapStream) return { labels: s.labels, entries: s.entries.filter((e) => !inGap(e.tsNs)) };
      if (s === alteredStream)
        return {
          labels: s.labels,
          entries: s.entries.map((e, i) => (i === alteredIndex ? { ...e, line: e.line + ' (edited)' } : e)),
        };
      return s;
    });
  await Promise.all([seed(loki.source, data.streams), seed(loki.target, target)]);
  return { loki, data, missingStream, gapStream, gapFrom, gapTo, gapLines, alteredStream, original };
}

test(
  'logs verify names a missing stream, a missing hour and one altered line exactly, with the hand-counted figure',
  { timeout: 300_000 },
  async (t) => {
    const x = await injected(t);
    const r: LogsVerifyReport = await verifyLogs({
      ...LOGS_VERIFY_DEFAULTS,
      source: x.loki.source,
      target: x.loki.target,
      selector: parseStreamSelector(SELECTOR),
      startMs: x.data.startMs,
      endMs: x.data.endMs,
      mapping: { add: {}, drop: [] },
      sample: { fraction: 1, seed: 1 },
      minConsistency: 100,
      top: 100,
    });
    assert.deepEqual(r.streams.missing, [
      { stream: '{app="app-3", job="stackshift-gen", pod="pod-0003"}', lines: 400 },
    ]);
    assert.deepEqual(r.streams.extra, []);
    assert.equal(r.streams.matched, 29);
    // the gap: exactly one window of exactly one stream, all its lines missing
    assert.deepEqual(r.windows.top, [
      {
        stream: '{app="app-10", job="stackshift-gen", pod="pod-0010"}',
        window: `${new Date(x.gapFrom).toISOString()}..${new Date(x.gapTo).toISOString()}`,
        source: x.gapLines,
        target: 0,
        kind: 'missing',
      },
    ]);
    // the altered line: same count, so only the line comparison finds it, named with both texts
    const altered = r.samples.top.filter((d) => d.kind === 'altered');
    assert.deepEqual(altered, [
      {
        stream: '{app="app-0", job="stackshift-gen", pod="pod-0020"}',
        timestampNs: x.original.tsNs.toString(),
        kind: 'altered',
        source: x.original.line,
        target: x.original.line + ' (edited)',
      },
    ]);
    assert.equal(r.samples.altered, 1);
    assert.equal(r.samples.missing, x.gapLines, 'the lines of the missing hour are named too');
    assert.equal(r.samples.extra, 0);
    // hand count: 12000 source lines; matched = all but the missing stream, the gap and the altered line; 1 unexpected (the edit)
    const total = 30 * 400;
    assert.equal(r.lines.expected, total);
    assert.equal(r.lines.matched, total - 400 - x.gapLines - 1);
    assert.equal(r.lines.unexpected, 1);
    assert.equal(r.consistency.percent, ((total - 400 - x.gapLines - 1) / (total + 1)) * 100);
    assert.equal(r.consistency.gate.passed, false);
  },
);

test(
  'logs verify CLI: exit 1 below --min-consistency, JSON and Markdown reports, the gate passes at a lower bar',
  { timeout: 300_000 },
  async (t) => {
    const x = await injected(t);
    const dir = tempDir(t);
    const args = [
      'logs',
      'verify',
      ...x.loki.flags,
      '--selector',
      SELECTOR,
      '--start',
      new Date(x.data.startMs).toISOString(),
      '--end',
      new Date(x.data.endMs).toISOString(),
      '--sample',
      '100%',
    ];
    const json = await runCli([...args, '--output', 'json', '--report', join(dir, 'r.json')]);
    assert.equal(json.code, 1, json.stderr);
    const doc = JSON.parse(json.stdout) as LogsVerifyReport;
    assert.equal(doc.streams.missing.length, 1);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')), doc);
    const md = await runCli([...args, '--output', 'markdown']);
    assert.equal(md.code, 1);
    assert.match(md.stdout, /^## Logs parity/m);
    assert.match(md.stdout, /\| \{app="app-3", job="stackshift-gen", pod="pod-0003"\} \| missing on target \| 400 \|/);
    const low = await runCli([...args, '--min-consistency', '90']);
    assert.equal(low.code, 0, low.stderr);
    assert.match(low.stdout, /gate 90 %: passed/);
    assert.doesNotMatch(low.stderr, STACK_LINE);
  },
);

test(
  'logs verify splits count queries under the series limit and still counts every stream',
  { timeout: 120_000 },
  async (t) => {
    const loki = await lokiUnderTest(t, { maxQuerySeries: 7 });
    const data = generateLogs({ streams: 30, linesPerStream: 20, hours: 2, seed: 4 });
    await Promise.all([seed(loki.source, data.streams), seed(loki.target, data.streams)]);
    const r = await verifyLogs({
      ...LOGS_VERIFY_DEFAULTS,
      source: loki.source,
      target: loki.target,
      selector: parseStreamSelector(SELECTOR),
      startMs: data.startMs,
      endMs: data.endMs,
      mapping: { add: {}, drop: [] },
      maxSeries: loki.real ? 500 : 7,
      sample: { fraction: 0, seed: 1 },
      minConsistency: 100,
    });
    assert.equal(r.consistency.percent, 100);
    assert.equal(r.lines.expected, 600);
    assert.equal(r.streams.matched, 30);
    if (!loki.real) assert.ok(r.queries.source >= 5, `split into several count queries (${r.queries.source})`);
  },
);
