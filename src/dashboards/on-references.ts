import type { ChangeKind, Path, RewriteOptions } from './rewrite.js';
import { isObj, type WalkContext } from './walk-context.js';
import type { WalkListener } from './walk.js';

type Obj = Record<string, unknown>;

/**
 * Every `datasource` field the walk visits (panels, targets, query/adhoc variables, annotations): counted
 * when it resolves to the source, and in rewrite mode pointed at the target with each leaf edit recorded.
 */
export class ReferencesListener implements WalkListener {
  constructor(private readonly c: WalkContext) {}

  panel(p: Obj, path: Path, targets: unknown[]): void {
    this.site(p, path, 'panel', p.type !== 'row' && targets.length > 0);
  }

  target(t: Obj, path: Path, mixed: boolean): void {
    // Without a datasource of its own a target inherits the panel's, except under Mixed where it gets the default.
    this.site(t, path, 'target', mixed);
  }

  variable(v: Obj, path: Path): void {
    this.site(v, path, 'variable', v.type === 'query' || v.type === 'adhoc');
  }

  annotation(a: Obj, path: Path): void {
    // Built-in annotations query Grafana's own store; null there does not mean the default datasource.
    this.site(a, path, 'annotation', a.builtIn !== 1);
  }

  /**
   * One `datasource` field. `nullIsDefault` says whether an absent or null value means "the default
   * datasource" here (a query runs) or nothing at all (rows, text panels, targets that inherit the panel's).
   */
  private site(holder: Obj, path: Path, kind: ChangeKind, nullIsDefault: boolean): void {
    const present = 'datasource' in holder;
    const value = holder.datasource;
    const r = this.c.resolve(value, present);
    if (r.how === 'default' && !nullIsDefault) return;
    if (r.how === 'special') return;
    if (r.how === 'unknown') {
      this.c.warnings.add(`datasource ${JSON.stringify(value)} is not in the datasource list; left unchanged`);
      return;
    }
    if (r.how === 'variable') {
      this.c.variableUse(r.variable!);
      return;
    }
    if (!this.c.matches(r.ds)) return;
    this.c.counted++;
    if (!this.c.rewriting) return;
    if (r.how === 'input' && (this.c.opts as RewriteOptions).keepInputs) {
      this.c.placeholdersKept++;
      return;
    }
    const to = this.c.to;
    const p = [...path, 'datasource'];
    if (isObj(value)) {
      if (!('uid' in value)) {
        value.uid = to.uid;
        this.c.record(kind, 'insert', [...p, 'uid'], undefined, to.uid);
      } else if (value.uid !== to.uid) {
        this.c.record(kind, 'set', [...p, 'uid'], value.uid, to.uid);
        value.uid = to.uid;
      }
      if ('type' in value && value.type !== to.type) {
        this.c.record(kind, 'set', [...p, 'type'], value.type, to.type);
        value.type = to.type;
      }
    } else if (typeof value === 'string' && r.how !== 'default') {
      const next = r.how === 'uid' ? to.uid : to.name;
      this.c.record(kind, 'set', p, value, next);
      holder.datasource = next;
    } else {
      const next = this.c.objectForm ? { type: to.type, uid: to.uid } : to.name;
      this.c.record(kind, present ? 'set' : 'insert', p, value, next);
      holder.datasource = next;
    }
    this.c.countRef(kind);
  }
}
