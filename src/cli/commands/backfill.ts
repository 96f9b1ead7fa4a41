import { Command, Option } from 'commander';
import {
  BACKFILL_DEFAULTS as D,
  receiverDefaults,
  receiverKind,
  renderBackfillMarkdown,
  renderBackfillText,
  runBackfill,
  targetPaths,
  type Shard,
} from '../../backfill/index.js';
import { UsageError } from '../../errors/index.js';
import { createProgress, formatCount } from '../../progress/index.js';
import { durationFlag, intFlag as int, rateFlag as optRate, timeRangeFlags } from '../parse.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { contextFor, emit, statePath as stateFile } from '../context.js';
import { INTERRUPTED_EXIT, commandLine, interruptible, reportInterrupted } from '../interrupt.js';
import { backfillBlocksCommand } from './backfill-blocks.js';

/**
 * What history a copy takes, the same for `backfill metrics` and `backfill blocks`: the source, the range, the
 * selectors, the external labels and the shard.
 */
export function addHistorySelection(cmd: Command): Command {
  return cmd
    .option('--from <endpoint>', 'source endpoint name in stackshift.yaml', 'prometheus')
    .option('--start <time>', 'start of the range: RFC 3339, Unix seconds or a duration back from now (30d)')
    .option('--end <time>', 'end of the range, exclusive (default: now)', 'now')
    .option('--match <selector...>', 'series selector(s), e.g. \'{job=~"api|db"}\' (default: every series)')
    .addOption(
      new Option(
        '--keep-external-labels',
        "copy the source's external labels onto every series (default: as Prometheus remote_write does)",
      ).conflicts('dropExternalLabels'),
    )
    .option('--drop-external-labels', "drop the source's external labels")
    .option('--shard <i/N>', 'take only shard i of N (metric names split by hash), for N parallel processes');
}

export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
    throw new UsageError(
      `--shard must be i/N with 0 <= i < N, such as 0/4 (got "${v}")`,
      'in a Kubernetes Indexed Job use --shard $(JOB_COMPLETION_INDEX)/<completions>',
    );
  return { index: Number(m[1]), count: Number(m[2]) };
}

