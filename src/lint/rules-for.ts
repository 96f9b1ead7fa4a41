import type { Phase, Severity } from '../compat/index.js';
import { resolveVersions, rulesApplying } from './engine.js';

export interface RuleSummary {
  id: string;
  title: string;
  severity: Severity;
  phase: Phase;
  /** What the rule inspects. */
  inputs: Array<'promql' | 'config' | 'flags'>;
  description: string;
  source: string;
  versions: { from?: string; to?: string };
}

/**
 * The rules that hold for an upgrade from -> to, optionally of one phase: the list of changes an
 * upgrade plan must schedule (dual: before the binary swap; cutover: with it; advisory: to verify).
 */
export function rulesFor(from: string, to: string, phase?: Phase): RuleSummary[] {
  const v = resolveVersions({ from, to });
  return rulesApplying(v.from, v.to)
    .filter((r) => !phase || r.phase === phase)
    .map((r) => ({
      id: r.id,
      title: r.title,
      severity: r.severity,
      phase: r.phase,
      inputs: [
        ...(r.checkPromQL ? ['promql' as const] : []),
        ...(r.checkConfig ? ['config' as const] : []),
        ...(r.checkFlags ? ['flags' as const] : []),
      ],
      description: r.description,
      source: r.source,
      versions: r.versions,
    }));
}
