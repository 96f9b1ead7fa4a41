import { Command } from 'commander';
import { resolve } from 'node:path';
import {
  BLOCKS_DEFAULTS as D,
  HOUR_MS,
  defaultBlockDuration,
  renderBlocksMarkdown,
  renderBlocksText,
  runBlocks,
  type BlocksTarget,
} from '../../blocks/index.js';
import { UsageError } from '../../errors/index.js';
import { createProgress, formatCount } from '../../progress/index.js';
import { parseDuration } from '../../timeutil/index.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { intFlag, timeRangeFlags } from '../parse.js';
import { contextFor, emit, statePath as stateFile } from '../context.js';
import { INTERRUPTED_EXIT, commandLine, interruptible, reportInterrupted } from '../interrupt.js';
import { addHistorySelection, parseShard } from './backfill.js';

/** `stackshift backfill blocks`: remote read (raw chunks) -> TSDB blocks on disk, in a Prometheus data dir, or uploaded to Mimir. */
export function backfillBlocksCommand(): Command {
  const cmd = addHistorySelection(new Command('blocks'))
    .description(
      "copy history as TSDB blocks built from the raw chunks of remote read: into a directory, a Prometheus data dir, or Mimir's block upload API; resumable",
    )
    .option('--out <dir>', 'write the blocks into this directory')
    .option(
      '--prometheus-data-dir <dir>',
      "write the blocks into a Prometheus data dir (the server's --storage.tsdb.path); a running server loads them at its next reload",
    )
    .option('--to <endpoint>', 'Mimir endpoint name in stackshift.yaml (block upload API)')
    .option('--tenant <id>', 'Mimir tenant (X-Scope-OrgID); same as --mimir-tenant')
    .option('--staging-dir <dir>', 'Mimir: where blocks are built before upload (default: beside the state file)')
    .option('--keep-staged', 'Mimir: keep the staged blocks after a successful upload')
    .option(
      '--block-duration <duration>',
      'block range, aligned to multiples of it since the epoch (default 2h; 24h, i.e. UTC days, for Mimir)',
    )
    .option(
      '--state <file>',
      'SQLite state file: plan, blocks done; re-run with the same file to resume (default: <state.dir>/backfill-blocks.db)',
    )
    .option(
      '--read-concurrency <n>',
      'blocks built at once (memory grows with series per block times this)',
      String(D.readConcurrency),
    )
    .option('--names-per-query <n>', 'metric names per remote-read query when sharding', String(D.namesPerQuery))
    .option(
      '--source-read-path <path>',
      'remote-read path under the source URL (default /api/v1/read; Mimir /prometheus/api/v1/read)',
    )
    .option(
      '--upload-poll <duration>',
      "Mimir: time between checks of an upload's validation",
      `${D.uploadPollMs / 1000}s`,
    )
    .option(
      '--retries <n>',
      'retries per request for network errors, 5xx and 429 (Retry-After honoured)',
      String(D.retries),
    );
  addEndpointOptions(cmd, 'source', 'source');
  addEndpointOptions(cmd, 'mimir', 'Mimir');
  cmd.addHelpText(
    'after',
    `
Examples:
  stackshift backfill blocks --source-url http://prom:9090 --start 30d --out ./blocks
  stackshift backfill blocks --source-url http://old-prom:9090 --start 2026-01-01T00:00:00Z --end 2026-02-01T00:00:00Z --prometheus-data-dir /var/lib/prometheus
  stackshift backfill blocks --source-url http://prom:9090 --start 90d --mimir-url http://mimir:8080 --tenant t1 --state ./blocks.db

Blocks are built in <dir>/<ULID>.tmp-for-creation, fsynced and renamed: no half-written block is ever visible.
Re-running the same command with the same --state resumes; a block already in place (or already in Mimir, 409) is not written twice.
Exit codes: 0 copied, 2 usage or runtime error, 130 stopped by Ctrl-C (partial summary; the same command resumes).`,
  );
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (!opts.start)
      throw new UsageError(
        '--start is required',
        'for example --start 30d, --start 2026-01-01T00:00:00Z or --start 1767225600',
      );
    const mflags = endpointFlags(opts, 'mimir');
    if (opts.tenant && !mflags.tenant) mflags.tenant = String(opts.tenant);
    const wantsMimir = Boolean(mflags.url || opts.to);
    const chosen = [opts.out, opts.prometheusDataDir, wantsMimir ? 'mimir' : undefined].filter(Boolean);
    if (chosen.length !== 1)
      throw new UsageError(
        chosen.length
          ? 'give only one of --out, --prometheus-data-dir and --mimir-url/--to'
          : 'no target: give --out DIR, --prometheus-data-dir DIR or --mimir-url URL',
        'for example --out ./blocks',
      );
    const statePath = stateFile(opts, ctx.loaded, 'backfill-blocks.db');
    let target: BlocksTarget;
    if (opts.out) target = { kind: 'dir', dir: resolve(String(opts.out)) };
    else if (opts.prometheusDataDir)
      target = { kind: 'prometheus-data-dir', dir: resolve(String(opts.prometheusDataDir)) };
    else {
      const name = String(opts.to ?? 'mimir');
      const endpoint = requireEndpoint(ctx.loaded, mflags, {
        name,
        prefix: 'mimir',
        nameFlag: 'to',
        role: 'Mimir',
        example: 'http://mimir:8080 (the compactor or gateway serving /api/v1/upload/block)',
        defaultType: 'mimir',
      });
      target = { kind: 'mimir', endpoint, stagingDir: resolve(String(opts.stagingDir ?? `${statePath}.staging`)) };
    }
    const { startMs, endMs, relative: relativeRange } = timeRangeFlags(opts.start, opts.end, { now: Date.now() });
    const blockDurationMs = opts.blockDuration
      ? parseDuration(String(opts.blockDuration), '--block-duration')
      : defaultBlockDuration(target.kind);
    const sflags = endpointFlags(opts, 'source');
    const source = requireEndpoint(ctx.loaded, sflags, {
      name: String(opts.from),
      prefix: 'source',
      nameFlag: 'from',
      example: 'http://prometheus:9090',
      defaultType: 'prometheus',
    });
    const progress = createProgress('blocks', 0, 'series-h');
    const stop = interruptible();
    const report = await runBlocks({
      signal: stop.signal,
      source,
      sourceReadPath: opts.sourceReadPath as string | undefined,
      target,
      selectors: (opts.match as string[] | undefined) ?? ['{__name__=~".+"}'],
      startMs,
      endMs,
      relativeRange,
      keepExternalLabels: !opts.dropExternalLabels,
      shard: opts.shard ? parseShard(String(opts.shard)) : undefined,
      blockDurationMs,
      readConcurrency: intFlag('read-concurrency', opts.readConcurrency, 1, 64),
      namesPerQuery: intFlag('names-per-query', opts.namesPerQuery, 1, 100_000),
      statePath,
      retries: intFlag('retries', opts.retries, 0, 100),
      uploadPollMs: parseDuration(String(opts.uploadPoll), '--upload-poll'),
      validationTimeoutMs: D.validationTimeoutMs,
      keepStaged: Boolean(opts.keepStaged),
      onProgress: (p) => {
        progress.setTotal(p.totalMs / HOUR_MS);
        progress.update(p.coveredMs / HOUR_MS, `${formatCount(p.samples)} samples, ${p.unitsDone} blocks`);
      },
    }).finally(() => stop.dispose());
    progress.finish();
    emit(
      {
        document: report,
        text: () => renderBlocksText(report),
        markdown: () => renderBlocksMarkdown(report),
        exitCode: report.interrupted ? INTERRUPTED_EXIT : 0,
      },
      ctx.format,
    );
    if (report.interrupted)
      reportInterrupted(
        `${report.plan.unitsDone} of ${report.plan.units} block ranges planned so far are done; ${statePath} records the run as interrupted`,
        commandLine({ '--state': statePath }),
      );
  });
  return cmd;
}
