import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// A file in src/ that grows past about 400 lines says at its top why it is one file ("Why one file ...", or a
// header that names the reason with the words "one file"), so a reader knows the size is chosen, not drifted.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LIMIT = 400;
const HEADER_LINES = 60;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

export function unexplainedLongFiles(root: string): string[] {
  const missing: string[] = [];
  for (const file of sources(join(root, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.length <= LIMIT) continue;
    const head = lines
      .slice(0, HEADER_LINES)
      .filter((l) => /^\s*(\/\/|\/\*|\*)/.test(l))
      .join(' ');
    if (!/one file/i.test(head)) missing.push(`${relative(root, file)} (${lines.length} lines)`);
  }
  return missing;
}

test(`every file in src/ above ${LIMIT} lines says at its top why it is one file`, () => {
  const missing = unexplainedLongFiles(ROOT);
  assert.deepEqual(missing, [], `add a "Why one file: ..." comment at the top of, or split:\n${missing.join('\n')}`);
});
