import type { DatasourceCatalog, GrafanaDatasource } from './datasources.js';
import { ExprsListener } from './on-exprs.js';
import { InputsListener } from './on-inputs.js';
import { ReferencesListener } from './on-references.js';
import { VariablesListener } from './on-variables.js';
import { walkDashboard, walkLibraryModel, type WalkListener } from './walk.js';
import { WalkContext } from './walk-context.js';

/** A JSON path from the root of the file (or API object) to a value. */
export type Path = Array<string | number>;

export type ChangeKind =
  'panel' | 'target' | 'variable' | 'datasource-variable' | 'annotation' | 'input' | 'exemplar' | 'expr';

/** One edit at a leaf of the JSON: what the diff, the summary and the surgical text writer work from. */
export interface Change {
  kind: ChangeKind;
  op: 'set' | 'insert' | 'remove';
  path: Path;
  from?: unknown;
  to?: unknown;
}

/** Where a PromQL expression lives, for the --fix-promql hook. */
export interface ExprSite {
  kind: 'target' | 'variable' | 'annotation';
  path: Path;
}

/**
 * Rewrites a PromQL expression (the Prometheus 3 lint engine plugs in here). Called only for queries that
 * run against the target datasource after the migration; returning the input unchanged means "no fix".
 */
export type RewriteExpr = (expr: string, site: ExprSite) => string;

/**
 * Resolves --bind-input NAME=datasource pairs against the catalog; a datasource that is not there is a
 * usage error naming the flag.
 */
export function resolveInputBindings(
  catalog: DatasourceCatalog,
  where: string,
  pairs: Record<string, string> | undefined,
): Map<string, GrafanaDatasource> | undefined {
  if (!pairs) return undefined;
  const out = new Map<string, GrafanaDatasource>();
  for (const [name, value] of Object.entries(pairs))
    out.set(name, catalog.select(value, `--bind-input ${name}`, where));
  return out;
}

/** How a migration runs, the same in files mode and API mode. */
export interface MigrateRunOptions {
  /** The exemplar label that holds the trace id (default trace_id). */
  exemplarLabel?: string;
  exemplars?: boolean;
  keepInputs?: boolean;
  rewriteExpr?: RewriteExpr;
  /**
   * `${DS_X}` import placeholders to bind by hand: input name -> datasource name or uid. Needed for an input
   * whose label names no datasource in the list (e.g. "localhost"), which is never bound by guessing.
   */
  bindInputs?: Record<string, string>;
  dryRun?: boolean;
  /** Attach a unified diff to each changed outcome. */
  diff?: boolean;
  /** Every original is backed up here first (default: a fresh stackshift-backup/dashboards-<time>). */
  backupDir?: string;
  now?: Date;
  /**
   * Stops the run (Ctrl-C): no dashboard is started once it aborts, the write or save in flight finishes, and
   * the report comes back with `interrupted` set. Running the same command again carries on: what was
   * migrated is left unchanged by the second run.
   */
  signal?: AbortSignal;
}

export interface RewriteOptions {
  catalog: DatasourceCatalog;
  from: GrafanaDatasource;
  to: GrafanaDatasource;
  /** Leave `${DS_X}` import placeholders (and their `__inputs`) alone instead of binding them to the target. */
  keepInputs?: boolean;
  /** Turn on exemplars for range queries of time-series and heatmap panels that run against the target. */
  exemplars?: boolean;
  rewriteExpr?: RewriteExpr;
  /** Inputs bound by hand (--bind-input), resolved against the catalog; they win over the label. */
  inputBindings?: ReadonlyMap<string, GrafanaDatasource>;
}

export interface RewriteResult {
  changes: Change[];
  /** Datasource references that pointed at the source and now point at the target. */
  rewritten: number;
  byKind: Partial<Record<ChangeKind, number>>;
  /** Fields that follow a datasource variable which now selects the target (not counted as rewritten). */
  viaVariable: number;
  /** `${DS_X}` placeholders bound to the source and kept because of keepInputs. */
  placeholdersKept: number;
  /** `__inputs` entries that declared the source and were removed because nothing uses them any more. */
  inputsRemoved: number;
  warnings: string[];
}

type Obj = Record<string, unknown>;

/*
 * A rewrite is a walk (walk.ts: every place a datasource reference lives, as visits) and listeners that
 * react to it, in this order: `__inputs` (on-inputs.ts), datasource variables (on-variables.ts), the
 * references themselves, counted or rewritten (on-references.ts), then exemplars, the PromQL hook and
 * Explore links (on-exprs.ts). They share a WalkContext (walk-context.ts), which resolves references.
 * Count mode (countReferences) runs the same walk with the references listener only counting.
 */
function listeners(c: WalkContext): WalkListener[] {
  return [new InputsListener(c), new VariablesListener(c), new ReferencesListener(c), new ExprsListener(c)];
}

function dashboardWalk(c: WalkContext, d: Obj, base: Path): void {
  // Datasource references became {type, uid} objects at schemaVersion 33 (Grafana 8.3); older
  // dashboards keep names, and a new reference is written in the form the dashboard already uses.
  c.objectForm = typeof d.schemaVersion !== 'number' || d.schemaVersion >= 33;
  walkDashboard(d, base, listeners(c));
}

function libraryWalk(c: WalkContext, model: Obj, base: Path): void {
  c.objectForm = true;
  c.outsideDashboard = true;
  walkLibraryModel(model, base, listeners(c));
}

function result(c: WalkContext): RewriteResult {
  return {
    changes: c.changes,
    rewritten: c.rewritten,
    byKind: c.byKind,
    viaVariable: c.viaVariable,
    placeholdersKept: c.placeholdersKept,
    inputsRemoved: c.inputsRemoved,
    warnings: [...c.warnings],
  };
}

/** Points every reference to `opts.from` in a classic dashboard at `opts.to`, in place. */
export function rewriteDashboard(dashboard: Obj, opts: RewriteOptions, base: Path = []): RewriteResult {
  const c = new WalkContext(opts.catalog, opts.from, { mode: 'rewrite', ...opts }, opts.inputBindings);
  dashboardWalk(c, dashboard, base);
  return result(c);
}

/** The same for a library element's model (one panel). */
export function rewriteLibraryModel(model: Obj, opts: RewriteOptions, base: Path = []): RewriteResult {
  const c = new WalkContext(opts.catalog, opts.from, { mode: 'rewrite', ...opts }, opts.inputBindings);
  libraryWalk(c, model, base);
  return result(c);
}

/** How many references in a dashboard (or library model) resolve to `ds`: the before/after check. */
export function countReferences(
  value: Obj,
  catalog: DatasourceCatalog,
  ds: GrafanaDatasource,
  kind: 'dashboard' | 'library' = 'dashboard',
  inputBindings?: ReadonlyMap<string, GrafanaDatasource>,
): number {
  const c = new WalkContext(catalog, ds, { mode: 'count' }, inputBindings);
  if (kind === 'library') libraryWalk(c, value, []);
  else dashboardWalk(c, value, []);
  return c.counted;
}
