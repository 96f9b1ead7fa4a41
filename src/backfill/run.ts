import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PrometheusClient, RemoteReadClient, RemoteWriteClient, adviceForReject, keptOnRefusal, type KeptOnRefusal, type ReceiverKind, type RemoteWriteVersion } from '../clients/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { StackshiftError, UsageError } from '../errors/index.js';
import { HttpClient, HttpError } from '../http/index.js';
import { log } from '../log/index.js';
import { formatMatchers, parseSelector } from '../promql/index.js';
import { encodeWriteRequest, encodeWriteRequestV2, labelsKey, newDecodeStats, snappyEncode, type Label, type Matcher } from '../wire/index.js';
import { BackfillEngine } from './engine.js';
import { shardOf } from './limits.js';
import { BackfillState, assertSamePlan, type Totals } from './state.js';

export interface Shard { index: number; count: number }

export interface BackfillParams {
  source: ResolvedEndpoint;
  /** Remote-read path under the source URL; default /api/v1/read (Mimir: /prometheus/api/v1/read). */
  sourceReadPath?: string;
  target: ResolvedEndpoint;
  /** Where to read the probe back (Prometheus API base); derived from the target URL when absent. */
  targetReadUrl?: string;
  selectors: string[];
  startMs: number;
  endMs: number;
  /** --start/--end were relative (30d, now): on resume, the plan's stored range wins. */
  relativeRange?: boolean;
  keepExternalLabels: boolean;
  shard?: Shard;
  remoteWriteVersion: RemoteWriteVersion;
  responseType: 'streamed' | 'samples';
  readConcurrency: number;
  writeConcurrency: number;
  batchSamples: number;
  readRate?: number;
  writeRate?: number;
  windowMs: number;
  minWindowMs: number;
  maxWindowMs: number;
  unitSamples: number;
  namesPerGroup: number;
  statePath: string;
  dryRun: boolean;
  preflight: boolean;
  /**
   * Delete the preflight probe through the target's admin API afterwards. Off by default: on Prometheus 2.42 a
   * delete_series followed by a restart lost an hour of other series' samples in our tests.
   */
  deleteProbe?: boolean;
  /** Read each unit back from the target and redo it when short (default on where the target can be read). */
  readBack?: boolean;
  retries: number;
  onProgress?: (p: { coveredMs: number; totalMs: number; samples: number; unitsDone: number }) => void;
}

/** Tuning defaults of a backfill: what the CLI applies when a flag is absent, and what library callers start from. */
export const BACKFILL_DEFAULTS = {
  keepExternalLabels: true,
  remoteWriteVersion: '1.0',
  responseType: 'streamed',
  readConcurrency: 2,
  writeConcurrency: 4,
  batchSamples: 20_000,
  windowMs: 24 * 3_600_000,
  minWindowMs: 60_000,
  maxWindowMs: 7 * 86_400_000,
  unitSamples: 2_000_000,
  namesPerGroup: 20,
  dryRun: false,
  preflight: true,
  retries: 10,
} as const satisfies Partial<BackfillParams>;

/** Clock skew allowed for --end beyond now: a sample from the future would move a Prometheus head past every live write. */
export const FUTURE_SKEW_MS = 5 * 60_000;

/** Remote-write receiver kind of a target: what a refusal keeps and which defaults are safe. */
export function receiverKind(ep: ResolvedEndpoint, path: string): ReceiverKind {
  if (path.endsWith('/api/v1/write')) return 'prometheus';
  if (ep.type === 'mimir' || path.endsWith('/api/v1/push')) return 'mimir';
  return ep.type === 'prometheus' ? 'prometheus' : 'other';
}

/**
 * Unit windows safe for a receiver kind. A Prometheus TSDB appends in order what lies within half a block range
 * (1 h) of its head's newest sample and sends the rest through its out-of-order head; with 24 h windows nearly
 * every sample of a backfill is out of order, and Prometheus 2.42 was seen to lose thousands of them while
 * compacting that head (204 to every request). Windows of 30 min (at most 1 h) keep the appends in order.
 */
