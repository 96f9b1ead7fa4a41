import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../../config/index.js';
import { StackshiftError, UsageError } from '../../errors/index.js';
import { formatBytes } from '../../progress/index.js';
import { log } from '../../log/index.js';
import { mdTable, textTable } from '../../report/index.js';
import {
  SNAPSHOT_MIGRATION,
  applyPrune,
  createSnapshot,
  latestVerifications,
  planPrune,
  recordVerification,
  renderVerificationMarkdown,
  renderVerificationText,
  serverDataDir,
  verifySnapshot,
  type SnapshotVerification,
} from '../../snapshot/index.js';
import { listSnapshots } from '../../tsdb/index.js';
import { addPrometheusOptions, prometheusClient, withPrometheus } from '../endpoint-options.js';
import { contextFor, emit, STATE_OPTION_HELP, withState } from '../context.js';
import { durationFlag, intFlag } from '../parse.js';

function hasUrl(opts: Record<string, unknown>, loaded: LoadedConfig, endpoint: string): boolean {
  return Boolean(opts.prometheusUrl) || Boolean(loaded.config.endpoints?.[endpoint]);
}

async function resolveDataDir(opts: Record<string, unknown>, loaded: LoadedConfig): Promise<string> {
  if (opts.dataDir) {
    const d = resolve(String(opts.dataDir));
    if (!existsSync(d)) throw new UsageError(`--data-dir ${d} does not exist`);
    return d;
  }
  if (hasUrl(opts, loaded, String(opts.endpoint))) {
    const d = await withPrometheus(opts, loaded, serverDataDir);
    if (d && existsSync(d)) return d;
    throw new UsageError(
      `the server's data dir ${d ?? '(unknown)'} is not on this machine`,
      'pass --data-dir, or run on the Prometheus host',
    );
  }
  throw new UsageError('give --data-dir (or --prometheus-url on the Prometheus host)');
}

