import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PrometheusClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import {
  PROMETHEUS_VERSIONS,
  historyBlocks,
  installBlocks,
  promtoolBinary,
  resolveSpec,
  startAlertmanager,
  startPrometheus,
} from '../lab/index.js';
import { mdTable } from '../report/index.js';
import type { RehearsalContext, RehearsalStep, StepOutcome } from './index.js';

interface VersionRow {
  lab: string;
  reported: string;
  series: number;
  promtool: string;
  startMs: number;
  error?: string;
}

/**
 * Every Prometheus release the lab builds opens the rehearsal's history (the same blocks, hard-linked into a
 * data dir of its own), reports its real version through the API, counts the same series, and its promtool
 * accepts the source's config; the lab's Alertmanager starts too. What the later steps stand on, proven first.
 */
export const labVersionsStep: RehearsalStep = {
  id: 'lab-versions',
  title: 'Lab: every Prometheus version opens the history; Alertmanager starts',
  async run(ctx: RehearsalContext): Promise<StepOutcome> {
    const hist = resolveSpec(ctx.history);
    const blocks = await historyBlocks(ctx.history);
    const match = ['{__name__=~"stackshift_gen_.+"}'];
    const rows: VersionRow[] = [];
    for (const v of PROMETHEUS_VERSIONS) {
      const row: VersionRow = { lab: v, reported: '?', series: 0, promtool: '?', startMs: 0 };
      rows.push(row);
      const dataDir = join(ctx.workDir, `versions-${v}`, 'data');
      try {
        installBlocks(blocks, dataDir);
        const t0 = Date.now();
        const server = await startPrometheus({
          name: `versions-${v}`,
          version: v,
          config: 'global:\n  scrape_interval: 15s\n',
          dataDir,
        });
        row.startMs = Date.now() - t0;
        const client = new PrometheusClient(endpointFromUrl(server.url));
        try {
          row.reported = (await client.buildInfo()).version;
          row.series = (await client.series(match, hist.startMs, hist.endMs)).length;
        } finally {
          await client.close();
          await server.stop();
        }
        const check = spawnSync(promtoolBinary(v), ['check', 'config', ctx.source.configFile], { encoding: 'utf8' });
        row.promtool =
          check.status === 0 ? 'SUCCESS' : `FAILED: ${(check.stdout + check.stderr).trim().split('\n').pop()}`;
      } catch (e) {
        row.error = (e as Error).message.split('\n')[0];
      }
    }
    let am = '';
    try {
      const a = await startAlertmanager({ dir: join(ctx.workDir, 'alertmanager') });
      const status = (await (await fetch(`${a.url}/api/v2/status`)).json()) as { versionInfo?: { version?: string } };
      am = status.versionInfo?.version ?? '?';
      await a.stop();
    } catch (e) {
      am = `error: ${(e as Error).message.split('\n')[0]}`;
    }
    const ok =
      rows.every(
        (r) => !r.error && r.series === ctx.opts.series && r.promtool === 'SUCCESS' && r.reported.startsWith(r.lab),
      ) && !am.startsWith('error');
    return {
      status: ok ? 'passed' : 'failed',
      summary: `${rows.filter((r) => r.series === ctx.opts.series).length}/${rows.length} Prometheus versions (${rows.map((r) => r.reported).join(', ')}) open the history with all ${ctx.opts.series} series; promtool of each accepts the source config; Alertmanager ${am}`,
      details: mdTable(
        ['Lab version', 'Reports', 'Start (ms)', 'Series', 'promtool check config', 'Error'],
        rows.map((r) => [r.lab, r.reported, String(r.startMs), String(r.series), r.promtool, r.error ?? '']),
      ),
      data: { prometheus: rows, alertmanager: am },
    };
  },
};
