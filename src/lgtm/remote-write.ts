// Why one file of about 400 lines: the measurement, the sizing arithmetic and the generated block with its
// explaining comments must agree figure for figure, so they stay side by side.
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq, type Node as YamlNode } from 'yaml';
import type { PrometheusClient } from '../clients/index.js';
import { InputError, StackshiftError } from '../errors/index.js';
import { LineIndex, yamlEditor } from '../lint/index.js';
import { applyEdits, type TextEdit } from '../promql/index.js';

/**
 * The Prometheus -> Mimir `remote_write` block, sized from what the running Prometheus ingests.
 *
 * Measurement: the samples appended per second (`rate(prometheus_tsdb_head_samples_appended_total[5m])`,
 * or, when Prometheus does not scrape itself, the counter read twice from its /metrics), the head series
 * count (/api/v1/status/tsdb) and whether exemplar storage is on (/api/v1/status/flags).
 *
 * Sizing (prometheus.io "Remote write tuning"; defaults from config/config.go DefaultQueueConfig):
 *   throughput of one shard   = max_samples_per_send x sends per second per shard (1 / expected request latency)
 *   shards needed             = ceil(rate / throughput of one shard)
 *   max_shards                = ceil(shards needed x headroom), at least 1; the headroom is what lets the
 *                               queue catch up after a Mimir outage (headroom 3: the backlog drains at 2x the live rate)
 *   min_shards                = shards needed (no slow ramp-up from 1 at start)
 *   capacity                  = 5 x max_samples_per_send (Prometheus's own default ratio, 10000 / 2000)
 * Every figure and the formula land in comments inside the generated item, so the file explains itself.
 */
export interface IngestionMeasurement {
  prometheusUrl: string;
  version: string;
  /** Samples appended to the head per second. */
  samplesPerSecond: number;
  /** How the rate was measured. */
  rateSource: string;
  headSeries: number;
  exemplarStorage: boolean;
  measuredAt: string;
}

export interface QueueSizingOptions {
  /** Samples per remote-write request (Prometheus default 2000). */
  maxSamplesPerSend?: number;
  /** Expected round trip of one push to Mimir, ms (default 250: 4 sends per second per shard). */
  expectedLatencyMs?: number;
  /** Factor over the shards the live rate needs (default 3). */
  headroom?: number;
}

export interface QueueConfig {
  capacity: number;
  max_shards: number;
  min_shards: number;
  max_samples_per_send: number;
  batch_send_deadline: string;
  min_backoff: string;
  max_backoff: string;
}

export interface QueueSizing {
  queue: QueueConfig;
  /** The arithmetic, one line each, as written into the YAML comments and the report. */
  arithmetic: string[];
  shardsNeeded: number;
  /** What Mimir's per-tenant limits must allow for this Prometheus. */
  mimirLimits: { ingestion_rate: number; ingestion_burst_size: number; max_global_series_per_user: number };
}

export interface RemoteWriteOptions {
  mimirUrl: string;
  tenant?: string;
  /** `name:` of the remote_write entry (default "mimir"); also how an earlier entry of ours is found. */
  name?: string;
  /** Metric-name regexes to drop before sending (write_relabel_configs, action drop on __name__). */
  dropMetrics?: string[];
  /** send_exemplars; default: on when the running Prometheus stores exemplars. */
  sendExemplars?: boolean;
  sizing?: QueueSizingOptions;
}

export interface RemoteWriteBlock {
  url: string;
  /** The sequence item, `- url: ...` at column 0, with its comments. */
  itemText: string;
  sizing: QueueSizing;
}

const DEFAULT_MAX_SAMPLES_PER_SEND = 2000;

/**
 * The push URL of Mimir's distributor: POST /api/v1/push. A URL already ending in a write path is kept: the
 * push path itself, or /api/v1/write (a Prometheus remote-write receiver, or Mimir behind a gateway that
 * maps it); appending the push path to it would send every sample to a 404.
 */
export function mimirPushUrl(base: string): string {
  const u = base.replace(/\/+$/, '');
  if (/\/api\/v1\/(push|write)$/.test(u)) return u;
  return `${u.replace(/\/prometheus$/, '')}/api/v1/push`;
}

