import type { Command } from 'commander';
import { registerAssess } from './assess.js';
import { registerRehearse } from './rehearse.js';
import { registerBackfill } from './backfill.js';
import { registerVerify } from './verify.js';

/** One line per command area; each area's file only parses flags, calls its module and renders. */
export function registerCommands(program: Command): void {
  registerAssess(program);
  registerRehearse(program);
  registerBackfill(program);
  registerVerify(program);
}
