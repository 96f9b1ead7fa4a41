/**
 * Every PromQL query of a Grafana dashboard: panel targets (nested panels of collapsed rows and the
 * legacy rows[] layout included), query variables and annotations, each with its JSON path. Targets of
 * Loki, InfluxDB and other non-Prometheus datasources are skipped. The dashboard is walked as plain
 * JSON.parse output: positions are only needed for the few queries that have findings (see inputs.ts).
 */
export type JsonPath = Array<string | number>;

export interface DashboardQuery {
  path: JsonPath;
  value: string;
  /** "panel \"CPU\" (id 3) target A" */
  context: string;
  /** Grafana query-variable syntax (label_values(...), query_result(...)) may wrap the PromQL. */
  variable: boolean;
}

type Kind = 'prometheus' | 'other' | 'unknown';
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** API exports wrap the dashboard: {"dashboard": {...}, "meta": {...}}. */
function unwrap(root: Obj): { dash: Obj; base: JsonPath } {
  return isObj(root.dashboard) && !root.panels
    ? { dash: root.dashboard, base: ['dashboard'] }
    : { dash: root, base: [] };
}

export function dashboardQueries(root: unknown): DashboardQuery[] {
  if (!isObj(root)) return [];
  const { dash, base } = unwrap(root);
  const out: DashboardQuery[] = [];
  const dsVars = new Map<string, Kind>();
  for (const input of arr(dash.__inputs)) {
    if (!isObj(input)) continue;
    const name = str(input.name);
    const plugin = str(input.pluginId);
    if (name) dsVars.set(name, plugin === 'prometheus' ? 'prometheus' : plugin ? 'other' : 'unknown');
  }
  const variables = arr(isObj(dash.templating) ? dash.templating.list : undefined);
  for (const v of variables) {
    if (!isObj(v)) continue;
    const name = str(v.name);
    if (name && v.type === 'datasource') {
      const q = str(v.query);
      dsVars.set(name, q === 'prometheus' ? 'prometheus' : q ? 'other' : 'unknown');
    }
  }
  const kindOf = (ds: unknown): Kind | undefined => {
    if (ds === undefined || ds === null) return undefined;
    if (typeof ds === 'string') {
      const ref = /^\$\{?([A-Za-z0-9_]+)/.exec(ds);
      if (ref) return dsVars.get(ref[1]) ?? 'unknown';
      if (ds === '-- Mixed --' || ds === '-- Grafana --') return undefined;
      return /loki|influx|elastic|tempo|jaeger|graphite|mysql|postgres|cloudwatch/i.test(ds) ? 'other' : 'unknown';
    }
    if (isObj(ds)) {
      const type = str(ds.type);
      const uid = str(ds.uid);
      if (type === 'prometheus') return 'prometheus';
      if (type === 'datasource' || uid === '-- Mixed --' || uid === 'grafana') return undefined;
      if (type) return 'other';
      const ref = uid ? /^\$\{?([A-Za-z0-9_]+)/.exec(uid) : null;
      return ref ? (dsVars.get(ref[1]) ?? 'unknown') : 'unknown';
    }
    return 'unknown';
  };
  const panelName = (p: Obj) =>
    `panel ${typeof p.title === 'string' && p.title ? JSON.stringify(p.title) : '(untitled)'}${typeof p.id === 'number' ? ` (id ${p.id})` : ''}`;
  const visitPanel = (p: unknown, path: JsonPath, where: string): void => {
    if (!isObj(p)) return;
    const panelKind = kindOf(p.datasource);
    arr(p.targets).forEach((t, i) => {
      if (!isObj(t) || typeof t.expr !== 'string') return;
      const kind = kindOf(t.datasource) ?? panelKind ?? 'unknown';
      if (kind === 'other') return;
      out.push({
        path: [...path, 'targets', i, 'expr'],
        value: t.expr,
        context: `${where}${panelName(p)} target ${str(t.refId) ?? i}`,
        variable: false,
      });
    });
    arr(p.panels).forEach((n, i) => visitPanel(n, [...path, 'panels', i], `${where}${panelName(p)} > `));
  };
  arr(dash.panels).forEach((p, i) => visitPanel(p, [...base, 'panels', i], ''));
  arr(dash.rows).forEach((row, r) => {
    if (!isObj(row)) return;
    const title = str(row.title);
    arr(row.panels).forEach((p, i) =>
      visitPanel(p, [...base, 'rows', r, 'panels', i], `row ${title ? JSON.stringify(title) : r} > `),
    );
  });
  variables.forEach((v, i) => {
    if (!isObj(v) || v.type !== 'query' || kindOf(v.datasource) === 'other') return;
    let path: JsonPath = [...base, 'templating', 'list', i, 'query'];
    let q = v.query;
    if (isObj(q)) {
      q = q.query;
      path = [...path, 'query'];
    }
    if (typeof q !== 'string' || !q.trim()) return;
    // label_names() and metrics(regex) hold no PromQL
    if (/^\s*(label_names|metrics)\s*\(/.test(q)) return;
    out.push({ path, value: q, context: `variable ${str(v.name) ?? '?'}`, variable: true });
  });
  arr(isObj(dash.annotations) ? dash.annotations.list : undefined).forEach((a, i) => {
    if (!isObj(a) || typeof a.expr !== 'string' || !a.expr.trim() || kindOf(a.datasource) === 'other') return;
    out.push({
      path: [...base, 'annotations', 'list', i, 'expr'],
      value: a.expr,
      context: `annotation ${str(a.name) ?? i}`,
      variable: false,
    });
  });
  return out;
}

/** A dashboard is a JSON object with panels or rows (or an API export wrapping one). */
export function isDashboard(root: unknown): boolean {
  if (!isObj(root)) return false;
  const { dash } = unwrap(root);
  return Boolean(dash.panels || dash.rows || (dash.templating && dash.schemaVersion));
}
