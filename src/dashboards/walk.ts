import type { Path } from './rewrite.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What reacts to a walk. Each visit goes to every listener in order, so one listener (references) has
 * rewritten a field before the next (exprs) asks where it points now.
 */
export interface WalkListener {
  /** Before anything else: `__inputs` are bound here. */
  begin?(d: Obj, base: Path): void;
  /** Every templating variable, before any is visited: datasource variables must be known first. */
  declareVariable?(v: Obj, index: number): void;
  datasourceVariable?(v: Obj, path: Path): void;
  /** A variable of any other type. */
  variable?(v: Obj, path: Path): void;
  annotation?(a: Obj, path: Path): void;
  /** A panel (before its targets); `targets` is its target list, or empty. */
  panel?(p: Obj, path: Path, targets: unknown[]): void;
  target?(t: Obj, path: Path, mixed: boolean): void;
  /** After a panel's targets, before its nested panels. */
  panelTargets?(p: Obj, path: Path, targets: unknown[], mixed: boolean): void;
  dashboardLinks?(d: Obj): void;
  end?(d: Obj, base: Path): void;
}

/**
 * One pass over a dashboard that visits every place a datasource reference lives (grafana.md §1.1):
 * query/adhoc variables, datasource-type variables, annotations, panels and their targets, panels in
 * collapsed rows and legacy `rows[]`, `__elements` library panel models; `__inputs` at the start and the
 * end. It only walks; what to count or rewrite is the listeners' business.
 */
export function walkDashboard(d: Obj, base: Path, listeners: WalkListener[]): void {
  const emit = emitter(listeners);
  emit('begin', d, base);
  const templating = isObj(d.templating) && Array.isArray(d.templating.list) ? (d.templating.list as unknown[]) : [];
  templating.forEach((v, i) => {
    if (isObj(v)) emit('declareVariable', v, i);
  });
  templating.forEach((v, i) => {
    if (isObj(v) && v.type === 'datasource') emit('datasourceVariable', v, [...base, 'templating', 'list', i]);
  });
  templating.forEach((v, i) => {
    if (isObj(v) && v.type !== 'datasource') emit('variable', v, [...base, 'templating', 'list', i]);
  });
  const annotations =
    isObj(d.annotations) && Array.isArray(d.annotations.list) ? (d.annotations.list as unknown[]) : [];
  annotations.forEach((a, i) => {
    if (isObj(a)) emit('annotation', a, [...base, 'annotations', 'list', i]);
  });
  if (Array.isArray(d.panels)) panels(d.panels, [...base, 'panels'], emit);
  if (Array.isArray(d.rows)) {
    d.rows.forEach((r, i) => {
      if (isObj(r) && Array.isArray(r.panels)) panels(r.panels, [...base, 'rows', i, 'panels'], emit);
    });
  }
  if (isObj(d.__elements)) {
    for (const [k, el] of Object.entries(d.__elements)) {
      if (isObj(el) && isObj(el.model)) panel(el.model, [...base, '__elements', k, 'model'], emit);
    }
  }
  emit('dashboardLinks', d);
  emit('end', d, base);
}

/** A library element's model is one panel, outside any dashboard: no variables, no inputs. */
export function walkLibraryModel(model: Obj, base: Path, listeners: WalkListener[]): void {
  panel(model, base, emitter(listeners));
}

type Emit = <K extends keyof WalkListener>(k: K, ...args: Parameters<NonNullable<WalkListener[K]>>) => void;

function emitter(listeners: WalkListener[]): Emit {
  return (k, ...args) => {
    for (const l of listeners) (l[k] as ((...a: unknown[]) => void) | undefined)?.apply(l, args);
  };
}

function panels(list: unknown[], path: Path, emit: Emit): void {
  list.forEach((p, i) => {
    if (isObj(p)) panel(p, [...path, i], emit);
  });
}

function panel(p: Obj, path: Path, emit: Emit): void {
  const targets = Array.isArray(p.targets) ? p.targets : [];
  emit('panel', p, path, targets);
  const mixed = isObj(p.datasource) ? p.datasource.uid === '-- Mixed --' : p.datasource === '-- Mixed --';
  targets.forEach((t, i) => {
    if (isObj(t)) emit('target', t, [...path, 'targets', i], mixed);
  });
  emit('panelTargets', p, path, targets, mixed);
  if (Array.isArray(p.panels)) panels(p.panels, [...path, 'panels'], emit);
}
