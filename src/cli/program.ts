import { Command, CommanderError, Option } from 'commander';
import { isStackshiftError, formatLocation, InterruptedError, StackshiftError } from '../errors/index.js';
import { classifyNetworkError } from '../http/index.js';
import { collect } from './parse.js';
import { redact } from '../redact/index.js';
import { useColor } from '../log/index.js';
import { registerCommands } from './commands/index.js';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('stackshift')
    .description(
      'Safe, fast and provable observability-stack migrations:\n  Prometheus 2.x -> 2.55 -> 3.x upgrades, and Prometheus + Jaeger -> LGTM (Mimir, Tempo, Loki, Grafana).',
    )
    .version(VERSION, '-V, --version')
    .addOption(new Option('-c, --config <file>', 'config file (default: ./stackshift.yaml or $STACKSHIFT_CONFIG)'))
    // one value per --set (repeat the flag): a variadic option would swallow the command name after it
    .addOption(
      new Option('--set <key=value>', 'set any config key, repeatable, e.g. --set endpoints.mimir.tenant=t1').argParser(
        collect,
      ),
    )
    .addOption(new Option('-o, --output <format>', 'text | json | markdown (lint also: sarif)'))
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['debug', 'info', 'warn', 'error']))
    .option('--no-color', 'disable colour (NO_COLOR is honoured too)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(redact(str)) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  stackshift assess --prometheus-url http://prom:9090
  stackshift assess --prometheus-url http://prom:9090 --output markdown > ticket.md
  stackshift rehearse                      # local rehearsal on real Prometheus servers

Exit codes: 0 ok, 1 findings or a failed gate, 2 usage or runtime error.`,
  );
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
    // --help and --version are normal exits; help shown because a subcommand is missing (exitCode 1) is a usage error
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
    return 2;
  }
  err = explainForeignError(err) ?? err;
  // stopped by the user (Ctrl-C) before the run had anything to report: not an error
  if (err instanceof InterruptedError) {
    process.stderr.write(
      `interrupted by ${err.signal} before the run could report; run the same command again to carry on\n`,
    );
    return err.exitCode;
  }
  if (isStackshiftError(err)) {
    const where = err.location ? `${formatLocation(err.location)}: ` : '';
    process.stderr.write(redact(`${red('error:')} ${where}${err.message}\n`));
    if (err.hint) process.stderr.write(redact(`  hint: ${err.hint}\n`));
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(redact(`${red('error:')} internal error: ${e?.message ?? String(err)}\n`));
  process.stderr.write(
    '  this is a bug in stackshift; rerun with STACKSHIFT_DEBUG=1 for a stack trace and report it\n',
  );
  if (process.env.STACKSHIFT_DEBUG) process.stderr.write(redact(String(e?.stack ?? '')) + '\n');
  return 2;
}

/**
 * Failures that come from a library rather than from stackshift's own checks, but have a known cause: a
 * socket closed mid-body, a document nested or aliased beyond reason. They get a one-line cause and hint
 * like any expected error instead of "this is a bug". Anything else stays a bug.
 */
export function explainForeignError(err: unknown): StackshiftError | undefined {
  if (isStackshiftError(err)) return undefined;
  const e = err as { name?: string; message?: string; code?: string };
  const msg = e?.message ?? '';
  if (e?.name === 'RangeError' && /Maximum call stack size exceeded/.test(msg)) {
    return new StackshiftError(
      'input-too-deep',
      'an input document is nested too deeply to process (maximum call stack size exceeded)',
      {
        hint: 'check the input files (JSON dashboards, YAML) for runaway nesting; real dashboards and rule files nest a few levels',
        cause: err,
      },
    );
  }
  if (/Excessive alias count|resource exhaustion/i.test(msg)) {
    return new StackshiftError(
      'input-aliases',
      'a YAML input expands too many aliases (a "billion laughs" document?)',
      {
        hint: 'check the YAML files given to this command for anchors (&a) referenced many times (*a); write the values out instead',
        cause: err,
      },
    );
  }
  if (e?.name === 'RangeError' && /Invalid time value/.test(msg)) {
    return new StackshiftError('time-range', 'a time is outside the range a date can hold', {
      hint: 'times are RFC 3339 with an offset, Unix seconds or durations back from now; check the time flags',
      cause: err,
    });
  }
  if (
    typeof e?.code === 'string' &&
    /^(UND_ERR_|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)/.test(e.code)
  ) {
    const c = classifyNetworkError(err);
    if (c.known)
      return new StackshiftError(`http-${c.kind}`, `a server connection failed: ${c.reason}`, {
        hint: c.hint ?? 'check that the servers are up and reachable, then rerun',
        cause: err,
      });
  }
  return undefined;
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
