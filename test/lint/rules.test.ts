import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RULES } from '../../src/compat/index.js';
import { applyEdits } from '../../src/promql/index.js';
import type { LintOptions } from '../../src/lint/index.js';
import { byRule, lintTree } from './helpers.js';

/**
 * Purpose-written fixtures for every rule: each has a case that must fire (with the expected fix, where
 * there is one) and a case that must not.
 */
interface Case {
  rule: string;
  name: string;
  files: Record<string, string>;
  opts?: LintOptions;
  fires: boolean;
  fixed?: Record<string, string>;
  message?: RegExp;
}

const rules = (expr: string) => `groups:\n  - name: g\n    rules:\n      - record: r\n        expr: ${expr}\n`;
const config = (body: string) => `global:\n  scrape_interval: 15s\n${body}`;
const unit = (args: string) =>
  `[Service]\nExecStart=/usr/bin/prometheus --config.file=/etc/prometheus/prometheus.yml ${args}\n`;

const CASES: Case[] = [
  {
    rule: 'promql-syntax',
    name: 'unbalanced parenthesis',
    files: { 'r.yml': rules("'sum(rate(x[5m])'") },
    fires: true,
  },
  { rule: 'promql-syntax', name: 'valid expression', files: { 'r.yml': rules("'sum(rate(x[5m]))'") }, fires: false },
  {
    rule: 'promql-syntax-version',
    name: 'anchored on 2.55 -> 3.5',
    files: { 'r.yml': rules("'rate(up[1m] anchored)'") },
    opts: { from: '2.55.1', to: '3.5.0' },
    fires: true,
    message: /exists from 3\.7\.0/,
  },
  {
    rule: 'promql-syntax-version',
    name: 'duration expression with the flag on 3.5',
    files: { 'r.yml': rules("'rate(up[1m * 2])'"), 'p.service': unit('--enable-feature=promql-duration-expr') },
    opts: { from: '3.5.0', to: '3.5.0' },
    fires: false,
  },
  {
    rule: 'promql-type-error',
    name: 'rate of an instant vector',
    files: { 'r.yml': rules("'rate(hi)'") },
    fires: true,
    message: /expected type range vector in call to function "rate", got instant vector/,
  },
  {
    rule: 'promql-type-error',
    name: 'well-typed expression',
    files: { 'r.yml': rules("'histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m]))) > bool 1'") },
    fires: false,
  },
  {
    rule: 'holt-winters-removed',
    name: 'holt_winters call',
    files: { 'r.yml': rules("'holt_winters(x[1h], 0.3, 0.3)'") },
    fires: true,
    fixed: { 'r.yml': rules("'double_exponential_smoothing(x[1h], 0.3, 0.3)'") },
  },
  {
    rule: 'holt-winters-removed',
    name: 'a metric named holt_winters is not a call',
    files: { 'r.yml': rules('holt_winters') },
    fires: false,
  },
  {
    rule: 'holt-winters-removed',
    name: 'not for a 2.x target',
    files: { 'r.yml': rules("'holt_winters(x[1h], 0.3, 0.3)'") },
    opts: { to: '2.55.1' },
    fires: false,
  },
  {
    rule: 'le-quantile-normalisation',
    name: 'le="1"',
    files: { 'r.yml': rules('x_bucket{le="1"}') },
    fires: true,
    fixed: { 'r.yml': rules('x_bucket{le=~"1|1\\\\.0"}') },
  },
  {
    rule: 'le-quantile-normalisation',
    name: 'quantile regex alternatives',
    files: { 'r.yml': rules('x{quantile=~"0.5|1"}') },
    fires: true,
    fixed: { 'r.yml': rules('x{quantile=~"0.5|1|1\\\\.0"}') },
  },
  {
    rule: 'le-quantile-normalisation',
    name: 'already normalised or both spellings',
    files: { 'r.yml': rules('x_bucket{le="0.5"} + y_bucket{le=~"1|1\\\\.0"} + z{le="+Inf"} + w{le="$var"}') },
    fires: false,
  },
  {
    rule: 'le-quantile-normalisation',
    name: 'other labels are not normalised',
    files: { 'r.yml': rules('x{code="1"}') },
    fires: false,
  },
  {
    rule: 'experimental-function',
    name: 'limitk without the flag',
    files: { 'r.yml': rules("'limitk(2, up)'") },
    fires: true,
  },
  {
    rule: 'experimental-function',
    name: 'limitk with the flag',
    files: { 'r.yml': rules("'limitk(2, up)'"), 'p.service': unit('--enable-feature=promql-experimental-functions') },
    fires: false,
  },
  {
    rule: 'function-too-new',
    name: 'double_exponential_smoothing on 2.55',
    files: { 'r.yml': rules("'double_exponential_smoothing(x[1h], 0.3, 0.3)'") },
    fires: true,
  },
  {
    rule: 'function-too-new',
    name: 'double_exponential_smoothing on 3.0',
    files: { 'r.yml': rules("'double_exponential_smoothing(x[1h], 0.3, 0.3)'") },
    opts: { from: '3.0.0' },
    fires: false,
  },
  { rule: 'subquery-left-open', name: 'rate over [1m:1m]', files: { 'r.yml': rules("'rate(x[1m:1m])'") }, fires: true },
  {
    rule: 'subquery-left-open',
    name: 'rate over [5m:1m]',
    files: { 'r.yml': rules("'rate(x[5m:1m])'") },
    fires: false,
  },
  {
    rule: 'range-left-open',
    name: 'rate over two scrape intervals',
    files: { 'r.yml': rules("'rate(x[30s])'"), 'p.yml': config('rule_files: [r.yml]\n') },
    fires: true,
  },
  {
    rule: 'range-left-open',
    name: 'rate over four scrape intervals',
    files: { 'r.yml': rules("'rate(x[1m])'"), 'p.yml': config('rule_files: [r.yml]\n') },
    fires: false,
  },
  {
    rule: 'regex-dot-newline',
    name: 'matcher with a dot',
    files: { 'r.yml': rules('x{path=~"/api/.+/users"}') },
    fires: true,
  },
  {
    rule: 'regex-dot-newline',
    name: 'relabel regex with a dot',
    files: {
      'p.yml': config(
        'scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - source_labels: [a]\n        regex: "a.b"\n        action: keep\n',
      ),
    },
    fires: true,
  },
  {
    rule: 'regex-dot-newline',
    name: 'match-all, escaped dot and class',
    files: { 'r.yml': rules('x{a=~".*", b=~"a\\\\.b", c=~"[.]x"}') },
    fires: false,
  },
  {
    rule: 'scrape-classic-histograms-renamed',
    name: 'old key',
    files: { 'p.yml': config('scrape_configs:\n  - job_name: j\n    scrape_classic_histograms: true # keep\n') },
    opts: { stage: 'cutover' },
    fires: true,
    fixed: { 'p.yml': config('scrape_configs:\n  - job_name: j\n    always_scrape_classic_histograms: true # keep\n') },
  },
  {
    rule: 'scrape-classic-histograms-renamed',
    name: 'new key',
    files: { 'p.yml': config('scrape_configs:\n  - job_name: j\n    always_scrape_classic_histograms: true\n') },
    fires: false,
  },
  {
    rule: 'remote-write-http2-default',
    name: 'no enable_http2',
    files: { 'p.yml': config('remote_write:\n  - url: http://x/push\n    remote_timeout: 30s\n') },
    fires: true,
    fixed: {
      'p.yml': config('remote_write:\n  - url: http://x/push\n    enable_http2: true\n    remote_timeout: 30s\n'),
    },
  },
  {
    rule: 'remote-write-http2-default',
    name: 'explicit enable_http2',
    files: { 'p.yml': config('remote_write:\n  - url: http://x/push\n    enable_http2: false\n') },
    fires: false,
  },
  {
    rule: 'alertmanager-api-v1',
    name: 'api_version v1',
    files: { 'p.yml': config("alerting:\n  alertmanagers:\n    - api_version: 'v1'\n") },
    fires: true,
    fixed: { 'p.yml': config("alerting:\n  alertmanagers:\n    - api_version: 'v2'\n") },
  },
  {
    rule: 'alertmanager-api-v1',
    name: 'api_version v2',
    files: { 'p.yml': config('alerting:\n  alertmanagers:\n    - api_version: v2\n') },
    fires: false,
  },
  { rule: 'metric-name-validation-default', name: 'no scheme set', files: { 'p.yml': config('') }, fires: true },
  {
    rule: 'metric-name-validation-default',
    name: 'legacy set',
    files: { 'p.yml': config('  metric_name_validation_scheme: legacy\n') },
    fires: false,
  },
  {
    rule: 'external-labels-dollar',
    name: '${VAR} without expand-external-labels',
    files: { 'p.yml': config('  external_labels:\n    replica: ${HOSTNAME}\n'), 'p.service': unit('') },
    fires: true,
  },
  {
    rule: 'external-labels-dollar',
    name: 'flag set on 2.x, or escaped',
    files: {
      'p.yml': config('  external_labels:\n    replica: ${HOSTNAME}\n    cost: $$5\n'),
      'p.service': unit('--enable-feature=expand-external-labels'),
    },
    fires: false,
  },
  {
    rule: 'static-target-default-port',
    name: 'target without port',
    files: {
      'p.yml': config(
        "scrape_configs:\n  - job_name: j\n    scheme: https\n    static_configs:\n      - targets: ['web']\n",
      ),
    },
    fires: true,
    fixed: {
      'p.yml': config(
        "scrape_configs:\n  - job_name: j\n    scheme: https\n    static_configs:\n      - targets: ['web:443']\n",
      ),
    },
  },
  {
    rule: 'static-target-default-port',
    name: 'ports, URLs for blackbox, and the preview flag',
    files: {
      'p.yml': config(
        "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['web:8080', '[::1]:9090']\n  - job_name: bb\n    static_configs:\n      - targets: [example.com]\n    relabel_configs:\n      - target_label: __address__\n        replacement: bb:9115\n",
      ),
    },
    fires: false,
  },
  {
    rule: 'config-key-version',
    name: 'a 3.8 key for a 3.5 target',
    files: { 'p.yml': config('  scrape_native_histograms: true\n') },
    opts: { to: '3.5.0' },
    fires: true,
    message: /neither the running 2\.55\.1 nor the target 3\.5\.0 loads/,
  },
  {
    rule: 'config-key-version',
    name: 'a 3.0 key while on 2.55',
    files: { 'p.yml': config('scrape_configs:\n  - job_name: j\n    fallback_scrape_protocol: PrometheusText0.0.4\n') },
    fires: true,
    message: /running 2\.55\.1 refuses/,
  },
  {
    rule: 'config-key-version',
    name: 'a 2.55 key on 2.55',
    files: { 'p.yml': config('  metric_name_validation_scheme: legacy\n') },
    fires: false,
  },
  {
    rule: 'config-key-unknown',
    name: 'misspelt keys',
    files: {
      'p.yml': config('  scrape_intervall: 15s\nscrape_configs:\n  - job_name: j\n    consult_sd_configs: []\n'),
    },
    fires: true,
    message: /scrape_configs\[0\]\.consult_sd_configs: .*did you mean "consul_sd_configs"/,
  },
  {
    rule: 'config-key-unknown',
    name: 'every key known',
    files: {
      'p.yml': config(
        'scrape_configs:\n  - job_name: j\n    consul_sd_configs: [{server: "c:8500"}]\n    static_configs: [{targets: ["a:1"], labels: {x: y}}]\n',
      ),
    },
    fires: false,
  },
  {
    rule: 'scrape-protocols-version',
    name: 'PrometheusText1.0.0 on 2.55',
    files: { 'p.yml': config('  scrape_protocols: [PrometheusText1.0.0, PrometheusText0.0.4]\n') },
    fires: true,
  },
  {
    rule: 'scrape-protocols-version',
    name: 'protocols 2.55 knows',
    files: { 'p.yml': config('  scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]\n') },
    fires: false,
  },
  {
    rule: 'fallback-scrape-protocol',
    name: 'jobs without fallback',
    files: { 'p.yml': config('scrape_configs:\n  - job_name: j\n') },
    fires: true,
  },
  { rule: 'fallback-scrape-protocol', name: 'no scrape configs', files: { 'p.yml': config('') }, fires: false },
  {
    rule: 'kubernetes-sd-v1beta1',
    name: 'endpointslice role',
    files: {
      'p.yml': config('scrape_configs:\n  - job_name: j\n    kubernetes_sd_configs:\n      - role: endpointslice\n'),
    },
    fires: true,
  },
  {
    rule: 'kubernetes-sd-v1beta1',
    name: 'pod role',
    files: { 'p.yml': config('scrape_configs:\n  - job_name: j\n    kubernetes_sd_configs:\n      - role: pod\n') },
    fires: false,
  },
  {
    rule: 'native-histograms-flag',
    name: 'flag on 3.9',
    files: { 'p.service': unit('--enable-feature=native-histograms'), 'p.yml': config('') },
    opts: { stage: 'cutover' },
    fires: true,
    fixed: {
      'p.service': unit('').replace(/ \n$/, '\n'),
      'p.yml': 'global:\n  scrape_interval: 15s\n  scrape_native_histograms: true\n',
    },
  },
  {
    rule: 'native-histograms-flag',
    name: 'flag on 3.5 still works',
    files: { 'p.service': unit('--enable-feature=native-histograms') },
    opts: { to: '3.5.0' },
    fires: false,
  },
  {
    rule: 'removed-cli-flag',
    name: 'retention alias and hidden no-ops',
    files: { 'p.service': unit('--storage.tsdb.retention=30d --alertmanager.timeout=10s') },
    fires: true,
    fixed: { 'p.service': unit('--storage.tsdb.retention.time=30d') },
  },
  {
    rule: 'removed-cli-flag',
    name: 'current flags',
    files: { 'p.service': unit('--storage.tsdb.retention.time=30d') },
    fires: false,
  },
  {
    rule: 'feature-flag-now-default',
    name: 'promql-at-modifier',
    files: { 'p.args': '--enable-feature=promql-at-modifier,exemplar-storage\n' },
    fires: true,
    fixed: { 'p.args': '--enable-feature=exemplar-storage\n' },
  },
  {
    rule: 'feature-flag-now-default',
    name: 'exemplar-storage stays',
    files: { 'p.args': '--enable-feature=exemplar-storage\n' },
    fires: false,
  },
  {
    rule: 'feature-flag-behaviour-default',
    name: 'no-default-scrape-port',
    files: { 'p.args': '--enable-feature=no-default-scrape-port --web.enable-lifecycle\n' },
    opts: { stage: 'cutover' },
    fires: true,
    fixed: { 'p.args': '--web.enable-lifecycle\n' },
  },
  {
    rule: 'feature-flag-behaviour-default',
    name: 'already on 3.x',
    files: { 'p.args': '--enable-feature=no-default-scrape-port\n' },
    opts: { from: '3.0.0' },
    fires: false,
  },
  {
    rule: 'remote-write-receiver-flag',
    name: 'feature flag alone',
    files: { 'p.args': '--config.file=p.yml --enable-feature=remote-write-receiver\n' },
    fires: true,
    fixed: { 'p.args': '--config.file=p.yml --web.enable-remote-write-receiver\n' },
  },
  {
    rule: 'remote-write-receiver-flag',
    name: 'stable flag',
    files: { 'p.args': '--web.enable-remote-write-receiver\n' },
    fires: false,
  },
  {
    rule: 'feature-flag-replaced-3x',
    name: 'agent mode flag',
    files: { 'p.args': '--enable-feature=agent,exemplar-storage --storage.agent.path=/data\n' },
    opts: { stage: 'cutover' },
    fires: true,
    fixed: { 'p.args': '--enable-feature=exemplar-storage --storage.agent.path=/data --agent\n' },
  },
  { rule: 'feature-flag-replaced-3x', name: '--agent already', files: { 'p.args': '--agent\n' }, fires: false },
  {
    rule: 'feature-flag-deprecated-3x',
    name: 'ooo-native-histograms on 3.4+',
    files: { 'p.args': '--enable-feature=ooo-native-histograms\n' },
    opts: { from: '3.0.0', to: '3.5.0' },
    fires: true,
  },
  {
    rule: 'feature-flag-deprecated-3x',
    name: 'before 3.4',
    files: { 'p.args': '--enable-feature=ooo-native-histograms\n' },
    opts: { from: '3.0.0', to: '3.3.0' },
    fires: false,
  },
  {
    rule: 'retention-flag-deprecated',
    name: 'retention.time on 3.8+',
    files: { 'p.args': '--storage.tsdb.retention.time=15d\n' },
    opts: { to: '3.8.0' },
    fires: true,
  },
  {
    rule: 'retention-flag-deprecated',
    name: 'retention.time on 3.5',
    files: { 'p.args': '--storage.tsdb.retention.time=15d\n' },
    opts: { to: '3.5.0' },
    fires: false,
  },
  {
    rule: 'experimental-functions-flag',
    name: 'holt_winters rules without the flag',
    files: { 'r.yml': rules("'holt_winters(x[1h], 0.3, 0.3)'"), 'p.args': '--enable-feature=exemplar-storage\n' },
    opts: { stage: 'cutover' },
    fires: true,
  },
  {
    rule: 'experimental-functions-flag',
    name: 'with the flag',
    files: {
      'r.yml': rules("'holt_winters(x[1h], 0.3, 0.3)'"),
      'p.args': '--enable-feature=promql-experimental-functions\n',
    },
    fires: false,
  },
  {
    rule: 'log-format-changed',
    name: 'a flag source from 2.x',
    files: { 'p.args': '--log.format=json\n' },
    fires: true,
    message: /JSON keys/,
  },
  {
    rule: 'log-format-changed',
    name: 'already on 3.x',
    files: { 'p.args': '--log.format=json\n' },
    opts: { from: '3.0.0' },
    fires: false,
  },
];

