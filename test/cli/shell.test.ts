import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, runCli, STACK_LINE } from '../harness/cli.js';

/** The CLI shell as a user meets it: missing subcommands, pipes that close, odd flag orders, bad values. */

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'stackshift-cli-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A fault server (plain node:http): answers every request with `handler`. */
async function faultServer(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const timers = new Set<NodeJS.Timeout>();
  const srv = createServer((req, res) => {
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const x of timers) clearInterval(x);
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

/** One line of error, a hint, exit 2, no stack trace, not called a bug. */
function classified(r: { code: number | null; stderr: string }, cause: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, cause);
  assert.match(r.stderr, /^ {2}hint: /m);
  assert.doesNotMatch(r.stderr, /internal error|this is a bug/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
}

test('no subcommand: exit 2 with the help on stderr, for the program and for an area', async () => {
  for (const args of [[], ['backfill'], ['verify']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `stackshift ${args.join(' ')}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: stackshift/m);
  }
  const help = await runCli(['backfill', '--help']);
  assert.equal(help.code, 0, 'asking for help is not an error');
  assert.match(help.stdout, /^Usage: stackshift backfill/m);
});

test('--help into a pipe that closes at once: no EPIPE stack trace', (t) => {
  const dir = tmp(t);
  const err = join(dir, 'stderr.txt');
  // `true` exits without reading, so the CLI writes its help into a closed pipe
  const r = spawnSync(
    'sh',
    ['-c', `"${process.execPath}" "${CLI}" backfill metrics --help 2>"${err}" | true; echo "\${PIPESTATUS:-}"`],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0);
  const stderr = readFileSync(err, 'utf8');
  assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event/);
  assert.doesNotMatch(stderr, STACK_LINE);
});

test('--set before the command does not swallow the command name, and is applied', async () => {
  const r = await runCli(['--set', 'output=json', 'upgrade', 'plan', '--from', '2.48.1', '--to', '3.5.0']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotThrow(() => JSON.parse(r.stdout), 'output=json from --set reached the command');
  const two = await runCli([
    '--set',
    'output=json',
    '--set',
    'output=markdown',
    'upgrade',
    'plan',
    '--from',
    '2.48.1',
    '--to',
    '3.5.0',
  ]);
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stdout, /^#/m, 'the last --set wins');
});

test('--set with a bad value names that key and value, not a consequence of it', async () => {
  const r = await runCli(['--set', 'endpoints.prometheus.retries=abc', 'assess']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--set endpoints\.prometheus\.retries=abc: .*expected number/);
  assert.doesNotMatch(r.stderr, /url: missing required key/);
});

test('times: future, milliseconds, no offset and absurd ranges are refused before anything runs', async () => {
  const common = ['--source-url', 'http://127.0.0.1:1', '--target-url', 'http://127.0.0.1:1/api/v1/write'];
  const future = await runCli([
    'backfill',
    'metrics',
    '--start',
    '2100-01-01T00:00:00Z',
    '--end',
    '2100-01-02T00:00:00Z',
    '--dry-run',
    ...common,
  ]);
  classified(future, /--start 2100-01-01T00:00:00\.000Z is in the future/);
  const millis = await runCli(['verify', 'queries', '--time', '99999999999999', '--queries', 'q.promql', ...common]);
  classified(millis, /--time "99999999999999" looks like milliseconds/);
  const local = await runCli(['backfill', 'metrics', '--start', '2026-01-01T00:00', '--dry-run', ...common]);
  classified(local, /has no UTC offset/);
  const billion = await runCli(['verify', 'metrics', '--start', '1d', '--end', '99999999999999', ...common]);
  classified(billion, /--end "99999999999999" looks like milliseconds/);
});

test('--*-timeout 0s is refused: it would disable the timeout', async () => {
  const r = await runCli(['assess', '--prometheus-url', 'http://127.0.0.1:1', '--prometheus-timeout', '0s']);
  classified(r, /--prometheus-timeout must be above 0/);
});

test('a server dripping its body one byte a second: the command ends at the endpoint timeout, exit 2', async (t) => {
  const url = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
    const iv = setInterval(() => res.write(' '), 1000);
    res.on('close', () => clearInterval(iv));
  });
  const dir = tmp(t);
  writeFileSync(
    join(dir, 'stackshift.yaml'),
    `endpoints:\n  prometheus:\n    url: ${url}\n    timeout: 2s\n    retries: 0\n`,
  );
  const t0 = Date.now();
  const r = await runCli(['assess'], { cwd: dir, timeoutMs: 60_000 });
  const elapsed = Date.now() - t0;
  assert.equal(r.signal, null, 'the CLI had to be killed: it hung');
  classified(r, /no complete response within 2s/);
  assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
});

test('a body shorter than its Content-Length and a connection closed mid-body: one-line cause, exit 2', async (t) => {
  const short = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
    res.write('{"status":"success","data":{');
    setTimeout(() => res.socket?.destroy(), 30);
  });
  const closed = await faultServer(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"status":"success","data":{');
    setTimeout(() => res.socket?.destroy(), 30);
  });
  for (const [url, cause] of [
    [short, /Content-Length|closed|reset/],
    [closed, /other side closed|reset/],
  ] as const) {
    const dir = tmp(t);
    writeFileSync(join(dir, 'stackshift.yaml'), `endpoints:\n  prometheus:\n    url: ${url}\n    retries: 0\n`);
    const r = await runCli(['assess'], { cwd: dir, timeoutMs: 60_000 });
    classified(r, cause);
  }
});

test('a YAML alias bomb in -c is an input error with the file, not a crash', async (t) => {
  const dir = tmp(t);
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  writeFileSync(join(dir, 'bomb.yaml'), lines.join('\n') + '\n');
  const r = await runCli(['-c', join(dir, 'bomb.yaml'), 'upgrade', 'plan', '--from', '2.48.1', '--to', '3.5.0'], {
    timeoutMs: 60_000,
  });
  classified(r, /bomb\.yaml: invalid YAML: aliases expand too far/);
  // the same document as a rule file of verify queries: refused before any server is asked
  const rules = await runCli(
    [
      'verify',
      'queries',
      '--rules',
      join(dir, 'bomb.yaml'),
      '--source-url',
      'http://127.0.0.1:1',
      '--target-url',
      'http://127.0.0.1:1',
    ],
    { timeoutMs: 60_000 },
  );
  classified(rules, /YAML input expands too many aliases/);
});

test('an unhandled promise rejection is reported in one line, exit 2', async (t) => {
  const url = await faultServer(t, () => undefined); // never answers: keeps the command busy
  const dir = tmp(t);
  // preloaded into the CLI process: once the CLI is up, a promise fails with nobody awaiting it while the command runs
  writeFileSync(
    join(dir, 'stray.mjs'),
    'const iv = setInterval(() => { if (process.listenerCount("unhandledRejection") > 0) { clearInterval(iv); Promise.reject(new Error("stray-rejection")); } }, 50);\n',
  );
  const r = await runCli(['assess', '--prometheus-url', url, '--prometheus-timeout', '20s'], {
    env: { NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'stray.mjs')).href}` },
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: .*stray-rejection$/m);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('a dashboard nested beyond reason is a one-line input error, not "internal error"', async (t) => {
  const dir = tmp(t);
  const depth = 100_000;
  writeFileSync(
    join(dir, 'deep.json'),
    `{"uid":"deep","title":"deep","panels":[${'{"panels":['.repeat(depth)}${']}'.repeat(depth)}]}`,
  );
  writeFileSync(
    join(dir, 'datasources.json'),
    JSON.stringify([
      { uid: 'a', name: 'A', type: 'prometheus' },
      { uid: 'b', name: 'B', type: 'prometheus' },
    ]),
  );
  const r = await runCli(
    [
      'dashboards',
      'migrate',
      '--in',
      join(dir, 'deep.json'),
      '--datasources',
      join(dir, 'datasources.json'),
      '--from-datasource',
      'A',
      '--to-datasource',
      'B',
      '--dry-run',
    ],
    { timeoutMs: 60_000 },
  );
  classified(r, /nested too deeply/);
});