export function receiverDefaults(kind: ReceiverKind): { windowMs: number; maxWindowMs: number } {
  return kind === 'prometheus' ? { windowMs: 30 * 60_000, maxWindowMs: 3_600_000 } : { windowMs: BACKFILL_DEFAULTS.windowMs, maxWindowMs: BACKFILL_DEFAULTS.maxWindowMs };
}

/** Refuses an endpoint URL that is not http(s), or that carries credentials (they would be stored in the plan and not sent). */
export function checkEndpointUrl(ep: ResolvedEndpoint, role: 'source' | 'target'): void {
  let u: URL;
  try {
    u = new URL(ep.url);
  } catch {
    throw new UsageError(`--${role}-url "${ep.url}" is not a URL`, 'for example http://prometheus:9090');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--${role}-url must be http:// or https:// (got ${u.protocol}//)`, 'remote read and remote write are HTTP protocols');
  if (u.username || u.password) {
    throw new UsageError(`--${role}-url carries credentials (${u.protocol}//<user-info>@${u.host}): they are not sent and would be stored in the state file`, `remove them from the URL; pass --${role}-basic-auth-user with --${role}-basic-auth-password-file (or -env), or basic_auth in stackshift.yaml`);
  }
}

export interface RejectSummary { class: string; requests: number; samples: number; advice: string; example?: string }

export interface BackfillReport {
  kind: 'backfill' | 'dry-run';
  source: { url: string; readPath: string; version?: string; responseType?: string };
  target: { url: string; path: string; tenant?: string; remoteWrite: RemoteWriteVersion; readUrl?: string; receiver: ReceiverKind; keptOnRefusal: KeptOnRefusal };
  range: { start: string; end: string; startMs: number; endMs: number };
  selectors: string[];
  shard?: Shard;
  state?: string;
  externalLabels: { labels: Record<string, string>; action: 'kept' | 'dropped' };
  plan: { groups: number; names: number; units: number; unitsDone: number; resumed: boolean; runs: number };
  preflight?: { probeSeries: string; timestamp: string; writeStatus: number; readBack: boolean | 'skipped'; probe: 'deleted' | 'kept' };
  /** Per-unit read-back of the copy from the target. */
  readBack?: { enabled: boolean; url?: string; redoneUnits: number };
  totals: { series: number; samples: number; bytes: number; requests: number; histogramSamples: number; unknownChunks: number };
  run?: { samples: number; units: number; redoneUnits: number; retriedRejectedUnits: number; durationMs: number; samplesPerSecond: number; retries: number; peakRssBytes: number };
  estimate?: { series: number; samples: number; readSamplesPerSecond: number; durationMs: number; windowsProbed: number };
  rejects: RejectSummary[];
  advice: string[];
}

export const PROBE_METRIC = 'stackshift_backfill_probe';

/**
 * Peak resident memory of this process. Linux's VmHWM belongs to the process image; getrusage's maxRSS
 * also carries the parent's peak over fork+exec, which would blame a child for its parent's memory.
 */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Prometheus API base and remote-read path of a source endpoint (Mimir serves both under /prometheus). */
export function sourcePaths(ep: ResolvedEndpoint, readPath?: string): { apiBase: string; readPath: string } {
  const prefix = ep.type === 'mimir' && !/\/prometheus\/?$/.test(ep.url) ? '/prometheus' : '';
  return { apiBase: ep.url + prefix, readPath: readPath ?? `${prefix}/api/v1/read` };
}

/** Splits a target URL into the endpoint base and the push path; a bare URL gets the product's default path. */
export function targetPaths(ep: ResolvedEndpoint, readUrl?: string): { base: string; path: string; readUrl?: string } {
  const u = new URL(ep.url);
  const origin = u.origin;
  let path = u.pathname.replace(/\/+$/, '');
  if (path === '') path = ep.type === 'prometheus' ? '/api/v1/write' : '/api/v1/push';
  let derived: string | undefined;
  if (path.endsWith('/api/v1/write')) derived = origin + path.slice(0, -'/api/v1/write'.length);
  else if (path.endsWith('/api/v1/push')) derived = origin + path.slice(0, -'/api/v1/push'.length) + '/prometheus';
  return { base: origin, path, readUrl: readUrl ?? derived };
}

async function externalLabels(client: PrometheusClient): Promise<Label[]> {
  try {
    const cfg = parseYaml(await client.config()) as { global?: { external_labels?: Record<string, string> } } | null;
    return Object.entries(cfg?.global?.external_labels ?? {}).map(([name, value]) => ({ name, value: String(value) }));
  } catch (e) {
    // Mimir and other remote-read servers have no config endpoint: no external labels to handle
    if (e instanceof HttpError && (e.status === 404 || e.status === 405 || e.kind === 'protocol')) return [];
    throw e;
  }
}

function fingerprint(p: BackfillParams, paths: { readPath: string }, tp: { base: string; path: string }): { hash: string; describe: string } {
  const key = {
    source: p.source.url + paths.readPath,
    target: tp.base + tp.path,
    tenant: p.target.tenant ?? '',
    selectors: p.selectors,
    shard: p.shard ? `${p.shard.index}/${p.shard.count}` : '',
    keepExternal: p.keepExternalLabels,
    v: p.remoteWriteVersion,
  };
  const describe = `${key.source} -> ${key.target}${key.tenant ? ` tenant ${key.tenant}` : ''}, ${p.selectors.join(' ')}${key.shard ? `, shard ${key.shard}` : ''}`;
  return { hash: createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32), describe };
}