/** Reads the ingestion figures of a running Prometheus. `sleep` is injectable for the /metrics fallback. */
export async function measureIngestion(
  client: PrometheusClient,
  opts: { metricsIntervalMs?: number } = {},
): Promise<IngestionMeasurement> {
  const build = await client.buildInfo();
  let exemplarStorage = false;
  try {
    const flags = await client.flags();
    exemplarStorage = /(^|,)exemplar-storage(,|$)/.test(flags['enable-feature'] ?? '');
  } catch {
    /* flags API absent: leave exemplars off */
  }
  let samplesPerSecond: number | undefined;
  let rateSource = '';
  const q = 'sum(rate(prometheus_tsdb_head_samples_appended_total[5m]))';
  // a server up for less than the 5m range: rate() over the few samples there are underestimates the rate
  let youngNote = '';
  try {
    const start = Date.parse(String((await client.runtimeInfo()).startTime ?? ''));
    if (Number.isFinite(start) && Date.now() - start < 6 * 60_000)
      youngNote = `, because the server is up for only ${Math.round((Date.now() - start) / 1000)} s (rate[5m] would underestimate)`;
  } catch {
    /* no runtimeinfo: trust the rate */
  }
  if (!youngNote)
    try {
      const r = await client.query(q);
      if (r.resultType === 'vector' && r.result.length > 0) {
        const v = Number(r.result[0]!.value[1]);
        if (Number.isFinite(v)) {
          samplesPerSecond = v;
          rateSource = `PromQL ${q}`;
        }
      }
    } catch {
      /* fall through to /metrics */
    }
  if (samplesPerSecond === undefined) {
    // Prometheus does not scrape itself: read its own counter twice
    const interval = opts.metricsIntervalMs ?? 10_000;
    const a = await appendedTotal(client);
    await new Promise((r) => setTimeout(r, interval));
    const b = await appendedTotal(client);
    samplesPerSecond = Math.max(0, (b.value - a.value) / ((b.at - a.at) / 1000));
    rateSource = `prometheus_tsdb_head_samples_appended_total read twice from ${client.url}/metrics, ${((b.at - a.at) / 1000).toFixed(1)} s apart${youngNote || ' (this Prometheus does not scrape itself, so the 5m rate has no data)'}`;
  }
  // read after the rate: a server that just started has its first scrapes in by now
  const status = await client.tsdbStatus();
  return {
    prometheusUrl: client.url,
    version: build.version,
    samplesPerSecond,
    rateSource,
    headSeries: status.headStats.numSeries,
    exemplarStorage,
    measuredAt: new Date().toISOString(),
  };
}

async function appendedTotal(client: PrometheusClient): Promise<{ value: number; at: number }> {
  const res = await client.http.text({ path: '/metrics' });
  let sum = 0;
  let found = false;
  for (const line of res.text.split('\n')) {
    const m = /^prometheus_tsdb_head_samples_appended_total(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) {
      sum += Number(m[1]);
      found = true;
    }
  }
  // the counter is created with the first append: a Prometheus that has appended nothing yet shows none
  if (!found && !/^prometheus_/m.test(res.text))
    throw new StackshiftError('measure', `${client.url}/metrics has no prometheus_tsdb_head_samples_appended_total`, {
      hint: 'point --prometheus-url at the Prometheus server whose samples move to Mimir',
    });
  return { value: sum, at: Date.now() };
}

/** The queue_config for a measured rate, with the arithmetic spelled out. */
export function sizeQueue(
  m: Pick<IngestionMeasurement, 'samplesPerSecond' | 'headSeries'>,
  o: QueueSizingOptions = {},
): QueueSizing {
  const perSend = o.maxSamplesPerSend ?? DEFAULT_MAX_SAMPLES_PER_SEND;
  const latency = o.expectedLatencyMs ?? 250;
  const headroom = o.headroom ?? 3;
  if (!(perSend >= 1) || !(latency > 0) || !(headroom >= 1))
    throw new StackshiftError('usage', 'queue sizing needs max_samples_per_send >= 1, latency > 0 and headroom >= 1');
  const sendsPerSec = 1000 / latency;
  const perShard = perSend * sendsPerSec;
  const rate = m.samplesPerSecond;
  const needed = Math.max(1, Math.ceil(rate / perShard));
  const maxShards = Math.max(1, Math.ceil(needed * headroom));
  const capacity = perSend * 5;
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const arithmetic = [
    `measured ingestion: ${fmt(rate)} samples/s, ${m.headSeries} head series`,
    `one shard sends ${perSend} samples x ${fmt(sendsPerSec)} sends/s (1 / ${latency} ms expected push latency) = ${fmt(perShard)} samples/s`,
    `shards needed = ceil(${fmt(rate)} / ${fmt(perShard)}) = ${needed} -> min_shards ${needed}`,
    `max_shards = ceil(${needed} x headroom ${headroom}) = ${maxShards} (catch-up after an outage at ${headroom - 1}x the live rate)`,
    `capacity = 5 x max_samples_per_send = ${capacity}; queue memory at most max_shards x capacity = ${maxShards * capacity} samples`,
  ];
  // Mimir refuses above its per-tenant limits (limits.ingestion_rate, default 10000/s; max_global_series_per_user, default 150000)
  const mimirLimits = {
    ingestion_rate: Math.ceil(rate * 1.5),
    ingestion_burst_size: Math.max(Math.ceil(rate * 1.5) * 10, perSend * maxShards),
    max_global_series_per_user: Math.ceil(m.headSeries * 1.5),
  };
  arithmetic.push(
    `Mimir tenant limits to allow: ingestion_rate >= ${mimirLimits.ingestion_rate}, ingestion_burst_size >= ${mimirLimits.ingestion_burst_size}, max_global_series_per_user >= ${mimirLimits.max_global_series_per_user} (1.5x measured for churn)`,
  );
  return {
    queue: {
      capacity,
      max_shards: maxShards,
      min_shards: needed,
      max_samples_per_send: perSend,
      batch_send_deadline: '5s',
      min_backoff: '30ms',
      max_backoff: '5s',
    },
    arithmetic,
    shardsNeeded: needed,
    mimirLimits,
  };
}

