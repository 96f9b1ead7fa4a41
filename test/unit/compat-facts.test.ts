import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dataDirCompatibility,
  resolveTarget,
  supportStatus,
  versionVerdict,
  RUNBOOK_CORRECTIONS,
  type FormatSummary,
} from '../../src/compat/index.js';
import { crc32c, crc32cNative, crc32cTable } from '../../src/tsdb/index.js';

const BASE: FormatSummary = {
  indexVersions: [2],
  metaVersions: [1],
  blockChunkEncodings: [1],
  headChunkEncodings: [1],
  walRecordTypes: [1, 2],
  walCompression: ['snappy'],
};

test('targets resolve to concrete releases with a note when a newer patch or the LTS matters', () => {
  assert.deepEqual(resolveTarget('3.x'), { version: '3.13.2', note: '"3.x" means the latest 3.x LTS release, 3.13.2' });
  assert.equal(resolveTarget('3.13')?.version, '3.13.2');
  assert.equal(resolveTarget('3.14')?.version, '3.14.0');
  assert.equal(resolveTarget('latest')?.version, '3.14.0');
  assert.match(resolveTarget('3.5.0')!.note!, /3\.5\.5 is/);
  assert.equal(resolveTarget('3.5.5')?.note, undefined);
  assert.equal(resolveTarget('banana'), undefined);
  assert.deepEqual(supportStatus('3.5.0', '2026-11-22'), { lts: true, supportedUntil: '2026-07-31', expired: true });
  assert.deepEqual(supportStatus('3.13.2', '2026-11-22'), { lts: true, supportedUntil: '2027-07-31', expired: false });
});

test('index v3 readers: 2.53.5 and 2.55+, not 2.54.1 nor 2.53.4 (PRs #14934/#14939/#16762)', () => {
  const v3 = { ...BASE, indexVersions: [3] };
  assert.equal(versionVerdict('2.54.1', v3).verdict, 'cannot-open');
  assert.equal(versionVerdict('2.53.4', v3).verdict, 'cannot-open');
  assert.equal(versionVerdict('2.53.5', v3).verdict, 'opens');
  assert.equal(versionVerdict('2.55.0', v3).verdict, 'opens');
  assert.match(versionVerdict('2.48.1', v3).blockers[0].text, /unknown index file version 3/);
});

test('3.x opt-in data is silently lost on 2.55: NHCB WAL records and XOR2 chunks', () => {
  const v = versionVerdict('2.55.1', { ...BASE, walRecordTypes: [1, 2, 9], headChunkEncodings: [1, 4] });
  assert.equal(v.verdict, 'opens-with-loss');
  assert.equal(v.losses.length, 2);
  assert.ok(v.losses.some((l) => /type 9 .*silently dropped/.test(l.text) && /head_wal\.go/.test(l.text + l.source)));
  assert.equal(versionVerdict('3.2.0', { ...BASE, walRecordTypes: [9] }).verdict, 'opens');
});

test('a default 2.x data dir opens on every release from 2.39 on; the policy caveat applies below 2.55', () => {
  const c = dataDirCompatibility(BASE);
  assert.equal(c.oldestLossless, '2.39.0');
  assert.equal(c.verdicts.find((v) => v.version === '2.10.0')?.verdict, 'cannot-open');
  assert.ok(c.verdicts.find((v) => v.version === '2.48.1')?.policy);
  assert.equal(c.verdicts.find((v) => v.version === '2.55.1')?.policy, undefined);
});

test('every runbook correction names its source, and the format claims are marked wrong', () => {
  for (const c of RUNBOOK_CORRECTIONS) assert.ok(c.source.length > 10, c.id);
  for (const id of [
    'writer-2.48-v1',
    'reader-2.48-v2',
    'reader-2.55-v3',
    'writer-3x-v3',
    'reader-3x-v1',
    'startup-conversion',
  ]) {
    assert.equal(RUNBOOK_CORRECTIONS.find((c) => c.id === id)?.verdict, 'wrong', id);
  }
});

test('CRC-32C: check value, and the table and native paths agree at every length', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  const buf = Buffer.alloc(5000);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
  for (const n of [0, 1, 7, 8, 9, 100, 1023, 1024, 1025, 4990])
    assert.equal(crc32cTable(buf, 3, 3 + n), crc32cNative(buf, 3, 3 + n), `length ${n}`);
  assert.equal(crc32c(buf, 10, 2000, crc32c(buf, 0, 10)), crc32c(buf, 0, 2000));
});
