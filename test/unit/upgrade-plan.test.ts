import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planUpgrade,
  renderPlanHtml,
  renderPlanMarkdown,
  renderPlanText,
  replayFromLog,
  parseGoDuration,
  estimateDowntime,
  factsChangesProvider,
  type UpgradePlan,
} from '../../src/upgrade/index.js';

const AS_OF = '2026-11-22';

function stages(p: UpgradePlan) {
  return p.stages.map((s) => `${s.from}->${s.to}:${s.rollback.feasible}`);
}

test('2.42 -> 3.x goes through 2.55.1 to the latest LTS; both stages roll back, the second only to 2.55', () => {
  const p = planUpgrade({ from: '2.42.0', to: '3.x', asOf: AS_OF });
  assert.deepEqual(p.path, ['2.42.0', '2.55.1', '3.13.2']);
  assert.deepEqual(stages(p), ['2.42.0->2.55.1:yes', '2.55.1->3.13.2:yes']);
  assert.equal(
    p.stages[0].rollback.statement,
    'Rollback to 2.42.0 is possible without restoring data: 2.42.0 reads everything 2.55.1 writes (index v2, meta.json v1, chunk encodings [1], WAL record types [1, 2, 3]). Reinstall 2.42.0 and its pre-stage config.',
  );
  assert.match(p.stages[0].rollback.conditions[0], /metric_name_validation_scheme \(2\.55\.0\+\)/);
  assert.match(
    p.stages[1].rollback.statement,
    /^Rollback to 2\.55\.1 is possible and officially supported \(docs\/migration\.md/,
  );
  assert.match(p.stages[1].rollback.statement, /3\.13\.2 still writes index v2/);
  assert.match(
    p.stages[1].rollback.beyond!,
    /from 3\.13\.2 straight to 2\.42\.0, is unsupported.*unknown index file version 3/,
  );
  // the 3.13 stage crosses the 3.11 opt-in features whose data 2.55 drops
  assert.ok(p.stages[1].rollback.conditions.some((c) => /^keep st-storage \(3\.11\.0\+\) off/.test(c)));
  assert.ok(p.stages[1].rollback.conditions.some((c) => /^keep xor2-encoding/.test(c)));
  assert.ok(
    !p.stages[1].rollback.conditions.some((c) => /histograms-st-encoding/.test(c)),
    'a 3.14-only feature is not a 3.13 concern',
  );
});

test('2.48.1 -> 3.5.0: path via 2.55.1, and the plan says 3.5.0 is superseded and out of LTS support', () => {
  const p = planUpgrade({ from: '2.48.1', to: '3.5.0', asOf: AS_OF });
  assert.deepEqual(p.path, ['2.48.1', '2.55.1', '3.5.0']);
  assert.deepEqual(stages(p), ['2.48.1->2.55.1:yes', '2.55.1->3.5.0:yes']);
  assert.equal(
    p.stages[0].rollback.statement,
    'Rollback to 2.48.1 is possible without restoring data: 2.48.1 reads everything 2.55.1 writes (index v2, meta.json v1, chunk encodings [1], WAL record types [1, 2, 3]). Reinstall 2.48.1 and its pre-stage config.',
  );
  assert.ok(p.targetNotes.some((n) => /3\.5\.5 is/.test(n)));
  assert.ok(p.targetNotes.some((n) => /support ended 2026-07-31/.test(n)));
  const conds = p.stages[1].rollback.conditions.join('\n');
  assert.match(conds, /keep convert_classic_histograms_to_nhcb \(3\.2\.0\+\) off/);
  assert.doesNotMatch(conds, /st-storage/, '3.5 has no st-storage');
  assert.ok(p.risks.some((r) => r.title === 'target release out of (LTS) support' && r.likelihood === 5));
});

test('2.53.5 -> 3.13: 3.13 resolves to 3.13.2; stage 1 rolls back to 2.53.5', () => {
  const p = planUpgrade({ from: '2.53.5', to: '3.13', asOf: AS_OF });
  assert.deepEqual(p.path, ['2.53.5', '2.55.1', '3.13.2']);
  assert.deepEqual(stages(p), ['2.53.5->2.55.1:yes', '2.55.1->3.13.2:yes']);
  assert.match(p.stages[0].rollback.statement, /^Rollback to 2\.53\.5 is possible without restoring data/);
  assert.match(p.stages[1].rollback.beyond!, /straight to 2\.53\.5, is unsupported/);
});

test('2.55.1 -> 3.14: one stage; rollback to 2.55.1 with the 3.14 histogram-ST encodings off', () => {
  const p = planUpgrade({ from: '2.55.1', to: '3.14', asOf: AS_OF });
  assert.deepEqual(p.path, ['2.55.1', '3.14.0']);
  assert.deepEqual(stages(p), ['2.55.1->3.14.0:yes']);
  assert.equal(p.stages[0].rollback.beyond, undefined);
  assert.ok(p.stages[0].rollback.conditions.some((c) => /^keep histograms-st-encoding \(3\.14\.0\+\) off/.test(c)));
  assert.ok(p.targetNotes.some((n) => /not on an LTS line/.test(n)));
});

test('a server with st-storage on turns the 3.13 rollback into "with-loss" and names the lost records', () => {
  const p = planUpgrade({
    from: '2.55.1',
    to: '3.13.2',
    asOf: AS_OF,
    server: { version: '2.55.1', flags: { 'enable-feature': 'st-storage' } },
  });
  const rb = p.stages[0].rollback;
  assert.equal(rb.feasible, 'with-loss');
  assert.match(rb.statement, /WAL records of type 11 \(samples v2\).*silently dropped/);
});

test('the plan says plainly where the runbook matrix is wrong, with sources, in every format', () => {
  const p = planUpgrade({ from: '2.48.1', to: '3.5.0', asOf: AS_OF });
  const md = renderPlanMarkdown(p);
  assert.match(md, /### Where the runbook's compatibility matrix is wrong/);
  assert.match(
    md,
    /Prometheus 2\.48\.1 writes TSDB format v1 \| wrong \| every release from 2\.1 to 3\.14\.0 writes index version 2/,
  );
  assert.match(md, /\| wrong \| nothing is converted: blocks are immutable/);
  assert.match(md, /Rollback from 2\.55\.1 to 2\.48\.1: IMPOSSIBLE/);
  const text = renderPlanText(p);
  assert.match(text, /"2\.48\.1 cannot read v2 .*": WRONG\. releases up to 2\.54\.x read index versions 1 and 2/);
  assert.match(text, /\[P@v2\.54\.1:tsdb\/index\/index\.go/);
  const html = renderPlanHtml(p);
  assert.match(html, /<table style="border-collapse:collapse;font-family:sans-serif" border="1">/);
  assert.match(html, /#e45756|#f58518|#eeca3b|#54a24b/);
});

test('heat map places every risk in its likelihood x impact cell', () => {
  const p = planUpgrade({ from: '2.42.0', to: '3.5.5', asOf: AS_OF, disk: { freeBytes: 1 }, inspection: undefined });
  const all = p.heatMap.flat(2);
  assert.deepEqual([...all].sort(), p.risks.map((r) => r.id).sort());
  for (const r of p.risks) assert.ok(p.heatMap[r.impact - 1][r.likelihood - 1].includes(r.id));
  assert.match(renderPlanMarkdown(p), /\| \*\*5 severe\*\* \|/);
});

test('required changes are detected from the server flags, config and rules, with phase dual/cutover', () => {
  const changes = factsChangesProvider(
    { from: '2.55.1', to: '3.5.5' },
    {
      flags: {
        'enable-feature': 'promql-at-modifier,remote-write-receiver,agent',
        'storage.tsdb.retention': '15d',
        'alertmanager.timeout': '',
        'storage.tsdb.allow-overlapping-blocks': 'false',
      },
      configYaml:
        'global:\n  external_labels:\n    region: ${REGION}\nalerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs: [{targets: [am:9093]}]\nscrape_configs:\n  - job_name: a\n    scrape_classic_histograms: true\n',
      rules: [
        {
          name: 'g',
          file: '/etc/prometheus/rules.yml',
          interval: 60,
          rules: [{ name: 'forecast', query: 'holt_winters(x[1h], 0.5, 0.5)', health: 'ok', type: 'recording' }],
        },
      ],
    },
  );
  const by = new Map(changes.map((c) => [c.id, c]));
  assert.equal(by.get('ff-promql-at-modifier')?.detected, 'yes');
  assert.equal(by.get('ff-agent')?.phase, 'cutover');
  assert.equal(by.get('ff-agent')?.detected, 'yes');
  assert.equal(by.get('flag-storage.tsdb.retention')?.detected, 'yes');
  assert.equal(by.get('flag-alertmanager.timeout')?.detected, 'no');
  assert.equal(
    by.get('flag-storage.tsdb.allow-overlapping-blocks')?.detected,
    'unknown',
    'the flags API cannot tell a default from a set flag',
  );
  assert.equal(by.get('cfg-alertmanager-api-v1')?.detected, 'yes');
  assert.equal(by.get('cfg-scrape_classic_histograms')?.detected, 'yes');
  assert.equal(by.get('cfg-scrape_classic_histograms')?.phase, 'cutover');
  assert.equal(by.get('cfg-external-labels-dollar')?.detected, 'yes');
  assert.match(by.get('promql-holt_winters')?.evidence ?? '', /rules\.yml: forecast/);
  assert.equal(by.has('ff-native-histograms'), false, '3.8 changes do not apply to a 3.5 target');
  assert.equal(
    factsChangesProvider({ from: '2.42.0', to: '2.55.1' }, undefined).length,
    0,
    'no 3.0 change applies within 2.x',
  );
});

test('a custom RequiredChangesProvider (the lint-engine seam) replaces the facts', () => {
  const p = planUpgrade({
    from: '2.55.1',
    to: '3.5.5',
    asOf: AS_OF,
    changesProvider: () => [
      {
        id: 'lint-x',
        kind: 'config',
        subject: 'x',
        phase: 'cutover',
        detected: 'yes',
        evidence: 'prometheus.yml:3',
        outcome: 'o',
        fix: 'f',
        severity: 'fatal',
        source: 'lint',
      },
    ],
  });
  assert.deepEqual(
    p.stages[0].requiredChanges.map((c) => c.id),
    ['lint-x'],
  );
  assert.ok(p.risks.some((r) => /refuses to start/.test(r.title) && r.likelihood === 5));
});

// Real lines: Prometheus 2.42 (this machine) and the 3.x format quoted in R§5 (PR #16336).
const LOG_242 = `ts=2026-11-22T03:37:05.532Z caller=head.go:564 level=info component=tsdb msg="Replaying on-disk memory mappable chunks if any"
ts=2026-11-22T03:37:05.532Z caller=head.go:608 level=info component=tsdb msg="On-disk memory mappable chunks replay completed" duration=1.513µs
ts=2026-11-22T03:37:05.532Z caller=head.go:614 level=info component=tsdb msg="Replaying WAL, this may take a while"
ts=2026-11-22T03:37:05.532Z caller=head.go:685 level=info component=tsdb msg="WAL segment loaded" segment=0 maxSegment=1
ts=2026-11-22T03:37:05.533Z caller=head.go:685 level=info component=tsdb msg="WAL segment loaded" segment=1 maxSegment=1
ts=2026-11-22T03:37:05.533Z caller=head.go:722 level=info component=tsdb msg="WAL replay completed" checkpoint_replay_duration=35.656µs wal_replay_duration=196.649µs wbl_replay_duration=130ns total_replay_duration=268.263µs`;
const LOG_3 = `time=2026-01-01T00:00:00.000Z level=INFO source=head.go:765 msg="Replaying WAL, this may take a while" component=tsdb
time=2026-01-01T00:00:00.010Z level=INFO source=head.go:812 msg="WAL segment loaded" component=tsdb segment=0 maxSegment=3 duration=7.6ms
time=2026-01-01T00:00:00.020Z level=INFO source=head.go:812 msg="WAL segment loaded" component=tsdb segment=1 maxSegment=3 duration=7.6ms
time=2026-01-01T00:00:00.030Z level=INFO source=head.go:812 msg="WAL segment loaded" component=tsdb segment=2 maxSegment=3 duration=7.6ms
time=2026-01-01T00:00:00.040Z level=INFO source=head.go:812 msg="WAL segment loaded" component=tsdb segment=3 maxSegment=3 duration=7.6ms
time=2026-01-01T00:00:00.041Z level=INFO source=head.go:849 msg="WAL replay completed" component=tsdb checkpoint_replay_duration=1ms wal_replay_duration=2m1.5s wbl_replay_duration=0s chunk_snapshot_load_duration=0s mmap_chunk_replay_duration=1ms total_replay_duration=2m2s`;

test('WAL replay speed is read from 2.x and 3.x startup logs; the restart estimate scales with the WAL', () => {
  assert.equal(parseGoDuration('2m1.5s'), 121_500);
  assert.equal(parseGoDuration('1.513µs'), 0.001513);
  assert.equal(parseGoDuration('nonsense'), undefined);
  const a = replayFromLog(`noise\n${LOG_242}\nmore`, (s) => (s === 0 ? 32768 : s === 1 ? 65536 : undefined))!;
  assert.equal(a.segments, 2);
  assert.equal(a.bytes, 98304);
  assert.ok(Math.abs(a.walReplayMs! - 0.196649) < 1e-9);
  const b = replayFromLog(LOG_3)!;
  assert.equal(b.segments, 4);
  assert.equal(b.msPerSegment, 121_500 / 4);
  const est = estimateDowntime({ bytes: 8 * 134217728, segments: 8 }, b);
  assert.equal(est.replayMs, 8 * (121_500 / 4));
  assert.equal(est.assumed, false);
  assert.equal(estimateDowntime({ bytes: 1, segments: 1 }, undefined).assumed, true);
  const json = replayFromLog(
    '{"time":"t","msg":"Replaying WAL, this may take a while"}\n{"msg":"WAL segment loaded","segment":7,"maxSegment":7}\n{"msg":"WAL replay completed","wal_replay_duration":"1s","total_replay_duration":"1.2s"}',
  )!;
  assert.equal(json.segments, 1);
  assert.equal(json.walReplayMs, 1000);
  assert.equal(replayFromLog('no replay here'), undefined);
});
