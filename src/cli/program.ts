import { Command, CommanderError, Option } from 'commander';
import { isStackshiftError, formatLocation } from '../errors/index.js';
import { redact } from '../redact/index.js';
import { useColor } from '../log/index.js';
import { registerCommands } from './commands/index.js';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('stackshift')
    .description('Safe, fast and provable observability-stack migrations:\n  Prometheus 2.x -> 2.55 -> 3.x upgrades, and Prometheus + Jaeger -> LGTM (Mimir, Tempo, Loki, Grafana).')
    .version(VERSION, '-V, --version')
    .addOption(new Option('-c, --config <file>', 'config file (default: ./stackshift.yaml or $STACKSHIFT_CONFIG)'))
    .addOption(new Option('--set <key=value...>', 'set any config key, e.g. --set endpoints.mimir.tenant=t1'))
    .addOption(new Option('-o, --output <format>', 'text | json | markdown (lint also: sarif)'))
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['debug', 'info', 'warn', 'error']))
    .option('--no-color', 'disable colour (NO_COLOR is honoured too)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(redact(str)) })
    .exitOverride();
  program.addHelpText('after', `
Examples:
  stackshift assess --prometheus-url http://prom:9090
  stackshift assess --prometheus-url http://prom:9090 --output markdown > ticket.md
  stackshift rehearse                      # local rehearsal on real Prometheus servers

Exit codes: 0 ok, 1 findings or a failed gate, 2 usage or runtime error.`);
  registerCommands(program);
  // every level must throw instead of exiting, so usage errors of sub-subcommands also exit 2
  const override = (cmd: Command) => {
    for (const c of cmd.commands) {
      c.exitOverride().showHelpAfterError('(run with --help for usage)');
      override(c);
    }
  };
  override(program);
  return program;
}

/** Prints an error as one line (plus a hint) and returns the exit code; stack traces only with --log-level debug. */
export function reportError(err: unknown): number {
  const color = useColor(process.stderr);
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
  if (err instanceof CommanderError) {
    // help and version "errors" are normal exits
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2;
  }
  if (isStackshiftError(err)) {
    const where = err.location ? `${formatLocation(err.location)}: ` : '';
    process.stderr.write(redact(`${red('error:')} ${where}${err.message}\n`));
    if (err.hint) process.stderr.write(redact(`  hint: ${err.hint}\n`));
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(redact(`${red('error:')} internal error: ${e?.message ?? String(err)}\n`));
  process.stderr.write('  this is a bug in stackshift; rerun with STACKSHIFT_DEBUG=1 for a stack trace and report it\n');
  if (process.env.STACKSHIFT_DEBUG) process.stderr.write(redact(String(e?.stack ?? '')) + '\n');
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}
