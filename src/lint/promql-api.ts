import {
  RELEASE_FACTS,
  type Fix,
  type LintRule,
  type Phase,
  type Report,
  type RunFacts,
  type Severity,
} from '../compat/index.js';
import { aggregations, applyEdits, editsOverlap, functionCalls, parsePromQL, type TextEdit } from '../promql/index.js';
import { fixApplies, resolveVersions, rulesApplying, type Stage } from './engine.js';

/** A finding on one PromQL expression, with offsets in that expression. */
export interface PromQLFinding {
  ruleId: string;
  severity: Severity;
  phase: Phase;
  message: string;
  from: number;
  to: number;
  fix?: Fix & { applies: boolean };
  suggestion?: Fix;
}

export interface PromQLLintOptions {
  from?: string;
  to?: string;
  /** Mask Grafana template variables ($var, ${var}, [[var]]) before parsing. */
  templates?: boolean;
  /** --enable-feature tokens the server runs with (undefined: unknown). */
  features?: string[];
  /** Stage that decides fix.applies (default "cutover": every dual and cutover fix). */
  stage?: Exclude<Stage, 'all'>;
  origin?: 'rule' | 'dashboard' | 'inline';
}

/** Lints one expression against the rules that hold for from -> to. */
export function lintPromQL(expr: string, opts: PromQLLintOptions = {}): PromQLFinding[] {
  const { from, to } = resolveVersions({ from: opts.from, to: opts.to ?? RELEASE_FACTS.lts[1].latest });
  const parsed = parsePromQL(expr, { templates: opts.templates });
  const functionsUsed = new Set([
    ...functionCalls(parsed).map((f) => f.name),
    ...aggregations(parsed).map((a) => a.op),
  ]);
  const run: RunFacts = {
    features: opts.features ? new Set(opts.features) : undefined,
    flagNames: new Set(),
    functionsUsed,
  };
  const out: PromQLFinding[] = [];
  for (const rule of rulesApplying(from, to).filter((r) => r.checkPromQL)) {
    rule.checkPromQL!({
      from,
      to,
      run,
      expr: parsed,
      origin: opts.origin ?? 'inline',
      report: (r: Report) => out.push(toFinding(rule, r, opts.stage ?? 'cutover', from, to)),
    });
  }
  return out.sort((a, b) => a.from - b.from);
}

function toFinding(
  rule: LintRule,
  r: Report,
  stage: Exclude<Stage, 'all'>,
  from: ReturnType<typeof resolveVersions>['from'],
  to: ReturnType<typeof resolveVersions>['to'],
): PromQLFinding {
  return {
    ruleId: rule.id,
    severity: r.severity ?? rule.severity,
    phase: rule.phase,
    message: r.message,
    from: r.at.from,
    to: r.at.to,
    fix: r.fix ? { ...r.fix, applies: fixApplies(rule, r.fix, stage, from, to) } : undefined,
    suggestion: r.suggestion,
  };
}

/**
 * The expression with every fix of the stage applied (multi-pass, so fixes touching the same characters
 * compose); applying it again changes nothing.
 */
export function applyPromQLFixes(expr: string, opts: PromQLLintOptions = {}): string {
  let text = expr;
  for (let pass = 0; pass < 10; pass++) {
    const edits: TextEdit[] = [];
    for (const f of lintPromQL(text, opts)) {
      if (!f.fix?.applies) continue;
      if (edits.length && editsOverlap(f.fix.edits, edits)) continue;
      edits.push(...f.fix.edits);
    }
    if (edits.length === 0) break;
    text = applyEdits(text, edits).text;
  }
  return text;
}