for (const c of CASES) {
  test(`${c.rule}: ${c.fires ? 'fires on' : 'quiet on'} ${c.name}`, async (t) => {
    const { dir, result } = await lintTree(t, c.files, c.opts);
    const found = byRule(result, c.rule);
    if (!c.fires) {
      assert.equal(found.length, 0, found.map((f) => f.message).join('\n'));
      return;
    }
    assert.ok(found.length > 0, `expected ${c.rule}; got ${result.findings.map((f) => f.ruleId).join(', ')}`);
    for (const f of found)
      assert.ok(f.line > 0 && f.column > 0 && f.source && f.message, 'located, sourced, explained');
    if (c.message) assert.match(found.map((f) => f.message).join('\n'), c.message);
    if (c.fixed) {
      // apply this rule's fixes (all of them, each file) and compare with the expected text
      for (const [name, expected] of Object.entries(c.fixed)) {
        const file = `${dir}/${name}`;
        const edits = found.filter((f) => f.file === file && f.fix).flatMap((f) => f.fix!.edits);
        assert.ok(edits.length > 0, `a fix for ${name}`);
        assert.equal(applyEdits(readFileSync(file, 'utf8'), edits).text, expected);
      }
    }
  });
}

test('every rule has a firing and a quiet fixture', () => {
  for (const r of RULES) {
    assert.ok(
      CASES.some((c) => c.rule === r.id && c.fires),
      `${r.id} needs a firing case`,
    );
    assert.ok(
      CASES.some((c) => c.rule === r.id && !c.fires),
      `${r.id} needs a quiet case`,
    );
  }
});
