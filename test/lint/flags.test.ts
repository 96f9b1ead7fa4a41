import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { argsFileFlagSource, lintFiles, systemdFlagSources, yamlFlagSources } from '../../src/lint/index.js';
import { LineIndex } from '../../src/lint/text.js';
import { applyEdits } from '../../src/promql/index.js';
import { parseArgsUnit } from '../../src/upgrade/index.js';
import { startServer, tempDir } from '../harness/index.js';
import { FIXTURES } from './helpers.js';

test('systemd unit: ExecStart with continuation lines, every argument located', () => {
  const text = readFileSync(join(FIXTURES, 'flags/prometheus.service'), 'utf8');
  const [src] = systemdFlagSources(text, new LineIndex(text));
  assert.deepEqual(
    src.args.map((a) => a.name),
    [
      'config.file',
      'storage.tsdb.path',
      'storage.tsdb.retention',
      'enable-feature',
      'web.enable-lifecycle',
      'storage.tsdb.allow-overlapping-blocks',
    ],
  );
  const ret = src.args[2];
  assert.equal(text.slice(ret.nameFrom, ret.nameTo), '--storage.tsdb.retention');
  assert.equal(text.slice(ret.valueFrom!, ret.valueTo!), '30d');
  const feat = src.args[3].features!;
  assert.deepEqual(
    feat.map((f) => text.slice(f.from, f.to)),
    ['promql-at-modifier', 'remote-write-receiver', 'expand-external-labels'],
  );
});

/** The file after the args source's editor adds `flag` after the last flag. */
function withArgAdded(text: string, flag: string): string {
  const edits = argsFileFlagSource(text, new LineIndex(text)).edit.addArg(flag);
  assert.ok(edits && edits.length > 0, 'the editor adds the flag');
  const r = applyEdits(text, edits);
  assert.deepEqual(r.skipped, []);
  return r.text;
}

test('args file: an added flag gets its own line when the file has one flag per line, else joins the command line', () => {
  const feat = '--enable-feature=promql-experimental-functions';
  // the local upgrade driver's args file: binary on line 1, then one flag per line
  const unit = '/opt/prometheus/prometheus\n--config.file=prometheus.yml\n--storage.tsdb.path=data\n';
  const fixed = withArgAdded(unit, feat);
  assert.equal(fixed, `${unit}${feat}\n`);
  assert.deepEqual(
    fixed
      .split('\n')
      .filter(Boolean)
      .slice(1)
      .map((l) => l.split(/\s+/).length),
    [1, 1, 1],
    'every flag line holds one flag',
  );
  assert.deepEqual(parseArgsUnit(fixed, 'p.args').args, [
    '--config.file=prometheus.yml',
    '--storage.tsdb.path=data',
    feat,
  ]);
  // flags only, one per line, no trailing newline; a "--name value" pair as the last flag
  assert.equal(
    withArgAdded('--config.file=p.yml\n--storage.tsdb.path data', feat),
    `--config.file=p.yml\n--storage.tsdb.path data\n${feat}`,
  );
  // indented lines keep their indent
  assert.equal(
    withArgAdded('prometheus\n  --config.file=p.yml\n', feat),
    `prometheus\n  --config.file=p.yml\n  ${feat}\n`,
  );
  // a single-line command stays on one line, with or without the binary, a comment above it or one flag
  assert.equal(
    withArgAdded('prometheus --config.file=p.yml --web.enable-lifecycle\n', feat),
    `prometheus --config.file=p.yml --web.enable-lifecycle ${feat}\n`,
  );
  assert.equal(
    withArgAdded('# flags\n--config.file=p.yml --web.enable-lifecycle\n', feat),
    `# flags\n--config.file=p.yml --web.enable-lifecycle ${feat}\n`,
  );
  assert.equal(withArgAdded('# flags\n--config.file=p.yml\n', feat), `# flags\n--config.file=p.yml ${feat}\n`);
  // an environment line: the flag goes inside its quotes
  assert.equal(
    withArgAdded('ARGS="--config.file=p.yml --web.enable-lifecycle"\n', feat),
    `ARGS="--config.file=p.yml --web.enable-lifecycle ${feat}"\n`,
  );
});

