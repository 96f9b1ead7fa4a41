import {
  isSpecialDatasource,
  parseVariableRef,
  type DatasourceCatalog,
  type GrafanaDatasource,
} from './datasources.js';
import type { Change, ChangeKind, Path, RewriteOptions } from './rewrite.js';

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Resolution {
  how: 'default' | 'name' | 'uid' | 'input' | 'variable' | 'special' | 'unknown';
  ds?: GrafanaDatasource;
  variable?: string;
}

export interface InputBinding {
  index: number;
  name: string;
  ds?: GrafanaDatasource;
}

export interface DsVariable {
  index: number;
  /** What the variable selects after the rewrite (or before, in count mode). */
  selects?: GrafanaDatasource;
  rewritten: boolean;
}

/**
 * What the listeners of one walk share: the datasource list, the mode (count or rewrite), the inputs and
 * variables the dashboard declares, and the results (changes, counts, warnings). Resolution lives here:
 * which datasource a `datasource` field (or a variable value) stands for, after the rewrite as before.
 */
export class WalkContext {
  readonly changes: Change[] = [];
  readonly byKind: Partial<Record<ChangeKind, number>> = {};
  readonly warnings = new Set<string>();
  rewritten = 0;
  counted = 0;
  viaVariable = 0;
  placeholdersKept = 0;
  inputsRemoved = 0;
  readonly inputs = new Map<string, InputBinding>();
  readonly dsVars = new Map<string, DsVariable>();
  readonly otherVars = new Map<string, Obj>();
  /** Datasource references became {type, uid} objects at schemaVersion 33 (Grafana 8.3). */
  objectForm = true;
  /** Library panel models use the variables of whichever dashboard shows them. */
  outsideDashboard = false;

  constructor(
    readonly catalog: DatasourceCatalog,
    /** The datasource whose references are counted (count mode) or rewritten (rewrite mode). */
    readonly from: GrafanaDatasource,
    readonly opts: { mode: 'count' } | ({ mode: 'rewrite' } & RewriteOptions),
    readonly bindings?: ReadonlyMap<string, GrafanaDatasource>,
  ) {}

  get rewriting(): boolean {
    return this.opts.mode === 'rewrite';
  }

  get to(): GrafanaDatasource {
    return (this.opts as RewriteOptions).to;
  }

  resolve(value: unknown, present: boolean): Resolution {
    if (!present || value === null || value === undefined) return { how: 'default', ds: this.catalog.default };
    if (typeof value === 'string') {
      if (value === '' || value === 'default') return { how: 'default', ds: this.catalog.default };
      if (isSpecialDatasource(value)) return { how: 'special' };
      return this.resolveName(value, false);
    }
    if (isObj(value)) {
      const uid = value.uid;
      if (isSpecialDatasource(typeof uid === 'string' ? uid : '', value.type)) return { how: 'special' };
      if (typeof uid !== 'string' || uid === '') {
        const def = this.catalog.default;
        return { how: 'default', ds: def && (value.type === undefined || value.type === def.type) ? def : undefined };
      }
      return this.resolveName(uid, true);
    }
    return { how: 'unknown' };
  }

  resolveName(s: string, objectUid: boolean): Resolution {
    const ref = parseVariableRef(s);
    if (ref) {
      const input = ref.braced ? this.inputs.get(ref.name) : undefined;
      if (input) return { how: 'input', ds: input.ds, variable: ref.name };
      return { how: 'variable', variable: ref.name, ds: this.dsVars.get(ref.name)?.selects };
    }
    const hit = objectUid ? this.catalog.lookupUid(s) : this.catalog.lookupString(s);
    if (hit) return { how: hit.by, ds: hit.ds };
    return { how: 'unknown' };
  }

  matches(ds: GrafanaDatasource | undefined): boolean {
    return ds !== undefined && ds.uid === this.from.uid;
  }

  record(kind: ChangeKind, op: Change['op'], path: Path, from: unknown, to: unknown): void {
    this.changes.push({ kind, op, path, from, to });
  }

  countRef(kind: ChangeKind): void {
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    this.rewritten++;
  }

  variableUse(name: string): void {
    const dv = this.dsVars.get(name);
    if (dv) {
      if (dv.rewritten) this.viaVariable++;
      return;
    }
    const other = this.otherVars.get(name);
    if (!other && this.outsideDashboard) return;
    if (!other) {
      this.warnings.add(`a datasource field uses $${name}, which the dashboard does not define`);
      return;
    }
    const cur = isObj(other.current) ? other.current.value : undefined;
    const value = typeof cur === 'string' ? cur : typeof other.query === 'string' ? other.query : undefined;
    const hit = value ? this.catalog.lookupString(value) : undefined;
    if (hit && this.matches(hit.ds)) {
      this.warnings.add(
        `a datasource field uses $${name}, a ${String(other.type)} variable whose value "${value}" is the source datasource; change that variable by hand`,
      );
    }
  }

  resolveVariableValue(x: unknown): Resolution | undefined {
    if (x === undefined || x === null || x === '' || x === 'default')
      return { how: 'default', ds: this.catalog.default };
    if (typeof x !== 'string' || x === '$__all') return undefined;
    const r = this.resolveName(x, false);
    if (r.how === 'unknown')
      this.warnings.add(`datasource variable value "${x}" is not in the datasource list; left unchanged`);
    return r.how === 'variable' ? undefined : r;
  }

  /** The datasource a field selects after the rewrite, following variables, placeholders and the default. */
  effective(value: unknown, present: boolean): GrafanaDatasource | undefined {
    const r = this.resolve(value, present);
    if (r.how === 'variable') return this.dsVars.get(r.variable!)?.selects;
    return r.ds;
  }

  runsOnTarget(value: unknown, present: boolean): boolean {
    const ds = this.effective(value, present);
    return ds !== undefined && ds.uid === this.to.uid;
  }
}