function withRetries(ep: ResolvedEndpoint, retries: number, url?: string): ResolvedEndpoint {
  return { ...ep, retries, url: url ?? ep.url };
}

/** Copies (or, with dryRun, estimates) every raw sample of the selectors in [startMs, endMs). */
export async function runBackfill(p: BackfillParams): Promise<BackfillReport> {
  const selectors: Matcher[][] = p.selectors.map((s) => parseSelector(s));
  if (!(p.endMs > p.startMs)) throw new UsageError(`--start (${new Date(p.startMs).toISOString()}) must be before --end (${new Date(p.endMs).toISOString()})`);
  // the probe goes to --start and the copy up to --end: neither may lie in the future, where a Prometheus target
  // would move its head past every live write ("too old sample" from then on)
  if (p.endMs > Date.now() + FUTURE_SKEW_MS) {
    throw new UsageError(`--end ${new Date(p.endMs).toISOString()} is in the future: a backfill copies history, and a sample written ahead of now would make a Prometheus target refuse every present-day write`, 'use --end now or an earlier time (Unix seconds, not milliseconds)');
  }
  checkEndpointUrl(p.source, 'source');
  checkEndpointUrl(p.target, 'target');
  const sp = sourcePaths(p.source, p.sourceReadPath);
  const tp = targetPaths(p.target, p.targetReadUrl);
  const srcHttp = new HttpClient(withRetries(p.source, p.retries), { connections: p.readConcurrency + 2 });
  const apiHttp = new HttpClient(withRetries(p.source, Math.min(p.retries, 2), sp.apiBase));
  const tgtHttp = new HttpClient(withRetries(p.target, p.retries, tp.base), { connections: p.writeConcurrency + 1 });
  const api = new PrometheusClient(apiHttp);
  const reader = new RemoteReadClient(srcHttp, { path: sp.readPath });
  const receiver = receiverKind(p.target, tp.path);
  const writer = new RemoteWriteClient(tgtHttp, { path: tp.path, version: p.remoteWriteVersion, receiver });
  const readBackOn = !p.dryRun && p.readBack !== false && tp.readUrl !== undefined;
  const rbHttp = readBackOn ? new HttpClient(withRetries(p.target, p.retries, tp.readUrl), { connections: p.readConcurrency + 1 }) : undefined;
  let state: BackfillState | undefined;
  try {
    // 1. the source must be a Prometheus-compatible API; learn its version and external labels
    const build = await api.buildInfo().catch((e) => {
      if (e instanceof HttpError && e.status === 404) throw new HttpError('protocol', p.source.url, `${p.source.url} has no Prometheus API (GET ${sp.apiBase}/api/v1/status/buildinfo: HTTP 404)`, { hint: 'point --source-url at Prometheus, or at Mimir with --from <mimir endpoint> (type: mimir)' });
      throw e;
    });
    const ext = await externalLabels(api);
    const report: BackfillReport = {
      kind: p.dryRun ? 'dry-run' : 'backfill',
      source: { url: p.source.url, readPath: sp.readPath, version: build.version },
      target: { url: tp.base + tp.path, path: tp.path, tenant: p.target.tenant, remoteWrite: p.remoteWriteVersion, readUrl: tp.readUrl, receiver, keptOnRefusal: keptOnRefusal(receiver) },
      range: { start: new Date(p.startMs).toISOString(), end: new Date(p.endMs).toISOString(), startMs: p.startMs, endMs: p.endMs },
      selectors: selectors.map(formatMatchers),
      shard: p.shard,
      externalLabels: { labels: Object.fromEntries(ext.map((l) => [l.name, l.value])), action: p.keepExternalLabels ? 'kept' : 'dropped' },
      plan: { groups: 0, names: 0, units: 0, unitsDone: 0, resumed: false, runs: 0 },
      totals: { series: 0, samples: 0, bytes: 0, requests: 0, histogramSamples: 0, unknownChunks: 0 },
      rejects: [],
      advice: [],
    };
    if (p.dryRun) {
      report.estimate = await estimate(reader, selectors, p);
      report.advice.push(...externalAdvice(ext, p.keepExternalLabels));
      return report;
    }

    // 2. resume or plan; a new state file is created only after the preflight passed, so bad input writes nothing
    const fp = fingerprint(p, sp, tp);
    let preflightDone = false;
    if (!existsSync(p.statePath) && p.preflight) {
      report.preflight = await preflight(writer, tp.readUrl, p, p.startMs);
      preflightDone = true;
    }
    state = new BackfillState(p.statePath);
    assertSamePlan(state, fp.hash, fp.describe);
    const existing = state.plan();
    let startMs = p.startMs;
    let endMs = p.endMs;
    if (existing) {
      const stored = JSON.parse(existing.params) as { startMs: number; endMs: number };
      if (stored.startMs !== startMs || stored.endMs !== endMs) {
        if (!p.relativeRange) {
          throw new UsageError(`state file ${p.statePath} was planned for ${new Date(stored.startMs).toISOString()} .. ${new Date(stored.endMs).toISOString()}, not the range given now`, 'resume with the same --start/--end (or relative ones such as 30d), or use a new --state file');
        }
        startMs = stored.startMs;
        endMs = stored.endMs;
      }
      report.plan.resumed = true;
      log.info('resuming backfill', { state: p.statePath, range: `${new Date(startMs).toISOString()} .. ${new Date(endMs).toISOString()}` });
    }
    report.range = { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), startMs, endMs };

    // 3. preflight: one probe sample at the oldest timestamp, read back, before hours are spent
    if (p.preflight && !existing && !preflightDone) report.preflight = await preflight(writer, tp.readUrl, p, startMs);

    if (!existing) {
      const groups: Array<{ selector: number; names: string[] }> = [];
      let nameCount = 0;
      for (let i = 0; i < selectors.length; i++) {
        let names = await api.labelValues('__name__', [formatMatchers(selectors[i])], startMs, endMs);
        if (p.shard) names = names.filter((n) => shardOf(n, p.shard!.count) === p.shard!.index);
        names.sort();
        nameCount += names.length;
        for (let j = 0; j < names.length; j += p.namesPerGroup) groups.push({ selector: i, names: names.slice(j, j + p.namesPerGroup) });
      }
      if (nameCount === 0) log.warn('no series match the selectors in the range (on this shard): nothing to copy', { selectors: p.selectors.join(' ') });
      state.createPlan(fp.hash, { describe: fp.describe, startMs, endMs, selectors: p.selectors, shard: p.shard }, groups, startMs, p.windowMs);
    }
    const groups = state.groups();
    report.plan.groups = groups.length;
    report.plan.names = groups.reduce((a, g) => a + (JSON.parse(g.names) as string[]).length, 0);

    // the target's own external labels come back with what it serves: the read-back leaves them out
    const readBack = rbHttp ? { reader: new RemoteReadClient(rbHttp, { path: '/api/v1/read' }), externalLabels: await externalLabels(new PrometheusClient(rbHttp)).catch(() => []) } : undefined;
    report.readBack = { enabled: Boolean(readBack), url: readBack ? `${tp.readUrl}/api/v1/read` : undefined, redoneUnits: 0 };
    const runId = state.startRun();
    const engine = new BackfillEngine({
      state,
      reader,
      writer,
      selectors,
      startMs,
      endMs,
      responseType: p.responseType,
      externalLabels: { labels: ext, keep: p.keepExternalLabels },
      readConcurrency: p.readConcurrency,
      writeConcurrency: p.writeConcurrency,
      batchSamples: p.batchSamples,
      readRate: p.readRate,
      writeRate: p.writeRate,
      minWindowMs: p.minWindowMs,
      maxWindowMs: p.maxWindowMs,
      unitSamples: p.unitSamples,
      readBack,
      onProgress: p.onProgress,
    });
    let res;
    try {
      res = await engine.run();
    } catch (e) {
      const t = state.totals();
      state.finishRun(runId, 'failed', 0, 0, 0);
      const msg = e instanceof Error ? e.message : String(e);
      throw new StackshiftError('backfill', `backfill stopped after ${t.unitsDone} of ${t.units} started units: ${msg}`, {
        hint: `${(e as StackshiftError).hint ? (e as StackshiftError).hint + '; then ' : ''}re-run the same command to resume from ${p.statePath}`,
        cause: e,
      });
    }
    state.finishRun(runId, 'done', res.samples, res.units, res.redoneUnits);
    const t = state.totals();
    fillTotals(report, t, state.runs());
    report.run = {
      samples: res.samples,
      units: res.units,
      redoneUnits: res.redoneUnits,
      retriedRejectedUnits: res.retriedRejectedUnits,
      durationMs: res.ms,
      samplesPerSecond: res.ms ? Math.round((res.samples * 1000) / res.ms) : 0,
      retries: res.retries,
      peakRssBytes: peakRss(),
    };
    report.readBack!.redoneUnits = res.readbackRedos;
    report.advice.push(...externalAdvice(ext, p.keepExternalLabels));
    if (report.preflight?.probe === 'kept') report.advice.push(`the preflight probe ${report.preflight.probeSeries} stays in the target; verify metrics leaves ${PROBE_METRIC} out by name`);
    return report;
  } finally {
    state?.close();
    await Promise.all([srcHttp.close(), apiHttp.close(), tgtHttp.close(), rbHttp?.close()]);
  }
}

