import type { Path, RewriteOptions } from './rewrite.js';
import type { GrafanaDatasource } from './datasources.js';
import { isObj, type WalkContext } from './walk-context.js';
import type { WalkListener } from './walk.js';

type Obj = Record<string, unknown>;

/** Datasource-type variables: declared first, then their selection and options rewritten; the others declared for resolution. */
export class VariablesListener implements WalkListener {
  constructor(private readonly c: WalkContext) {}

  declareVariable(v: Obj, index: number): void {
    if (typeof v.name !== 'string') return;
    if (v.type === 'datasource') this.c.dsVars.set(v.name, { index, rewritten: false });
    else this.c.otherVars.set(v.name, v);
  }

  /** A datasource-type variable: its selection (current) and its option list hold datasource names or uids. */
  datasourceVariable(v: Obj, path: Path): void {
    const name = v.name as string;
    const entry = this.c.dsVars.get(name)!;
    const cur = isObj(v.current) ? v.current : undefined;
    const raw = cur ? cur.value : undefined;
    const values = Array.isArray(raw) ? raw : [raw];
    const resolutions = values.map((x) => this.c.resolveVariableValue(x));
    const hits = resolutions.map((r) => r !== undefined && this.c.matches(r.ds));
    const firstKnown = resolutions.find((r) => r?.ds);
    entry.selects = firstKnown?.ds;
    if (hits.some(Boolean)) {
      this.c.counted++;
      if (this.c.rewriting) {
        const to = this.c.to;
        const mapValue = (x: unknown, i: number): unknown => {
          if (!hits[i]) return x;
          const r = resolutions[i]!;
          if (r.how === 'name') return to.name;
          if (r.how === 'uid' || r.how === 'input') return to.uid;
          return this.c.objectForm ? to.uid : to.name;
        };
        const nextValue = Array.isArray(raw) ? raw.map(mapValue) : mapValue(raw, 0);
        const textRaw = cur ? cur.text : undefined;
        const nextText =
          Array.isArray(textRaw) && Array.isArray(raw) ? textRaw.map((t, i) => (hits[i] ? to.name : t)) : to.name;
        if (cur && 'value' in cur && 'text' in cur) {
          this.c.record('datasource-variable', 'set', [...path, 'current', 'value'], cur.value, nextValue);
          cur.value = nextValue;
          if (JSON.stringify(cur.text) !== JSON.stringify(nextText)) {
            this.c.record('datasource-variable', 'set', [...path, 'current', 'text'], cur.text, nextText);
            cur.text = nextText;
          }
        } else {
          const next = { ...(cur ?? {}), text: nextText, value: nextValue };
          this.c.record(
            'datasource-variable',
            'current' in v ? 'set' : 'insert',
            [...path, 'current'],
            v.current,
            next,
          );
          v.current = next;
        }
        this.c.countRef('datasource-variable');
        entry.rewritten = true;
        entry.selects = to;
        this.datasourceVariableOptions(v, path);
        this.datasourceVariableChecks(v, to);
      }
    } else if (this.c.rewriting) {
      this.datasourceVariableOptions(v, path);
    }
  }

  private datasourceVariableOptions(v: Obj, path: Path): void {
    if (!Array.isArray(v.options)) return;
    const to = this.c.to;
    v.options.forEach((o, i) => {
      if (!isObj(o) || typeof o.value !== 'string') return;
      const r = this.c.resolveVariableValue(o.value);
      if (!r || r.how === 'default' || !this.c.matches(r.ds)) return;
      const next = r.how === 'name' ? to.name : to.uid;
      if (o.value !== next) {
        this.c.record('datasource-variable', 'set', [...path, 'options', i, 'value'], o.value, next);
        o.value = next;
      }
      if (typeof o.text === 'string' && o.text !== to.name) {
        this.c.record('datasource-variable', 'set', [...path, 'options', i, 'text'], o.text, to.name);
        o.text = to.name;
      }
    });
  }

  private datasourceVariableChecks(v: Obj, to: GrafanaDatasource): void {
    if (typeof v.query === 'string' && v.query !== '' && v.query !== to.type) {
      this.c.warnings.add(
        `datasource variable $${String(v.name)} lists "${v.query}" datasources, but ${to.name} is of type ${to.type}; change its type by hand`,
      );
    }
    if (typeof v.regex === 'string' && v.regex !== '' && !regexAccepts(v.regex, to.name)) {
      this.c.warnings.add(
        `datasource variable $${String(v.name)} has regex ${v.regex}, which hides ${to.name}; widen the regex`,
      );
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
