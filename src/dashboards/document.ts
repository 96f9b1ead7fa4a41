import type { Path } from './rewrite.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a JSON file (or API payload) holds, and where the part to rewrite sits inside it. */
export type DocumentShape =
  | {
      kind: 'dashboard';
      form: 'classic' | 'api' | 'resource';
      base: Path;
      dashboard: Obj;
      uid?: string;
      title?: string;
    }
  | { kind: 'library-element'; base: Path; model: Obj; uid?: string; title?: string }
  | { kind: 'v2'; uid?: string; title?: string; apiVersion?: string }
  | { kind: 'other'; reason: string };

/** Grafana 12+ V2 schema: `elements` + `layout` instead of `panels` (grafana-foundation-sdk DashboardV2Spec). */
export function isV2Spec(v: unknown): boolean {
  return isObj(v) && isObj(v.elements) && isObj(v.layout);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function classic(d: Obj): boolean {
  return Array.isArray(d.panels) || Array.isArray(d.rows) || isObj(d.templating) || typeof d.schemaVersion === 'number';
}

/**
 * Recognises the shapes dashboards travel in: the classic JSON model (what "Export" and provisioning
 * use), the `{dashboard, meta}` answer of GET /api/dashboards/uid/:uid (what `export` writes), the
 * Kubernetes-style resource of Grafana 12's /apis (v0/v1 carry the classic model in `spec`), library
 * elements, and V2 dashboards, which are recognised so they can be refused.
 */
export function classify(v: unknown): DocumentShape {
  if (!isObj(v))
    return { kind: 'other', reason: Array.isArray(v) ? 'a JSON array, not a dashboard' : 'not a JSON object' };
  if (isObj(v.dashboard)) {
    const inner = classify(v.dashboard);
    if (inner.kind === 'dashboard') return { ...inner, form: 'api', base: ['dashboard', ...inner.base] };
    return inner;
  }
  if (typeof v.apiVersion === 'string' && v.kind === 'Dashboard') {
    const meta = isObj(v.metadata) ? v.metadata : {};
    const spec = isObj(v.spec) ? v.spec : {};
    const uid = str(meta.name) ?? str(spec.uid);
    if (/\/v2/.test(v.apiVersion) || isV2Spec(spec))
      return { kind: 'v2', uid, title: str(spec.title), apiVersion: v.apiVersion };
    return { kind: 'dashboard', form: 'resource', base: ['spec'], dashboard: spec, uid, title: str(spec.title) };
  }
  if (isObj(v.result) && isObj(v.result.model))
    return {
      kind: 'library-element',
      base: ['result', 'model'],
      model: v.result.model,
      uid: str(v.result.uid),
      title: str(v.result.name),
    };
  if (isObj(v.model) && 'kind' in v && !classic(v))
    return { kind: 'library-element', base: ['model'], model: v.model, uid: str(v.uid), title: str(v.name) };
  if (isV2Spec(v)) return { kind: 'v2', uid: str(v.uid), title: str(v.title) };
  if (classic(v))
    return { kind: 'dashboard', form: 'classic', base: [], dashboard: v, uid: str(v.uid), title: str(v.title) };
  return { kind: 'other', reason: 'no panels, rows or templating: not a Grafana dashboard' };
}
