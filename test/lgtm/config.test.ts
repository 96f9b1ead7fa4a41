import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { labHas, promtoolBinary, PROMETHEUS } from '../../src/lab/index.js';
import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { runCli, startServer, tempDir, waitUntil } from '../harness/index.js';

/**
 * `lgtm config` against a real Debian Prometheus 2.42 (exemplar storage on, scraping itself every second so
 * the 5m rate of prometheus_tsdb_head_samples_appended_total exists): the remote_write block sized from the
 * measured figures and merged into a commented prometheus.yml, then checked by the real promtool of the
 * running version (2.42) and of the next ones (2.48.1, 2.55.1, 3.8.1, and the newest 3.16.0) as far as the lab has
 * built them.
 */
const VERSIONS = [PROMETHEUS.debian, PROMETHEUS.start, PROMETHEUS.bridge, PROMETHEUS.target, PROMETHEUS.latest];

const SELF_SCRAPE = `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:{{port}}']
`;

/** A prometheus.yml as people write them: comments everywhere, a rule file, an existing remote_write. */
const USER_CONFIG = `# Production Prometheus — owned by the platform team
global:
  scrape_interval: 15s   # keep in sync with Grafana's min interval
  external_labels:
    cluster: eu1

rule_files:
  - rules.yml   # recording rules

scrape_configs:
  # the node exporters
  - job_name: node
    static_configs:
      - targets: ['node1:9100', 'node2:9100']

remote_write:
  # long-term archive, stays during the migration
  - url: http://archive.example:9201/write
    remote_timeout: 30s
`;

const RULES = `groups:
  - name: r
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
`;

/** Waits until the server's own 5m ingestion rate has data (two self-scrapes after the counter exists). */
async function rateReady(url: string): Promise<void> {
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    await waitUntil(
      async () => {
        const r = await c.query('sum(rate(prometheus_tsdb_head_samples_appended_total[5m]))');
        return r.resultType === 'vector' && r.result.length > 0 && Number(r.result[0]!.value[1]) > 0;
      },
      30_000,
      'the self-scraped ingestion rate',
    );
  } finally {
    await c.close();
  }
}

function availablePromtools(): Array<{ version: string; bin: string }> {
  return VERSIONS.filter((v) => labHas('prometheus', v, 'promtool')).map((v) => ({
    version: v,
    bin: promtoolBinary(v),
  }));
}