export function registerBackfill(program: Command): void {
  const area = new Command('backfill').description('copy history between metric stores, exactly and resumably');
  const cmd = addHistorySelection(new Command('metrics'))
    .description(
      'copy every raw sample from Prometheus/Mimir remote read into a remote-write target (Mimir, Prometheus), resumable, with a summary',
    )
    .option('--to <endpoint>', 'target endpoint name in stackshift.yaml', 'mimir')
    .option('--tenant <id>', 'target tenant (X-Scope-OrgID); same as --target-tenant')
    .option(
      '--state <file>',
      'SQLite state file: plan, units, counts; re-run with the same file to resume (default: <state.dir>/backfill.db or .stackshift/backfill.db)',
    )
    .option('--read-concurrency <n>', 'remote-read queries in flight', String(D.readConcurrency))
    .option('--write-concurrency <n>', 'remote-write requests in flight', String(D.writeConcurrency))
    .option('--batch-samples <n>', 'samples per remote-write request', String(D.batchSamples))
    .option('--read-rate <samples/s>', 'limit samples read per second (e.g. 200k)')
    .option(
      '--write-rate <samples/s>',
      'limit samples written per second (e.g. 100k; Mimir default ingestion_rate is 10k/s per tenant)',
    )
    .option(
      '--window <duration>',
      'initial time window of a work unit (adapted as the copy runs; default 30m for a Prometheus receiver, else 24h)',
    )
    .option('--max-window <duration>', 'largest work-unit window (default 1h for a Prometheus receiver, else 7d)')
    .option(
      '--unit-samples <n>',
      'target samples per work unit (windows grow or shrink towards it)',
      String(D.unitSamples),
    )
    .option('--names-per-unit <n>', 'metric names per work unit', String(D.namesPerGroup))
    .addOption(
      new Option('--response-type <type>', 'remote-read response type')
        .choices(['streamed', 'samples'])
        .default(D.responseType),
    )
    .option(
      '--source-read-path <path>',
      'remote-read path under the source URL (default /api/v1/read; Mimir /prometheus/api/v1/read)',
    )
    .option(
      '--target-read-url <url>',
      'Prometheus API of the target for the preflight read-back (default: derived from the target URL)',
    )
    .option(
      '--remote-write-v2',
      'send remote write 2.0 (io.prometheus.write.v2.Request); the *-Written response headers are checked',
    )
    .option(
      '--retries <n>',
      'retries per request for network errors, 5xx and 429 (Retry-After honoured)',
      String(D.retries),
    )
    .option('--no-preflight', 'skip the probe sample written at the oldest timestamp and read back')
    .option('--no-readback', 'do not read each unit back from the target (for write-only targets)')
    .option('--dry-run', 'estimate series, samples and duration from the source; write nothing');
  addEndpointOptions(cmd, 'source', 'source');
  addEndpointOptions(cmd, 'target', 'target');
  cmd.addHelpText(
    'after',
    `
Examples:
  stackshift backfill metrics --from prometheus --to mimir --start 30d --match '{job=~"api|db"}'
  stackshift backfill metrics --source-url http://prom:9090 --target-url http://mimir/api/v1/push --tenant t1 --state ./backfill.db --start 30d
  stackshift backfill metrics --source-url http://prom:9090 --target-url http://prom2:9090/api/v1/write --start 2026-01-01T00:00:00Z --end 2026-02-01T00:00:00Z
  stackshift backfill metrics --source-url http://prom:9090 --start 7d --dry-run
  stackshift backfill metrics ... --shard 2/8           # one of 8 parallel processes (docs/backfill-indexed-job.yaml)

Re-running the same command with the same --state resumes; samples re-sent after a crash are idempotent.
Exit codes: 0 copied, 1 copied but the target refused some samples (see the summary), 2 usage or runtime error,
130 stopped by Ctrl-C (units in flight get 10s; partial summary and the command that resumes; a second Ctrl-C exits at once).`,
  );
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (!opts.start)
      throw new UsageError(
        '--start is required',
        'for example --start 30d, --start 2026-01-01T00:00:00Z or --start 1767225600',
      );
    const { startMs, endMs, relative: relativeRange } = timeRangeFlags(opts.start, opts.end, { now: Date.now() });
    const selectors = (opts.match as string[] | undefined) ?? ['{__name__=~".+"}'];
    const readConcurrency = int('read-concurrency', opts.readConcurrency, 1, 64);
    const writeConcurrency = int('write-concurrency', opts.writeConcurrency, 1, 256);
    const batchSamples = int('batch-samples', opts.batchSamples, 1, 10_000_000);
    const unitSamples = int('unit-samples', opts.unitSamples, 1000);
    const namesPerGroup = int('names-per-unit', opts.namesPerUnit, 1, 10_000);
    const retries = int('retries', opts.retries, 0, 100);
    const shard = opts.shard ? parseShard(String(opts.shard)) : undefined;
    const readRate = optRate('read-rate', opts.readRate);
    const writeRate = optRate('write-rate', opts.writeRate);
    const sflags = endpointFlags(opts, 'source');
    const tflags = endpointFlags(opts, 'target');
    if (opts.tenant && !tflags.tenant) tflags.tenant = String(opts.tenant);
    const source = requireEndpoint(ctx.loaded, sflags, {
      name: String(opts.from),
      prefix: 'source',
      nameFlag: 'from',
      example: 'http://prometheus:9090',
      defaultType: 'prometheus',
    });
    const target = requireEndpoint(ctx.loaded, tflags, {
      name: String(opts.to),
      prefix: 'target',
      nameFlag: 'to',
      example: 'http://mimir/api/v1/push',
      defaultType: 'mimir',
    });
    // windows safe for the receiver kind unless given (a Prometheus receiver loses out-of-order appends otherwise)
    const kindDefaults = receiverDefaults(receiverKind(target, targetPaths(target).path));
    const windowMs =
      opts.window === undefined ? kindDefaults.windowMs : durationFlag('window', opts.window, { min: 60_000 });
    const maxWindowMs =
      opts.maxWindow === undefined
        ? Math.max(windowMs, kindDefaults.maxWindowMs)
        : durationFlag('max-window', opts.maxWindow, { min: 60_000 });
    if (windowMs < 60_000 || maxWindowMs < windowMs)
      throw new UsageError(
        `--window must be at least 1m and at most --max-window (got ${opts.window ?? `${windowMs / 60_000}m`}, ${opts.maxWindow ?? `${maxWindowMs / 60_000}m`})`,
      );
    const statePath = stateFile(opts, ctx.loaded, 'backfill.db');
    const progress = createProgress('backfill', 0, 'series-h');
    let lastSamples = 0;
    let lastT = Date.now();
    let rate = 0;
    const stop = interruptible();
    const report = await runBackfill({
      signal: stop.signal,
      source,
      sourceReadPath: opts.sourceReadPath as string | undefined,
      target,
      targetReadUrl: opts.targetReadUrl as string | undefined,
      selectors,
      startMs,
      endMs,
      relativeRange,
      keepExternalLabels: !opts.dropExternalLabels,
      shard,
      remoteWriteVersion: opts.remoteWriteV2 ? '2.0' : '1.0',
      responseType: opts.responseType as 'streamed' | 'samples',
      readConcurrency,
      writeConcurrency,
      batchSamples,
      readRate,
      writeRate,
      windowMs,
      minWindowMs: D.minWindowMs,
      maxWindowMs,
      unitSamples,
      namesPerGroup,
      statePath,
      dryRun: Boolean(opts.dryRun),
      preflight: opts.preflight !== false,
      readBack: opts.readback !== false,
      retries,
      onProgress: (p) => {
        const t = Date.now();
        if (t - lastT >= 1000) {
          rate = ((p.samples - lastSamples) * 1000) / (t - lastT);
          lastSamples = p.samples;
          lastT = t;
        }
        progress.setTotal(p.totalMs / 3_600_000);
        progress.update(p.coveredMs / 3_600_000, `${formatCount(p.samples)} samples, ${formatCount(rate)} samples/s`);
      },
    }).finally(() => stop.dispose());
    progress.finish();
    emit(
      {
        document: report,
        text: () => renderBackfillText(report),
        markdown: () => renderBackfillMarkdown(report),
        exitCode: report.interrupted ? INTERRUPTED_EXIT : report.rejects.length ? 1 : 0,
      },
      ctx.format,
    );
    if (report.interrupted)
      reportInterrupted(
        `${report.plan.unitsDone} of ${report.plan.units} units planned so far are done; ${statePath} records the run as interrupted`,
        commandLine({ '--state': statePath }),
      );
  });
  // addCommand does not inherit the program's settings: keep errors as exceptions (exit 2), not process.exit(1)
  area.addCommand(cmd);
  area.addCommand(backfillBlocksCommand());
  program.addCommand(area);
}
