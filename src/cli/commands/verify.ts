// Why one file of about 430 lines: verify metrics and verify queries share the two-sided endpoint set-up, the report
// writing and the sample parsing at the top; what is left per command is its flags.
import { Command, Option } from 'commander';
import { resolveEndpoint, type EndpointFlags, type LoadedConfig } from '../../config/index.js';
import type { EndpointType } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import { createProgress } from '../../progress/index.js';
import { parseSelector } from '../../promql/index.js';
import {
  collect,
  durationFlag,
  increasePercentFlag,
  intFlag as int,
  keyValueFlag,
  percentFlag as percent,
  timeFlag,
  timeRangeFlags,
} from '../parse.js';
import {
  openSide,
  verifyMetrics,
  checkVerifyWindow,
  queryConnections,
  metricsConnections,
  DEFAULT_EXCLUDED_SERIES,
  renderMetricsText,
  renderMetricsMarkdown,
  verifyQueries,
  renderQueriesText,
  renderQueriesMarkdown,
  loadQuerySources,
  type LabelMapping,
  type OpenedSide,
} from '../../verify/index.js';
import { addEndpointOptions, endpointFlags, requireEndpoint } from '../endpoint-options.js';
import { contextFor, emit } from '../context.js';
import { INTERRUPTED_EXIT, commandLine, interruptible, reportInterrupted, type Interrupt } from '../interrupt.js';
import { correlationsCommand } from './lgtm.js';

function tolerance(v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1)
    throw new UsageError(
      `--tolerance must be a relative tolerance from 0 (bit-exact) to below 1, such as 1e-9 (got "${v}")`,
    );
  return n;
}

/** `10%` -> fraction, `5000` -> number of series. */
export function parseSample(v: string): { fraction?: number; count?: number } {
  const s = v.trim();
  const p = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (p && Number(p[1]) > 0 && Number(p[1]) <= 100) return { fraction: Number(p[1]) / 100 };
  if (/^\d+$/.test(s) && Number(s) > 0) return { count: Number(s) };
  throw new UsageError(`--sample must be a percentage of series (5%) or a number of series (2000) (got "${v}")`);
}

function mapping(opts: Record<string, unknown>): LabelMapping {
  const add = keyValueFlag('add-label', opts.addLabel, {
    keyPattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/,
    example: 'cluster=eu1',
  });
  const drop = ((opts.dropLabel as string[] | undefined) ?? []).map((n) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) throw new UsageError(`--drop-label "${n}" is not a label name`);
    return n;
  });
  return { add, drop };
}

function endpointFor(
  loaded: LoadedConfig,
  name: string,
  flags: EndpointFlags,
  role: 'source' | 'target',
  type: string | undefined,
): ReturnType<typeof resolveEndpoint> {
  const inConfig = Boolean(loaded.config.endpoints?.[name]);
  const ep = requireEndpoint(loaded, flags, {
    name,
    prefix: role,
    nameFlag: role === 'source' ? 'from' : 'to',
    example: 'http://host:9090',
    defaultType: 'prometheus',
  });
  if (type) {
    if (type !== 'prometheus' && type !== 'mimir')
      throw new UsageError(`--${role}-type must be prometheus or mimir (got "${type}")`);
    ep.type = type as EndpointType;
  } else if (!inConfig) {
    // an endpoint given only by URL is a Prometheus unless --<role>-type says otherwise (the default name "mimir" must not imply it)
    ep.type = 'prometheus';
  }
  return ep;
}

function sidesOptions(cmd: Command): Command {
  cmd
    .option('--from <endpoint>', 'source endpoint name in stackshift.yaml', 'prometheus')
    .option('--to <endpoint>', 'target endpoint name in stackshift.yaml', 'mimir')
    .addOption(
      new Option('--source-type <type>', 'kind of the source when given by URL (default prometheus)').choices([
        'prometheus',
        'mimir',
      ]),
    )
    .addOption(
      new Option(
        '--target-type <type>',
        'kind of the target when given by URL (default prometheus; mimir: API and remote read under /prometheus)',
      ).choices(['prometheus', 'mimir']),
    );
  addEndpointOptions(cmd, 'source', 'source');
  addEndpointOptions(cmd, 'target', 'target');
  return cmd;
}

