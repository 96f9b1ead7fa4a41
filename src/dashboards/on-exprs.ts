import type { Path, RewriteOptions } from './rewrite.js';
import type { GrafanaDatasource } from './datasources.js';
import { isObj, type WalkContext } from './walk-context.js';
import type { WalkListener } from './walk.js';

type Obj = Record<string, unknown>;

/** After the references: exemplars and the PromQL hook for queries that run on the target, and Explore links to point out. */
export class ExprsListener implements WalkListener {
  constructor(private readonly c: WalkContext) {}

  panelTargets(p: Obj, path: Path, targets: unknown[], mixed: boolean): void {
    if (this.c.rewriting) this.targetExtras(p, path, targets, mixed);
  }

  variable(v: Obj, path: Path): void {
    if (v.type === 'query') this.variableExpr(v, path);
  }

  annotation(a: Obj, path: Path): void {
    this.annotationExpr(a, path);
  }

  dashboardLinks(d: Obj): void {
    this.links(d);
  }

  private targetExtras(p: Obj, path: Path, targets: unknown[], mixed: boolean): void {
    const o = this.c.opts as RewriteOptions;
    if (!o.exemplars && !o.rewriteExpr) return;
    targets.forEach((t, i) => {
      if (!isObj(t)) return;
      const own = 'datasource' in t && t.datasource !== null && !(isObj(t.datasource) && !t.datasource.uid);
      const onTarget = own
        ? this.c.runsOnTarget(t.datasource, true)
        : mixed
          ? this.c.runsOnTarget(undefined, false)
          : this.c.runsOnTarget(p.datasource, 'datasource' in p);
      if (!onTarget) return;
      const tp = [...path, 'targets', i];
      if (o.rewriteExpr && typeof t.expr === 'string') {
        const next = o.rewriteExpr(t.expr, { kind: 'target', path: [...tp, 'expr'] });
        if (next !== t.expr) {
          this.c.record('expr', 'set', [...tp, 'expr'], t.expr, next);
          t.expr = next;
          this.c.byKind.expr = (this.c.byKind.expr ?? 0) + 1;
        }
      }
      if (
        o.exemplars &&
        this.c.to.type === 'prometheus' &&
        EXEMPLAR_PANELS.has(String(p.type)) &&
        typeof t.expr === 'string' &&
        t.instant !== true &&
        t.exemplar !== true
      ) {
        this.c.record('exemplar', 'exemplar' in t ? 'set' : 'insert', [...tp, 'exemplar'], t.exemplar, true);
        t.exemplar = true;
        this.c.byKind.exemplar = (this.c.byKind.exemplar ?? 0) + 1;
      }
    });
  }

  private variableExpr(v: Obj, path: Path): void {
    const fix = this.c.rewriting ? (this.c.opts as RewriteOptions).rewriteExpr : undefined;
    if (!fix || !this.c.runsOnTarget(v.datasource, 'datasource' in v)) return;
    const apply = (holder: Obj, key: string, p: Path) => {
      const cur = holder[key];
      if (typeof cur !== 'string') return;
      const next = fix(cur, { kind: 'variable', path: p });
      if (next === cur) return;
      this.c.record('expr', 'set', p, cur, next);
      holder[key] = next;
      this.c.byKind.expr = (this.c.byKind.expr ?? 0) + 1;
      // `definition` is the text Grafana shows for the query; keep it in step when it mirrored it.
      if (key !== 'definition' && v.definition === cur) {
        this.c.record('expr', 'set', [...path, 'definition'], cur, next);
        v.definition = next;
      }
    };
    if (typeof v.query === 'string') apply(v, 'query', [...path, 'query']);
    else if (isObj(v.query)) apply(v.query, 'query', [...path, 'query', 'query']);
  }

  private annotationExpr(a: Obj, path: Path): void {
    const fix = this.c.rewriting ? (this.c.opts as RewriteOptions).rewriteExpr : undefined;
    if (!fix || !this.c.runsOnTarget(a.datasource, 'datasource' in a)) return;
    for (const [holder, p] of [
      [a, [...path, 'expr']],
      [isObj(a.target) ? a.target : undefined, [...path, 'target', 'expr']],
    ] as Array<[Obj | undefined, Path]>) {
      if (!holder || typeof holder.expr !== 'string') continue;
      const next = fix(holder.expr, { kind: 'annotation', path: p });
      if (next === holder.expr) continue;
      this.c.record('expr', 'set', p, holder.expr, next);
      holder.expr = next;
      this.c.byKind.expr = (this.c.byKind.expr ?? 0) + 1;
    }
  }

  /** Explore links that carry the source uid are free text no migration touches: point them out. */
  private links(d: Obj): void {
    if (!this.c.rewriting || this.c.from.uid.length < 6) return;
    const needle = this.c.from.uid;
    const scan = (links: unknown, where: string) => {
      if (!Array.isArray(links)) return;
      for (const l of links) {
        if (isObj(l) && typeof l.url === 'string' && l.url.includes('/explore') && l.url.includes(needle)) {
          this.c.warnings.add(
            `${where} link "${String(l.title ?? l.url).slice(0, 60)}" opens Explore on the source datasource; edit its URL by hand`,
          );
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
}

const EXEMPLAR_PANELS = new Set(['timeseries', 'heatmap']);