function fillTotals(report: BackfillReport, t: Totals, runs: number): void {
  report.plan.units = t.units;
  report.plan.unitsDone = t.unitsDone;
  report.plan.runs = runs;
  report.totals = { series: t.series, samples: t.samples, bytes: t.bytes, requests: t.requests, histogramSamples: t.histogramSamples, unknownChunks: t.unknownChunks };
  report.rejects = t.rejects.map((r) => ({ class: r.class, requests: r.requests, samples: r.samples, example: r.example, advice: adviceForReject(r.class) }));
  for (const r of report.rejects) report.advice.push(`${r.class}: ${r.advice}`);
  if (t.histogramSamples > 0) {
    report.advice.push(`${t.histogramSamples} native-histogram samples were copied as remote-write histograms: the target needs native histograms enabled (Prometheus: --enable-feature=native-histograms before 3.0) and, unless it accepts out-of-order histograms (Mimir; Prometheus 3.x with out_of_order_time_window), --read-concurrency 1 --write-concurrency 1 so that each series arrives in time order`);
  }
  if (t.unknownChunks > 0) {
    report.advice.push(`${t.unknownChunks} chunks used an encoding stackshift does not decode (for example XOR2 from Prometheus 3.11+ with that feature on) and were not copied; disable the feature on the source or copy those series with block upload`);
  }
}