async function openBoth(
  ctx: ReturnType<typeof contextFor>,
  opts: Record<string, unknown>,
  connections: number,
  signal?: AbortSignal,
): Promise<[OpenedSide, OpenedSide]> {
  const s = endpointFor(
    ctx.loaded,
    String(opts.from),
    endpointFlags(opts, 'source'),
    'source',
    opts.sourceType as string | undefined,
  );
  const t = endpointFor(
    ctx.loaded,
    String(opts.to),
    endpointFlags(opts, 'target'),
    'target',
    opts.targetType as string | undefined,
  );
  const source = await openSide(s, { connections, signal });
  try {
    return [source, await openSide(t, { connections, signal })];
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** Runs a comparison on both sides, writes its JSON report where --report says, and closes both sides however it ends. */
async function compareSides<R>(
  ctx: ReturnType<typeof contextFor>,
  opts: Record<string, unknown>,
  connections: number,
  run: (source: OpenedSide, target: OpenedSide) => Promise<R>,
  stop?: Interrupt,
): Promise<R> {
  const [source, target] = await openBoth(ctx, opts, connections, stop?.inFlight);
  try {
    const report = await run(source, target);
    if (opts.report) writeFileAtomic(String(opts.report), JSON.stringify(report, null, 2) + '\n');
    return report;
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

export function registerVerify(program: Command): void {
  const area = new Command('verify').description(
    'prove parity between two metric stores: series, raw samples and query results, with a consistency gate',
  );

  const metrics = sidesOptions(
    new Command('metrics')
      .description(
        'series parity (series API) and raw-sample parity (remote read) over a window: the consistency figure, the counts behind it and the top discrepancies',
      )
      .option('--start <time>', 'start of the window: RFC 3339, Unix seconds or a duration back from now', '1d')
      .option('--end <time>', 'end of the window, exclusive', 'now')
      .option('--match <selector>', 'series selector, repeatable (default: every series)', collect)
      .option(
        '--add-label <name=value>',
        'label the target has on every series in addition to the source (e.g. cluster=eu1), repeatable',
        collect,
      )
      .option('--drop-label <name>', 'label ignored on both sides (e.g. an HA replica label), repeatable', collect)
      .option('--drop-external-labels', "ignore the source's external labels (when the copy did not keep them)")
      .option('--tolerance <relative>', 'relative tolerance for sample values (0 = bit-exact)', '0')
      .option('--series-only', 'series parity only (no remote read)')
      .option('--sample <n|p%>', 'verify a random sample of series (2000, or 5%) and state the confidence interval')
      .option('--seed <n>', 'seed of the series sample', '1')
      .option('--read-window <duration>', 'time span read per remote-read request', '1d')
      .option(
        '--recheck <n>',
        'read each differing series again this many times before reporting it (0: report first reads)',
        '2',
      )
      .option('--recheck-delay <duration>', 'pause before a re-read (doubled, tripled, ... for later rounds)', '2s')
      .option('--concurrency <n>', 'metric names verified in parallel', '2')
      .option('--top <n>', 'discrepancies listed', '20')
      .option('--min-consistency <percent>', 'exit 1 below this consistency', '100')
      .option(
        '--exclude-series <regex>',
        `metric names left out on both sides (anchored regex), repeatable; replaces the default "${DEFAULT_EXCLUDED_SERIES.join('", "')}" (the backfill's preflight probe); --exclude-series '' excludes nothing`,
        collect,
      )
      .option('--report <file.json>', 'write the JSON report here (for the migration plan and the HTML report)'),
  );
  metrics.addHelpText(
    'after',
    `
Examples:
  stackshift verify metrics --from prometheus --to mimir --start 30d --min-consistency 99.9
  stackshift verify metrics --source-url http://prom:9090 --target-url http://mimir:8080 --target-type mimir --target-tenant t1 --start 7d
  stackshift verify metrics --source-url http://prom:9090 --target-url http://prom2:9090 --match '{job="api"}' --add-label cluster=eu1
  stackshift verify metrics ... --sample 2% --report parity.json

Consistency = matched / (expected + unexpected) samples; see the README for the exact definition.
A window with no series or no sample on either side fails the gate: nothing was compared.
Exit codes: 0 consistency at or above --min-consistency, 1 below it or nothing compared, 2 usage or runtime error,
130 stopped by Ctrl-C (summary of the metrics compared so far).`,
  );
  metrics.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const { startMs, endMs } = timeRangeFlags(opts.start, opts.end, { now: Date.now() });
    const selectors = ((opts.match as string[] | undefined) ?? []).map((m) => parseSelector(m));
    const map = mapping(opts);
    const sample = opts.sample ? { ...parseSample(String(opts.sample)), seed: int('seed', opts.seed, 0) } : undefined;
    const readWindowMs = durationFlag('read-window', opts.readWindow, { min: 60_000 });
    checkVerifyWindow(startMs, endMs, readWindowMs);
    const excludeSeries =
      opts.excludeSeries === undefined
        ? DEFAULT_EXCLUDED_SERIES
        : (opts.excludeSeries as string[]).filter((p) => p !== '');
    const concurrency = int('concurrency', opts.concurrency, 1, 64);
    const top = int('top', opts.top, 0, 10_000);
    const minConsistency = percent('min-consistency', opts.minConsistency);
    const tol = tolerance(opts.tolerance);
    const stop = interruptible();
    const report = await compareSides(
      ctx,
      opts,
      metricsConnections(concurrency),
      async (source, target) => {
        if (opts.dropExternalLabels)
          for (const l of source.externalLabels) if (!map.drop.includes(l.name)) map.drop.push(l.name);
        const progress = createProgress('verify', 0, 'metrics');
        try {
          return await verifyMetrics({
            source,
            target,
            startMs,
            endMs,
            selectors,
            mapping: map,
            equality: { relativeTolerance: tol },
            samples: !opts.seriesOnly,
            sample,
            readWindowMs,
            concurrency,
            top,
            minConsistency,
            excludeSeries,
            recheck: {
              rounds: int('recheck', opts.recheck, 0, 10),
              delayMs: durationFlag('recheck-delay', opts.recheckDelay, { min: 0 }),
            },
            onProgress: (done, total) => {
              progress.setTotal(total);
              progress.update(done);
            },
            signal: stop.signal,
          });
        } finally {
          progress.finish();
        }
      },
      stop,
    ).finally(() => stop.dispose());
    const exitCode = report.interrupted
      ? INTERRUPTED_EXIT
      : report.consistency.gate?.passed === false || !report.evidence.passed
        ? 1
        : 0;
    emit(
      {
        document: report,
        text: () => renderMetricsText(report),
        markdown: () => renderMetricsMarkdown(report),
        exitCode,
      },
      ctx.format,
    );
    if (report.interrupted)
      reportInterrupted(
        `${report.interrupted.metricsDone} of ${report.interrupted.metricsTotal} metrics compared; the summary covers those only`,
        commandLine(),
        'compare them all',
      );
  });
  area.addCommand(metrics);

  const queries = sidesOptions(
    new Command('queries')
      .description(
        'query parity in the manner of the PromQL compliance tester: queries from files, rule files and Grafana dashboards run instant and range on both sides and compared, with latency p50/p95',
      )
      .option(
        '--queries <file>',
        'file with one PromQL query per line (# comments), or a PromQL compliance tester suite (YAML test_cases: query, variant_args, should_fail, skip_comparison), repeatable',
        collect,
      )
      .option('--rules <file>', 'Prometheus rule file, repeatable', collect)
      .option('--dashboards <file>', 'Grafana dashboard JSON, repeatable', collect)
      .option('--time <time>', 'evaluation time of instant queries and end of range queries', 'now')
      .option('--range <duration>', 'range of range queries', '1h')
      .option('--step <duration>', 'step of range queries (also $__interval)', '1m')
      .option('--rate-interval <duration>', 'value of $__rate_interval', '1m')
      .option('--var <name=value>', 'value of a dashboard template variable, repeatable', collect)
      .option('--tolerance <relative>', 'relative tolerance of result values (NaN equals NaN)', '1e-5')
      .option(
        '--drop-result-label <name>',
        "label removed from both sides' results before comparing, repeatable (the source's external labels always are)",
        collect,
      )
      .option(
        '--max-latency-increase <percent>',
        'exit 1 when target p50 or p95 latency exceeds the source by more than this (the upgrade runbook uses 20)',
      )
      .option('--latency-floor <duration>', 'latency differences smaller than this are noise, never a failure', '10ms')
      .option('--timeout <duration>', 'per-query timeout', '30s')
      .option(
        '--concurrency <n>',
        'queries in flight, one connection per side each (1 keeps latency figures clean)',
        '1',
      )
      .option(
        '--min-nonempty <percent>',
        'exit 1 when fewer than this share of results held series (none at all always fails)',
        '0',
      )
      .option('--top <n>', 'mismatches listed', '50')
      .option('--report <file.json>', 'write the JSON report here'),
  );
  queries.addHelpText(
    'after',
    `
Examples:
  stackshift verify queries --source-url http://prom:9090 --target-url http://mimir:8080 --target-type mimir --dashboards node.json --rules rules.yml
  stackshift verify queries --from prometheus --to mimir --queries slo.promql --max-latency-increase 20 --report queries.json
  stackshift verify queries --source-url http://prom2:9090 --target-url http://prom3:9090 --queries promql-test-queries.yml --min-nonempty 50

A query either side refuses is recorded for that query (the same error type on both sides counts as equal) and
the run goes on; a should_fail case passes only when both sides refuse it.
Exit codes: 0 every result equal (latency within the gate, results with series), 1 a mismatch, a failed latency gate or no evidence, 2 usage or runtime error.`,
  );
  queries.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const timeMs = timeFlag('time', opts.time, { now: Date.now() });
    const rangeMs = durationFlag('range', opts.range);
    const stepMs = durationFlag('step', opts.step);
    if (stepMs < 1000 || rangeMs / stepMs > 11_000)
      throw new UsageError(
        `--step ${opts.step} over --range ${opts.range} gives more than 11000 points (Prometheus refuses them)`,
        'raise --step or shorten --range',
      );
    const vars = Object.fromEntries(
      Object.entries(keyValueFlag('var', opts.var, { example: 'job=api' })).map(([k, v]) => [k.replace(/^\$/, ''), v]),
    );
    const sourcesGiven = ['queries', 'rules', 'dashboards'].some(
      (k) => ((opts[k] as string[] | undefined) ?? []).length > 0,
    );
    if (!sourcesGiven) throw new UsageError('no queries: give --queries, --rules or --dashboards');
    const set = loadQuerySources({
      queryFiles: (opts.queries as string[] | undefined) ?? [],
      ruleFiles: (opts.rules as string[] | undefined) ?? [],
      dashboardFiles: (opts.dashboards as string[] | undefined) ?? [],
      resolve: { stepMs, rangeMs, rateInterval: String(opts.rateInterval), timeMs, vars },
    });
    const maxIncrease =
      opts.maxLatencyIncrease === undefined
        ? undefined
        : increasePercentFlag('max-latency-increase', opts.maxLatencyIncrease);
    const latencyFloorMs = durationFlag('latency-floor', opts.latencyFloor, { min: 0 });
    const timeoutMs = durationFlag('timeout', opts.timeout);
    const concurrency = int('concurrency', opts.concurrency, 1, 64);
    const top = int('top', opts.top, 0, 10_000);
    const minNonEmptyPercent = percent('min-nonempty', opts.minNonempty);
    const report = await compareSides(ctx, opts, queryConnections(concurrency), async (source, target) => {
      const progress = createProgress('verify queries', set.queries.length, 'queries');
      try {
        return await verifyQueries({
          source,
          target,
          set,
          timeMs,
          rangeMs,
          stepMs,
          tolerance: tolerance(opts.tolerance),
          maxLatencyIncreasePercent: maxIncrease,
          latencyFloorMs,
          timeoutMs,
          concurrency,
          top,
          minNonEmptyPercent,
          dropLabels: [
            ...new Set([
              ...source.externalLabels.map((l) => l.name),
              ...((opts.dropResultLabel as string[] | undefined) ?? []),
            ]),
          ],
          onProgress: (done) => progress.update(done),
        });
      } finally {
        progress.finish();
      }
    });
    emit(
      {
        document: report,
        text: () => renderQueriesText(report),
        markdown: () => renderQueriesMarkdown(report),
        exitCode: report.passed ? 0 : 1,
      },
      ctx.format,
    );
  });
  area.addCommand(queries);
  area.addCommand(correlationsCommand());
  program.addCommand(area);
}
