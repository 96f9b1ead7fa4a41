import { UsageError } from '../errors/index.js';
import type { StepKind } from './types.js';
import { backfillMetricsKind, verifyMetricsKind, verifyQueriesKind } from './kinds/metrics.js';
import { dashboardsMigrateKind, dashboardsRestoreKind } from './kinds/dashboards.js';
import { logsCopyKind, logsVerifyKind, tracesCopyKind, tracesVerifyKind } from './kinds/signals.js';
import { gateKind, waitKind } from './kinds/control.js';
import { alertsVerifyKind, verifyCorrelationsKind } from './kinds/wiring.js';
import { rulesSyncKind } from './kinds/rules.js';
import { lgtmConfigKind } from './kinds/lgtm.js';

/**
 * The step kinds a migration file may name. Each wraps one capability through its public index.ts.
 *
 * alerts-verify and verify-correlations live in kinds/wiring.ts, rules-sync in kinds/rules.ts (src/ruler),
 * lgtm-config in kinds/lgtm.ts (src/lgtm). A new capability joins with a file under kinds/ (a zod params
 * schema, figures, default gates and create()) and one line below.
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
  rulesSyncKind,
  lgtmConfigKind,
  waitKind,
  gateKind,
]) {
  registerStepKind(k);
}
