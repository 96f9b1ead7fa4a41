import { setMaxListeners } from 'node:events';
import { InterruptedError } from '../errors/index.js';
import { STOP_GRACE_MS, afterGrace } from '../http/index.js';
import { redact } from '../redact/index.js';
import { shellQuote } from '../report/index.js';

/**
 * Ctrl-C for long commands. The first SIGINT or SIGTERM aborts `signal` (its reason an InterruptedError): the
 * run takes no new work, requests in flight get STOP_GRACE_MS to finish (`inFlight`, for the HTTP clients),
 * the run records itself as interrupted and the command prints its partial summary and exits 130. A second
 * signal exits 130 at once: the state files are SQLite, written in transactions that a JavaScript signal
 * handler cannot land in the middle of, so what they hold stays whole (the next run redoes units left running).
 */
export interface Interrupt {
  /** Aborted at the first signal: take no new work. */
  readonly signal: AbortSignal;
  /** Aborted STOP_GRACE_MS after `signal`: abort requests still in flight. */
  readonly inFlight: AbortSignal;
  /** Removes the handlers (the command is over; Ctrl-C kills again). */
  dispose(): void;
}

export const INTERRUPTED_EXIT = 130;

export function interruptible(graceMs = STOP_GRACE_MS): Interrupt {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      process.stderr.write(
        `\nstackshift: ${sig} again, exiting now; the state file stays consistent, the next run redoes the work left in flight\n`,
      );
      process.exit(INTERRUPTED_EXIT);
    }
    process.stderr.write(
      `\nstackshift: ${sig}: stopping; no new work is started, requests in flight get up to ${Math.round(graceMs / 1000)}s (press Ctrl-C again to exit at once)\n`,
    );
    ac.abort(new InterruptedError(sig));
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    signal: ac.signal,
    inFlight: afterGrace(ac.signal, graceMs)!,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

export { shellQuote };

/**
 * The command line of this process as the user can paste it again (`stackshift <args>`), with `extra` flags
 * appended when absent (say `--state <absolute path>`, so the resume does not depend on the directory).
 */
export function commandLine(extra: Record<string, string> = {}, argv = process.argv.slice(2)): string {
  const args = [...argv];
  for (const [flag, value] of Object.entries(extra)) {
    if (!args.some((a) => a === flag || a.startsWith(`${flag}=`))) args.push(flag, value);
  }
  return ['stackshift', ...args.map(shellQuote)].join(' ');
}

/** The lines printed on stderr when a run was stopped: what is kept and the command that carries on. */
export function reportInterrupted(what: string, resume: string, verb = 'resume'): void {
  process.stderr.write(redact(`interrupted: ${what}\n  ${verb} with: ${resume}\n`));
}
