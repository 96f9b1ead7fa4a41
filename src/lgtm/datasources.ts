import { parse, stringify } from 'yaml';
import { InputError } from '../errors/index.js';
import { tryParseDuration } from '../timeutil/index.js';
import type { TraceIdFormat } from './trace-ids.js';

/**
 * Grafana datasource provisioning (apiVersion 1, `datasources:`) for Mimir, Tempo and Loki with the
 * correlations between them. Keys as documented by Grafana:
 * - Prometheus type (Mimir): jsonData.prometheusType, httpMethod, exemplarTraceIdDestinations[]{name,
 *   datasourceUid, urlDisplayLabel} (docs/sources/datasources/prometheus/configure; PromOptions);
 * - Tempo: jsonData.tracesToLogsV2{datasourceUid, spanStartTimeShift, spanEndTimeShift, tags[{key,value}],
 *   filterByTraceID, filterBySpanID}, tracesToMetrics{datasourceUid, tags, queries[{name,query}]},
 *   serviceMap{datasourceUid}, nodeGraph{enabled}, search{hide}, traceQuery{...}
 *   (docs/sources/datasources/tempo/configure-tempo-data-source/provision.md);
 * - Loki: jsonData.maxLines, derivedFields[]{name, matcherRegex, matcherType, datasourceUid, url,
 *   urlDisplayLabel} (docs/sources/datasources/loki/configure/index.md);
 * - tenant: jsonData.httpHeaderName1 X-Scope-OrgID + secureJsonData.httpHeaderValue1 (custom headers).
 * Provisioning expands $VAR from the environment, so a literal `$` is written `$$`.
 */
export interface TagMapping {
  key: string;
  value?: string;
}

export interface DatasourceOptions {
  mimirUrl: string;
  tempoUrl: string;
  lokiUrl: string;
  tenant?: string;
  uids?: { mimir?: string; tempo?: string; loki?: string };
  /** Exemplar label holding the trace ID (default trace_id). */
  exemplarLabel?: string;
  /** tracesToLogsV2 tags: span attribute -> Loki label. */
  logTags: TagMapping[];
  /** tracesToMetrics tags: span attribute -> Mimir label. */
  metricTags: TagMapping[];
  /** Span-metrics queries when Mimir holds span metrics. */
  metricQueries?: Array<{ name: string; query: string }>;
  traceIdFormat?: Pick<TraceIdFormat, 'regex'>;
}

export const DEFAULT_UIDS = { mimir: 'mimir', tempo: 'tempo', loki: 'loki' } as const;

function tenantHeader(tenant: string | undefined): {
  jsonData: Record<string, unknown>;
  secure?: Record<string, string>;
} {
  if (!tenant) return { jsonData: {} };
  return { jsonData: { httpHeaderName1: 'X-Scope-OrgID' }, secure: { httpHeaderValue1: tenant } };
}

/** Mimir's Prometheus API lives under /prometheus. */
export function mimirQueryUrl(base: string): string {
  const u = base.replace(/\/+$/, '').replace(/\/api\/v1\/push$/, '');
  return /\/prometheus$/.test(u) ? u : `${u}/prometheus`;
}