test('args file, Kubernetes Deployment, docker-compose and Operator resources', () => {
  const args = readFileSync(join(FIXTURES, 'flags/prometheus.args'), 'utf8');
  assert.deepEqual(
    argsFileFlagSource(args, new LineIndex(args)).args.map((a) => `${a.name}=${a.value}`),
    ['storage.tsdb.retention=15d', 'enable-feature=native-histograms', 'alertmanager.timeout=10s'],
  );
  const yamlSources = (f: string) => {
    const text = readFileSync(join(FIXTURES, 'flags', f), 'utf8');
    return { text, sources: yamlFlagSources(text, new LineIndex(text), parseAllDocuments(text) as never) };
  };
  const dep = yamlSources('deployment.yaml');
  assert.equal(dep.sources.length, 1, 'the config-reloader sidecar is not Prometheus');
  const feat = dep.sources[0].args.find((a) => a.name === 'enable-feature')!;
  assert.deepEqual(
    feat.features!.map((f) => dep.text.slice(f.from, f.to)),
    ['agent', 'auto-gomemlimit'],
    'offsets inside a quoted YAML scalar',
  );
  const compose = yamlSources('compose.yaml');
  assert.deepEqual(
    compose.sources.map((s) => s.label),
    ['service prometheus'],
  );
  assert.deepEqual(
    compose.sources[0].args.map((a) => a.name),
    ['config.file', 'enable-feature', 'storage.tsdb.retention'],
  );
  const op = yamlSources('operator.yaml');
  assert.deepEqual(
    op.sources[0].args[0].features!.map((f) => f.name),
    ['promql-negative-offset', 'native-histograms'],
  );
});

test('live server (real Prometheus): only flags that differ from 2.x defaults count', async (t) => {
  const server = await startServer(t, {
    extraArgs: ['--storage.tsdb.retention=15d', '--enable-feature=promql-at-modifier,remote-write-receiver'],
  });
  const r = await lintFiles([], { from: '2.42.0', to: '3.5.0', flagsFrom: [server.url] });
  const ids = r.findings.map((f) => `${f.ruleId}:${f.message.split(/[ :]/)[0]}`).sort();
  assert.ok(ids.includes('removed-cli-flag:--storage.tsdb.retention'), ids.join('\n'));
  assert.ok(ids.includes('feature-flag-now-default:--enable-feature=promql-at-modifier'));
  assert.ok(ids.includes('remote-write-receiver-flag:--enable-feature=remote-write-receiver'));
  // listed by the API with their defaults, so not counted as set
  assert.ok(!r.findings.some((f) => /allow-overlapping-blocks|alertmanager\.timeout/.test(f.message)), ids.join('\n'));
  for (const f of r.findings) {
    assert.equal(f.file, server.url);
    assert.equal(f.fix, undefined, 'nothing to edit on a live server');
  }
  assert.deepEqual(r.features, ['promql-at-modifier', 'remote-write-receiver']);

  // the same server named in stackshift.yaml, through the CLI
  const cfg = join(tempDir(t), 'stackshift.yaml');
  writeFileSync(cfg, `endpoints:\n  prom:\n    type: prometheus\n    url: ${server.url}\n`);
  const cli = spawnSync(
    process.execPath,
    [
      join(process.cwd(), 'dist/src/cli/main.js'),
      '-c',
      cfg,
      'lint',
      'prom3',
      '--from',
      '2.42.0',
      '--to',
      '3.5.0',
      '--flags-from',
      'endpoint:prom',
      '-o',
      'json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 1, cli.stderr);
  assert.ok(JSON.parse(cli.stdout).findings.some((f: { ruleId: string }) => f.ruleId === 'removed-cli-flag'));
});
