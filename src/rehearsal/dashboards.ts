import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  DatasourceCatalog,
  countReferences,
  classify,
  migrateFiles,
  renderMigrationMarkdown,
  restoreBackup,
  type GrafanaDatasource,
} from '../dashboards/index.js';
import { FIXTURE_DASHBOARDS, FIXTURE_DATASOURCES } from './fixtures/dashboards.js';
import type { RehearsalStep } from './index.js';

/**
 * Extra real-world dashboards for the rehearsal: $STACKSHIFT_REHEARSAL_DASHBOARDS when set (empty: none),
 * else the project's shared corpus next to the checkout when it is there. The shipped fixtures run either way.
 */
function corpusDir(): string | undefined {
  const env = process.env.STACKSHIFT_REHEARSAL_DASHBOARDS;
  const d = env !== undefined ? env : resolve('../shared/corpus/dashboards');
  return d && existsSync(d) && statSync(d).isDirectory() ? d : undefined;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.json') && n !== 'datasources.json') out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Grafana cannot run here, so the dashboards capability is rehearsed in files mode: the shipped fixtures
 * (and the corpus when present) are migrated from Prometheus to Mimir in place, every remaining reference
 * is re-counted, and the backup is restored and compared byte for byte.
 */
export const dashboardsStep: RehearsalStep = {
  id: 'dashboards',
  title: 'Migrate Grafana dashboards to Mimir (files mode), then restore',
  async run(ctx) {
    const dir = join(ctx.workDir, 'dashboards');
    for (const f of FIXTURE_DASHBOARDS) {
      mkdirSync(dirname(join(dir, f.file)), { recursive: true });
      writeFileSync(join(dir, f.file), f.text);
    }
    writeFileSync(join(dir, 'datasources.json'), JSON.stringify(FIXTURE_DATASOURCES, null, 2) + '\n');
    const corpus = corpusDir();
    if (corpus) {
      cpSync(corpus, join(dir, 'corpus'), { recursive: true });
      for (const f of listFiles(join(dir, 'corpus'))) chmodSync(f, 0o644);
    }
    const catalog = new DatasourceCatalog(FIXTURE_DATASOURCES as GrafanaDatasource[]);
    const [from, to] = [catalog.select('Prometheus', 'from', 'fixtures'), catalog.select('Mimir', 'to', 'fixtures')];
    const files = listFiles(dir);
    const original = new Map(files.map((f) => [f, readFileSync(f)]));
    let expected = 0;
    for (const bytes of original.values()) {
      const shape = classify(JSON.parse(bytes.toString('utf8')));
      if (shape.kind === 'dashboard') expected += countReferences(shape.dashboard, catalog, from);
    }
    const backupDir = join(ctx.workDir, 'dashboards-backup');
    const report = await migrateFiles({
      input: dir,
      catalog,
      from,
      to,
      tempo: catalog.select('Tempo', 'tempo', 'fixtures'),
      exemplars: true,
      allowMissingUid: true,
      backupDir,
      exclude: [join(dir, 'datasources.json')],
    });
    const changed = report.totals.byStatus.changed ?? 0;
    const restore = await restoreBackup({ from: backupDir, backupDir: join(ctx.workDir, 'dashboards-pre-restore') });
    const exact = [...original].filter(([f, bytes]) => readFileSync(f).equals(bytes)).length;
    const ok =
      report.totals.remaining === 0 &&
      report.totals.rewritten === expected &&
      exact === original.size &&
      (restore.totals.byStatus.restored ?? 0) === changed;
    ctx.results.dashboards = report;
    const sources = `${FIXTURE_DASHBOARDS.length} fixtures${corpus ? ` + ${original.size - FIXTURE_DASHBOARDS.length} corpus dashboards` : ''}`;
    return {
      status: ok ? 'passed' : 'failed',
      summary: `${original.size} dashboards (${sources}): ${report.totals.rewritten} of ${expected} references to ${from.name} rewritten to ${to.name} (+${report.totals.exemplars} exemplar toggles), ${report.totals.remaining} left, ${changed} files changed in ${report.durationMs} ms; restore byte-exact for ${exact}/${original.size} files`,
      details: [
        renderMigrationMarkdown(report).replace(/^## /m, '#### '),
        `Restore from \`${backupDir}\`: ${restore.totals.byStatus.restored ?? 0} files restored; ${exact} of ${original.size} files byte-identical to the originals.`,
      ].join('\n'),
      data: {
        dashboards: original.size,
        expected,
        rewritten: report.totals.rewritten,
        remaining: report.totals.remaining,
        exemplars: report.totals.exemplars,
        changed,
        restoredExact: exact,
        corpus: Boolean(corpus),
      },
    };
  },
};