export function datasourcesDocument(o: DatasourceOptions): Record<string, unknown> {
  const uid = { ...DEFAULT_UIDS, ...(o.uids ?? {}) };
  const t = tenantHeader(o.tenant);
  const secure = (x: Record<string, unknown>) => (t.secure ? { ...x, secureJsonData: { ...t.secure } } : x);
  const tags = (list: TagMapping[]) =>
    list.map((m) => (m.value && m.value !== m.key ? { key: m.key, value: m.value } : { key: m.key }));
  const mimir = secure({
    name: 'Mimir',
    uid: uid.mimir,
    type: 'prometheus',
    access: 'proxy',
    url: mimirQueryUrl(o.mimirUrl),
    jsonData: {
      ...t.jsonData,
      prometheusType: 'Mimir',
      httpMethod: 'POST',
      exemplarTraceIdDestinations: [
        { name: o.exemplarLabel ?? 'trace_id', datasourceUid: uid.tempo, urlDisplayLabel: 'View trace' },
      ],
    },
  });
  const tracesToMetrics: Record<string, unknown> = {
    datasourceUid: uid.mimir,
    spanStartTimeShift: '-2m',
    spanEndTimeShift: '2m',
    tags: tags(o.metricTags),
  };
  if (o.metricQueries?.length) tracesToMetrics.queries = o.metricQueries;
  const tempo = secure({
    name: 'Tempo',
    uid: uid.tempo,
    type: 'tempo',
    access: 'proxy',
    url: o.tempoUrl.replace(/\/+$/, ''),
    jsonData: {
      ...t.jsonData,
      tracesToLogsV2: {
        datasourceUid: uid.loki,
        spanStartTimeShift: '-2m',
        spanEndTimeShift: '2m',
        tags: tags(o.logTags),
        filterByTraceID: true,
        filterBySpanID: false,
      },
      tracesToMetrics,
      serviceMap: { datasourceUid: uid.mimir },
      nodeGraph: { enabled: true },
      search: { hide: false },
      traceQuery: { timeShiftEnabled: true, spanStartTimeShift: '-1h', spanEndTimeShift: '1h' },
    },
  });
  const loki = secure({
    name: 'Loki',
    uid: uid.loki,
    type: 'loki',
    access: 'proxy',
    url: o.lokiUrl.replace(/\/+$/, '').replace(/\/loki\/api\/v1\/push$/, ''),
    jsonData: {
      ...t.jsonData,
      maxLines: 1000,
      derivedFields: [
        {
          name: 'TraceID',
          matcherType: 'regex',
          matcherRegex: o.traceIdFormat?.regex ?? '\\btrace_?[iI][dD]=([0-9a-fA-F]{16,32})\\b',
          datasourceUid: uid.tempo,
          url: '$${__value.raw}',
          urlDisplayLabel: 'View trace',
        },
      ],
    },
  });
  return { apiVersion: 1, datasources: [mimir, tempo, loki] };
}

export function datasourcesYaml(o: DatasourceOptions, notes: string[] = []): string {
  const head = [
    '# stackshift lgtm config: Grafana datasource provisioning for Mimir, Tempo and Loki with their correlations.',
    ...notes.map((n) => `# ${n}`),
  ];
  return `${head.join('\n')}\n${stringify(datasourcesDocument(o), { lineWidth: 0 })}`;
}

/**
 * Well-known span resource attributes and the label names they usually become on the metrics and logs side
 * (OpenTelemetry semantic conventions; Loki 3 discover_service_name; Prometheus/Promtail conventions).
 * A mapping is only emitted when the attribute exists on the trace side (when that side was read) and
 * the label exists on the other side.
 */
const CANDIDATES: Array<{ attr: string; labels: string[] }> = [
  { attr: 'service.name', labels: ['service_name', 'service', 'job', 'app'] },
  { attr: 'service.namespace', labels: ['service_namespace', 'namespace'] },
  { attr: 'k8s.namespace.name', labels: ['namespace', 'k8s_namespace_name'] },
  { attr: 'k8s.pod.name', labels: ['pod', 'k8s_pod_name'] },
  { attr: 'k8s.container.name', labels: ['container', 'k8s_container_name'] },
  { attr: 'k8s.cluster.name', labels: ['cluster', 'k8s_cluster_name'] },
  { attr: 'host.name', labels: ['host', 'hostname', 'instance', 'node'] },
  { attr: 'deployment.environment', labels: ['env', 'environment', 'deployment_environment'] },
  { attr: 'deployment.environment.name', labels: ['env', 'environment', 'deployment_environment'] },
  { attr: 'cloud.region', labels: ['region', 'cloud_region'] },
];

export interface DerivedMappings {
  mappings: TagMapping[];
  /** Why each mapping is there, or why none is. */
  reasons: string[];
}

/**
 * Span attribute -> label mappings from what exists on both sides. `spanAttrs` undefined: the trace side
 * was not read, every candidate attribute is assumed. `labels` undefined: the label side was not read,
 * the documented default is used (service.name -> `fallback`).
 */
