import { formatBytes } from '../progress/index.js';
import { mdTable, textTable } from '../report/index.js';
import type { Assessment, Finding } from './collect.js';

const SEV_ORDER: Record<Finding['severity'], number> = { critical: 0, warning: 1, info: 2 };

function pathLine(a: Assessment): string {
  if (a.upgradePath.stages.length === 0)
    return `${a.prometheus.version} (already at or beyond ${a.upgradePath.target})`;
  return [a.upgradePath.stages[0].from, ...a.upgradePath.stages.map((s) => s.to)].join(' -> ');
}

function sortedFindings(a: Assessment): Finding[] {
  return [...a.findings].sort((x, y) => SEV_ORDER[x.severity] - SEV_ORDER[y.severity] || x.id.localeCompare(y.id));
}

export function renderAssessmentText(a: Assessment): string {
  const out: string[] = [];
  out.push(
    `Prometheus ${a.prometheus.version} at ${a.prometheus.url} (revision ${a.prometheus.revision.slice(0, 12) || 'n/a'}, ${a.prometheus.goVersion ?? ''})`,
  );
  out.push(`Upgrade path to ${a.upgradePath.target}: ${pathLine(a)}`);
  out.push('');
  out.push('Storage');
  out.push(
    `  retention       ${a.storage.retentionTime ?? 'n/a'}${a.storage.retentionSize && a.storage.retentionSize !== '0B' ? ` / ${a.storage.retentionSize}` : ''}`,
  );
  out.push(`  head series     ${a.storage.headSeries} (chunks ${a.storage.headChunks})`);
  if (a.storage.totalSeries !== undefined) out.push(`  series (blocks + head) ${a.storage.totalSeries}`);
  if (a.storage.dataDir) {
    const d = a.storage.dataDir;
    out.push(
      `  data dir        ${d.path}: TSDB ${formatBytes(d.tsdbBytes)} (${d.blocks} blocks, WAL ${formatBytes(d.walBytes)}), free ${formatBytes(d.freeBytes)} of ${formatBytes(d.totalBytes)}`,
    );
  }
  if (a.storage.topMetrics.length)
    out.push(
      `  top metrics     ${a.storage.topMetrics
        .slice(0, 5)
        .map((m) => `${m.name}=${m.series}`)
        .join(', ')}`,
    );
  out.push('');
  out.push('Flags');
  for (const [k, v] of Object.entries(a.flags.important))
    if (v !== '' && v !== 'false' && v !== '0s' && v !== '0B') out.push(`  --${k}=${v}`);
  out.push('');
  out.push(`Remote write: ${a.remote.write.length ? a.remote.write.map((w) => w.url).join(', ') : 'none'}`);
  out.push(`Remote read:  ${a.remote.read.length ? a.remote.read.map((r) => r.url).join(', ') : 'none'}`);
  out.push('');
  out.push(`Targets: ${a.targets.up} up, ${a.targets.down} down, ${a.targets.unknown} unknown`);
  if (a.targets.list.length)
    out.push(
      textTable(
        ['POOL', 'URL', 'HEALTH', 'LAST ERROR'],
        a.targets.list.map((t) => [t.pool, t.url, t.health, t.lastError]),
      ).replace(/^/gm, '  '),
    );
  out.push('');
  out.push(`Rules: ${a.rules.groups} groups, ${a.rules.rules} rules, ${a.rules.unhealthy} unhealthy`);
  if (a.rules.groupList.length)
    out.push(
      textTable(
        ['GROUP', 'FILE', 'RULES', 'INTERVAL', 'EVAL TIME'],
        a.rules.groupList.map((g) => [
          g.name,
          g.file,
          g.rules,
          `${g.interval}s`,
          g.evaluationTimeSeconds === undefined ? '' : `${(g.evaluationTimeSeconds * 1000).toFixed(1)}ms`,
        ]),
      ).replace(/^/gm, '  '),
    );
  for (const r of a.rules.list.filter((r) => r.health === 'err'))
    out.push(`  unhealthy: ${r.group}/${r.name}: ${r.lastError}`);
  out.push('');
  const f = sortedFindings(a);
  out.push(`Findings: ${f.length}`);
  for (const x of f) {
    out.push(`  [${x.severity}] ${x.id}: ${x.message}`);
    if (x.advice) out.push(`      -> ${x.advice}`);
  }
  return out.join('\n') + '\n';
}

export function renderAssessmentMarkdown(a: Assessment): string {
  const out: string[] = [];
  out.push(`## Prometheus assessment: ${a.prometheus.url}`);
  out.push('');
  out.push(`*Generated ${a.generatedAt} by stackshift.*`);
  out.push('');
  out.push(
    mdTable(
      ['Item', 'Value'],
      [
        ['Version', `${a.prometheus.version} (${a.prometheus.revision.slice(0, 12)})`],
        ['Upgrade path', pathLine(a)],
        ['Retention', a.storage.retentionTime ?? 'n/a'],
        ['Head series', a.storage.headSeries],
        ['Series (blocks + head)', a.storage.totalSeries ?? 'n/a'],
        ['TSDB size', a.storage.dataDir ? formatBytes(a.storage.dataDir.tsdbBytes) : 'n/a (no --data-dir)'],
        ['Free disk', a.storage.dataDir ? formatBytes(a.storage.dataDir.freeBytes) : 'n/a'],
        ['Remote write', a.remote.write.map((w) => w.url).join(', ') || 'none'],
        ['Remote read', a.remote.read.map((r) => r.url).join(', ') || 'none'],
        ['Targets', `${a.targets.up} up / ${a.targets.down} down`],
        ['Rules', `${a.rules.rules} in ${a.rules.groups} groups, ${a.rules.unhealthy} unhealthy`],
        ['Feature flags', a.flags.featureFlags.join(', ') || 'none'],
      ],
    ),
  );
  out.push('');
  out.push('### Findings');
  out.push('');
  const f = sortedFindings(a);
  out.push(
    f.length
      ? mdTable(
          ['Severity', 'Id', 'Finding', 'Advice'],
          f.map((x) => [x.severity, x.id, x.message, x.advice ?? '']),
        )
      : 'None.',
  );
  out.push('');
  if (a.targets.down) {
    out.push('### Targets down');
    out.push('');
    out.push(
      mdTable(
        ['Pool', 'URL', 'Last error'],
        a.targets.list.filter((t) => t.health === 'down').map((t) => [t.pool, t.url, t.lastError]),
      ),
    );
    out.push('');
  }
  return out.join('\n') + '\n';
}
