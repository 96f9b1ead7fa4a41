import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgsUnit } from '../../src/upgrade/index.js';

test('local driver args file: line 1 the binary; a line with several flags (as lint prom3 --fix appends one) is split into words, quotes group', () => {
  const u = parseArgsUnit(
    "/opt/prometheus-3.8.1/prometheus\n# comment\n--config.file=/etc/p.yml\n--storage.tsdb.retention.time=3650d --enable-feature=promql-experimental-functions\n--web.page-title='My Prometheus'\n\n",
    'p.args',
  );
  assert.deepEqual(u, {
    binary: '/opt/prometheus-3.8.1/prometheus',
    args: [
      '--config.file=/etc/p.yml',
      '--storage.tsdb.retention.time=3650d',
      '--enable-feature=promql-experimental-functions',
      '--web.page-title=My Prometheus',
    ],
  });
  assert.throws(() => parseArgsUnit('--config.file=x\n', 'p.args'), /the first line must be the Prometheus binary/);
});
