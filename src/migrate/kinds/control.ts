import { z } from 'zod';
import { formatTime, parseDuration } from '../../timeutil/index.js';
import type { MigrationStep, StepKind } from '../types.js';
import { durationText } from './common.js';

const WaitParams = z
  .object({
    duration: durationText,
    reason: z.string().optional(),
  })
  .strict();
type WaitParams = z.infer<typeof WaitParams>;

/**
 * "Parallel run for 7 days": the deadline is set at the step's first run and kept in the state, so a
 * restarted process (or a run a day later) waits for the same moment. Until then `migrate run` stops here.
 */
function waitStep(def: { id: string; title: string; params: WaitParams }): MigrationStep {
  const p = def.params;
  const ms = parseDuration(p.duration, 'duration');
  return {
    id: def.id,
    title: def.title,
    kind: 'wait',
    plan: (ctx) => ({
      summary: `wait ${p.duration}${p.reason ? ` (${p.reason})` : ''}${typeof ctx.data.deadline === 'number' ? `, until ${formatTime(ctx.data.deadline)}` : " from the step's first run"}; migrate run stops here until then`,
      commands: [],
      gates: [],
      rollback: 'forget the deadline: a run after the rollback waits the whole time again',
    }),
    async run(ctx) {
      let deadline = ctx.data.deadline as number | undefined;
      if (typeof deadline !== 'number') {
        deadline = ctx.now() + ms;
        ctx.save({ ...ctx.data, deadline, startedAt: ctx.now() });
      }
      if (ctx.now() < deadline) return { waitingUntil: deadline, note: `waiting until ${formatTime(deadline)}` };
      return {
        figures: { waited_hours: (ctx.now() - Number(ctx.data.startedAt ?? deadline - ms)) / 3_600_000 },
        note: `waited ${p.duration} (deadline ${formatTime(deadline)})`,
      };
    },
    verify: async (_ctx, run) => run.figures ?? {},
    async rollback(ctx) {
      ctx.save({});
      return { action: 'reset', detail: 'deadline forgotten' };
    },
  };
}

export const waitKind: StepKind<WaitParams> = {
  kind: 'wait',
  description: 'wait a duration (a parallel run); the deadline is kept in the state and survives restarts',
  params: WaitParams as z.ZodType<WaitParams>,
  figures: ['waited_hours'],
  defaultGates: [],
  create: waitStep,
};

const GateParams = z
  .object({
    note: z.string().optional(),
  })
  .strict();
type GateParams = z.infer<typeof GateParams>;

/** A checkpoint: its gates read figures other steps measured ("verify-metrics.consistency >= 99.9"). */
function gateStep(def: { id: string; title: string; params: GateParams }): MigrationStep {
  return {
    id: def.id,
    title: def.title,
    kind: 'gate',
    plan: () => ({
      summary: def.params.note ?? 'checkpoint: the gates below must hold before the migration goes on',
      commands: [],
      gates: [],
      rollback: 'none: a gate changes nothing',
    }),
    run: async () => ({ figures: {}, note: def.params.note }),
    verify: async () => ({}),
    rollback: async () => ({ action: 'none', detail: 'a gate changes nothing' }),
  };
}

export const gateKind: StepKind<GateParams> = {
  kind: 'gate',
  description: 'a checkpoint whose gates read figures of earlier steps (<step>.<figure> <op> <number>)',
  params: GateParams as z.ZodType<GateParams>,
  figures: [],
  defaultGates: [],
  minGates: 1,
  create: gateStep,
};
