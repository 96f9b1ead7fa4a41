import type { Command } from 'commander';
import { registerAssess } from './assess.js';
import { registerLint } from './lint.js';
import { registerRehearse } from './rehearse.js';
import { registerTsdb } from './tsdb.js';
import { registerUpgrade } from './upgrade.js';
import { registerPreflight } from './preflight.js';
import { registerSnapshot } from './snapshot.js';
import { registerDashboards } from './dashboards.js';
import { registerBackfill } from './backfill.js';
import { registerVerify } from './verify.js';
import { registerLogs } from './logs.js';
import { registerTraces } from './traces.js';
import { registerMigrate } from './migrate.js';
import { registerLgtm } from './lgtm.js';
import { registerRules } from './rules.js';
import { registerAlerts } from './alerts.js';
import { registerAlertmanager } from './alertmanager.js';

/** One line per command area; each area's file only parses flags, calls its module and renders. */
export function registerCommands(program: Command): void {
  registerAssess(program);
  registerRehearse(program);
  registerTsdb(program);
  registerUpgrade(program);
  registerPreflight(program);
  registerSnapshot(program);
  registerDashboards(program);
  registerLint(program);
  registerBackfill(program);
  registerVerify(program);
  registerLogs(program);
  registerTraces(program);
  registerMigrate(program);
  registerLgtm(program);
  registerRules(program);
  registerAlerts(program);
  registerAlertmanager(program);
}