function externalAdvice(ext: Label[], keep: boolean): string[] {
  if (ext.length === 0) return [];
  const l = ext.map((x) => `${x.name}="${x.value}"`).join(', ');
  return keep
    ? [`the source's external labels (${l}) were copied onto every series, as Prometheus's own remote_write does, so backfilled history joins the live series; use --drop-external-labels if the live path does not add them`]
    : [`the source's external labels (${l}) were dropped; if the live remote_write adds them, history and live data are different series`];
}

async function preflight(writer: RemoteWriteClient, readUrl: string | undefined, p: BackfillParams, startMs: number): Promise<NonNullable<BackfillReport['preflight']>> {
  const id = randomBytes(6).toString('hex');
  const labels: Label[] = [{ name: '__name__', value: PROBE_METRIC }, { name: 'probe', value: id }];
  const ts = startMs;
  const probeSeries = [{ labels, timestamps: Float64Array.of(ts), values: Float64Array.of(1) }];
  // the probe speaks the protocol version of the copy: a 2.0 receiver decodes a 1.0 body as an empty 2.0 request
  const body = snappyEncode(writer.version === '2.0' ? encodeWriteRequestV2(probeSeries) : encodeWriteRequest(probeSeries));
  let r;
  try {
    r = await writer.send(body);
  } catch (e) {
    if (e instanceof HttpError && e.kind === 'protocol' && e.status === 415) throw e;
    if (e instanceof HttpError) throw new HttpError(e.kind, e.url, `preflight: the target did not accept a remote-write request: ${e.message}`, { status: e.status, hint: e.hint });
    throw e;
  }
  if (r.outcome === 'ok' && r.written && r.written.samples !== 1) {
    throw new StackshiftError('preflight', `preflight: the target answered HTTP ${r.status} to a probe sample but reports ${r.written.samples} samples written`, { hint: 'check the receiver\'s logs and its remote-write 2.0 support, or use remote write 1.0 (drop --remote-write-v2)' });
  }
  if (r.outcome !== 'ok') {
    const cls = r.reject!;
    const notReceiver = cls.id === 'http-404' || cls.id === 'http-405' || /remote write receiver/i.test(r.message ?? '');
    throw new StackshiftError('preflight', notReceiver
      ? `${writer.http.endpoint.url}${writer.path} is not a remote-write receiver (HTTP ${r.status}${r.message ? `: ${r.message.slice(0, 160)}` : ''})`
      : `preflight: the target refused a probe sample at the oldest timestamp ${new Date(ts).toISOString()} (HTTP ${r.status}, ${cls.id}): ${r.message?.slice(0, 200) ?? ''}`, {
      hint: notReceiver ? 'point --target-url at Mimir /api/v1/push, or at a Prometheus started with --web.enable-remote-write-receiver (/api/v1/write)' : cls.advice,
    });
  }
  let readBack: boolean | 'skipped' = 'skipped';
  if (readUrl) {
    const client = new PrometheusClient(new HttpClient({ ...writer.http.endpoint, url: readUrl, retries: 1 }));
    try {
      readBack = false;
      for (let i = 0; i < 10 && !readBack; i++) {
        const res = await client.query(`${PROBE_METRIC}{probe="${id}"}`, ts + 1);
        readBack = res.resultType === 'vector' && res.result.length === 1 && res.result[0].value[1] === '1';
        if (!readBack) await new Promise((x) => setTimeout(x, 300));
      }
    } catch (e) {
      log.warn('preflight: could not read the probe back; continuing', { readUrl, error: (e as Error).message });
      readBack = 'skipped';
    } finally {
      await client.close();
    }
    if (readBack === false) {
      throw new StackshiftError('preflight', `preflight: the target accepted a probe sample at ${new Date(ts).toISOString()} but it cannot be read back from ${readUrl}`, {
        hint: 'the target silently drops history this old (check its retention, out-of-order window and tenant) or --target-read-url points elsewhere',
      });
    }
  }
  const probe = readUrl && p.deleteProbe ? await deleteProbe(writer, readUrl, labels) : 'kept';
  return { probeSeries: labelsKey(labels), timestamp: new Date(ts).toISOString(), writeStatus: r.status, readBack, probe };
}

