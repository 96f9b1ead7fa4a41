import { Command, Option } from 'commander';
import { JaegerClient, TempoClient, type JaegerApi } from '../../clients/index.js';
import {
  resolveEndpoint,
  type EndpointFlags,
  type EndpointType,
  type LoadedConfig,
  type ResolvedEndpoint,
} from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { HttpClient } from '../../http/index.js';
import { createProgress, formatCount } from '../../progress/index.js';
import { tryParseDuration } from '../../timeutil/index.js';
import { timeRangeFlags } from '../parse.js';
import {
  copyTraces,
  JaegerStore,
  renderCopyTracesMarkdown,
  renderCopyTracesText,
  renderVerifyTracesMarkdown,
  renderVerifyTracesText,
  TempoStore,
  TRACES_COPY_DEFAULTS as D,
  verifyTraces,
  type Sample,
  type TraceStore,
} from '../../traces/index.js';
import { OtlpTraceExporter } from '../../wire/index.js';
import { contextFor, emit, statePath as stateFile } from '../context.js';
import { INTERRUPTED_EXIT, commandLine, interruptible, reportInterrupted } from '../interrupt.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';

function int(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${s}")`);
  return Number(s);
}

function parseSample(v: string): Sample {
  const s = v.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct && Number(pct[1]) > 0 && Number(pct[1]) <= 100) return { kind: 'fraction', fraction: Number(pct[1]) / 100 };
  if (/^\d+$/.test(s) && Number(s) > 0) return { kind: 'count', n: Number(s) };
  throw new UsageError(`--sample must be a number of traces (500) or a percentage (5%) (got "${v}")`);
}

function api(v: unknown, flag: string): JaegerApi | undefined {
  if (v === undefined || v === 'auto') return undefined;
  if (v === 'v1' || v === 'v3') return v;
  throw new UsageError(`${flag} must be v1, v3 or auto (got "${v}")`);
}

function endpoint(
  loaded: LoadedConfig,
  name: string,
  flags: EndpointFlags,
  type: EndpointType,
  flag: string,
  example: string,
): ResolvedEndpoint {
  const prefix = flag.replace(/^--/, '').replace(/-url$/, '');
  return requireEndpoint(loaded, flags, {
    name,
    prefix,
    nameFlag: type === 'jaeger' ? 'from' : 'to',
    role: type,
    example,
    defaultType: type,
  });
}

/** --start/--end to µs, with the range check every traces command makes. */
function window(opts: Record<string, unknown>): { startUs: bigint; endUs: bigint; relative: boolean } {
  if (!opts.start)
    throw new UsageError(
      '--start is required',
      'for example --start 7d, --start 2026-01-01T00:00:00Z or --start 1767225600',
    );
  const { startMs, endMs, relative } = timeRangeFlags(opts.start, opts.end, { now: Date.now() });
  return { startUs: BigInt(startMs) * 1000n, endUs: BigInt(endMs) * 1000n, relative };
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--from <endpoint>', 'source Jaeger endpoint name in stackshift.yaml', 'jaeger')
    .option('--start <time>', 'start of the window: RFC 3339, Unix seconds or a duration back from now (7d)')
    .option('--end <time>', 'end of the window (default: now)', 'now')
    .option('--service <name...>', 'only these services (default: every service the source lists)')
    .addOption(
      new Option(
        '--jaeger-api <api>',
        'source Jaeger API: v3 (api_v3), v1 (internal JSON), auto (probe: v3 first)',
      ).default('auto'),
    )
    .option(
      '--no-raw',
      'let Jaeger run its adjusters (clock-skew etc.); the comparison then tolerates whole-span shifts',
    )
    .option('--page-limit <n>', 'traces per search request (windows split when a page is full)', String(D.pageLimit));
}

