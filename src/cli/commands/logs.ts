import { Command, Option } from 'commander';
import { type EndpointFlags, type LoadedConfig, type ResolvedEndpoint } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import {
  LOGS_COPY_DEFAULTS as C,
  LOGS_VERIFY_DEFAULTS as V,
  parseStreamSelector,
  renderLogsCopyMarkdown,
  renderLogsCopyText,
  renderLogsVerifyMarkdown,
  renderLogsVerifyText,
  runLogsCopy,
  verifyLogs,
  type StreamMapping,
} from '../../logs/index.js';
import { createProgress, formatCount } from '../../progress/index.js';
import { parseDuration } from '../../timeutil/index.js';
import { timeRangeFlags } from '../parse.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { contextFor, emit, statePath as stateFile } from '../context.js';
import { INTERRUPTED_EXIT, commandLine, interruptible, reportInterrupted } from '../interrupt.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;

function int(name: string, v: unknown, min: number, max: number): number {
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${s}")`);
  return Number(s);
}

function percent(name: string, v: unknown): number {
  const s = String(v).trim().replace(/%$/, '');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0 || n > 100)
    throw new UsageError(`--${name} must be a percentage from 0 to 100 such as 99.9 (got "${v}")`);
  return n;
}

function endpoint(
  loaded: LoadedConfig,
  name: string,
  flags: EndpointFlags,
  role: 'source' | 'target',
): ResolvedEndpoint {
  const ep = requireEndpoint(loaded, flags, {
    name,
    prefix: role,
    nameFlag: role === 'source' ? 'from' : 'to',
    example: 'http://loki:3100',
    defaultType: 'loki',
  });
  if (loaded.config.endpoints?.[name]?.type && ep.type !== 'loki')
    throw new UsageError(
      `endpoint "${name}" is of type ${ep.type}, not loki`,
      `use --${role === 'source' ? 'from' : 'to'} with a loki endpoint`,
    );
  return ep;
}

function range(opts: Record<string, unknown>, windowMs: number): { startMs: number; endMs: number } {
  if (opts.start === undefined)
    throw new UsageError(
      '--start is required',
      'for example --start 14d, --start 2026-01-01T00:00:00Z or --start 1767225600',
    );
  const { startMs, endMs } = timeRangeFlags(opts.start, opts.end, { now: Date.now() });
  if ((endMs - startMs) / windowMs > 1_000_000)
    throw new UsageError(`--start..--end holds more than a million windows of --window`, 'raise --window');
  return { startMs, endMs };
}

function windowOf(opts: Record<string, unknown>, maxMs: number, why: string): number {
  const ms = parseDuration(String(opts.window), '--window');
  if (ms < 60_000 || ms > maxMs || ms % 1000 !== 0)
    throw new UsageError(`--window must be whole seconds from 1m to ${maxMs / 60_000}m (got "${opts.window}")`, why);
  return ms;
}

