import { Command } from 'commander';
import { runRehearsal } from '../../rehearsal/index.js';
import { contextFor, emit } from '../context.js';
import { durationFlag, intFlag } from '../parse.js';
import { readFileSync } from 'node:fs';

export function registerRehearse(program: Command): void {
  const cmd = new Command('rehearse')
    .description(
      'local rehearsal of a migration: real Prometheus servers on loopback with generated history, every stackshift capability run against them, and a report',
    )
    .option('--out <dir>', "where the report and the servers' data go", 'rehearsal-out')
    .option('--series <n>', 'generated series', '400')
    .option('--history <duration>', 'generated history length', '2d')
    .option('--interval <duration>', 'sample interval of the generated history', '30s')
    .option('--seed <n>', 'seed of the generated history', '42')
    .option('--keep-running', 'leave the servers running after the report (stop with Ctrl-C)')
    .addHelpText(
      'after',
      `
Examples:
  stackshift rehearse
  stackshift rehearse --series 2000 --history 7d --out /tmp/rehearsal`,
    );
  cmd.action(async (opts: Record<string, string | boolean>, command: Command) => {
    const ctx = contextFor(command);
    const series = intFlag('series', opts.series, 1);
    const result = await runRehearsal({
      outDir: String(opts.out),
      series,
      durationMs: durationFlag('history', opts.history),
      intervalMs: durationFlag('interval', opts.interval),
      seed: intFlag('seed', opts.seed, 0),
      keepRunning: Boolean(opts.keepRunning),
    });
    emit(
      {
        document: result,
        text: () =>
          `${result.outcomes.map((o) => `${o.status.toUpperCase().padEnd(7)} ${o.title}: ${o.summary}`).join('\n')}\n\nRehearsal ${result.passed ? 'passed' : 'FAILED'}; report: ${result.reportFile}\n`,
        markdown: () => readFileSync(result.reportFile, 'utf8'),
        exitCode: result.passed ? 0 : 1,
      },
      ctx.format,
    );
    if (opts.keepRunning) await new Promise(() => undefined);
  });
  program.addCommand(cmd);
}
