import { redact, redactDeep } from '../redact/index.js';
import { UsageError, type ExitCode } from '../errors/index.js';

export type OutputFormat = 'text' | 'json' | 'markdown' | 'sarif';

/** What a command hands back to the CLI shell: one document, rendered in the format the user asked for. */
export interface CommandResult<T = unknown> {
  /** Stable machine-readable document (the JSON output). */
  document: T;
  text: () => string;
  markdown?: () => string;
  sarif?: () => unknown;
  exitCode: ExitCode;
}

export function parseFormat(
  value: string | undefined,
  allowed: OutputFormat[] = ['text', 'json', 'markdown'],
): OutputFormat {
  const v = (value ?? 'text') as OutputFormat;
  if (!allowed.includes(v)) throw new UsageError(`--output must be one of ${allowed.join(', ')} (got "${value}")`);
  return v;
}

export function render(result: CommandResult, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(redactDeep(result.document), null, 2) + '\n';
    case 'markdown':
      return redact(result.markdown ? result.markdown() : result.text());
    case 'sarif':
      if (!result.sarif) throw new UsageError('this command has no SARIF output');
      return JSON.stringify(redactDeep(result.sarif()), null, 2) + '\n';
    default:
      return redact(result.text());
  }
}
