import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROMETHEUS } from '../../src/lab/index.js';
import { REHEARSAL_STEPS, type RehearsalContext } from '../../src/rehearsal/index.js';
import { lintStep } from '../../src/rehearsal/lint.js';
import { startServer, tempDir } from '../harness/index.js';
import { labPromtool } from './promtool.js';

const RULES =
  'groups:\n  - name: g\n    rules:\n      - record: job:x:rate5m\n        expr: sum by (job) (rate(x_total[5m]))\n      - alert: Down\n        expr: up == 0\n';
const CONFIG =
  'global:\n  scrape_interval: 15s\nrule_files:\n  - rules.yml\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:{{port}}"]\n';
// loads on the running 2.42, refused by every 3.x (the Alertmanager v1 API is gone)
const V1_ALERTING =
  'alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs:\n        - targets: ["127.0.0.1:1"]\n';

interface TargetVerdict {
  version: string;
  path: string;
  checked: string[];
  accepted: boolean;
  findings: Array<{ file: string; line: number; column: number; message: string }>;
}

async function runStep(t: import('node:test').TestContext, config: string) {
  const source = await startServer(t, { name: 'lint-source', config, files: { 'rules.yml': RULES } });
  const dir = tempDir(t);
  const ctx = {
    opts: { outDir: dir },
    workDir: dir,
    source,
    servers: [source],
    results: {},
  } as unknown as RehearsalContext;
  const o = await lintStep.run(ctx);
  return { o, verdict: (o.data as { targetPromtool: TargetVerdict }).targetPromtool };
}

test(
  'issue 12 item 8: the rehearsal lints with the lab promtool of the target version and reports its verdict',
  { timeout: 120_000 },
  async (t) => {
    const bin = labPromtool(PROMETHEUS.target);
    assert.ok(REHEARSAL_STEPS.includes(lintStep));
    const { o, verdict } = await runStep(t, CONFIG);
    assert.equal(o.status, 'passed', o.summary);
    assert.equal(verdict.path, bin);
    assert.equal(verdict.version, PROMETHEUS.target);
    assert.deepEqual(verdict.checked, ['prometheus.yml']);
    assert.equal(verdict.accepted, true);
    assert.deepEqual(verdict.findings, []);
    assert.match(
      o.summary,
      new RegExp(
        `-> ${PROMETHEUS.target.replaceAll('.', '\\.')} .*promtool ${PROMETHEUS.target.replaceAll('.', '\\.')} \\(the target's\\) accepts prometheus\\.yml`,
      ),
    );
    assert.match(o.details ?? '', /Target promtool: `[^`]+promtool` \(3\.\d+\.\d+\) checked prometheus\.yml: SUCCESS/);
  },
);

test(
  "issue 12 item 8: a config the running 2.x loads but the target refuses fails the rehearsal step, promtool's complaint located",
  { timeout: 120_000 },
  async (t) => {
    labPromtool(PROMETHEUS.target);
    const { o, verdict } = await runStep(t, CONFIG + V1_ALERTING);
    assert.equal(o.status, 'failed', o.summary);
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.findings.length, 1, JSON.stringify(verdict.findings));
    const f = verdict.findings[0]!;
    assert.equal(f.file, 'prometheus.yml');
    assert.equal(f.line, 11, 'the api_version line');
    assert.match(
      f.message,
      new RegExp(
        `^promtool ${PROMETHEUS.target.replaceAll('.', '\\.')}: .*expected Alertmanager api version to be one of \\[v2\\] but got v1`,
      ),
    );
    assert.match(o.summary, /REJECTS: 1 complaint/);
    assert.match(o.details ?? '', /- prometheus\.yml:11:\d+ promtool 3\.\d+\.\d+: .*api version/);
  },
);
