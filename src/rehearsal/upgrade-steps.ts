import { join } from 'node:path';
import { statfsSync } from 'node:fs';
import { PrometheusClient } from '../clients/index.js';
import { CHANGE_FACTS } from '../compat/index.js';
import { endpointFromUrl } from '../config/index.js';
import { formatBytes, formatDuration } from '../progress/index.js';
import {
  SNAPSHOT_MIGRATION,
  createSnapshot,
  recordVerification,
  renderVerificationMarkdown,
  verifySnapshot,
} from '../snapshot/index.js';
import { openState } from '../state/index.js';
import { inspectTsdb, renderInspectionMarkdown } from '../tsdb/index.js';
import {
  PREFLIGHT_MIGRATION,
  planUpgrade,
  readServerFacts,
  renderPlanMarkdown,
  renderPreflightMarkdown,
  replayFromLog,
  runPreflight,
} from '../upgrade/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

/**
 * The upgrade-planning capability against the rehearsal's real source Prometheus: read its data dir, snapshot
 * it through the admin API and verify the snapshot (deep: a throwaway Prometheus opens a hard-linked copy),
 * plan 2.42 -> 3.5.0 and run the preflight gates with a stored baseline.
 */
async function withSource<T>(ctx: RehearsalContext, fn: (client: PrometheusClient) => Promise<T>): Promise<T> {
  const client = new PrometheusClient(endpointFromUrl(ctx.source.url));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const inspectStep: RehearsalStep = {
  id: 'tsdb-inspect',
  title: 'Inspect the source TSDB on disk',
  async run(ctx): Promise<StepOutcome> {
    const t0 = Date.now();
    const r = inspectTsdb(ctx.source.dataDir, { level: 'full' });
    const ms = Date.now() - t0;
    ctx.results['tsdb-inspect'] = r;
    const errors = r.problems.filter((p) => p.severity === 'error').length;
    const bytes = r.totals.tsdbBytes;
    const oldest = r.compatibility.oldestLossless;
    return {
      status: errors === 0 && r.blocks.length > 0 && r.formats.indexVersions.join() === '2' ? 'passed' : 'failed',
      summary: `${r.layout}: ${r.blocks.length} blocks, ${r.totals.samples} samples, index versions [${r.formats.indexVersions}], chunk encodings [${r.formats.blockChunkEncodings}], WAL ${r.wal?.segments.length ?? 0} segments (${r.wal?.records ?? 0} records, types [${r.formats.walRecordTypes}]); every checksum of ${formatBytes(bytes)} verified in ${ms} ms (${formatBytes((bytes / Math.max(ms, 1)) * 1000)}/s), ${errors} errors; opens losslessly on ${oldest ?? 'n/a'} and later`,
      details: renderInspectionMarkdown(r).replace(/^## /m, '#### '),
      data: { blocks: r.blocks.length, samples: r.totals.samples, bytes, ms, errors, oldestLossless: oldest },
    };
  },
};

const snapshotStep: RehearsalStep = {
  id: 'snapshot',
  title: 'Snapshot through the admin API, verified block by block and deep',
  run: (ctx) =>
    withSource(ctx, async (c): Promise<StepOutcome> => {
      const s = await createSnapshot(c, { dataDir: ctx.source.dataDir });
      if (!s.path)
        return {
          status: 'failed',
          summary: `snapshot ${s.name} created but not found under ${ctx.source.dataDir}/snapshots`,
        };
      const v = await verifySnapshot(s.path, { deep: true, live: c, workDir: join(ctx.workDir, 'deep-verify') });
      const db = openState(join(ctx.workDir, 'state.db'), [SNAPSHOT_MIGRATION]);
      try {
        recordVerification(db, v);
      } finally {
        db.close();
      }
      ctx.results.snapshot = { name: s.name, path: s.path, ok: v.ok };
      const d = v.deep;
      return {
        status: v.ok ? 'passed' : 'failed',
        summary: `${s.name} in ${s.durationMs} ms: ${v.blocks.length} blocks, ${formatBytes(v.bytesRead)} verified in ${v.durationMs} ms; deep: Prometheus ${d?.prometheusVersion ?? '?'} opened the copy in ${d?.startMs ?? 0} ms, ${d?.snapshotSeries ?? 0} series vs ${d?.liveSeries ?? '?'} live, ${d?.mismatches.length ?? 0} metric names differ`,
        details: renderVerificationMarkdown(v),
        data: {
          name: s.name,
          blocks: v.blocks.length,
          bytes: v.bytesRead,
          verifyMs: v.durationMs,
          deepStartMs: d?.startMs,
          series: d?.snapshotSeries,
          liveSeries: d?.liveSeries,
        },
      };
    }),
};

const planStep: RehearsalStep = {
  id: 'upgrade-plan',
  title: 'Upgrade plan 2.42 -> 3.5.0',
  run: (ctx) =>
    withSource(ctx, async (c): Promise<StepOutcome> => {
      const server = await readServerFacts(c);
      const inspection = inspectTsdb(ctx.source.dataDir, { level: 'scan' });
      const wal = inspection.wal;
      const replay = replayFromLog(
        ctx.source.logs(),
        (seg) => wal?.segments.find((s) => Number(s.name) === seg)?.bytes,
      );
      const fs = statfsSync(ctx.source.dataDir);
      const snap = ctx.results.snapshot as { name: string; ok: boolean } | undefined;
      const p = planUpgrade({
        to: '3.5.0',
        inspection,
        replay,
        disk: { freeBytes: fs.bavail * fs.bsize },
        snapshot: snap ? { name: snap.name, verified: snap.ok } : undefined,
        server,
      });
      ctx.results['upgrade-plan'] = p;
      const top = p.risks[0];
      const ok =
        p.path.join(' -> ') === `${server.version!.replace(/\+.*/, '')} -> 2.55.1 -> 3.5.0` &&
        p.stages.every((s) => s.rollback.feasible === 'yes') &&
        replay?.source === 'log';
      return {
        status: ok ? 'passed' : 'failed',
        summary: `path ${p.path.join(' -> ')}; required changes per stage ${p.stages.map((s) => `${s.requiredChanges.length} (${s.requiredChanges.filter((c) => c.detected === 'yes').length} found on the server)`).join(', ')} from ${CHANGE_FACTS.length} facts; rollback ${p.stages.map((s) => `${s.to}->${s.from}: ${s.rollback.feasible}`).join(', ')}; restart ~${formatDuration(p.stages[0]?.downtime.restartMs ?? 0)} (${replay ? `replay measured from the server log: ${replay.segments} segments in ${(replay.walReplayMs ?? 0).toFixed(2)} ms` : 'assumed'}); ${p.risks.length} risks, top ${top ? `${top.id} (${top.likelihood}x${top.impact}) ${top.title}` : 'none'}; ${p.runbookCorrections.filter((x) => x.verdict !== 'right').length} runbook claims corrected`,
        details: renderPlanMarkdown(p).replace(/^## /m, '#### '),
        data: {
          path: p.path,
          requiredChanges: p.stages.map((s) => s.requiredChanges.length),
          risks: p.risks.length,
          rollback: p.stages.map((s) => s.rollback.feasible),
          restartMs: p.stages[0]?.downtime.restartMs,
        },
      };
    }),
};

const preflightStep: RehearsalStep = {
  id: 'preflight',
  title: 'Preflight gates and baseline before the upgrade',
  run: (ctx) =>
    withSource(ctx, async (c): Promise<StepOutcome> => {
      const db = openState(join(ctx.workDir, 'state.db'), [PREFLIGHT_MIGRATION]);
      try {
        const snap = ctx.results.snapshot as { path: string } | undefined;
        const r = await runPreflight(c, {
          dataDir: ctx.source.dataDir,
          to: '3.5.0',
          snapshotPath: snap?.path,
          state: db,
        });
        const by = Object.fromEntries(r.checks.map((x) => [x.id, x.status]));
        // The source has one target down and one broken rule on purpose: the baseline must record both.
        const ok =
          r.passed &&
          by.disk === 'pass' &&
          by.snapshot === 'pass' &&
          by['admin-api'] === 'pass' &&
          r.baseline.targets.down === 1 &&
          r.baseline.rules.unhealthy === 1 &&
          r.stateId !== undefined;
        const q = r.baseline.queries;
        return {
          status: ok ? 'passed' : 'failed',
          summary: `${r.passed ? 'passed' : 'FAILED'}: ${r.checks.map((x) => `${x.id} ${x.status}`).join(', ')}; baseline ${r.baseline.targets.up} up / ${r.baseline.targets.down} down, ${r.baseline.rules.unhealthy} unhealthy rule, ${q.length} queries timed (slowest median ${q.length ? Math.max(...q.map((x) => x.medianMs)).toFixed(2) : 0} ms); stored as preflight run ${r.stateId}`,
          details: renderPreflightMarkdown(r),
          data: { passed: r.passed, checks: by, stateId: r.stateId },
        };
      } finally {
        db.close();
      }
    }),
};

export const UPGRADE_STEPS: RehearsalStep[] = [inspectStep, snapshotStep, planStep, preflightStep];
