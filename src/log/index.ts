import { redact } from '../redact/index.js';

/**
 * Logs and progress go to stderr, results to stdout. Everything passes through redact() so a secret
 * that reached a message by accident still never leaves the process.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level =
  (process.env.STACKSHIFT_LOG_LEVEL as Level) in order ? (process.env.STACKSHIFT_LOG_LEVEL as Level) : 'info';
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: Level): void {
  threshold = level;
}

/** Tests capture logs through this. */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

export function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY);
}

function emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < order[threshold]) return;
  let line = `${level.padEnd(5)} ${msg}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields))
      line += ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
  }
  sink(redact(line));
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => emit('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => emit('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => emit('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => emit('error', msg, fields),
};