function mapping(opts: Record<string, unknown>): StreamMapping {
  const add: Record<string, string> = {};
  for (const kv of (opts.addLabel as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || !LABEL.test(kv.slice(0, i)))
      throw new UsageError(`--add-label "${kv}" is not name=value`, 'for example --add-label cluster=eu1');
    add[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const drop = ((opts.dropLabel as string[] | undefined) ?? []).map((n) => {
    if (!LABEL.test(n)) throw new UsageError(`--drop-label "${n}" is not a label name`);
    return n;
  });
  return { add, drop };
}

function sides(cmd: Command): Command {
  cmd
    .option('--from <endpoint>', 'source Loki: endpoint name in stackshift.yaml', 'old_loki')
    .option('--to <endpoint>', 'target Loki: endpoint name in stackshift.yaml', 'new_loki')
    .option('--selector <logql>', 'stream selector, e.g. \'{namespace=~"prod|staging"}\'', '{job=~".+"}');
  addEndpointOptions(cmd, 'source', 'source Loki');
  addEndpointOptions(cmd, 'target', 'target Loki');
  return cmd;
}

export function registerLogs(program: Command): void {
  const area = new Command('logs').description(
    'Loki to Loki: prove parity of streams and lines, and copy history, resumably',
  );

  const verify = sides(
    new Command('verify')
      .description(
        'streams on both sides, line counts per stream and window (count_over_time), and the lines themselves in a sample of windows; a consistency figure and gate',
      )
      .option('--start <time>', 'start of the range: RFC 3339, Unix seconds or a duration back from now (14d)')
      .option('--end <time>', 'end of the range', 'now')
      .option('--window <duration>', 'count window; the range is widened to whole windows since the epoch', '1h')
      .option(
        '--add-label <name=value>',
        'label the target has on every stream in addition to the source, repeatable',
        collect,
      )
      .option('--drop-label <name>', 'label ignored on both sides, repeatable', collect)
      .option(
        '--ignore-metadata <name>',
        `structured metadata ignored when comparing lines, repeatable (default ${V.ignoreMetadata.join(', ')})`,
        collect,
      )
      .option(
        '--sample <percent>',
        'share of (stream, window) pairs whose lines are compared; windows whose counts differ always are',
        `${V.sampleFraction * 100}%`,
      )
      .option('--seed <n>', 'seed of the window sample', String(V.seed))
      .option('--max-series <n>', "streams per count query: at most the sides' max_query_series", String(V.maxSeries))
      .option('--page-size <n>', "lines per query: at most the sides' max_entries_limit_per_query", String(V.pageSize))
      .option('--concurrency <n>', 'windows compared in parallel', String(V.concurrency))
      .option('--top <n>', 'differences listed', String(V.top))
      .option('--min-consistency <percent>', 'exit 1 below this consistency', '100')
      .option('--report <file.json>', 'write the JSON report here'),
  );
  verify.addHelpText(
    'after',
    `
Examples:
  stackshift logs verify --source-url http://old-loki:3100 --target-url http://new-loki:3100 --start 2d --selector '{namespace="prod"}'
  stackshift logs verify --from old_loki --to new_loki --start 2026-01-01T00:00:00Z --end 2026-01-08T00:00:00Z --sample 10% --min-consistency 99.99 --output markdown
  stackshift logs verify ... --target-tenant prod --add-label cluster=eu1 --report logs-parity.json

Consistency = matched / (expected + unexpected) lines (see the README).
Exit codes: 0 at or above --min-consistency, 1 below it, 2 usage or runtime error.`,
  );
  verify.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const selector = parseStreamSelector(String(opts.selector));
    const windowMs = windowOf(opts, 86_400_000, 'count windows from 1m to 1d');
    const { startMs, endMs } = range(opts, windowMs);
    const sampleText = String(opts.sample).trim();
    const sample = percent('sample', sampleText) / 100;
    const o = {
      selector,
      startMs,
      endMs,
      windowMs,
      mapping: mapping(opts),
      maxSeries: int('max-series', opts.maxSeries, 1, 100_000),
      pageSize: int('page-size', opts.pageSize, 1, 1_000_000),
      sample: { fraction: sample, seed: int('seed', opts.seed, 0, 2 ** 31) },
      ignoreMetadata: (opts.ignoreMetadata as string[] | undefined) ?? V.ignoreMetadata,
      minConsistency: percent('min-consistency', opts.minConsistency),
      top: int('top', opts.top, 0, 100_000),
      concurrency: int('concurrency', opts.concurrency, 1, 64),
    };
    const source = endpoint(ctx.loaded, String(opts.from), endpointFlags(opts, 'source'), 'source');
    const target = endpoint(ctx.loaded, String(opts.to), endpointFlags(opts, 'target'), 'target');
    const progress = createProgress('logs verify', 2, 'sides');
    const report = await verifyLogs({
      ...o,
      source,
      target,
      onProgress: (d, t) => {
        progress.setTotal(t);
        progress.update(d);
      },
    }).finally(() => progress.finish());
    if (opts.report) writeFileAtomic(String(opts.report), JSON.stringify(report, null, 2) + '\n');
    emit(
      {
        document: report,
        text: () => renderLogsVerifyText(report),
        markdown: () => renderLogsVerifyMarkdown(report),
        exitCode: report.consistency.gate.passed ? 0 : 1,
      },
      ctx.format,
    );
  });
  area.addCommand(verify);

  const copy = sides(
    new Command('copy')
      .description(
        'copy every line of the selected streams from the source Loki to the target: paged query_range, pushes under the target limits, units durable in SQLite, resumable after a crash',
      )
      .option('--start <time>', 'start of the range: RFC 3339, Unix seconds or a duration back from now (14d)')
      .option('--end <time>', 'end of the range', 'now')
      .option(
        '--window <duration>',
        "time span of a work unit (at most 1h: Loki refuses lines more than max_chunk_age/2 behind a stream's newest)",
        '1h',
      )
      .option(
        '--page-size <n>',
        "lines per query (at most the source's max_entries_limit_per_query)",
        String(C.pageSize),
      )
      .option('--batch-bytes <n>', 'bytes of lines per push', String(C.batchBytes))
      .option('--batch-lines <n>', 'lines per push', String(C.batchLines))
      .option('--concurrency <n>', 'stream groups copied in parallel', String(C.concurrency))
      .option(
        '--streams-per-unit <n>',
        'streams read by one query (a work unit is such a group x one window)',
        String(C.streamsPerUnit),
      )
      .addOption(new Option('--encoding <kind>', 'push encoding').choices(['protobuf', 'json']).default(C.encoding))
      .option(
        '--state <file>',
        'SQLite state file; re-run with the same file to resume (default: <state.dir>/logs-copy.db or .stackshift/logs-copy.db)',
      ),
  );
  copy.addHelpText(
    'after',
    `
Examples:
  stackshift logs copy --source-url http://old-loki:3100 --target-url http://new-loki:3100 --start 14d --selector '{namespace="prod"}'
  stackshift logs copy --from old_loki --to new_loki --start 2026-01-01T00:00:00Z --end 2026-01-15T00:00:00Z --state ./logs-copy.db
  stackshift logs copy ... --target-tenant prod --concurrency 8 --batch-bytes 524288

The target must accept old lines for the copy: limits_config.reject_old_samples: false (or a larger
reject_old_samples_max_age). Re-running the same command with the same --state resumes; a line pushed twice
is stored once. Exit codes: 0 copied, 2 usage error or a refusal by either side (with the setting to change),
130 stopped by Ctrl-C (partial summary; the same command resumes).`,
  );
  copy.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const selector = parseStreamSelector(String(opts.selector));
    const windowMs = windowOf(
      opts,
      3_600_000,
      "Loki's default max_chunk_age is 2h and it refuses lines more than half of it behind a stream's newest line",
    );
    const { startMs, endMs } = range(opts, windowMs);
    const o = {
      selector,
      startMs,
      endMs,
      windowMs,
      pageSize: int('page-size', opts.pageSize, 1, 1_000_000),
      batchBytes: int('batch-bytes', opts.batchBytes, 1024, 64 << 20),
      batchLines: int('batch-lines', opts.batchLines, 1, 1_000_000),
      concurrency: int('concurrency', opts.concurrency, 1, 64),
      streamsPerUnit: int('streams-per-unit', opts.streamsPerUnit, 1, 100_000),
      encoding: opts.encoding as 'protobuf' | 'json',
    };
    const source = endpoint(ctx.loaded, String(opts.from), endpointFlags(opts, 'source'), 'source');
    const target = endpoint(ctx.loaded, String(opts.to), endpointFlags(opts, 'target'), 'target');
    const statePath = stateFile(opts, ctx.loaded, 'logs-copy.db');
    const progress = createProgress('logs copy', 0, 'units');
    const stop = interruptible();
    const report = await runLogsCopy({
      ...o,
      source,
      target,
      statePath,
      pushDelayMs: process.env.STACKSHIFT_TEST_PUSH_DELAY_MS
        ? Number(process.env.STACKSHIFT_TEST_PUSH_DELAY_MS)
        : undefined,
      onProgress: (p) => {
        progress.setTotal(p.unitsTotal);
        progress.update(p.unitsDone, `${formatCount(p.lines)} lines`);
      },
      signal: stop.signal,
    }).finally(() => {
      progress.finish();
      stop.dispose();
    });
    emit(
      {
        document: report,
        text: () => renderLogsCopyText(report),
        markdown: () => renderLogsCopyMarkdown(report),
        exitCode: report.interrupted ? INTERRUPTED_EXIT : 0,
      },
      ctx.format,
    );
    if (report.interrupted)
      reportInterrupted(
        `${report.units.done} of ${report.units.total} units done; ${statePath} records the run as interrupted`,
        commandLine({ '--state': statePath }),
      );
  });
  area.addCommand(copy);
  program.addCommand(area);
}
