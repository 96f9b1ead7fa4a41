/**
 * Errors that stackshift expects: a user mistake, an unreachable or misbehaving server, a failed gate.
 * They carry everything needed for a one-line message and an exit code, so the CLI never has to print
 * a stack trace for them.
 */
export type ExitCode = 0 | 1 | 2 | 130;

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  key?: string;
}

export class StackshiftError extends Error {
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly code: string;

  constructor(
    code: string,
    message: string,
    opts: { hint?: string; location?: SourceLocation; exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StackshiftError';
    this.code = code;
    this.hint = opts.hint;
    this.location = opts.location;
    this.exitCode = opts.exitCode ?? 2;
  }
}

/** Bad flags or arguments. */
export class UsageError extends StackshiftError {
  constructor(message: string, hint?: string) {
    super('usage', message, { hint });
    this.name = 'UsageError';
  }
}

/** A config or input file that is invalid; always names file, line and key where known. */
export class InputError extends StackshiftError {
  constructor(message: string, location: SourceLocation, hint?: string) {
    super('input', message, { hint, location });
    this.name = 'InputError';
  }
}

/**
 * The user stopped a run (Ctrl-C, SIGTERM): the reason an interrupt AbortSignal carries. Not a failure: the state
 * records the run as interrupted, the partial summary is printed with the command that resumes, and the exit code
 * is 130 (128 + SIGINT), as shells report a command ended by Ctrl-C.
 */
export class InterruptedError extends StackshiftError {
  constructor(readonly signal: string = 'SIGINT') {
    super('interrupted', `interrupted by ${signal}`, { exitCode: 130 });
    this.name = 'InterruptedError';
  }
}

/** True when `signal` was aborted because the user stopped the run (see InterruptedError). */
export function isInterrupt(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason instanceof InterruptedError;
}

export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  if (loc.key) s += ` (${loc.key})`;
  return s;
}

export function isStackshiftError(e: unknown): e is StackshiftError {
  return e instanceof StackshiftError;
}
