/**
 * The plan of a copy and how a run takes it up again. A state file belongs to one copy (its fingerprint: source,
 * target, selectors, shard, protocol); a new plan is made from the metric names the source holds in the range,
 * split into name groups, and a resumed one keeps the range it was planned for. `backfill metrics` and
 * `backfill blocks` plan alike and share BackfillState, so these steps live here, beside the state they write,
 * rather than in either run.
 */
import { createHash } from 'node:crypto';
import type { PrometheusClient } from '../clients/index.js';
import { StackshiftError, UsageError } from '../errors/index.js';
import { formatMatchers } from '../promql/index.js';
import type { Matcher } from '../wire/index.js';
import { shardOf } from './limits.js';
import type { BackfillParams } from './run.js';
import type { BackfillState, GroupRow, Totals } from './state.js';

/** Shard i of N: the metric names this process takes (by hash, see shardOf). */
export interface Shard {
  index: number;
  count: number;
}

/** "i/N", or '' without a shard: the shard's part of a fingerprint and of a plan's description. */
export function shardKey(shard: Shard | undefined): string {
  return shard ? `${shard.index}/${shard.count}` : '';
}

/** 32 hex digits of the SHA-256 of what a plan copies: a state file is resumed only by the same copy. */
export function planHash(key: unknown): string {
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
}

/** The fingerprint of a `backfill metrics` plan and the line that names it in a refusal. */
export function fingerprint(
  p: BackfillParams,
  paths: { readPath: string },
  tp: { base: string; path: string },
): { hash: string; describe: string } {
  const key = {
    source: p.source.url + paths.readPath,
    target: tp.base + tp.path,
    tenant: p.target.tenant ?? '',
    selectors: p.selectors,
    shard: shardKey(p.shard),
    keepExternal: p.keepExternalLabels,
    v: p.remoteWriteVersion,
  };
  const describe = `${key.source} -> ${key.target}${key.tenant ? ` tenant ${key.tenant}` : ''}, ${p.selectors.join(' ')}${key.shard ? `, shard ${key.shard}` : ''}`;
  return { hash: planHash(key), describe };
}

/**
 * The range of this run: the one given, or the stored one of a plan being resumed. A different range is refused
 * unless it was given relative to now (--start 30d moves with the clock), where the stored range wins.
 */
export function resumedRange<T extends { startMs: number; endMs: number }>(
  plan: { params: string } | undefined,
  p: { startMs: number; endMs: number; relativeRange?: boolean; statePath: string },
): { startMs: number; endMs: number; stored?: T } {
  if (!plan) return { startMs: p.startMs, endMs: p.endMs };
  const stored = JSON.parse(plan.params) as T;
  if ((stored.startMs !== p.startMs || stored.endMs !== p.endMs) && !p.relativeRange) {
    throw new UsageError(
      `state file ${p.statePath} was planned for ${new Date(stored.startMs).toISOString()} .. ${new Date(stored.endMs).toISOString()}, not the range given now`,
      'resume with the same --start/--end (or relative ones such as 30d), or use a new --state file',
    );
  }
  return { startMs: stored.startMs, endMs: stored.endMs, stored };
}

/** `xs` in consecutive slices of at most `n` (Infinity: one slice; none for an empty list). */
export function slices<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * The name groups of a new plan: per selector, the metric names the source holds in the range (on this shard),
 * sorted, in groups of at most `namesPerGroup`; a selector without names has no group.
 */
export async function planGroups(
  api: PrometheusClient,
  selectors: Matcher[][],
  startMs: number,
  endMs: number,
  shard: Shard | undefined,
  namesPerGroup: number,
): Promise<{ groups: Array<{ selector: number; names: string[] }>; names: number }> {
  const groups: Array<{ selector: number; names: string[] }> = [];
  let nameCount = 0;
  for (let i = 0; i < selectors.length; i++) {
    let names = await api.labelValues('__name__', [formatMatchers(selectors[i])], startMs, endMs);
    if (shard) names = names.filter((n) => shardOf(n, shard.count) === shard.index);
    names.sort();
    nameCount += names.length;
    for (const part of slices(names, namesPerGroup)) groups.push({ selector: i, names: part });
  }
  return { groups, names: nameCount };
}

/** Metric names in a plan's groups. */
export function plannedNames(groups: GroupRow[]): number {
  return groups.reduce((a, g) => a + (JSON.parse(g.names) as string[]).length, 0);
}

/** Work is left for a next run: a unit still 'running' (stopped in flight) or a group whose cursor is short of the end. */
export function workLeft(state: BackfillState, groups: GroupRow[], endMs: number): boolean {
  return state.runningUnits().length > 0 || groups.some((g) => g.cursor_ms < endMs);
}

/** The error of a run that failed part-way: how far it got, why, and that re-running resumes. */
export function runStopped(what: string, units: string, t: Totals, statePath: string, e: unknown): StackshiftError {
  const msg = e instanceof Error ? e.message : String(e);
  return new StackshiftError(
    'backfill',
    `${what} stopped after ${t.unitsDone} of ${t.units} started ${units}: ${msg}`,
    {
      hint: `${(e as StackshiftError).hint ? (e as StackshiftError).hint + '; then ' : ''}re-run the same command to resume from ${statePath}`,
      cause: e,
    },
  );
}
