import { upgradePath } from '../compat/index.js';
import { lintFiles, type Finding } from '../lint/index.js';
import { factsChangesProvider, type RequiredChange, type RequiredChangesProvider, type StageRef } from './changes.js';

const SEVERITY: Record<string, RequiredChange['severity']> = { error: 'fatal', warning: 'warning', info: 'warning' };

function toChange(f: Finding): RequiredChange {
  const kind: RequiredChange['kind'] =
    f.file.endsWith('.json') || f.expr ? 'promql' : /flag/.test(f.ruleId) ? 'flag' : 'config';
  return {
    id: `lint:${f.ruleId}`,
    kind,
    subject: f.context ? `${f.title} (${f.context})` : f.title,
    // the lint engine's "advisory" is a behaviour change to check: the plan calls that a preview
    phase: f.phase === 'advisory' ? 'preview' : f.phase,
    detected: 'yes',
    evidence: `${f.file}:${f.line}:${f.column}`,
    outcome: f.message,
    fix: f.fix?.description ?? f.suggestion?.description ?? 'see `stackshift lint prom3`',
    severity: SEVERITY[f.severity] ?? 'warning',
    source: f.source,
  };
}

/**
 * The plan's required changes with the user's own files linted: for each stage, what the Prometheus 3 lint
 * engine finds in the given configs, rule files, dashboards and flag sources (with file:line evidence), on top
 * of what the version facts say about the live server. Linting is async, so it runs once per stage up front.
 */
export async function lintChangesProvider(
  paths: string[],
  from: string,
  to: string,
  flagsFrom: string[] = [],
): Promise<RequiredChangesProvider> {
  const byStage = new Map<string, RequiredChange[]>();
  for (const s of upgradePath(from, to).stages) {
    const res = await lintFiles(paths, { from: s.from, to: s.to, flagsFrom });
    byStage.set(`${s.from}->${s.to}`, res.findings.map(toChange));
  }
  const checkedKinds = new Set<RequiredChange['kind']>([
    'config',
    'promql',
    ...(flagsFrom.length ? (['flag', 'feature-flag'] as const) : []),
  ]);
  return (stage: StageRef, server) => {
    const linted = byStage.get(`${stage.from}->${stage.to}`) ?? [];
    const text = linted.map((c) => `${c.subject} ${c.outcome}`).join('\n');
    // A fact the server could not settle is settled by the files: the lint row (with evidence) replaces it,
    // or, when the files do not have it, it was checked and is absent.
    const facts = factsChangesProvider(stage, server).flatMap((c): RequiredChange[] => {
      if (c.detected !== 'unknown' || !checkedKinds.has(c.kind)) return [c];
      if (text.includes(c.subject)) return [];
      return [{ ...c, detected: 'no', evidence: 'not found in the linted files' }];
    });
    return [...facts, ...linted];
  };
}
