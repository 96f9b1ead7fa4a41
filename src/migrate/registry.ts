import { UsageError } from '../errors/index.js';
import type { StepKind } from './types.js';
import { backfillMetricsKind, verifyMetricsKind, verifyQueriesKind } from './kinds/metrics.js';
import { dashboardsMigrateKind, dashboardsRestoreKind } from './kinds/dashboards.js';
import { logsCopyKind, logsVerifyKind, tracesCopyKind, tracesVerifyKind } from './kinds/signals.js';
import { gateKind, waitKind } from './kinds/control.js';
import { alertsVerifyKind, verifyCorrelationsKind } from './kinds/wiring.js';

/**
 * The step kinds a migration file may name. Each wraps one capability through its public index.ts.
 *
 * alerts-verify and verify-correlations live in kinds/wiring.ts.
 *
 * Slots for capabilities being built elsewhere, registered here once they exist (a file under kinds/ with a
 * zod params schema, figures, default gates and create(); then one line below):
 *   - rules-sync          (src/ruler: `rules sync`)            phase "cut-over", before the wait
 *   - lgtm-config         (src/lgtm: `lgtm config`)            phase "foundation and dual collection"
 * A kind that is not registered is refused when a migration file names it, with the list of known kinds.
 */
const kinds = new Map<string, StepKind<any>>();

export function registerStepKind(kind: StepKind<any>): void {
  if (kinds.has(kind.kind)) throw new Error(`step kind ${kind.kind} is registered twice`);
  kinds.set(kind.kind, kind);
}

export function stepKind(name: string): StepKind<any> | undefined {
  return kinds.get(name);
}

export function stepKindNames(): string[] {
  return [...kinds.keys()];
}

export function requireStepKind(name: string): StepKind<any> {
  const k = kinds.get(name);
  if (!k) throw new UsageError(`unknown step kind "${name}"`, `known kinds: ${stepKindNames().join(', ')}`);
  return k;
}

for (const k of [
  backfillMetricsKind,
  verifyMetricsKind,
  verifyQueriesKind,
  dashboardsMigrateKind,
  dashboardsRestoreKind,
  tracesCopyKind,
  tracesVerifyKind,
  logsCopyKind,
  logsVerifyKind,
  alertsVerifyKind,
  verifyCorrelationsKind,
  waitKind,
  gateKind,
]) {
  registerStepKind(k);
}