export function registerSnapshot(program: Command): void {
  const area = new Command('snapshot').description(
    'TSDB snapshots through the admin API: create, verify block by block, list, prune',
  );

  const create = new Command('create')
    .description('POST /api/v1/admin/tsdb/snapshot, then verify every block of the new snapshot')
    .option(
      '--data-dir <dir>',
      "the server's data dir on this machine (default: --storage.tsdb.path from the server, resolved against its CWD)",
    )
    .option(
      '--skip-head',
      'do not write the in-memory head as a block (faster; the newest ~2h are then only in the WAL)',
    )
    .option('--no-verify', 'do not verify the new snapshot')
    .option('--state <file>', STATE_OPTION_HELP);
  addPrometheusOptions(create);
  create.addHelpText(
    'after',
    `
Examples:
  stackshift snapshot create --prometheus-url http://prom:9090 --data-dir /var/lib/prometheus
  stackshift snapshot create --prometheus-url http://127.0.0.1:9090 --output json

Needs --web.enable-admin-api on the server; without it the answer is advice on how to enable it (exit 1).`,
  );
  create.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    await withPrometheus(opts, ctx.loaded, async (client) => {
      const s = await createSnapshot(client, {
        skipHead: Boolean(opts.skipHead),
        dataDir: opts.dataDir as string | undefined,
      });
      let v: SnapshotVerification | undefined;
      if (opts.verify !== false) {
        if (!s.path)
          throw new StackshiftError(
            'snapshot-not-local',
            `snapshot ${s.name} was created, but its directory is not on this machine${s.dataDir ? ` (looked in ${join(s.dataDir, 'snapshots')})` : ''}`,
            {
              hint:
                'pass --data-dir, or verify it on the Prometheus host: stackshift snapshot verify <data>/snapshots/' +
                s.name,
              exitCode: 1,
            },
          );
        log.info('verifying the new snapshot', { path: s.path });
        v = await verifySnapshot(s.path);
        await withState(opts, ctx.loaded, [SNAPSHOT_MIGRATION], (db) => recordVerification(db, v!));
      }
      const doc = { snapshot: s, verification: v };
      const head = `created snapshot ${s.name} in ${s.durationMs} ms${s.path ? ` at ${s.path}` : ''}`;
      emit(
        {
          document: doc,
          text: () => `${head}\n${v ? renderVerificationText(v) : ''}`,
          markdown: () => `${head}\n\n${v ? renderVerificationMarkdown(v) : ''}`,
          exitCode: v && !v.ok ? 1 : 0,
        },
        ctx.format,
      );
    });
  });

  const verify = new Command('verify')
    .description(
      'check every block of a snapshot (meta.json, index header/TOC/sections, every chunk CRC32C); --deep also opens it with a throwaway Prometheus',
    )
    .argument('<path>', 'snapshot directory (or any directory of blocks)')
    .option(
      '--deep',
      'start a throwaway Prometheus on a hard-linked copy and compare series counts with the live server (--prometheus-url)',
    )
    .option('--work-dir <dir>', 'where the hard-linked copy goes (same filesystem as the snapshot; default: beside it)')
    .option('--state <file>', STATE_OPTION_HELP);
  addPrometheusOptions(verify, 'live Prometheus (for --deep)');
  verify.addHelpText(
    'after',
    `
Examples:
  stackshift snapshot verify /var/lib/prometheus/snapshots/20260101T000000Z-0123456789abcdef
  stackshift snapshot verify /var/lib/prometheus/snapshots/20260101T000000Z-0123456789abcdef --deep --prometheus-url http://127.0.0.1:9090

Exit codes: 0 verified, 1 a block is corrupt (the block and byte offset are named) or --deep found a difference.`,
  );
  verify.action(async (path: string, opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const live =
      opts.deep && hasUrl(opts, ctx.loaded, String(opts.endpoint)) ? prometheusClient(opts, ctx.loaded) : undefined;
    try {
      const v = await verifySnapshot(path, {
        deep: Boolean(opts.deep),
        live,
        workDir: opts.workDir as string | undefined,
      });
      await withState(opts, ctx.loaded, [SNAPSHOT_MIGRATION], (db) => recordVerification(db, v));
      emit(
        {
          document: v,
          text: () => renderVerificationText(v),
          markdown: () => renderVerificationMarkdown(v),
          exitCode: v.ok ? 0 : 1,
        },
        ctx.format,
      );
    } finally {
      await live?.close();
    }
  });

  const list = new Command('list')
    .description('snapshots in <data>/snapshots with their age, size, bytes only they hold, and the last verification')
    .option('--data-dir <dir>', 'Prometheus data dir on this machine')
    .option('--state <file>', STATE_OPTION_HELP);
  addPrometheusOptions(list, 'Prometheus (to find its data dir)');
  list.addHelpText(
    'after',
    `
Examples:
  stackshift snapshot list --data-dir /var/lib/prometheus
  stackshift snapshot list --prometheus-url http://127.0.0.1:9090 --output json`,
  );
  list.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const dataDir = await resolveDataDir(opts, ctx.loaded);
    const ver = await withState(opts, ctx.loaded, [SNAPSHOT_MIGRATION], latestVerifications);
    const rows = listSnapshots(dataDir).map((s) => ({ ...s, lastVerification: ver.get(s.path) }));
    const table = (fmt: typeof textTable) =>
      fmt(
        ['NAME', 'CREATED', 'BLOCKS', 'BYTES', 'EXCLUSIVE', 'VERIFIED'],
        rows.map((r) => [
          r.name,
          r.createdAt,
          r.blocks,
          formatBytes(r.bytes),
          formatBytes(r.exclusiveBytes),
          r.lastVerification
            ? `${r.lastVerification.ok ? 'ok' : 'FAILED'} ${r.lastVerification.verifiedAt}${r.lastVerification.deep ? ' (deep)' : ''}`
            : 'never',
        ]),
      );
    emit(
      {
        document: { dataDir, snapshots: rows },
        text: () => `${rows.length} snapshots in ${join(dataDir, 'snapshots')}\n${table(textTable)}\n`,
        markdown: () => `${rows.length} snapshots in \`${join(dataDir, 'snapshots')}\`\n\n${table(mdTable)}\n`,
        exitCode: 0,
      },
      ctx.format,
    );
  });

  const prune = new Command('prune')
    .description(
      'delete old snapshots by retention; shows the plan unless --yes; never deletes the newest verified snapshot',
    )
    .option('--data-dir <dir>', 'Prometheus data dir on this machine')
    .option('--keep-last <n>', 'always keep the newest N', '3')
    .option('--older-than <duration>', 'delete only snapshots older than this (e.g. 7d)')
    .option('--yes', 'really delete')
    .option('--state <file>', STATE_OPTION_HELP);
  addPrometheusOptions(prune, 'Prometheus (to find its data dir)');
  prune.addHelpText(
    'after',
    `
Examples:
  stackshift snapshot prune --data-dir /var/lib/prometheus --keep-last 2 --older-than 7d          # dry run
  stackshift snapshot prune --data-dir /var/lib/prometheus --keep-last 2 --older-than 7d --yes`,
  );
  prune.action(async (opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    const keepLast = intFlag('keep-last', opts.keepLast, 0);
    const olderThanMs = opts.olderThan ? durationFlag('older-than', opts.olderThan, { min: 0 }) : undefined;
    const dataDir = await resolveDataDir(opts, ctx.loaded);
    const ver = [...(await withState(opts, ctx.loaded, [SNAPSHOT_MIGRATION], latestVerifications)).values()]
      .filter((v) => v.ok)
      .sort((a, b) => b.name.localeCompare(a.name));
    const existing = new Set(listSnapshots(dataDir).map((s) => s.path));
    const newestOk = ver.find((v) => existing.has(v.path));
    const protect = newestOk ? [newestOk.name] : [];
    let plan = planPrune(dataDir, { keepLast, olderThanMs, protect });
    if (opts.yes) plan = applyPrune(plan);
    const verb = plan.applied ? 'deleted' : 'would delete (dry run; add --yes)';
    const text = () =>
      `${verb} ${plan.remove.length} snapshots, freeing ${formatBytes(plan.freedBytes)}${plan.remove.length ? `: ${plan.remove.map((s) => s.name).join(', ')}` : ''}\nkeeping ${plan.keep.length}: ${plan.keep.map((s) => s.name + (protect.includes(s.name) ? ' (newest verified)' : '')).join(', ') || 'none'}\n`;
    emit({ document: plan, text, markdown: text, exitCode: 0 }, ctx.format);
  });

  area.addCommand(create);
  area.addCommand(verify);
  area.addCommand(list);
  area.addCommand(prune);
  program.addCommand(area);
}
