// Why one file of about 500 lines: both link checks (exemplars -> traces, log lines -> traces) share the trace-ID
// lookup, its cache and the broken-link reasons of the one report.
import type { LokiClient, PrometheusClient } from '../clients/index.js';
import { StackshiftError } from '../errors/index.js';
import { idFromHex, type Span, type Trace, type TraceStore } from '../traces/index.js';
import { compileDerivedFieldRegex, detectTraceIdFormat, validTraceIdHex } from './trace-ids.js';

/**
 * `verify correlations`: do the links Grafana will offer lead somewhere?
 * - metrics -> traces: every exemplar in the window (`/api/v1/query_exemplars`) whose trace-ID label names
 *   a trace the trace store has (Tempo /api/traces/{id} or Jaeger by ID);
 * - logs -> traces: every trace ID the Loki derived-field regex extracts from the log lines of the window,
 *   looked up the same way.
 * Each side gets a percentage of linked trace IDs and examples of every broken link with the reason: not
 * in the trace store, not a valid trace ID, exemplar without a trace-ID label.
 */
export interface CorrelationParams {
  metrics?: PrometheusClient;
  loki?: LokiClient;
  traces: TraceStore;
  startMs: number;
  endMs: number;
  /** PromQL whose selectors pick the series whose exemplars are read (default every series). */
  exemplarQuery?: string;
  /** Exemplar label holding the trace ID; default the first label named like trace_id/traceID/traceId. */
  exemplarLabel?: string;
  lokiSelector?: string;
  /** Derived-field regex (one capture group); default detected from the lines read. */
  derivedFieldRegex?: string;
  maxLines?: number;
  /**
   * traces -> logs: the tracesToLogsV2 settings Grafana uses (span attribute -> Loki label tags, time shifts,
   * filter by trace ID); checked on up to `sampleTraces` of the traces the other checks found.
   */
  tracesToLogs?: {
    tags: Array<{ key: string; value?: string }>;
    spanStartShiftMs: number;
    spanEndShiftMs: number;
    filterByTraceID: boolean;
  };
  sampleTraces?: number;
  minLinked?: number;
  concurrency?: number;
  examples?: number;
}

export type BrokenReason =
  'trace-not-found' | 'invalid-trace-id' | 'no-trace-id-label' | 'lookup-failed' | 'no-mapped-tag' | 'no-logs-found';

export interface BrokenLink {
  traceId?: string;
  reason: BrokenReason;
  why: string;
  /** Where it came from: series labels of the exemplar, or stream labels + line of the log. */
  source: string;
  at?: string;
}

export interface LinkCheck {
  checked: boolean;
  /** Exemplars or log lines read. */
  items: number;
  /** Items carrying a trace ID (by label or regex). */
  withTraceId: number;
  distinctTraceIds: number;
  linked: number;
  broken: number;
  /** Linked share of the distinct trace IDs, percent (100 when there are none: nothing is broken). */
  percent: number;
  brokenByReason: Partial<Record<BrokenReason, number>>;
  examples: BrokenLink[];
  notes: string[];
}

export interface CorrelationReport {
  window: { start: string; end: string };
  traceStore: string;
  exemplars: LinkCheck & { label?: string; query?: string };
  logs: LinkCheck & { selector?: string; regex?: string; regexSource?: 'given' | 'detected' };
  /** Traces sampled from the found ones, each followed to Loki with the traces-to-logs query. */
  tracesToLogs: LinkCheck & { queries: string[] };
  gate: { minLinked: number; passed: boolean; failed: string[] };
}

const TRACE_LABEL = /^trace[_-]?id$/i;

function emptyCheck(): LinkCheck {
  return {
    checked: false,
    items: 0,
    withTraceId: 0,
    distinctTraceIds: 0,
    linked: 0,
    broken: 0,
    percent: 100,
    brokenByReason: {},
    examples: [],
    notes: [],
  };
}