export function deriveTagMappings(
  spanAttrs: string[] | undefined,
  labels: string[] | undefined,
  side: string,
  fallback: string,
): DerivedMappings {
  if (!labels)
    return {
      mappings: [{ key: 'service.name', value: fallback }],
      reasons: [`${side} labels not read: service.name -> ${fallback} (default)`],
    };
  const have = new Set(labels);
  const attrs = spanAttrs ? new Set(spanAttrs) : undefined;
  const out: TagMapping[] = [];
  const reasons: string[] = [];
  const usedLabels = new Set<string>();
  for (const c of CANDIDATES) {
    if (attrs && !attrs.has(c.attr)) continue;
    const label = c.labels.find((l) => have.has(l) && !usedLabels.has(l));
    if (!label) continue;
    usedLabels.add(label);
    out.push({ key: c.attr, value: label });
    reasons.push(`${c.attr} -> ${label} (span attribute${attrs ? ' seen' : ' assumed'}, ${side} label present)`);
  }
  // attributes whose underscore spelling is a label name (http.method -> http_method), never the candidates again
  for (const a of [...(attrs ?? [])].sort()) {
    if (out.some((m) => m.key === a)) continue;
    const l = a.replace(/[^A-Za-z0-9_]/g, '_');
    if (have.has(l) && !usedLabels.has(l) && l !== '__name__') {
      usedLabels.add(l);
      out.push({ key: a, value: l });
      reasons.push(`${a} -> ${l} (same name with dots as underscores on both sides)`);
    }
  }
  if (out.length === 0) {
    reasons.push(
      `no span attribute has a matching ${side} label (labels: ${labels.slice(0, 12).join(', ')}${labels.length > 12 ? ', ...' : ''}); service.name -> ${fallback} as default: no link will show until the label exists`,
    );
    out.push({ key: 'service.name', value: fallback });
  }
  return { mappings: out, reasons };
}

export interface ProvisionedCorrelations {
  exemplarLabel?: string;
  derivedFieldRegex?: string;
  tracesToLogs?: { tags: TagMapping[]; spanStartShiftMs: number; spanEndShiftMs: number; filterByTraceID: boolean };
}

function shiftMs(v: unknown, where: string): number {
  if (v === undefined || v === null || v === '') return 0;
  const s = String(v).trim();
  const neg = s.startsWith('-');
  const ms = tryParseDuration(neg ? s.slice(1) : s);
  if (ms === undefined)
    throw new InputError(`${where}: "${s}" is not a time shift`, { file: where }, 'use a duration such as -2m or 1h');
  return neg ? -ms : ms;
}

/**
 * The correlation settings of a provisioning file (the one `lgtm config` writes, or the one in use): the
 * Prometheus-type datasource's exemplar label, the Loki derived field's regex, the Tempo datasource's
 * tracesToLogsV2, so `verify correlations` checks exactly what Grafana will do.
 */
export function correlationsFromProvisioning(text: string, file: string): ProvisionedCorrelations {
  let doc: { datasources?: Array<Record<string, any>> };
  try {
    doc = parse(text.replace(/\$\$/g, '$')) as typeof doc;
  } catch (e) {
    throw new InputError(
      `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      { file },
      'give a Grafana datasource provisioning file (apiVersion: 1, datasources:)',
    );
  }
  if (!doc || !Array.isArray(doc.datasources))
    throw new InputError(
      `${file} has no datasources: list`,
      { file, key: 'datasources' },
      'give a Grafana datasource provisioning file (apiVersion: 1, datasources:)',
    );
  const out: ProvisionedCorrelations = {};
  for (const d of doc.datasources) {
    const j = (d?.jsonData ?? {}) as Record<string, any>;
    if (
      d?.type === 'prometheus' &&
      Array.isArray(j.exemplarTraceIdDestinations) &&
      j.exemplarTraceIdDestinations[0]?.name
    )
      out.exemplarLabel ??= String(j.exemplarTraceIdDestinations[0].name);
    if (d?.type === 'loki' && Array.isArray(j.derivedFields)) {
      const f = j.derivedFields.find(
        (x: Record<string, unknown>) => x?.matcherType !== 'label' && typeof x?.matcherRegex === 'string',
      );
      if (f) out.derivedFieldRegex ??= String(f.matcherRegex);
    }
    if (d?.type === 'tempo' && j.tracesToLogsV2) {
      const t = j.tracesToLogsV2 as Record<string, any>;
      const where = `${file}: datasources[${d.name}].jsonData.tracesToLogsV2`;
      out.tracesToLogs ??= {
        tags: Array.isArray(t.tags)
          ? t.tags.map((x: Record<string, unknown>) => ({
              key: String(x.key),
              value: x.value === undefined ? undefined : String(x.value),
            }))
          : [],
        spanStartShiftMs: shiftMs(t.spanStartTimeShift, `${where}.spanStartTimeShift`),
        spanEndShiftMs: shiftMs(t.spanEndTimeShift, `${where}.spanEndTimeShift`),
        filterByTraceID: t.filterByTraceID === true,
      };
    }
  }
  return out;
}