test(
  'lgtm config: remote_write sized from the live Prometheus, merged with comments kept, accepted by every lab promtool',
  { timeout: 180_000 },
  async (t) => {
    const server = await startServer(t, { config: SELF_SCRAPE, extraArgs: ['--enable-feature=exemplar-storage'] });
    await rateReady(server.url);
    const dir = tempDir(t);
    const cfg = join(dir, 'prometheus.yml');
    writeFileSync(cfg, USER_CONFIG);
    writeFileSync(join(dir, 'rules.yml'), RULES);
    const tools = availablePromtools();
    assert.ok(
      tools.some((x) => x.version === PROMETHEUS.debian),
      'Debian promtool 2.42 is on PATH',
    );
    const missing = VERSIONS.filter((v) => !tools.some((x) => x.version === v));
    if (missing.length) t.diagnostic(`promtool not built yet in the lab for: ${missing.join(', ')}`);
    const out = join(dir, 'out');
    const args = [
      'lgtm',
      'config',
      '--prometheus-url',
      server.url,
      '--mimir-url',
      'http://mimir.example:8080',
      '--tenant',
      'prod',
      '--out-dir',
      out,
      '--prometheus-config',
      cfg,
      '--drop-metrics',
      'go_gc_.*',
      '--measure-interval',
      '3s',
      ...tools.flatMap((x) => ['--promtool', x.bin]),
      '-o',
      'json',
    ];
    const run = await runCli([...args, '--apply']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const rep = JSON.parse(run.stdout);

    // measured figures and the sizing arithmetic
    // a server up for seconds: rate[5m] would underestimate, so the counter is read twice from /metrics; it scrapes
    // its own ~N series every second, so about N samples/s must come out
    assert.match(
      rep.measurement.rateSource,
      /read twice from .*\/metrics, [\d.]+ s apart, because the server is up for only \d+ s/,
    );
    assert.ok(rep.measurement.headSeries > 100, `head series read (${rep.measurement.headSeries})`);
    assert.ok(
      rep.measurement.samplesPerSecond > rep.measurement.headSeries * 0.5 &&
        rep.measurement.samplesPerSecond < rep.measurement.headSeries * 2,
      `measured ${rep.measurement.samplesPerSecond}/s for ${rep.measurement.headSeries} series scraped every second`,
    );
    assert.equal(rep.measurement.exemplarStorage, true);
    const needed = Math.max(1, Math.ceil(rep.measurement.samplesPerSecond / (2000 * 4)));
    assert.deepEqual(rep.sizing.queue, {
      capacity: 10000,
      max_shards: needed * 3,
      min_shards: needed,
      max_samples_per_send: 2000,
      batch_send_deadline: '5s',
      min_backoff: '30ms',
      max_backoff: '5s',
    });

    // every promtool accepted the merged file
    assert.equal(rep.promtool.length, tools.length);
    for (const c of rep.promtool) assert.equal(c.ok, true, `promtool ${c.version}: ${c.output}`);
    t.diagnostic(
      `promtool check config passed on ${rep.promtool.map((c: { version: string }) => c.version).join(', ')}`,
    );

    // applied in place after a backup; every original line (comments included) is still there, in order
    const after = readFileSync(cfg, 'utf8');
    const backups = readdirSync(dir).filter((f) => /^prometheus\.yml\.stackshift-.*\.bak$/.test(f));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(dir, backups[0]!), 'utf8'), USER_CONFIG, 'the backup is the original byte for byte');
    assert.ok(
      after.startsWith(USER_CONFIG),
      'the original text is kept verbatim, our item appended after the existing remote_write item',
    );
    const doc = parse(after);
    assert.equal(doc.remote_write.length, 2);
    const ours = doc.remote_write[1];
    assert.equal(ours.url, 'http://mimir.example:8080/api/v1/push');
    assert.deepEqual(ours.headers, { 'X-Scope-OrgID': 'prod' });
    assert.equal(ours.send_exemplars, true);
    assert.deepEqual(ours.metadata_config, { send: true, send_interval: '1m' });
    assert.deepEqual(ours.write_relabel_configs, [{ source_labels: ['__name__'], regex: 'go_gc_.*', action: 'drop' }]);
    assert.match(
      after,
      /# shards needed = ceil\([\d.]+ \/ 8000\) = \d+ -> min_shards \d+/,
      'the arithmetic is written next to the numbers',
    );

    // a rerun measures again but changes nothing (no second backup)
    const again = await runCli([...args, '--apply']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).merge, 'unchanged');
    assert.equal(readFileSync(cfg, 'utf8'), after);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.bak')).length, 1);

    // the stand-alone block in the out-dir is the same item
    assert.ok(existsSync(join(out, 'remote-write.yaml')));
    assert.equal(
      parse(readFileSync(join(out, 'remote-write.yaml'), 'utf8')).remote_write[0].queue_config.max_shards,
      needed * 3,
    );
  },
);

test(
  'lgtm config: a prometheus.yml promtool refuses is reported (exit 1) and left untouched',
  { timeout: 120_000 },
  async (t) => {
    const server = await startServer(t, { config: SELF_SCRAPE });
    await rateReady(server.url);
    const dir = tempDir(t);
    const cfg = join(dir, 'prometheus.yml');
    // the rule file it names does not exist: promtool check config fails on it
    writeFileSync(cfg, USER_CONFIG);
    const run = await runCli([
      'lgtm',
      'config',
      '--prometheus-url',
      server.url,
      '--mimir-url',
      'http://mimir:8080',
      '--out-dir',
      join(dir, 'out'),
      '--prometheus-config',
      cfg,
      '--promtool',
      promtoolBinary(PROMETHEUS.debian),
      '--apply',
      '--measure-interval',
      '1s',
    ]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /promtool 2\.42\.\S+ check config: FAILED/);
    assert.match(run.stdout, /rules\.yml/);
    assert.equal(readFileSync(cfg, 'utf8'), USER_CONFIG);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.bak')).length, 0);
  },
);

test('lgtm config: bad input is a usage error naming the file and line (exit 2)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(cfg, 'global:\n  scrape_interval: 15s\nremote_write: [ {url: x}\n');
  const server = await startServer(t, { config: SELF_SCRAPE });
  const run = await runCli([
    'lgtm',
    'config',
    '--prometheus-url',
    server.url,
    '--mimir-url',
    'http://mimir:8080',
    '--out-dir',
    join(dir, 'out'),
    '--prometheus-config',
    cfg,
    '--measure-interval',
    '1s',
  ]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /prometheus\.yml:\d+/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  const usage = await runCli(['lgtm', 'config', '--prometheus-url', server.url, '--out-dir', dir]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--mimir-url is required/);
});

test('promtool is real here: the Debian one rejects an unknown remote_write key', () => {
  const dir = tempDir(undefined);
  const f = join(dir, 'p.yml');
  writeFileSync(f, 'remote_write:\n  - url: http://m/api/v1/push\n    queue_config:\n      max_shardz: 3\n');
  const r = spawnSync(promtoolBinary(PROMETHEUS.debian), ['check', 'config', f], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /max_shardz/);
});
