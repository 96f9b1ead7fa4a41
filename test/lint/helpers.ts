import type { TestContext } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintFiles, type Finding, type LintOptions, type LintResult } from '../../src/lint/index.js';
import { tempDir } from '../harness/index.js';

export { CORPUS } from '../harness/index.js';

/** Source tree fixtures (tests run from dist/test/lint). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'lint');

/** Writes files into a fresh temp dir and returns its path. */
export function writeTree(t: TestContext, files: Record<string, string>): string {
  const dir = tempDir(t, 'stackshift-lint-');
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** Lints a set of in-line files. */
export async function lintTree(
  t: TestContext,
  files: Record<string, string>,
  opts: LintOptions = {},
): Promise<{ dir: string; result: LintResult }> {
  const dir = writeTree(t, files);
  const result = await lintFiles([dir], { from: '2.55.1', to: '3.9.0', ...opts });
  return { dir, result };
}

export function byRule(r: LintResult, id: string): Finding[] {
  return r.findings.filter((f) => f.ruleId === id);
}