function labelsText(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** Looks each distinct ID up once, `concurrency` at a time. */
type Lookup = Map<string, { found: boolean; error?: string; trace?: Trace }>;

async function lookup(
  store: TraceStore,
  ids: string[],
  concurrency: number,
  hint: { startUs: bigint; endUs: bigint },
): Promise<Lookup> {
  const out: Lookup = new Map();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        const t = await store.get(idFromHex(id, 16, 'trace ID'), hint);
        out.set(id, { found: t !== undefined && t.spans.length > 0, trace: t });
      } catch (e) {
        out.set(id, { found: false, error: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out;
}

interface Occurrence {
  traceId?: string;
  source: string;
  at?: string;
  invalid?: boolean;
  noLabel?: boolean;
}

async function finish(check: LinkCheck, occ: Occurrence[], store: TraceStore, p: CorrelationParams): Promise<Lookup> {
  const hint = { startUs: BigInt(p.startMs - 3_600_000) * 1000n, endUs: BigInt(p.endMs + 3_600_000) * 1000n };
  const valid = [
    ...new Set(occ.filter((o) => o.traceId && !o.invalid).map((o) => o.traceId!.toLowerCase().padStart(32, '0'))),
  ];
  const found = await lookup(store, valid, p.concurrency ?? 8, hint);
  const max = p.examples ?? 10;
  const brokenIds = new Set<string>();
  const seenExample = new Set<string>();
  const add = (b: BrokenLink) => {
    check.brokenByReason[b.reason] = (check.brokenByReason[b.reason] ?? 0) + 1;
    const k = `${b.reason}\u0000${b.traceId ?? b.source}`;
    if (check.examples.length < max && !seenExample.has(k)) {
      seenExample.add(k);
      check.examples.push(b);
    }
  };
  const distinct = new Set<string>();
  for (const o of occ) {
    if (o.noLabel) {
      add({
        reason: 'no-trace-id-label',
        why: 'the exemplar has no trace-ID label, so Grafana shows no link',
        source: o.source,
        at: o.at,
      });
      continue;
    }
    if (!o.traceId) continue;
    if (o.invalid) {
      distinct.add(`invalid:${o.traceId}`);
      if (!brokenIds.has(`invalid:${o.traceId}`)) {
        brokenIds.add(`invalid:${o.traceId}`);
        add({
          traceId: o.traceId,
          reason: 'invalid-trace-id',
          why: `"${o.traceId}" is not a trace ID (1-32 hex digits, not all zero): the link opens an error`,
          source: o.source,
          at: o.at,
        });
      }
      continue;
    }
    const id = o.traceId.toLowerCase().padStart(32, '0');
    distinct.add(id);
    const r = found.get(id)!;
    if (r.found || brokenIds.has(id)) continue;
    brokenIds.add(id);
    if (r.error)
      add({
        traceId: o.traceId,
        reason: 'lookup-failed',
        why: `looking the trace up failed: ${r.error}`,
        source: o.source,
        at: o.at,
      });
    else
      add({
        traceId: o.traceId,
        reason: 'trace-not-found',
        why: `${store.describe} has no trace ${o.traceId} (never sent there, sampled out, or past retention)`,
        source: o.source,
        at: o.at,
      });
  }
  check.distinctTraceIds = distinct.size;
  check.broken = brokenIds.size;
  check.linked = distinct.size - brokenIds.size;
  const noLabel = check.brokenByReason['no-trace-id-label'] ?? 0;
  const denom = distinct.size + noLabel;
  check.percent = denom === 0 ? 100 : Math.floor((check.linked / denom) * 10000) / 100;
  return found;
}

export async function verifyCorrelations(p: CorrelationParams): Promise<CorrelationReport> {
  if (!p.metrics && !p.loki)
    throw new StackshiftError(
      'usage',
      'nothing to check: give the metrics side (--mimir-url / --prometheus-url) and/or --loki-url',
    );
  const report: CorrelationReport = {
    window: { start: new Date(p.startMs).toISOString(), end: new Date(p.endMs).toISOString() },
    traceStore: p.traces.describe,
    exemplars: emptyCheck(),
    logs: emptyCheck(),
    tracesToLogs: { ...emptyCheck(), queries: [] },
    gate: { minLinked: p.minLinked ?? 100, passed: true, failed: [] },
  };

  const foundTraces = new Map<string, Trace>();
  if (p.metrics) {
    const ex = report.exemplars;
    ex.checked = true;
    const query = p.exemplarQuery ?? '{__name__=~".+"}';
    ex.query = query;
    const data = await p.metrics.api<
      Array<{
        seriesLabels: Record<string, string>;
        exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
      }>
    >('/api/v1/query_exemplars', { query, start: p.startMs / 1000, end: p.endMs / 1000 }, { method: 'POST' });
    const occ: Occurrence[] = [];
    for (const s of data ?? []) {
      for (const e of s.exemplars ?? []) {
        ex.items++;
        const at = new Date(e.timestamp * 1000).toISOString();
        const source = `exemplar of ${labelsText(s.seriesLabels)} at ${at} (value ${e.value})`;
        const label = p.exemplarLabel ?? Object.keys(e.labels ?? {}).find((k) => TRACE_LABEL.test(k));
        const v = label ? e.labels?.[label] : undefined;
        if (label && !ex.label) ex.label = label;
        if (v === undefined) {
          occ.push({ source, at, noLabel: true });
          continue;
        }
        ex.withTraceId++;
        occ.push({ traceId: v, source, at, invalid: !validTraceIdHex(v) });
      }
    }
    if (ex.items === 0)
      ex.notes.push(
        `no exemplars in the window for ${query}: exemplar storage off (--enable-feature=exemplar-storage), send_exemplars off on remote_write, or no instrumented service exposes exemplars`,
      );
    for (const [k, v] of await finish(ex, occ, p.traces, p)) if (v.trace) foundTraces.set(k, v.trace);
  }

  if (p.loki) {
    const lg = report.logs;
    lg.checked = true;
    const startNs = BigInt(p.startMs) * 1_000_000n;
    const endNs = BigInt(p.endMs) * 1_000_000n;
    let selector = p.lokiSelector;
    if (!selector) {
      const labels = (await p.loki.labels(startNs, endNs)).filter((l) => !l.startsWith('__'));
      const pick =
        ['service_name', 'job', 'app', 'namespace', 'container'].find((l) => labels.includes(l)) ?? labels[0];
      if (!pick)
        throw new StackshiftError('loki-empty', `${p.loki.url} has no log streams in the window`, {
          exitCode: 1,
          hint: 'check the window (--start/--end) and the tenant (--loki-tenant)',
        });
      selector = `{${pick}=~".+"}`;
      lg.notes.push(`selector ${selector} chosen from the labels Loki lists (pass --loki-selector to narrow it)`);
    }
    lg.selector = selector;
    const max = p.maxLines ?? 20_000;
    const lines: Array<{ line: string; labels: Record<string, string>; tsNs: bigint }> = [];
    let from = startNs;
    const page = 5000;
    // forward paging as logcli does: next start is the last timestamp, entries sharing it are dropped once
    const seenAtEdge = new Set<string>();
    while (lines.length < max) {
      const streams = await p.loki.queryStreams({
        query: selector,
        startNs: from,
        endNs,
        limit: Math.min(page, max - lines.length + seenAtEdge.size),
        direction: 'forward',
      });
      const batch = streams
        .flatMap((s) => s.entries.map((e) => ({ line: e.line, labels: s.labels, tsNs: e.tsNs })))
        .sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
      const fresh = batch.filter((b) => !(b.tsNs === from && seenAtEdge.has(`${labelsText(b.labels)}\u0000${b.line}`)));
      for (const b of fresh) lines.push(b);
      if (batch.length < Math.min(page, max) || fresh.length === 0) break;
      const last = batch[batch.length - 1]!.tsNs;
      seenAtEdge.clear();
      for (const b of batch) if (b.tsNs === last) seenAtEdge.add(`${labelsText(b.labels)}\u0000${b.line}`);
      from = last;
    }
    if (lines.length >= max) lg.notes.push(`read the first ${max} lines of the window only (--max-lines)`);
    lg.items = lines.length;
    let regexSource: 'given' | 'detected' | undefined;
    let re: RegExp | undefined;
    if (p.derivedFieldRegex) {
      try {
        re = compileDerivedFieldRegex(p.derivedFieldRegex);
      } catch (e) {
        throw new StackshiftError('usage', `--derived-field-regex: ${(e as Error).message}`, {
          hint: 'for example --derived-field-regex "trace_id=(\\w+)"',
        });
      }
      lg.regex = p.derivedFieldRegex;
      regexSource = 'given';
    } else {
      const f = detectTraceIdFormat(lines.map((l) => l.line));
      if (f) {
        re = new RegExp(f.regex);
        lg.regex = f.regex;
        regexSource = 'detected';
        lg.notes.push(
          `derived-field regex detected from the lines: ${f.regex} (${f.matched} of ${f.scanned} lines match)`,
        );
      } else
        lg.notes.push('no line holds a trace ID (trace_id=..., "traceId":"..."): no derived-field link will appear');
    }
    lg.regexSource = regexSource;
    const occ: Occurrence[] = [];
    if (re) {
      for (const l of lines) {
        const m = re.exec(l.line);
        if (!m || m[1] === undefined) continue;
        lg.withTraceId++;
        const at = new Date(Number(l.tsNs / 1_000_000n)).toISOString();
        occ.push({
          traceId: m[1],
          source: `${labelsText(l.labels)} ${l.line.length > 160 ? `${l.line.slice(0, 160)}…` : l.line}`,
          at,
          invalid: !validTraceIdHex(m[1]),
        });
      }
    }
    for (const [k, v] of await finish(lg, occ, p.traces, p)) if (v.trace) foundTraces.set(k, v.trace);
  }

  if (p.loki && p.tracesToLogs)
    await tracesToLogs(report.tracesToLogs, [...foundTraces.values()], p.loki, p.tracesToLogs, p);

  const min = report.gate.minLinked;
  for (const [name, c] of [
    ['exemplars', report.exemplars],
    ['logs', report.logs],
    ['traces-to-logs', report.tracesToLogs],
  ] as const) {
    if (c.checked && c.percent < min) report.gate.failed.push(`${name}: ${c.percent}% linked < ${min}%`);
  }
  report.gate.passed = report.gate.failed.length === 0;
  return report;
}

function attr(span: Span, key: string): string | undefined {
  const a = span.attributes.find((x) => x.key === key) ?? span.resource.attributes.find((x) => x.key === key);
  if (!a) return undefined;
  const v = a.value as { value?: unknown };
  return v.value === undefined ? undefined : String(v.value);
}

/**
 * For each sampled trace, the query Grafana's traces-to-logs link runs from its root span: the mapped tags
 * present on the span as a stream selector, over [span start + start shift, span end + end shift], with the
 * trace ID as a line filter when filterByTraceID is on. The line filter is applied here to the lines of the
 * selector (the same lines `|= "<id>"` keeps). A trace whose span has none of the tags gets no link at all.
 */
async function tracesToLogs(
  check: LinkCheck & { queries: string[] },
  traces: Trace[],
  loki: LokiClient,
  t: NonNullable<CorrelationParams['tracesToLogs']>,
  p: CorrelationParams,
): Promise<void> {
  check.checked = true;
  const sample = traces
    .slice()
    .sort((a, b) => Buffer.compare(Buffer.from(a.traceId), Buffer.from(b.traceId)))
    .slice(0, p.sampleTraces ?? 20);
  const max = p.examples ?? 10;
  for (const tr of sample) {
    check.items++;
    const id = Buffer.from(tr.traceId).toString('hex');
    const root = tr.spans.find((s) => !s.parentSpanId || s.parentSpanId.every((b) => b === 0)) ?? tr.spans[0]!;
    const matchers = t.tags.flatMap((m) => {
      const v = attr(root, m.key);
      return v === undefined ? [] : [`${m.value ?? m.key.replace(/[^A-Za-z0-9_]/g, '_')}=${JSON.stringify(v)}`];
    });
    check.withTraceId++;
    check.distinctTraceIds++;
    if (matchers.length === 0) {
      check.broken++;
      check.brokenByReason['no-mapped-tag'] = (check.brokenByReason['no-mapped-tag'] ?? 0) + 1;
      if (check.examples.length < max)
        check.examples.push({
          traceId: id,
          reason: 'no-mapped-tag',
          why: `the root span has none of the mapped attributes (${t.tags.map((m) => m.key).join(', ')}): Grafana shows no logs link`,
          source: `trace ${id}`,
        });
      continue;
    }
    const selector = `{${matchers.join(', ')}}`;
    const query = t.filterByTraceID ? `${selector} |= "${id}"` : selector;
    if (check.queries.length < 5) check.queries.push(query);
    const startNs = root.startNs + BigInt(t.spanStartShiftMs) * 1_000_000n;
    const endNs = root.endNs + BigInt(t.spanEndShiftMs) * 1_000_000n;
    const streams = await loki.queryStreams({ query: selector, startNs, endNs, limit: 5000, direction: 'forward' });
    const short = id.replace(/^0{16}/, '');
    const hit = streams.some((st) =>
      st.entries.some((e) => !t.filterByTraceID || e.line.includes(id) || e.line.includes(short)),
    );
    if (hit) {
      check.linked++;
      continue;
    }
    check.broken++;
    check.brokenByReason['no-logs-found'] = (check.brokenByReason['no-logs-found'] ?? 0) + 1;
    if (check.examples.length < max)
      check.examples.push({
        traceId: id,
        reason: 'no-logs-found',
        why: `${query} over the span's time (${new Date(Number(startNs / 1_000_000n)).toISOString()} .. ${new Date(Number(endNs / 1_000_000n)).toISOString()}) finds no line in Loki`,
        source: `root span "${root.name}" of trace ${id}`,
      });
  }
  check.percent =
    check.distinctTraceIds === 0 ? 100 : Math.floor((check.linked / check.distinctTraceIds) * 10000) / 100;
  if (sample.length === 0) check.notes.push('no trace found by the other checks to follow to the logs');
}

export function renderCorrelationsText(r: CorrelationReport): string {
  const out: string[] = [`Correlations ${r.window.start} .. ${r.window.end}, trace store: ${r.traceStore}`];
  const part = (title: string, c: LinkCheck, extra: string) => {
    if (!c.checked) {
      out.push(`${title}: not checked`);
      return;
    }
    out.push(
      `${title}: ${c.percent}% linked — ${c.linked} of ${c.distinctTraceIds} distinct trace IDs found (${c.withTraceId} of ${c.items} ${title === 'exemplars -> traces' ? 'exemplars' : title === 'traces -> logs' ? 'sampled traces' : 'lines'} carry one)${extra}`,
    );
    for (const [k, v] of Object.entries(c.brokenByReason)) out.push(`  broken, ${k}: ${v}`);
    for (const e of c.examples) out.push(`  - ${e.traceId ?? '(none)'}: ${e.why}\n      from ${e.source}`);
    for (const n of c.notes) out.push(`  note: ${n}`);
  };
  part('exemplars -> traces', r.exemplars, r.exemplars.label ? `, label ${r.exemplars.label}` : '');
  part('logs -> traces', r.logs, r.logs.regex ? `, regex ${r.logs.regex} (${r.logs.regexSource})` : '');
  part('traces -> logs', r.tracesToLogs, r.tracesToLogs.queries.length ? `, e.g. ${r.tracesToLogs.queries[0]}` : '');
  out.push(
    r.gate.passed ? `PASS: every checked link at or above ${r.gate.minLinked}%` : `FAIL: ${r.gate.failed.join('; ')}`,
  );
  return out.join('\n') + '\n';
}

export function renderCorrelationsMarkdown(r: CorrelationReport): string {
  const rows = (
    [
      ['exemplars → traces', r.exemplars],
      ['logs → traces', r.logs],
      ['traces → logs', r.tracesToLogs],
    ] as const
  ).map(
    ([n, c]) => `| ${n} | ${c.checked ? `${c.percent}%` : 'not checked'} | ${c.linked} | ${c.broken} | ${c.items} |`,
  );
  const ex = [...r.exemplars.examples, ...r.logs.examples, ...r.tracesToLogs.examples].map(
    (e) => `- \`${e.traceId ?? '(none)'}\` (${e.reason}): ${e.why} — ${e.source.replace(/\|/g, '\\|')}`,
  );
  return [
    `## Correlations ${r.window.start} .. ${r.window.end}`,
    '',
    `Trace store: ${r.traceStore}`,
    '',
    '| link | linked | ok | broken | read |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...(ex.length ? ['### Broken links', '', ...ex, ''] : []),
    `**${r.gate.passed ? 'PASS' : 'FAIL'}** (min ${r.gate.minLinked}%)`,
    '',
  ].join('\n');
}
