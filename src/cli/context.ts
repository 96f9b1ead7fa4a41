import type { Command } from 'commander';
import { resolve } from 'node:path';
import { openState, type Migration, type StateDb } from '../state/index.js';
import { applySetOverrides, loadConfig, type LoadedConfig } from '../config/index.js';
import { setLogLevel, type Level } from '../log/index.js';
import { parseFormat, render, type CommandResult, type OutputFormat } from './output.js';

export interface GlobalOptions {
  config?: string;
  set?: string[];
  output?: string;
  logLevel?: Level;
  color?: boolean;
}

/** Loaded once per command run: the config file with --set overrides, and the output format. */
export interface CliContext {
  loaded: LoadedConfig;
  format: OutputFormat;
}

export function contextFor(cmd: Command, formats?: OutputFormat[]): CliContext {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  if (g.logLevel) setLogLevel(g.logLevel);
  if (g.color === false) process.env.NO_COLOR = '1';
  const loaded = loadConfig(g.config);
  loaded.config = applySetOverrides(loaded.config, g.set ?? []);
  const format = parseFormat(g.output ?? loaded.config.output, formats);
  return { loaded, format };
}

export function emit(result: CommandResult, format: OutputFormat): void {
  process.stdout.write(render(result, format));
  process.exitCode = result.exitCode;
}

export const STATE_OPTION_HELP = 'state database (default: <state.dir>/state.db or .stackshift/state.db)';

/**
 * A state file: --state, else <state.dir>/<file> with state.dir relative to stackshift.yaml, else
 * .stackshift/<file>. One rule for every command, so `state.dir` means the same everywhere.
 */
export function statePath(opts: Record<string, unknown>, loaded: LoadedConfig, file = 'state.db'): string {
  if (opts.state) return resolve(String(opts.state));
  const dir = loaded.config.state?.dir;
  return dir ? resolve(loaded.baseDir, dir, file) : resolve('.stackshift', file);
}

export function openStateFor(opts: Record<string, unknown>, loaded: LoadedConfig, migrations: Migration[]): StateDb {
  return openState(statePath(opts, loaded), migrations);
}

/** Runs `fn` on the state database and closes it however `fn` ends. */
export async function withState<T>(
  opts: Record<string, unknown>,
  loaded: LoadedConfig,
  migrations: Migration[],
  fn: (db: StateDb) => T | Promise<T>,
): Promise<T> {
  const db = openStateFor(opts, loaded, migrations);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