async function openJaeger(
  ep: ResolvedEndpoint,
  apiChoice: JaegerApi | undefined,
  raw: boolean,
  pageLimit: number,
  connections: number,
  signal?: AbortSignal,
): Promise<JaegerStore> {
  const client = new JaegerClient(new HttpClient(ep, { connections, signal }));
  try {
    return await JaegerStore.open(client, { api: apiChoice, raw, pageLimit, windowOnGet: true });
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** The target to read: Tempo (--tempo-url / --to) or a second Jaeger (--target-jaeger-url). */
async function openTarget(
  opts: Record<string, unknown>,
  loaded: LoadedConfig,
  raw: boolean,
  pageLimit: number,
  connections: number,
  required: boolean,
  signal?: AbortSignal,
): Promise<TraceStore | undefined> {
  const tj = endpointFlags(opts, 'target-jaeger');
  const tf = endpointFlags(opts, 'tempo');
  if (tj.url && tf.url) throw new UsageError('give either --tempo-url or --target-jaeger-url, not both');
  if (tj.url)
    return openJaeger(
      resolveEndpoint(loaded, 'target-jaeger', tj, 'jaeger'),
      api(opts.targetJaegerApi, '--target-jaeger-api'),
      raw,
      pageLimit,
      connections,
      signal,
    );
  if (!tf.url && !loaded.config.endpoints?.[String(opts.to)]) {
    if (!required) return undefined;
    throw new UsageError(
      'no target: pass --tempo-url http://tempo:3200 or --target-jaeger-url http://jaeger2:16686 (or --to <endpoint in stackshift.yaml>)',
    );
  }
  const client = new TempoClient(
    new HttpClient(resolveEndpoint(loaded, String(opts.to), tf, 'tempo'), { connections, signal }),
  );
  try {
    return await TempoStore.open(client, { v2: Boolean(opts.tempoApiV2), pageLimit });
  } catch (e) {
    await client.close();
    throw e;
  }
}

function targetOptions(cmd: Command): Command {
  cmd
    .option('--to <endpoint>', 'target Tempo endpoint name in stackshift.yaml', 'tempo')
    .option('--tempo-api-v2', 'read Tempo through /api/v2/traces/<id> (Tempo 2.6+) instead of /api/traces/<id>')
    .addOption(new Option('--target-jaeger-api <api>', 'API of --target-jaeger-url: v3, v1 or auto').default('auto'));
  addEndpointOptions(cmd, 'tempo', 'Tempo query');
  addEndpointOptions(cmd, 'target-jaeger', 'target Jaeger query');
  return cmd;
}

export function registerTraces(program: Command): void {
  const area = new Command('traces').description(
    'Jaeger -> Tempo: prove trace parity by ID and copy trace history over OTLP',
  );

  const verify = commonOptions(
    new Command('verify').description(
      'fetch every trace of the source window (or a sample) from the target by ID and compare span by span: complete / partial / missing / different, with a consistency figure and gate',
    ),
  );
  targetOptions(verify)
    .option(
      '--sample <n|p%>',
      'verify a sample of traces: a number (500) or a percentage (5%), chosen by a seeded hash of the trace ID',
    )
    .option('--seed <n>', 'seed of the sample', '1')
    .option('--min-consistency <percent>', 'exit 1 below this consistency', '100')
    .option('--reverse', "also list the target's traces in the window and report those the source lacks")
    .option('--concurrency <n>', 'trace-by-ID requests in flight', '8')
    .option('--top <n>', 'differing traces detailed in the report', '20');
  addEndpointOptions(verify, 'jaeger', 'source Jaeger query');
  verify.addHelpText(
    'after',
    `
Examples:
  stackshift traces verify --jaeger-url http://jaeger:16686 --tempo-url http://tempo:3200 --start 7d --min-consistency 99.9
  stackshift traces verify --jaeger-url http://jaeger:16686 --target-jaeger-url http://jaeger2:16686 --start 2h --jaeger-api v1
  stackshift traces verify --jaeger-url http://jaeger:16686 --tempo-url http://tempo:3200 --tempo-tenant t1 --start 24h --sample 5% -o markdown
Exit codes: 0 consistency at or above --min-consistency, 1 below it, 2 usage or runtime error.`,
  );
  verify.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const w = window(opts);
    const sample = opts.sample ? parseSample(String(opts.sample)) : undefined;
    const minConsistency = Number(opts.minConsistency);
    if (!(minConsistency >= 0 && minConsistency <= 100))
      throw new UsageError(`--min-consistency must be a percentage from 0 to 100 (got "${opts.minConsistency}")`);
    const concurrency = int('concurrency', opts.concurrency, 1, 256);
    const pageLimit = int('page-limit', opts.pageLimit, 1, 100_000);
    const raw = opts.raw !== false;
    const srcEp = endpoint(
      ctx.loaded,
      String(opts.from),
      endpointFlags(opts, 'jaeger'),
      'jaeger',
      '--jaeger-url',
      'http://jaeger:16686',
    );
    const source = await openJaeger(srcEp, api(opts.jaegerApi, '--jaeger-api'), raw, pageLimit, concurrency + 2);
    let target: TraceStore | undefined;
    try {
      target = await openTarget(opts, ctx.loaded, raw, pageLimit, concurrency + 2, true);
      const progress = createProgress('traces verify', 0, 'traces');
      const report = await verifyTraces({
        source,
        target: target!,
        startUs: w.startUs,
        endUs: w.endUs,
        services: opts.service as string[] | undefined,
        sample,
        seed: int('seed', opts.seed, 0),
        concurrency,
        compare: { clockSkew: !raw },
        minConsistency,
        reverse: Boolean(opts.reverse),
        top: int('top', opts.top, 0, 100_000),
        onProgress: (p) => progress.update(p.traces, `${formatCount(p.spans)} spans`),
      });
      progress.finish();
      emit(
        {
          document: report,
          text: () => renderVerifyTracesText(report),
          markdown: () => renderVerifyTracesMarkdown(report),
          exitCode: report.consistency.gate?.passed === false ? 1 : 0,
        },
        ctx.format,
      );
    } finally {
      await Promise.all([source.close(), target?.close()]);
    }
  });

  const copy = commonOptions(
    new Command('copy').description(
      'copy every trace of the source window to an OTLP/HTTP receiver (Tempo distributor :4318), resumable, rate-limited, duplicate-safe',
    ),
  );
  copy
    .option(
      '--otlp-url <url>',
      'OTLP/HTTP receiver base URL (POST <url>/v1/traces), e.g. http://tempo-distributor:4318',
    )
    .option('--otlp-tenant <id>', 'tenant sent as X-Scope-OrgID on the OTLP requests')
    .option('--otlp-header <Name=value...>', 'extra header on the OTLP requests')
    .option(
      '--state <file>',
      'SQLite state: plan, units, copied trace IDs; re-run with the same file to resume (default: <state.dir>/traces-copy.db)',
    )
    .option('--window <duration>', 'time window of one work unit', '1h')
    .option('--batch-spans <n>', 'spans per OTLP request (a trace is never split)', String(D.batchSpans))
    .option('--concurrency <n>', 'work units in flight', String(D.concurrency))
    .option('--rate <spans/s>', 'limit spans sent per second')
    .option(
      '--retries <n>',
      'retries per request (OTLP: 429/502/503/504 and network errors, Retry-After honoured)',
      String(D.retries),
    )
    .option('--no-gzip', 'send uncompressed protobuf');
  targetOptions(copy);
  addEndpointOptions(copy, 'jaeger', 'source Jaeger query');
  copy.addHelpText(
    'after',
    `
Examples:
  stackshift traces copy --jaeger-url http://jaeger:16686 --otlp-url http://tempo-distributor:4318 --start 7d --state ./traces-copy.db
  stackshift traces copy --jaeger-url http://jaeger:16686 --otlp-url http://tempo:4318 --otlp-tenant t1 --start 2026-01-01T00:00:00Z --end 2026-01-08T00:00:00Z --rate 20000
  stackshift traces copy ... --tempo-url http://tempo:3200   # reads back traces in flight at an interruption instead of re-sending them
Re-running the same command with the same --state resumes; each trace is sent once (the one batch on the wire at a kill is read back or re-sent).
Exit codes: 0 copied, 1 copied but the receiver refused some spans, 2 usage or runtime error, 130 stopped by Ctrl-C (the same command resumes).`,
  );
  copy.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const w = window(opts);
    if (!opts.otlpUrl)
      throw new UsageError(
        '--otlp-url is required',
        'for example --otlp-url http://tempo-distributor:4318 (the path /v1/traces is added)',
      );
    const windowMs = tryParseDuration(String(opts.window));
    if (windowMs === undefined || windowMs < 1000)
      throw new UsageError(`--window must be a duration of at least 1s such as 1h (got "${opts.window}")`);
    const concurrency = int('concurrency', opts.concurrency, 1, 64);
    const pageLimit = int('page-limit', opts.pageLimit, 1, 100_000);
    const batchSpans = int('batch-spans', opts.batchSpans, 1, 1_000_000);
    const retries = int('retries', opts.retries, 0, 100);
    const rate = opts.rate === undefined ? undefined : int('rate', opts.rate, 1);
    const raw = opts.raw !== false;
    const srcEp = endpoint(
      ctx.loaded,
      String(opts.from),
      endpointFlags(opts, 'jaeger'),
      'jaeger',
      '--jaeger-url',
      'http://jaeger:16686',
    );
    const otlpEp = resolveEndpoint(
      ctx.loaded,
      'otlp',
      {
        url: String(opts.otlpUrl),
        tenant: opts.otlpTenant as string | undefined,
        header: opts.otlpHeader as string[] | undefined,
      },
      'tempo',
    );
    const stop = interruptible();
    const exporterHttp = new HttpClient(
      { ...otlpEp, retries },
      { connections: concurrency + 1, signal: stop.inFlight },
    );
    let source: JaegerStore | undefined;
    let readback: TraceStore | undefined;
    try {
      source = await openJaeger(
        srcEp,
        api(opts.jaegerApi, '--jaeger-api'),
        raw,
        pageLimit,
        concurrency + 2,
        stop.inFlight,
      );
      readback = await openTarget(opts, ctx.loaded, true, pageLimit, 2, false, stop.inFlight);
      const progress = createProgress('traces copy', 0, 'units');
      const report = await copyTraces({
        source,
        exporter: new OtlpTraceExporter(exporterHttp, { gzip: opts.gzip !== false }),
        readback,
        startUs: w.startUs,
        endUs: w.endUs,
        relativeRange: w.relative,
        services: opts.service as string[] | undefined,
        windowUs: BigInt(windowMs) * 1000n,
        batchSpans,
        concurrency,
        rate,
        statePath: stateFile(opts, ctx.loaded, 'traces-copy.db'),
        sourceId: srcEp.url,
        targetId: `${otlpEp.url}${otlpEp.tenant ? ` tenant ${otlpEp.tenant}` : ''}`,
        onProgress: (p) => {
          progress.setTotal(p.units);
          progress.update(p.unitsDone, `${formatCount(p.traces)} traces, ${formatCount(p.spans)} spans`);
        },
        signal: stop.signal,
      });
      progress.finish();
      stop.dispose();
      const exitCode = report.interrupted
        ? INTERRUPTED_EXIT
        : report.totals.rejectedSpans || report.totals.rejectedTraces
          ? 1
          : 0;
      emit(
        {
          document: report,
          text: () => renderCopyTracesText(report),
          markdown: () => renderCopyTracesMarkdown(report),
          exitCode,
        },
        ctx.format,
      );
      if (report.interrupted)
        reportInterrupted(
          `${report.plan.unitsDone} of ${report.plan.units} units done; ${report.state} records the run as interrupted`,
          commandLine({ '--state': report.state }),
        );
    } finally {
      stop.dispose();
      await Promise.all([source?.close(), readback?.close(), exporterHttp.close()]);
    }
  });

  area.addCommand(verify);
  area.addCommand(copy);
  program.addCommand(area);
}
