import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { renderCliReference, replaceReference } from '../../src/cli/reference.js';
import { ENDPOINT_FLAG_SUFFIXES } from '../../src/cli/endpoint-options.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');
const REGENERATE = 'run `npx tsc -p tsconfig.json && node scripts/gen-cli-reference.mjs` and commit README.md';

test('the README command reference is what the CLI says (regenerate it when a flag changes)', () => {
  const readme = readFileSync(README, 'utf8');
  const expected = replaceReference(readme, renderCliReference(buildProgram()));
  assert.ok(readme === expected, `README.md's generated command reference differs from the CLI: ${REGENERATE}`);
});

test('the reference lists every visible flag of every command, so an added flag shows as drift', () => {
  const program = buildProgram();
  const block = renderCliReference(program);
  for (const area of program.commands) {
    for (const cmd of area.commands.length ? area.commands : [area]) {
      if (cmd.name() === 'help') continue;
      for (const o of cmd.options) {
        if (o.hidden) continue;
        // an endpoint's flag set (--mimir-url, --mimir-tenant, ...) is one --mimir-* row
        const ep = /^--([a-z]+)-(.+)$/.exec(o.long ?? '');
        const listed = block.includes(`\`${o.flags.replace(/\|/g, '\\|')}\``);
        if (
          !listed &&
          ep &&
          ENDPOINT_FLAG_SUFFIXES.includes(ep[2]!) &&
          cmd.options.some((x) => x.long === `--${ep[1]}-url`)
        ) {
          assert.ok(block.includes(`\`--${ep[1]}-*\``), `${cmd.name()} --${ep[1]}-* missing from the reference`);
          continue;
        }
        assert.ok(listed, `${cmd.name()} ${o.flags} missing from the reference`);
      }
    }
  }
  const backfill = program.commands.find((c) => c.name() === 'backfill')!.commands.find((c) => c.name() === 'metrics')!;
  backfill.addOption(new Option('--brand-new-flag <n>', 'a flag nobody documented'));
  assert.notEqual(renderCliReference(program), block, 'a new flag changes the generated reference');
});
