import type { TestContext } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  historyBlocks,
  installBlocks,
  startPrometheus,
  type HistorySpec,
  type LabServer,
  type StartOptions,
} from '../../src/lab/index.js';

/**
 * Test harness over src/lab: real Prometheus servers (Debian package) on free loopback ports, always stopped
 * when the test ends, fails or is interrupted (lab installs exit/signal hooks and reaps orphans of killed runs).
 * Logs stay in the temp dir of the test when STACKSHIFT_KEEP_TMP is set.
 */
export function tempDir(t: TestContext | undefined, prefix = 'stackshift-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (t && !process.env.STACKSHIFT_KEEP_TMP) t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface HarnessServerOptions extends Partial<Omit<StartOptions, 'dataDir'>> {
  /** Generated history to preload as TSDB blocks (cached by its parameters). */
  history?: HistorySpec;
  /** Receiver mode: remote-write receiver with an out-of-order window, as Mimir exposes on the wire. */
  receiver?: boolean;
  /** Out-of-order window for receiver mode. */
  oooWindow?: string;
}

export const MINIMAL_CONFIG = `global:
  scrape_interval: 15s
scrape_configs: []
`;

/** Starts one real Prometheus for a test and registers its stop with the test. */
export async function startServer(t: TestContext, opts: HarnessServerOptions = {}): Promise<LabServer> {
  // stop the server before its directory goes (after-hooks run in registration order; a live server still
  // writes into data/, which made the removal fail with ENOTEMPTY and left the server running)
  const dir = tempDir(undefined);
  const dataDir = join(dir, 'data');
  if (opts.history) installBlocks(await historyBlocks(opts.history), dataDir);
  let config = opts.config ?? MINIMAL_CONFIG;
  const extraArgs = [...(opts.extraArgs ?? [])];
  if (opts.receiver) {
    extraArgs.push('--web.enable-remote-write-receiver');
    config += `storage:\n  tsdb:\n    out_of_order_time_window: ${opts.oooWindow ?? '3650d'}\n`;
  }
  const server = await startPrometheus({
    name: opts.name ?? 'prom',
    version: opts.version,
    config,
    dataDir,
    files: opts.files,
    extraArgs,
    port: opts.port,
    retention: opts.retention,
    readyTimeoutMs: opts.readyTimeoutMs,
    waitReady: opts.waitReady,
  });
  t.after(async () => {
    await server.stop();
    if (!process.env.STACKSHIFT_KEEP_TMP) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  return server;
}

/** Starts N servers concurrently. */
export async function startServers(t: TestContext, list: HarnessServerOptions[]): Promise<LabServer[]> {
  return Promise.all(list.map((o, i) => startServer(t, { name: o.name ?? `prom${i}`, ...o })));
}
export { runCli, waitUntil, CLI, STACK_LINE, type CliRun } from './cli.js';
export { waitSettled } from './settle.js';

/**
 * The shared corpus of real public files (../shared/corpus beside the repository, in a worktree and in CI
 * alike); STACKSHIFT_CORPUS points elsewhere. Tests run from dist/test/harness.
 */
export const CORPUS: string = (() => {
  const beside = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'corpus');
  return (
    [process.env.STACKSHIFT_CORPUS, beside, '/work/shared/corpus'].find((p): p is string =>
      Boolean(p && existsSync(p)),
    ) ?? beside
  );
})();
