// Writes the README's command and flag reference from commander's model (after a build):
//   node scripts/gen-cli-reference.mjs           rewrite the block between the cli-reference markers
//   node scripts/gen-cli-reference.mjs --check   exit 1 when the README differs (what the drift test checks)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { buildProgram } = await import(join(root, 'dist/src/cli/program.js'));
const { renderCliReference, replaceReference } = await import(join(root, 'dist/src/cli/reference.js'));

const file = join(root, 'README.md');
const before = readFileSync(file, 'utf8');
const after = replaceReference(before, renderCliReference(buildProgram()));
if (process.argv.includes('--check')) {
  if (before !== after) {
    console.error(
      'README.md command reference is out of date: run `npx tsc -p tsconfig.json && node scripts/gen-cli-reference.mjs`',
    );
    process.exit(1);
  }
} else if (before !== after) {
  writeFileSync(file, after);
  console.error('README.md command reference updated');
}
