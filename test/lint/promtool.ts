import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { labBinary, PROMETHEUS_VERSIONS } from '../../src/lab/index.js';
import { StackshiftError } from '../../src/errors/index.js';

/** Every Prometheus version the lab has a promtool of (Debian's 2.42 first). */
export const PROMTOOL_VERSIONS = PROMETHEUS_VERSIONS;

/**
 * The promtool of a lab version. A version that is not built fails the test with the command that builds
 * it: these tests are the proof that the version facts hold, so they must not pass by skipping.
 */
export function labPromtool(version: string): string {
  return labPrometheusBinary(version, 'promtool');
}

/** A binary of a lab Prometheus version, failing the test with the build command when it is missing. */
export function labPrometheusBinary(version: string, binary: 'prometheus' | 'promtool' = 'prometheus'): string {
  try {
    return labBinary('prometheus', version, binary);
  } catch (e) {
    const hint = e instanceof StackshiftError && e.hint ? `; ${e.hint}` : '';
    assert.fail(`${(e as Error).message}${hint}`);
  }
}

export function runPromtool(
  bin: string,
  args: string[],
  cwd?: string,
): { ok: boolean; code: number | null; out: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd, timeout: 120_000 });
  return { ok: r.status === 0, code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
