import { isSpecialDatasource, parseVariableRef, type DatasourceCatalog, type GrafanaDatasource } from './datasources.js';

/** A JSON path from the root of the file (or API object) to a value. */
export type Path = Array<string | number>;

export type ChangeKind = 'panel' | 'target' | 'variable' | 'datasource-variable' | 'annotation' | 'input' | 'exemplar' | 'expr';

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
export function resolveInputBindings(catalog: DatasourceCatalog, where: string, pairs: Record<string, string> | undefined): Map<string, GrafanaDatasource> | undefined {
  if (!pairs) return undefined;
  const out = new Map<string, GrafanaDatasource>();
  for (const [name, value] of Object.entries(pairs)) out.set(name, catalog.select(value, `--bind-input ${name}`, where));
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

interface Resolution {
  how: 'default' | 'name' | 'uid' | 'input' | 'variable' | 'special' | 'unknown';
  ds?: GrafanaDatasource;
  variable?: string;
}

interface InputBinding {
  index: number;
  name: string;
  ds?: GrafanaDatasource;
}

interface DsVariable {
  index: number;
  /** What the variable selects after the rewrite (or before, in count mode). */
  selects?: GrafanaDatasource;
  rewritten: boolean;
}

const EXEMPLAR_PANELS = new Set(['timeseries', 'heatmap']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One pass over a dashboard (or a library panel model) that visits every place a datasource reference
 * lives (grafana.md §1.1): panels and their targets, panels in collapsed rows and legacy `rows[]`,
 * query/adhoc variables, datasource-type variables (their current value and options), annotations,
 * `__elements` library panel models and `__inputs` import placeholders. In count mode it only counts the
 * references that resolve to one datasource; in rewrite mode it points those at the target, mutating the
 * object and recording each leaf edit.
 */
class Walker {
  readonly changes: Change[] = [];
  readonly byKind: Partial<Record<ChangeKind, number>> = {};
  readonly warnings = new Set<string>();
  rewritten = 0;
  counted = 0;
  viaVariable = 0;
  placeholdersKept = 0;
  inputsRemoved = 0;
  private inputs = new Map<string, InputBinding>();
  private dsVars = new Map<string, DsVariable>();
  private otherVars = new Map<string, Obj>();
  private objectForm = true;
  /** Library panel models use the variables of whichever dashboard shows them. */
  private outsideDashboard = false;

  constructor(
    private readonly catalog: DatasourceCatalog,
    /** The datasource whose references are counted (count mode) or rewritten (rewrite mode). */
    private readonly from: GrafanaDatasource,
    private readonly opts: { mode: 'count' } | ({ mode: 'rewrite' } & RewriteOptions),
    private readonly bindings?: ReadonlyMap<string, GrafanaDatasource>,
  ) {}

  private get rewriting(): boolean {
    return this.opts.mode === 'rewrite';
  }

  private get to(): GrafanaDatasource {
    return (this.opts as RewriteOptions).to;
  }

  dashboard(d: Obj, base: Path): void {
    // Datasource references became {type, uid} objects at schemaVersion 33 (Grafana 8.3); older
    // dashboards keep names, and a new reference is written in the form the dashboard already uses.
    this.objectForm = typeof d.schemaVersion !== 'number' || d.schemaVersion >= 33;
    this.bindInputs(d);
    const templating = isObj(d.templating) && Array.isArray(d.templating.list) ? (d.templating.list as unknown[]) : [];
    templating.forEach((v, i) => {
      if (!isObj(v) || typeof v.name !== 'string') return;
      if (v.type === 'datasource') this.dsVars.set(v.name, { index: i, rewritten: false });
      else this.otherVars.set(v.name, v);
    });
    templating.forEach((v, i) => {
      if (isObj(v) && v.type === 'datasource') this.datasourceVariable(v, [...base, 'templating', 'list', i]);
    });
    templating.forEach((v, i) => {
      if (!isObj(v) || v.type === 'datasource') return;
      const p = [...base, 'templating', 'list', i];
      const queries = v.type === 'query' || v.type === 'adhoc';
      this.site(v, p, 'variable', queries);
      if (queries && v.type === 'query') this.variableExpr(v, p);
    });
    const annotations = isObj(d.annotations) && Array.isArray(d.annotations.list) ? (d.annotations.list as unknown[]) : [];
    annotations.forEach((a, i) => {
      if (!isObj(a)) return;
      const p = [...base, 'annotations', 'list', i];
      // Built-in annotations query Grafana's own store; null there does not mean the default datasource.
      this.site(a, p, 'annotation', a.builtIn !== 1);
      this.annotationExpr(a, p);
    });
    if (Array.isArray(d.panels)) this.panels(d.panels, [...base, 'panels']);
    if (Array.isArray(d.rows)) {
      d.rows.forEach((r, i) => {
        if (isObj(r) && Array.isArray(r.panels)) this.panels(r.panels, [...base, 'rows', i, 'panels']);
      });
    }
    if (isObj(d.__elements)) {
      for (const [k, el] of Object.entries(d.__elements)) {
        if (isObj(el) && isObj(el.model)) this.panel(el.model, [...base, '__elements', k, 'model']);
      }
    }
    this.links(d);
    this.finishInputs(d, base);
  }

  /** A library element's model is one panel, outside any dashboard: no variables, no inputs. */
  libraryModel(model: Obj, base: Path): void {
    this.objectForm = true;
    this.outsideDashboard = true;
    this.panel(model, base);
  }

  private bindInputs(d: Obj): void {
    if (!Array.isArray(d.__inputs)) return;
    d.__inputs.forEach((inp, i) => {
      if (!isObj(inp) || inp.type !== 'datasource' || typeof inp.name !== 'string') return;
      this.inputs.set(inp.name, { index: i, name: inp.name, ds: this.bindInput(inp) });
    });
  }

  /**
   * Which datasource an import placeholder stands for. Grafana's exporter names the input after the
   * datasource and keeps the datasource name as its label (DashboardExporter.ts), so the label decides
   * when it names a datasource here (exactly, or alone when case is ignored). A label that names none
   * (an export from another Grafana: "localhost") is not bound by guessing, neither to the default nor to
   * the only datasource of the type: it is left unchanged and named in a warning, and --bind-input binds it.
   */
  private bindInput(inp: Obj): GrafanaDatasource | undefined {
    const name = inp.name as string;
    const byHand = this.bindings?.get(name);
    if (byHand) return byHand;
    const label = typeof inp.label === 'string' ? inp.label : '';
    const plugin = typeof inp.pluginId === 'string' ? inp.pluginId : undefined;
    const exact = label ? this.catalog.lookupString(label) : undefined;
    if (exact && (!plugin || exact.ds.type === plugin)) return exact.ds;
    const ofType = this.catalog.list.filter((d) => plugin === undefined || d.type === plugin);
    const ci = ofType.filter((d) => label && (d.name.toLowerCase() === label.toLowerCase() || d.uid.toLowerCase() === label.toLowerCase()));
    if (ci.length === 1) return ci[0];
    // Only an input that may stand for the datasource being migrated is worth a warning.
    if ((plugin === undefined || plugin === this.from.type) && !(this.rewriting && (this.opts as RewriteOptions).keepInputs)) {
      this.warnings.add(`import placeholder \${${name}} (label ${JSON.stringify(label)}${plugin ? `, ${plugin}` : ''}) names no datasource in the list; left unchanged. Bind it with --bind-input ${name}=<datasource>`);
    }
    return undefined;
  }

  private resolve(value: unknown, present: boolean): Resolution {
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

  private resolveName(s: string, objectUid: boolean): Resolution {
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

  private matches(ds: GrafanaDatasource | undefined): boolean {
    return ds !== undefined && ds.uid === this.from.uid;
  }

  private record(kind: ChangeKind, op: Change['op'], path: Path, from: unknown, to: unknown): void {
    this.changes.push({ kind, op, path, from, to });
  }

  private countRef(kind: ChangeKind): void {
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    this.rewritten++;
  }

  /**
   * One `datasource` field. `nullIsDefault` says whether an absent or null value means "the default
   * datasource" here (a query runs) or nothing at all (rows, text panels, targets that inherit the panel's).
   */
  private site(holder: Obj, path: Path, kind: ChangeKind, nullIsDefault: boolean): void {
    const present = 'datasource' in holder;
    const value = holder.datasource;
    const r = this.resolve(value, present);
    if (r.how === 'default' && !nullIsDefault) return;
    if (r.how === 'special') return;
    if (r.how === 'unknown') {
      this.warnings.add(`datasource ${JSON.stringify(value)} is not in the datasource list; left unchanged`);
      return;
    }
    if (r.how === 'variable') {
      this.variableUse(r.variable!);
      return;
    }
    if (!this.matches(r.ds)) return;
    this.counted++;
    if (!this.rewriting) return;
    if (r.how === 'input' && (this.opts as RewriteOptions).keepInputs) {
      this.placeholdersKept++;
      return;
    }
    const to = this.to;
    const p = [...path, 'datasource'];
    if (isObj(value)) {
      if (!('uid' in value)) {
        value.uid = to.uid;
        this.record(kind, 'insert', [...p, 'uid'], undefined, to.uid);
      } else if (value.uid !== to.uid) {
        this.record(kind, 'set', [...p, 'uid'], value.uid, to.uid);
        value.uid = to.uid;
      }
      if ('type' in value && value.type !== to.type) {
        this.record(kind, 'set', [...p, 'type'], value.type, to.type);
        value.type = to.type;
      }
    } else if (typeof value === 'string' && r.how !== 'default') {
      const next = r.how === 'uid' ? to.uid : to.name;
      this.record(kind, 'set', p, value, next);
      holder.datasource = next;
    } else {
      const next = this.objectForm ? { type: to.type, uid: to.uid } : to.name;
      this.record(kind, present ? 'set' : 'insert', p, value, next);
      holder.datasource = next;
    }
    this.countRef(kind);
  }

  private variableUse(name: string): void {
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
      this.warnings.add(`a datasource field uses $${name}, a ${String(other.type)} variable whose value "${value}" is the source datasource; change that variable by hand`);
    }
  }

  /** A datasource-type variable: its selection (current) and its option list hold datasource names or uids. */
  private datasourceVariable(v: Obj, path: Path): void {
    const name = v.name as string;
    const entry = this.dsVars.get(name)!;
    const cur = isObj(v.current) ? v.current : undefined;
    const raw = cur ? cur.value : undefined;
    const values = Array.isArray(raw) ? raw : [raw];
    const resolutions = values.map((x) => this.resolveVariableValue(x));
    const hits = resolutions.map((r) => r !== undefined && this.matches(r.ds));
    const firstKnown = resolutions.find((r) => r?.ds);
    entry.selects = firstKnown?.ds;
    if (hits.some(Boolean)) {
      this.counted++;
      if (this.rewriting) {
        const to = this.to;
        const mapValue = (x: unknown, i: number): unknown => {
          if (!hits[i]) return x;
          const r = resolutions[i]!;
          if (r.how === 'name') return to.name;
          if (r.how === 'uid' || r.how === 'input') return to.uid;
          return this.objectForm ? to.uid : to.name;
        };
        const nextValue = Array.isArray(raw) ? raw.map(mapValue) : mapValue(raw, 0);
        const textRaw = cur ? cur.text : undefined;
        const nextText = Array.isArray(textRaw) && Array.isArray(raw) ? textRaw.map((t, i) => (hits[i] ? to.name : t)) : to.name;
        if (cur && 'value' in cur && 'text' in cur) {
          this.record('datasource-variable', 'set', [...path, 'current', 'value'], cur.value, nextValue);
          cur.value = nextValue;
          if (JSON.stringify(cur.text) !== JSON.stringify(nextText)) {
            this.record('datasource-variable', 'set', [...path, 'current', 'text'], cur.text, nextText);
            cur.text = nextText;
          }
        } else {
          const next = { ...(cur ?? {}), text: nextText, value: nextValue };
          this.record('datasource-variable', 'current' in v ? 'set' : 'insert', [...path, 'current'], v.current, next);
          v.current = next;
        }
        this.countRef('datasource-variable');
        entry.rewritten = true;
        entry.selects = to;
        this.datasourceVariableOptions(v, path);
        this.datasourceVariableChecks(v, to);
      }
    } else if (this.rewriting) {
      this.datasourceVariableOptions(v, path);
    }
  }

  private resolveVariableValue(x: unknown): Resolution | undefined {
    if (x === undefined || x === null || x === '' || x === 'default') return { how: 'default', ds: this.catalog.default };
    if (typeof x !== 'string' || x === '$__all') return undefined;
    const r = this.resolveName(x, false);
    if (r.how === 'unknown') this.warnings.add(`datasource variable value "${x}" is not in the datasource list; left unchanged`);
    return r.how === 'variable' ? undefined : r;
  }

  private datasourceVariableOptions(v: Obj, path: Path): void {
    if (!Array.isArray(v.options)) return;
    const to = this.to;
    v.options.forEach((o, i) => {
      if (!isObj(o) || typeof o.value !== 'string') return;
      const r = this.resolveVariableValue(o.value);
      if (!r || r.how === 'default' || !this.matches(r.ds)) return;
      const next = r.how === 'name' ? to.name : to.uid;
      if (o.value !== next) {
        this.record('datasource-variable', 'set', [...path, 'options', i, 'value'], o.value, next);
        o.value = next;
      }
      if (typeof o.text === 'string' && o.text !== to.name) {
        this.record('datasource-variable', 'set', [...path, 'options', i, 'text'], o.text, to.name);
        o.text = to.name;
      }
    });
  }

  private datasourceVariableChecks(v: Obj, to: GrafanaDatasource): void {
    if (typeof v.query === 'string' && v.query !== '' && v.query !== to.type) {
      this.warnings.add(`datasource variable $${String(v.name)} lists "${v.query}" datasources, but ${to.name} is of type ${to.type}; change its type by hand`);
    }
    if (typeof v.regex === 'string' && v.regex !== '' && !regexAccepts(v.regex, to.name)) {
      this.warnings.add(`datasource variable $${String(v.name)} has regex ${v.regex}, which hides ${to.name}; widen the regex`);
    }
  }

  private panels(list: unknown[], path: Path): void {
    list.forEach((p, i) => {
      if (isObj(p)) this.panel(p, [...path, i]);
    });
  }

  private panel(p: Obj, path: Path): void {
    const targets = Array.isArray(p.targets) ? p.targets : [];
    const queries = p.type !== 'row' && targets.length > 0;
    this.site(p, path, 'panel', queries);
    const mixed = isObj(p.datasource) ? p.datasource.uid === '-- Mixed --' : p.datasource === '-- Mixed --';
    targets.forEach((t, i) => {
      // Without a datasource of its own a target inherits the panel's, except under Mixed where it gets the default.
      if (isObj(t)) this.site(t, [...path, 'targets', i], 'target', mixed);
    });
    if (this.rewriting) this.targetExtras(p, path, targets, mixed);
    if (Array.isArray(p.panels)) this.panels(p.panels, [...path, 'panels']);
  }

  /** The datasource a field selects after the rewrite, following variables, placeholders and the default. */
  private effective(value: unknown, present: boolean): GrafanaDatasource | undefined {
    const r = this.resolve(value, present);
    if (r.how === 'variable') return this.dsVars.get(r.variable!)?.selects;
    return r.ds;
  }

  private runsOnTarget(value: unknown, present: boolean): boolean {
    const ds = this.effective(value, present);
    return ds !== undefined && ds.uid === this.to.uid;
  }

  private targetExtras(p: Obj, path: Path, targets: unknown[], mixed: boolean): void {
    const o = this.opts as RewriteOptions;
    if (!o.exemplars && !o.rewriteExpr) return;
    targets.forEach((t, i) => {
      if (!isObj(t)) return;
      const own = 'datasource' in t && t.datasource !== null && !(isObj(t.datasource) && !t.datasource.uid);
      const onTarget = own ? this.runsOnTarget(t.datasource, true) : mixed ? this.runsOnTarget(undefined, false) : this.runsOnTarget(p.datasource, 'datasource' in p);
      if (!onTarget) return;
      const tp = [...path, 'targets', i];
      if (o.rewriteExpr && typeof t.expr === 'string') {
        const next = o.rewriteExpr(t.expr, { kind: 'target', path: [...tp, 'expr'] });
        if (next !== t.expr) {
          this.record('expr', 'set', [...tp, 'expr'], t.expr, next);
          t.expr = next;
          this.byKind.expr = (this.byKind.expr ?? 0) + 1;
        }
      }
      if (o.exemplars && this.to.type === 'prometheus' && EXEMPLAR_PANELS.has(String(p.type)) && typeof t.expr === 'string' && t.instant !== true && t.exemplar !== true) {
        this.record('exemplar', 'exemplar' in t ? 'set' : 'insert', [...tp, 'exemplar'], t.exemplar, true);
        t.exemplar = true;
        this.byKind.exemplar = (this.byKind.exemplar ?? 0) + 1;
      }
    });
  }

  private variableExpr(v: Obj, path: Path): void {
    const fix = this.rewriting ? (this.opts as RewriteOptions).rewriteExpr : undefined;
    if (!fix || !this.runsOnTarget(v.datasource, 'datasource' in v)) return;
    const apply = (holder: Obj, key: string, p: Path) => {
      const cur = holder[key];
      if (typeof cur !== 'string') return;
      const next = fix(cur, { kind: 'variable', path: p });
      if (next === cur) return;
      this.record('expr', 'set', p, cur, next);
      holder[key] = next;
      this.byKind.expr = (this.byKind.expr ?? 0) + 1;
      // `definition` is the text Grafana shows for the query; keep it in step when it mirrored it.
      if (key !== 'definition' && v.definition === cur) {
        this.record('expr', 'set', [...path, 'definition'], cur, next);
        v.definition = next;
      }
    };
    if (typeof v.query === 'string') apply(v, 'query', [...path, 'query']);
    else if (isObj(v.query)) apply(v.query, 'query', [...path, 'query', 'query']);
  }

  private annotationExpr(a: Obj, path: Path): void {
    const fix = this.rewriting ? (this.opts as RewriteOptions).rewriteExpr : undefined;
    if (!fix || !this.runsOnTarget(a.datasource, 'datasource' in a)) return;
    for (const [holder, p] of [[a, [...path, 'expr']], [isObj(a.target) ? a.target : undefined, [...path, 'target', 'expr']]] as Array<[Obj | undefined, Path]>) {
      if (!holder || typeof holder.expr !== 'string') continue;
      const next = fix(holder.expr, { kind: 'annotation', path: p });
      if (next === holder.expr) continue;
      this.record('expr', 'set', p, holder.expr, next);
      holder.expr = next;
      this.byKind.expr = (this.byKind.expr ?? 0) + 1;
    }
  }

  /** Explore links that carry the source uid are free text no migration touches: point them out. */
  private links(d: Obj): void {
    if (!this.rewriting || this.from.uid.length < 6) return;
    const needle = this.from.uid;
    const scan = (links: unknown, where: string) => {
      if (!Array.isArray(links)) return;
      for (const l of links) {
        if (isObj(l) && typeof l.url === 'string' && l.url.includes('/explore') && l.url.includes(needle)) {
          this.warnings.add(`${where} link "${String(l.title ?? l.url).slice(0, 60)}" opens Explore on the source datasource; edit its URL by hand`);
        }
      }
    };
    scan(d.links, 'dashboard');
    const visit = (panels: unknown) => {
      if (!Array.isArray(panels)) return;
      for (const p of panels) {
        if (!isObj(p)) continue;
        scan(p.links, `panel "${String(p.title ?? '')}"`);
        const fc = isObj(p.fieldConfig) && isObj(p.fieldConfig.defaults) ? p.fieldConfig.defaults.links : undefined;
        scan(fc, `panel "${String(p.title ?? '')}" field`);
        visit(p.panels);
      }
    };
    visit(d.panels);
    if (Array.isArray(d.rows)) for (const r of d.rows) if (isObj(r)) visit(r.panels);
  }

  /** Drops the `__inputs` entries of the source once no placeholder refers to them. */
  private finishInputs(d: Obj, base: Path): void {
    if (!this.rewriting || (this.opts as RewriteOptions).keepInputs || !Array.isArray(d.__inputs)) return;
    const bound = [...this.inputs.values()].filter((b) => this.matches(b.ds)).sort((a, b) => b.index - a.index);
    if (bound.length === 0) return;
    const text = JSON.stringify(d);
    const list = d.__inputs as unknown[];
    for (const b of bound) {
      if (text.includes('${' + b.name + '}')) {
        this.warnings.add(`import placeholder \${${b.name}} is still used outside datasource fields; its __inputs entry was kept`);
        continue;
      }
      this.record('input', 'remove', [...base, '__inputs', b.index], list[b.index], undefined);
      list.splice(b.index, 1);
      this.inputsRemoved++;
    }
  }
}

/** Grafana datasource-variable regex: `/re/flags` or a bare pattern, matched against the datasource name. */
function regexAccepts(regex: string, name: string): boolean {
  try {
    const m = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
    const re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex);
    return re.test(name);
  } catch {
    return true;
  }
}

function result(w: Walker): RewriteResult {
  return {
    changes: w.changes,
    rewritten: w.rewritten,
    byKind: w.byKind,
    viaVariable: w.viaVariable,
    placeholdersKept: w.placeholdersKept,
    inputsRemoved: w.inputsRemoved,
    warnings: [...w.warnings],
  };
}

/** Points every reference to `opts.from` in a classic dashboard at `opts.to`, in place. */
export function rewriteDashboard(dashboard: Obj, opts: RewriteOptions, base: Path = []): RewriteResult {
  const w = new Walker(opts.catalog, opts.from, { mode: 'rewrite', ...opts }, opts.inputBindings);
  w.dashboard(dashboard, base);
  return result(w);
}

/** The same for a library element's model (one panel). */
export function rewriteLibraryModel(model: Obj, opts: RewriteOptions, base: Path = []): RewriteResult {
  const w = new Walker(opts.catalog, opts.from, { mode: 'rewrite', ...opts }, opts.inputBindings);
  w.libraryModel(model, base);
  return result(w);
}

/** How many references in a dashboard (or library model) resolve to `ds`: the before/after check. */
export function countReferences(value: Obj, catalog: DatasourceCatalog, ds: GrafanaDatasource, kind: 'dashboard' | 'library' = 'dashboard', inputBindings?: ReadonlyMap<string, GrafanaDatasource>): number {
  const w = new Walker(catalog, ds, { mode: 'count' }, inputBindings);
  if (kind === 'library') w.libraryModel(value, []);
  else w.dashboard(value, []);
  return w.counted;
}
