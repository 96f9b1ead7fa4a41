import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_ROOT, keyKnown, sectionKeys, type ConfigKeySpec } from '../../src/compat/index.js';
import { parseVersion } from '../../src/compat/index.js';
import { tempDir } from '../harness/index.js';
import { lintTree } from './helpers.js';
import { labPromtool, PROMTOOL_VERSIONS, runPromtool } from './promtool.js';

const SENTINEL = 'stackshift_sentinel_key';

/**
 * One prometheus.yml holding every key the table has ever known, in every section, each section with a
 * key no release knows. yaml.UnmarshalStrict reports each unknown key as "line N: field K not found in
 * type T" and, because every section's plain unmarshal then fails with a type error, no section's
 * validation runs: one promtool call answers "known or not" for every key at once. Leaf values are null
 * (never handed to a custom unmarshaler); child sections are one map (or a list of one).
 */
interface Line {
  section: string;
  key: string;
  ancestors: ConfigKeySpec[];
}

function everyKeyConfig(): { text: string; lines: Map<number, Line> } {
  const out: string[] = [];
  const lines = new Map<number, Line>();
  const emit = (section: string, indent: string, first: string | undefined, ancestors: ConfigKeySpec[]): void => {
    let prefix = first ?? indent;
    const put = (key: string) => {
      out.push(`${prefix}${key}:`);
      lines.set(out.length, { section, key, ancestors });
      prefix = indent;
    };
    put(SENTINEL);
    for (const spec of sectionKeys(section)) {
      put(spec.key);
      if (!spec.child || ancestors.length > 6) continue;
      if (spec.child.list) emit(spec.child.section, `${indent}    `, `${indent}  - `, [...ancestors, spec]);
      else emit(spec.child.section, `${indent}  `, undefined, [...ancestors, spec]);
    }
  };
  emit(CONFIG_ROOT, '', undefined, []);
  return { text: `${out.join('\n')}\n`, lines };
}

/**
 * Debian's 2.42+ds package is built without some service-discovery mechanisms (its changelog:
 * "Disable Consul SD until its Debian package is back in shape", "Add new 08-Disable_nomad.patch",
 * "Disable XDS, Uyuni, Linode and Scaleway support"; kubernetes and kuma are left out too, as its promtool
 * shows). The key table describes the upstream releases, so these keys are expected to be refused there.
 */
const DEBIAN_WITHOUT = new Set([
  'consul_sd_configs',
  'kubernetes_sd_configs',
  'kuma_sd_configs',
  'linode_sd_configs',
  'nomad_sd_configs',
]);

for (const version of PROMTOOL_VERSIONS) {
  test(`issue 12 item 6: the key table agrees with what promtool ${version} (real) accepts and refuses, key by key`, (t) => {
    const bin = labPromtool(version);
    const v = parseVersion(version)!;
    const { text, lines } = everyKeyConfig();
    const file = join(tempDir(t, 'stackshift-keys-'), 'prometheus.yml');
    writeFileSync(file, text);
    const r = runPromtool(bin, ['check', 'config', '--syntax-only', file]);
    assert.equal(r.ok, false, 'a config with unknown keys must fail');
    const refused = new Set([...r.out.matchAll(/line (\d+): field (\S+) not found in type/g)].map((m) => Number(m[1])));
    const notReached: string[] = [];
    const mismatches: string[] = [];
    for (const [line, { section, key, ancestors }] of lines) {
      // inside a key this version does not know, yaml.v2 looks at nothing
      if (!ancestors.every((a) => keyKnown(a, v))) continue;
      if (key === SENTINEL) {
        if (!refused.has(line)) notReached.push(`${section} (line ${line})`);
        continue;
      }
      const spec = sectionKeys(section).find((s) => s.key === key)!;
      const known = keyKnown(spec, v) && !(version === '2.42' && DEBIAN_WITHOUT.has(key));
      if (known === !refused.has(line)) continue;
      mismatches.push(
        `${section}.${key}: table says ${known ? 'known' : 'unknown'}, promtool ${known ? 'refuses' : 'accepts'} it (line ${line})`,
      );
    }
    assert.deepEqual(notReached, [], `sections promtool did not check:\n${r.out.slice(0, 2000)}`);
    assert.deepEqual(mismatches, []);
    assert.ok(lines.size > 300, `${lines.size} keys checked`);
  });
}

test('issue 12 item 6: unknown keys in any section are errors with a did-you-mean, and keys of the running version pass', async (t) => {
  const cfg = [
    'global:',
    '  scrape_intervall: 15s',
    '  nonexistent_field: 1',
    'scrape_configs:',
    '  - job_name: a',
    '    consult_sd_configs: [{server: "c:8500"}]',
    '    relabel_configs:',
    '      - source_label: [a]',
    '        action: keep',
    'remote_write:',
    '  - url: http://x/api/v1/write',
    '    queue_config: {max_shard: 2}',
    '    enable_http2: true',
    '',
  ].join('\n');
  const { result } = await lintTree(t, { 'prometheus.yml': cfg }, { from: '2.55.1', to: '3.5.0' });
  const found = result.findings
    .filter((f) => f.ruleId === 'config-key-unknown')
    .map((f) => `${f.line}:${f.column} ${f.message}`);
  assert.deepEqual(found, [
    '2:3 global.scrape_intervall: scrape_intervall is not a key of global; neither 2.55.1 nor 3.5.0 loads this config (did you mean "scrape_interval"?)',
    '3:3 global.nonexistent_field: nonexistent_field is not a key of global; neither 2.55.1 nor 3.5.0 loads this config',
    '6:5 scrape_configs[0].consult_sd_configs: consult_sd_configs is not a key of a scrape config; neither 2.55.1 nor 3.5.0 loads this config (did you mean "consul_sd_configs"?)',
    '8:9 scrape_configs[0].relabel_configs[0].source_label: source_label is not a key of a relabel config; neither 2.55.1 nor 3.5.0 loads this config (did you mean "source_labels"?)',
    '12:20 remote_write[0].queue_config.max_shard: max_shard is not a key of queue_config; neither 2.55.1 nor 3.5.0 loads this config (did you mean "max_shards"?)',
  ]);
  assert.ok(
    found.every((f) => result.findings.find((x) => x.message === f.slice(f.indexOf(' ') + 1))?.severity === 'error'),
  );
});
