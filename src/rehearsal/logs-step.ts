import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LokiClient } from '../clients/index.js';
import { endpointFromUrl, type ResolvedEndpoint } from '../config/index.js';
import {
  LOGS_COPY_DEFAULTS,
  LOGS_VERIFY_DEFAULTS,
  generateLogs,
  parseStreamSelector,
  renderLogsCopyMarkdown,
  renderLogsVerifyMarkdown,
  runLogsCopy,
  verifyLogs,
} from '../logs/index.js';
import { formatCount } from '../progress/index.js';
import { formatPercent } from '../verify/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

interface DoubleLike {
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Logs, old Loki -> new Loki: generated streams pushed into the "old" tenant, `logs copy` into the "new"
 * one, `logs verify` over the range. A real Loki when STACKSHIFT_REHEARSAL_LOKI_URL (or
 * STACKSHIFT_TEST_LOKI_URL) names one; otherwise the contract double of the test suite (Loki is AGPL and
 * cannot be installed here), and the summary says so.
 */
export const logsStep: RehearsalStep = {
  id: 'logs',
  title: 'Copy and verify logs, old Loki -> new Loki (stackshift logs copy, logs verify)',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    let url = process.env.STACKSHIFT_REHEARSAL_LOKI_URL ?? process.env.STACKSHIFT_TEST_LOKI_URL;
    let double: DoubleLike | undefined;
    if (!url) {
      const file = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'doubles', 'loki-double.js');
      if (!existsSync(file))
        return {
          status: 'skipped',
          summary:
            'no Loki: set STACKSHIFT_REHEARSAL_LOKI_URL, or run from a repository build that has the contract double',
        };
      const mod = (await import(file)) as { LokiDouble: new () => DoubleLike };
      double = new mod.LokiDouble();
      url = await double.start();
    }
    const what = double
      ? 'the Loki contract double (test/doubles/loki-double.ts; no real Loki here)'
      : `the real Loki at ${url}`;
    const id = `${process.pid}-${Date.now() % 100000}`;
    const source: ResolvedEndpoint = endpointFromUrl(url, 'loki', { tenant: `rehearsal-old-${id}` });
    const target: ResolvedEndpoint = endpointFromUrl(url, 'loki', { tenant: `rehearsal-new-${id}` });
    try {
      const data = generateLogs({ streams: 40, linesPerStream: 500, hours: 3, seed: ctx.opts.seed });
      const c = new LokiClient(source);
      try {
        for (const s of data.streams) await c.push([s]);
      } finally {
        await c.close();
      }
      const selector = parseStreamSelector('{job="stackshift-gen"}');
      const copy = await runLogsCopy({
        ...LOGS_COPY_DEFAULTS,
        source,
        target,
        selector,
        startMs: data.startMs,
        endMs: data.endMs,
        statePath: join(ctx.workDir, 'logs-copy.db'),
      });
      const v = await verifyLogs({
        ...LOGS_VERIFY_DEFAULTS,
        source,
        target,
        selector,
        startMs: data.startMs,
        endMs: data.endMs,
        mapping: { add: {}, drop: [] },
        sample: { fraction: 0.25, seed: 1 },
        minConsistency: 100,
      });
      ctx.results.logs = {
        url,
        double: Boolean(double),
        lines: data.lines,
        copied: copy.lines,
        consistencyPercent: v.consistency.percent,
      };
      const ok =
        copy.complete && copy.lines === data.lines && v.consistency.percent === 100 && v.lines.expected === data.lines;
      return {
        status: ok ? 'passed' : 'failed',
        summary: `against ${what}: ${formatCount(copy.lines)} of ${formatCount(data.lines)} lines in ${copy.streams} streams copied at ${formatCount(copy.thisRun.linesPerSecond)} lines/s; verify ${formatPercent(v.consistency.percent)} (${v.samples.windows} of ${v.range.windows} windows compared line by line)`,
        details: [
          `Run against ${what}.`,
          '',
          renderLogsCopyMarkdown(copy).replace(/^## /m, '#### '),
          renderLogsVerifyMarkdown(v).replace(/^## /m, '#### '),
        ].join('\n'),
        data: {
          double: Boolean(double),
          lines: data.lines,
          copied: copy.lines,
          linesPerSecond: copy.thisRun.linesPerSecond,
          consistencyPercent: v.consistency.percent,
        },
      };
    } finally {
      await double?.stop();
    }
  },
};
