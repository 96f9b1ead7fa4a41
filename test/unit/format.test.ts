import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The formatter keeps every line of code within what a reader can see (printWidth 120, .prettierrc.json).
// The suite runs prettier's own check, so a file committed unformatted fails here with the file named.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PRETTIER = join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const FIX = 'run `node node_modules/prettier/bin/prettier.cjs --write src test bench scripts` and commit the result';

function check(...paths: string[]) {
  return spawnSync(process.execPath, [PRETTIER, '--check', ...paths], { cwd: ROOT, encoding: 'utf8' });
}

test('src, test, bench and scripts are formatted by prettier (.prettierrc.json)', () => {
  const r = check('src', 'test', 'bench', 'scripts');
  assert.equal(r.status, 0, `prettier --check found unformatted files:\n${r.stdout}${r.stderr}\n${FIX}`);
});

test('the format check fails on a line longer than printWidth, so the test above can fail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-format-'));
  try {
    const file = join(dir, 'long.ts');
    const args = Array.from({ length: 12 }, (_, i) => `argumentNumber${i}: string`).join(', ');
    writeFileSync(file, `export function f(${args}): void {}\n`);
    const r = spawnSync(process.execPath, [PRETTIER, '--config', join(ROOT, '.prettierrc.json'), '--check', file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, `prettier --check should refuse a 300-character line: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /long\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