/**
 * Deletes the probe series through the target's admin API where it has one (Prometheus with
 * --web.enable-admin-api), so that the probe is no difference for `verify metrics`; elsewhere it stays (and
 * verify leaves it out by name).
 */
async function deleteProbe(writer: RemoteWriteClient, readUrl: string, labels: Label[]): Promise<'deleted' | 'kept'> {
  const http = new HttpClient({ ...writer.http.endpoint, url: readUrl, retries: 0 });
  try {
    const selector = `{${labels.map((l) => `${l.name}="${l.value}"`).join(',')}}`;
    const res = await http.request({ method: 'POST', path: '/api/v1/admin/tsdb/delete_series', query: { 'match[]': selector }, retries: 0, retryStatus: () => false });
    await res.body.dump?.().catch(() => undefined);
    if (res.status === 204 || res.status === 200) return 'deleted';
    log.info('the target has no admin API to delete the preflight probe; it stays (verify metrics leaves it out by name)', { status: res.status });
    return 'kept';
  } catch (e) {
    log.info('could not delete the preflight probe; it stays (verify metrics leaves it out by name)', { error: (e as Error).message });
    return 'kept';
  } finally {
    await http.close();
  }
}

/**
 * --dry-run: short windows spread evenly over the range, read fully, extrapolated. Six windows first; while fewer
 * than six hold data (history shorter than the range: --start 5d on 8 h of data put all six before it and
 * estimated 0), the grid is tripled (the old centres are among the new ones), up to 162 windows. An empty window
 * costs one small read, so a sparse range stays cheap.
 */
