import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('setup without Go on PATH says in one line what is missing and how to get it, and exits non-zero', () => {
  const goDirs = new Set(['/usr/local/go/bin', join(process.env.HOME ?? '/root', 'go', 'bin')]);
  const path = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => d && !goDirs.has(d) && spawnSync('test', ['-x', join(d, 'go')]).status !== 0)
    .join(':');
  assert.notEqual(
    spawnSync('bash', ['-c', 'command -v go'], { env: { ...process.env, PATH: path } }).status,
    0,
    'go is really off PATH for the check',
  );
  const r = spawnSync('bash', [join(root, 'scripts', 'setup.sh')], {
    env: { ...process.env, PATH: path },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^setup: missing prerequisite: Go >= 1\.26 \(https:\/\/go\.dev\/doc\/install\)/);
  // and the build script alone says the same kind of thing
  const b = spawnSync('bash', [join(root, 'scripts', 'build-servers.sh')], {
    env: { ...process.env, PATH: path },
    encoding: 'utf8',
  });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /Go is not on PATH.*install Go >= 1\.26/);
});
