import { Command } from 'commander';
import { inspectTsdb, renderInspectionMarkdown, renderInspectionText } from '../../tsdb/index.js';
import { parseVersion } from '../../compat/index.js';
import { UsageError } from '../../errors/index.js';
import { contextFor, emit } from '../context.js';

export function registerTsdb(program: Command): void {
  const area = new Command('tsdb').description('read a Prometheus TSDB on disk without Prometheus');
  const inspect = new Command('inspect')
    .description(
      'blocks, index/chunk formats, WAL/WBL record types, head chunks, lock and snapshots of a data dir, snapshot or block; which releases can open it, with sources',
    )
    .argument('<path>', 'data dir (--storage.tsdb.path), snapshot directory or one block directory')
    .option('--verify', 'also check every checksum: index sections, every chunk CRC32C, WAL fragments, head chunks')
    .option('--quick', 'headers only: skip scanning chunks (no encodings, fastest)')
    .option('--versions <list>', 'comma-separated releases to judge (default: a reference set from 2.10 to 3.14)')
    .addHelpText(
      'after',
      `
Examples:
  stackshift tsdb inspect /var/lib/prometheus
  stackshift tsdb inspect /var/lib/prometheus/snapshots/20260101T000000Z-0123456789abcdef --verify
  stackshift tsdb inspect /var/lib/prometheus/01HZX... --output json
  stackshift tsdb inspect /var/lib/prometheus --versions 2.48.1,2.55.1,3.5.5 --output markdown

Exit codes: 0 no errors found, 1 corruption or format errors found, 2 bad path.`,
    );
  inspect.action((path: string, opts: Record<string, unknown>, command: Command) => {
    const ctx = contextFor(command);
    if (opts.verify && opts.quick) throw new UsageError('--verify and --quick exclude each other');
    let versions: string[] | undefined;
    if (opts.versions) {
      versions = String(opts.versions)
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      const bad = versions.find((v) => !parseVersion(v));
      if (bad) throw new UsageError(`--versions: "${bad}" is not a version such as 2.55.1`);
      versions = versions.map((v) => parseVersion(v)!.raw);
    }
    const r = inspectTsdb(path, { level: opts.verify ? 'full' : opts.quick ? 'headers' : 'scan', versions });
    emit(
      {
        document: r,
        text: () => renderInspectionText(r),
        markdown: () => renderInspectionMarkdown(r),
        exitCode: r.problems.some((p) => p.severity === 'error') ? 1 : 0,
      },
      ctx.format,
    );
  });
  area.addCommand(inspect);
  program.addCommand(area);
}