function q(v: string): string {
  return JSON.stringify(v);
}

/** The remote_write item for Mimir as YAML text (a sequence item at column 0). */
export function remoteWriteBlock(m: IngestionMeasurement, o: RemoteWriteOptions): RemoteWriteBlock {
  const url = mimirPushUrl(o.mimirUrl);
  const sizing = sizeQueue(m, o.sizing);
  const name = o.name ?? 'mimir';
  const exemplars = o.sendExemplars ?? m.exemplarStorage;
  const lines: string[] = [];
  lines.push(`- url: ${q(url)}`);
  lines.push(`  # stackshift lgtm config: sized from ${m.prometheusUrl} (Prometheus ${m.version}) at ${m.measuredAt}`);
  lines.push(`  # rate from ${m.rateSource}`);
  for (const a of sizing.arithmetic) lines.push(`  # ${a}`);
  lines.push(`  name: ${q(name)}`);
  if (o.tenant) {
    lines.push('  headers:');
    lines.push(`    X-Scope-OrgID: ${q(o.tenant)}`);
  }
  lines.push(`  send_exemplars: ${exemplars}`);
  lines.push('  queue_config:');
  for (const [k, v] of Object.entries(sizing.queue)) lines.push(`    ${k}: ${typeof v === 'string' ? q(v) : v}`);
  lines.push('  metadata_config:');
  lines.push('    send: true');
  lines.push('    send_interval: "1m"');
  if (o.dropMetrics?.length) {
    lines.push('  write_relabel_configs:');
    for (const re of o.dropMetrics) {
      try {
        new RegExp(`^(?:${re})$`);
      } catch (e) {
        throw new StackshiftError(
          'usage',
          `--drop-metrics "${re}" is not a regular expression: ${(e as Error).message}`,
        );
      }
      lines.push('    - source_labels: [__name__]');
      lines.push(`      regex: ${q(re)}`);
      lines.push('      action: drop');
    }
  }
  return { url, itemText: lines.join('\n') + '\n', sizing };
}

/** Parses a prometheus.yml for editing; InputError (exit 2) with file:line when it is not valid YAML or not a mapping. */
export function checkPrometheusYaml(text: string, file: string): { lines: LineIndex; root: YAMLMap | undefined } {
  const doc = parseDocument(text, { keepSourceTokens: true });
  const lines = new LineIndex(text);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lines.position(e.pos[0]);
    throw new InputError(
      `${file} is not valid YAML: ${e.message.split('\n')[0]}`,
      { file, line: pos.line, column: pos.column },
      'fix the YAML (promtool check config shows the same), then run again',
    );
  }
  const root = isMap(doc.contents) ? (doc.contents as YAMLMap) : undefined;
  if (doc.contents && !root && !(isScalar(doc.contents) && doc.contents.value === null)) {
    throw new InputError(
      `${file} is not a prometheus.yml: its top level is not a mapping`,
      { file, line: 1 },
      'give the Prometheus configuration file',
    );
  }
  return { lines, root };
}

export interface MergeResult {
  text: string;
  changed: boolean;
  /** 'added' a new remote_write section or item, 'replaced' our earlier item, 'unchanged'. */
  action: 'added-section' | 'added-item' | 'replaced' | 'unchanged';
}

/**
 * Merges the item into a prometheus.yml text as edits on the exact source ranges (the lint engine's YAML
 * editor), so every comment, blank line and key order outside our item stays byte for byte. An existing
 * remote_write item with the same URL or the same `name` is replaced; otherwise the item is appended.
 */
