import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labHas, serverVersion } from '../../src/lab/index.js';
import { runCli, STACK_LINE, tempDir } from '../harness/index.js';

/** `alertmanager check` with the lab's real amtool (Alertmanager build from scripts/servers.tsv). */
const BUILT = labHas('alertmanager', serverVersion('alertmanager'), 'amtool');
const skip =
  !BUILT &&
  `amtool of Alertmanager ${serverVersion('alertmanager')} is not built (scripts/build-servers.sh alertmanager-${serverVersion('alertmanager')})`;

const CONFIG = (pageReceiver: string) => `route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity="page"']
      receiver: ${pageReceiver}
    - matchers: ['team=~"db|storage"']
      receiver: db-team
      continue: true
    - matchers: ['team="storage"']
      receiver: storage-team
receivers:
  - name: default
  - name: pager
  - name: oncall
  - name: db-team
  - name: storage-team
`;

test('a valid config: amtool check-config passes and each alert is routed to its receivers', { skip }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'am.yml'), CONFIG('pager'));
  const r = await runCli([
    'alertmanager',
    'check',
    '--alertmanager-config',
    join(dir, 'am.yml'),
    '--alert',
    'alertname=HighErrorRate,severity=page',
    '--alert',
    '{alertname="DiskFull", team="storage"}',
    '--alert',
    'alertname=Other',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /check-config .*am\.yml: SUCCESS/);
  assert.match(r.stdout, /\{alertname="HighErrorRate", severity="page"\} -> pager$/m);
  assert.match(r.stdout, /\{alertname="DiskFull", team="storage"\} -> db-team, storage-team$/m);
  assert.match(r.stdout, /\{alertname="Other"\} -> default$/m);
});

test(
  '--against: an alert that reaches another receiver in the second config is a finding (exit 1)',
  { skip },
  async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'old.yml'), CONFIG('pager'));
    writeFileSync(join(dir, 'new.yml'), CONFIG('oncall'));
    const r = await runCli([
      'alertmanager',
      'check',
      '--alertmanager-config',
      join(dir, 'old.yml'),
      '--against',
      join(dir, 'new.yml'),
      '--alert',
      'alertname=HighErrorRate,severity=page',
      '--alert',
      'alertname=DiskFull,team=db',
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /! \{alertname="HighErrorRate", severity="page"\} -> pager {2}\| {2}oncall {2}\(differs\)/);
    assert.match(r.stdout, / {3}\{alertname="DiskFull", team="db"\} -> db-team {2}\| {2}db-team$/m);
    assert.match(r.stdout, /FAIL: 1 alert\(s\) reach other receivers/);
  },
);

test(
  "a config that names an undefined receiver fails amtool check-config (exit 1, amtool's own message)",
  { skip },
  async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'bad.yml'), CONFIG('nobody'));
    const r = await runCli([
      'alertmanager',
      'check',
      '--alertmanager-config',
      join(dir, 'bad.yml'),
      '--alert',
      'alertname=X',
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /check-config .*bad\.yml: FAILED/);
    assert.match(r.stdout, /undefined receiver "nobody"/);
    assert.doesNotMatch(r.stdout + r.stderr, STACK_LINE);
  },
);
