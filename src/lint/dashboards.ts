import type { Node as JsonNode } from 'jsonc-parser';
import { findNodeAtLocation, getNodeValue } from 'jsonc-parser';

/**
 * Every PromQL query of a Grafana dashboard: panel targets (nested panels of collapsed rows and the
 * legacy rows[] layout included), query variables and annotations, each with the JSON string node that
 * holds it. Targets of Loki, InfluxDB and other non-Prometheus datasources are skipped.
 */
export interface DashboardQuery {
  node: JsonNode;
  value: string;
  /** "panel \"CPU\" (id 3) target A" */
  context: string;
  /** Grafana query-variable syntax (label_values(...), query_result(...)) may wrap the PromQL. */
  variable: boolean;
}

type Kind = 'prometheus' | 'other' | 'unknown';

function prop(node: JsonNode | undefined, key: string): JsonNode | undefined {
  if (!node || node.type !== 'object') return undefined;
  for (const p of node.children ?? []) if (p.children?.[0]?.value === key) return p.children[1];
  return undefined;
}
function str(node: JsonNode | undefined): string | undefined {
  return node?.type === 'string' ? (node.value as string) : undefined;
}
function arr(node: JsonNode | undefined): JsonNode[] {
  return node?.type === 'array' ? node.children ?? [] : [];
}

export function dashboardQueries(root: JsonNode): DashboardQuery[] {
  // API exports wrap the dashboard: {"dashboard": {...}, "meta": {...}}
  const dash = prop(root, 'dashboard')?.type === 'object' && !prop(root, 'panels') ? prop(root, 'dashboard')! : root;
  const out: DashboardQuery[] = [];
  const dsVars = new Map<string, Kind>();
  for (const input of arr(prop(dash, '__inputs'))) {
    const name = str(prop(input, 'name'));
    const plugin = str(prop(input, 'pluginId'));
    if (name) dsVars.set(name, plugin === 'prometheus' ? 'prometheus' : plugin ? 'other' : 'unknown');
  }
  const variables = arr(prop(prop(dash, 'templating'), 'list'));
  for (const v of variables) {
    const name = str(prop(v, 'name'));
    if (name && str(prop(v, 'type')) === 'datasource') {
      const q = str(prop(v, 'query'));
      dsVars.set(name, q === 'prometheus' ? 'prometheus' : q ? 'other' : 'unknown');
    }
  }
  const kindOf = (ds: JsonNode | undefined): Kind | undefined => {
    if (!ds || ds.type === 'null') return undefined;
    if (ds.type === 'string') {
      const s = ds.value as string;
      const ref = /^\$\{?([A-Za-z0-9_]+)/.exec(s);
      if (ref) return dsVars.get(ref[1]) ?? 'unknown';
      if (s === '-- Mixed --' || s === '-- Grafana --') return undefined;
      return /loki|influx|elastic|tempo|jaeger|graphite|mysql|postgres|cloudwatch/i.test(s) ? 'other' : 'unknown';
    }
    if (ds.type === 'object') {
      const type = str(prop(ds, 'type'));
      const uid = str(prop(ds, 'uid'));
      if (type === 'prometheus') return 'prometheus';
      if (type === 'datasource' || uid === '-- Mixed --' || uid === 'grafana') return undefined;
      if (type) return 'other';
      const ref = uid && /^\$\{?([A-Za-z0-9_]+)/.exec(uid);
      return ref ? dsVars.get(ref[1]) ?? 'unknown' : 'unknown';
    }
    return 'unknown';
  };

  const panelName = (p: JsonNode) => {
    const title = str(prop(p, 'title'));
    const id = prop(p, 'id');
    return `panel ${title ? JSON.stringify(title) : '(untitled)'}${id?.type === 'number' ? ` (id ${id.value})` : ''}`;
  };
  const visitPanel = (p: JsonNode, where: string): void => {
    const panelKind = kindOf(prop(p, 'datasource'));
    arr(prop(p, 'targets')).forEach((t, i) => {
      const expr = prop(t, 'expr');
      if (expr?.type !== 'string') return;
      const kind = kindOf(prop(t, 'datasource')) ?? panelKind ?? 'unknown';
      if (kind === 'other') return;
      const ref = str(prop(t, 'refId')) ?? String(i);
      out.push({ node: expr, value: expr.value as string, context: `${where}${panelName(p)} target ${ref}`, variable: false });
    });
    for (const nested of arr(prop(p, 'panels'))) visitPanel(nested, `${where}${panelName(p)} > `);
  };
  for (const p of arr(prop(dash, 'panels'))) visitPanel(p, '');
  arr(prop(dash, 'rows')).forEach((row, i) => {
    const title = str(prop(row, 'title'));
    for (const p of arr(prop(row, 'panels'))) visitPanel(p, `row ${title ? JSON.stringify(title) : i} > `);
  });
  for (const v of variables) {
    if (str(prop(v, 'type')) !== 'query') continue;
    const kind = kindOf(prop(v, 'datasource')) ?? 'unknown';
    if (kind === 'other') continue;
    let q = prop(v, 'query');
    if (q?.type === 'object') q = prop(q, 'query');
    if (q?.type !== 'string' || !(q.value as string).trim()) continue;
    const text = q.value as string;
    // label_names() and metrics(regex) hold no PromQL
    if (/^\s*(label_names|metrics)\s*\(/.test(text)) continue;
    out.push({ node: q, value: text, context: `variable ${str(prop(v, 'name')) ?? '?'}`, variable: true });
  }
  arr(prop(prop(dash, 'annotations'), 'list')).forEach((a, i) => {
    const expr = prop(a, 'expr');
    if (expr?.type !== 'string' || !(expr.value as string).trim()) return;
    if ((kindOf(prop(a, 'datasource')) ?? 'unknown') === 'other') return;
    out.push({ node: expr, value: expr.value as string, context: `annotation ${str(prop(a, 'name')) ?? i}`, variable: false });
  });
  return out;
}

/** A dashboard is a JSON object with panels or rows (or an API export wrapping one). */
export function isDashboard(root: JsonNode | undefined): boolean {
  if (!root || root.type !== 'object') return false;
  const inner = prop(root, 'dashboard');
  const d = inner?.type === 'object' ? inner : root;
  return Boolean(prop(d, 'panels') || prop(d, 'rows') || (prop(d, 'templating') && prop(d, 'schemaVersion')));
}

export { findNodeAtLocation, getNodeValue };