export function mergeRemoteWrite(text: string, block: RemoteWriteBlock, file: string, name = 'mimir'): MergeResult {
  const { lines, root } = checkPrometheusYaml(text, file);
  const ed = yamlEditor(text, lines, root);
  const indentItem = (prefix: string, body: string) => {
    const pad = ' '.repeat(prefix.length - 2);
    return body
      .split('\n')
      .map((l, i) => (l === '' ? l : i === 0 ? `${pad}${l}` : `${pad}${l}`))
      .join('\n');
  };
  const pair = root ? ed.pair(root, 'remote_write') : undefined;
  let edits: TextEdit[];
  let action: MergeResult['action'];
  const tail = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  if (!pair) {
    edits = [
      { from: text.length, to: text.length, insert: `${tail}remote_write:\n${indentItem('  - ', block.itemText)}` },
    ];
    action = 'added-section';
  } else if (!isSeq(pair.value) || (pair.value as YAMLSeq).items.length === 0) {
    const v = pair.value as YamlNode | null;
    if (v && !isSeq(v) && !(isScalar(v) && v.value === null)) {
      const pos = lines.position((pair.key as YamlNode).range![0]);
      throw new InputError(
        `${file}: remote_write is not a list`,
        { file, line: pos.line, column: pos.column, key: 'remote_write' },
        'remote_write holds a list of endpoints (- url: ...)',
      );
    }
    const colon = text.indexOf(':', (pair.key as YamlNode).range![1]) + 1;
    const to = v?.range && v.range[1] > colon ? v.range[1] : colon;
    edits = [{ from: colon, to, insert: `\n${indentItem('  - ', block.itemText).replace(/\n$/, '')}` }];
    action = 'added-item';
  } else {
    const seq = pair.value as YAMLSeq;
    if (seq.flow) {
      const pos = lines.position(seq.range![0]);
      throw new InputError(
        `${file}: remote_write is written in flow style ([...]), which cannot be edited in place`,
        { file, line: pos.line, column: pos.column, key: 'remote_write' },
        'rewrite remote_write as a block list (- url: ...) and run again',
      );
    }
    const items = seq.items as YamlNode[];
    const first = items[0]!;
    const firstStart = first.range![0];
    const prefix = text.slice(lines.lineStart(firstStart), firstStart);
    if (!/^ *- +$/.test(prefix)) {
      const pos = lines.position(firstStart);
      throw new InputError(
        `${file}: the remote_write list is laid out in a way stackshift does not edit`,
        { file, line: pos.line, column: pos.column, key: 'remote_write' },
        'write each item as "- url: ..." on its own line',
      );
    }
    const body = indentItem(prefix, block.itemText);
    const ours = items.find(
      (it) =>
        isMap(it) &&
        (ed.scalar(ed.pair(it, 'url')?.value) === block.url || ed.scalar(ed.pair(it, 'name')?.value) === name),
    );
    if (ours) {
      const from = lines.lineStart(ours.range![0]);
      const to =
        ours.range![1] > 0 && text[ours.range![1] - 1] === '\n'
          ? ours.range![1]
          : lines.nextLineStart(Math.max(ours.range![0], ours.range![1] - 1));
      // the same settings with only the measurement comments changed is no change: a rerun must not rewrite
      // (and back up) the live file for a new timestamp
      const settings = (t: string) =>
        t
          .split('\n')
          .filter((l) => !/^\s*#/.test(l))
          .join('\n')
          .trimEnd();
      if (settings(text.slice(from, to)) === settings(body)) return { text, changed: false, action: 'unchanged' };
      edits = [{ from, to, insert: body }];
      action = 'replaced';
    } else {
      const last = items[items.length - 1]!;
      const at =
        last.range![1] > 0 && text[last.range![1] - 1] === '\n'
          ? last.range![1]
          : lines.nextLineStart(Math.max(last.range![0], last.range![1] - 1));
      edits = [{ from: at, to: at, insert: (at === text.length && !text.endsWith('\n') ? '\n' : '') + body }];
      action = 'added-item';
    }
  }
  const next = applyEdits(text, edits).text;
  if (next === text) return { text, changed: false, action: 'unchanged' };
  const check = parseDocument(next);
  if (check.errors.length)
    throw new StackshiftError(
      'merge',
      `merging remote_write into ${file} would make it invalid YAML (${check.errors[0]!.message.split('\n')[0]}); nothing written`,
      { hint: 'report this with the file; meanwhile add the block by hand from the out-dir copy' },
    );
  return { text: next, changed: true, action };
}
