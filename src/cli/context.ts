import type { Command } from 'commander';
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
