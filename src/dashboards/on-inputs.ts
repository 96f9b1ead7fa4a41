import type { Path, RewriteOptions } from './rewrite.js';
import type { GrafanaDatasource } from './datasources.js';
import { isObj, type WalkContext } from './walk-context.js';
import type { WalkListener } from './walk.js';

type Obj = Record<string, unknown>;

/** `__inputs` import placeholders: bound to datasources when the walk begins, dropped at its end once unused. */
export class InputsListener implements WalkListener {
  constructor(private readonly c: WalkContext) {}

  begin(d: Obj): void {
    this.bindInputs(d);
  }

  end(d: Obj, base: Path): void {
    this.finishInputs(d, base);
  }

  private bindInputs(d: Obj): void {
    if (!Array.isArray(d.__inputs)) return;
    d.__inputs.forEach((inp, i) => {
      if (!isObj(inp) || inp.type !== 'datasource' || typeof inp.name !== 'string') return;
      this.c.inputs.set(inp.name, { index: i, name: inp.name, ds: this.bindInput(inp) });
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
    const byHand = this.c.bindings?.get(name);
    if (byHand) return byHand;
    const label = typeof inp.label === 'string' ? inp.label : '';
    const plugin = typeof inp.pluginId === 'string' ? inp.pluginId : undefined;
    const exact = label ? this.c.catalog.lookupString(label) : undefined;
    if (exact && (!plugin || exact.ds.type === plugin)) return exact.ds;
    const ofType = this.c.catalog.list.filter((d) => plugin === undefined || d.type === plugin);
    const ci = ofType.filter(
      (d) => label && (d.name.toLowerCase() === label.toLowerCase() || d.uid.toLowerCase() === label.toLowerCase()),
    );
    if (ci.length === 1) return ci[0];
    // Only an input that may stand for the datasource being migrated is worth a warning.
    if (
      (plugin === undefined || plugin === this.c.from.type) &&
      !(this.c.rewriting && (this.c.opts as RewriteOptions).keepInputs)
    ) {
      this.c.warnings.add(
        `import placeholder \${${name}} (label ${JSON.stringify(label)}${plugin ? `, ${plugin}` : ''}) names no datasource in the list; left unchanged. Bind it with --bind-input ${name}=<datasource>`,
      );
    }
    return undefined;
  }

  /** Drops the `__inputs` entries of the source once no placeholder refers to them. */
  private finishInputs(d: Obj, base: Path): void {
    if (!this.c.rewriting || (this.c.opts as RewriteOptions).keepInputs || !Array.isArray(d.__inputs)) return;
    const bound = [...this.c.inputs.values()].filter((b) => this.c.matches(b.ds)).sort((a, b) => b.index - a.index);
    if (bound.length === 0) return;
    const text = JSON.stringify(d);
    const list = d.__inputs as unknown[];
    for (const b of bound) {
      if (text.includes('${' + b.name + '}')) {
        this.c.warnings.add(
          `import placeholder \${${b.name}} is still used outside datasource fields; its __inputs entry was kept`,
        );
        continue;
      }
      this.c.record('input', 'remove', [...base, '__inputs', b.index], list[b.index], undefined);
      list.splice(b.index, 1);
      this.c.inputsRemoved++;
    }
  }
}