async function estimate(reader: RemoteReadClient, selectors: Matcher[][], p: BackfillParams): Promise<NonNullable<BackfillReport['estimate']>> {
  const range = p.endMs - p.startMs;
  const k0 = Math.min(6, Math.max(1, Math.floor(range / 60_000)));
  const w = Math.min(5 * 60_000, Math.floor(range / k0));
  const seen = new Set<string>();
  let samples = 0;
  let withData = 0;
  const t0 = Date.now();
  const probe = async (centre: number) => {
    const s = Math.max(p.startMs, Math.min(p.endMs - w, p.startMs + Math.floor(centre - w / 2)));
    let n = 0;
    for (const m of selectors) {
      for await (const x of reader.streamSeries({ startMs: s, endMs: s + w - 1, matchers: m }, { responseType: p.responseType, stats: newDecodeStats() })) {
        seen.add(labelsKey(x.labels));
        n += x.timestamps.length;
      }
    }
    samples += n;
    if (n > 0) withData++;
  };
  // grid of k windows centred at (i + 0.5) * range / k; tripling k keeps every old centre (odd multiples)
  let k = k0;
  for (let i = 0; i < k; i++) await probe(((i + 0.5) * range) / k);
  while (withData < 6 && k * 3 <= 162 && range / (k * 3) >= w) {
    k *= 3;
    for (let i = 0; i < k; i++) if (i % 3 !== 1) await probe(((i + 0.5) * range) / k);
  }
  const ms = Math.max(1, Date.now() - t0);
  const est = Math.round((samples * range) / (k * w));
  const rate = (samples * 1000) / ms;
  return { series: seen.size, samples: est, readSamplesPerSecond: Math.round(rate), durationMs: rate > 0 ? Math.round((est / rate) * 1000) : 0, windowsProbed: k };
}
