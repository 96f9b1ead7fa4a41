import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openState } from '../../src/state/index.js';
import { tempDir } from '../harness/index.js';

test('state migrations apply once, in order, and survive reopening', (t) => {
  const file = join(tempDir(t), 'state.db');
  const m = { module: 'demo', steps: ['CREATE TABLE a (x INTEGER)', 'ALTER TABLE a ADD COLUMN y TEXT'] };
  const db = openState(file, [m]);
  db.prepare('INSERT INTO a (x, y) VALUES (1, ?)').run('one');
  db.close();
  const again = openState(file, [m]);
  assert.deepEqual(again.prepare('SELECT x, y FROM a').all(), [{ x: 1, y: 'one' }]);
  assert.equal(
    (again.prepare("SELECT version FROM schema_versions WHERE module='demo'").get() as { version: number }).version,
    2,
  );
  again.close();
  assert.throws(() => openState(file, [{ module: 'demo', steps: ['SELECT 1'] }]), /newer than this stackshift knows/);
});
