import { createHash } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { PrometheusClient } from '../../clients/index.js';
import { StackshiftError } from '../../errors/index.js';
import { readBody } from '../../http/index.js';
import { backupFile, copyFileDurable, writeFileAtomic } from '../../fsutil/index.js';
import {
  collectorConfig,
  measureIngestion,
  mergeRemoteWrite,
  promtoolCheckConfig,
  remoteWriteBlock,
  type RemoteWriteBlock,
} from '../../lgtm/index.js';
import type { MigrationStep, StepContext, StepKind } from '../types.js';
import { arg, endpointName } from './common.js';

/*
 * lgtm-config: the dual collection of the foundation phase, written into the live config files through
 * src/lgtm: the Mimir remote_write merged into prometheus.yml (comments and layout kept), and the
 * OpenTelemetry Collector config that exports to Jaeger and Tempo. Before the first write every named file
 * is copied into the step's directory (and beside itself, as every stackshift edit does); rollback puts the
 * bytes back exactly, or removes a file that did not exist. The remote_write block is sized once and kept in
 * the state, so a rerun writes the same text and changes nothing.
 */

const LgtmConfigParams = z
  .object({
    /** The Prometheus whose ingestion sizes the queue and whose prometheus.yml gets the remote_write. */
    prometheus: endpointName.default('prometheus'),
    /** The Mimir it writes to (push URL: /api/v1/push of it, or the URL as is when it ends in a write path). */
    mimir: endpointName.default('mimir'),
    /** prometheus.yml to edit, relative to the migration file. */
    prometheus_config: z.string().min(1).optional(),
    drop_metrics: z.array(z.string().min(1)).optional(),
    send_exemplars: z.boolean().optional(),
    /** promtool binaries that must accept the merged prometheus.yml before it is written. */
    promtool: z.array(z.string().min(1)).optional(),
    /** Collector config file to write (relative to the migration file). */
    collector_config: z.string().min(1).optional(),
    collector_mode: z.enum(['dual', 'cutover']).default('dual'),
    /** OTLP endpoints of the collector's exporters (endpoint names): the legacy Jaeger and Tempo. */
    jaeger_otlp: endpointName.optional(),
    tempo_otlp: endpointName.default('tempo-otlp'),
    /** Ask Prometheus to reload (POST /-/reload, needs --web.enable-lifecycle) after a change and a rollback. */
    reload: z.boolean().default(false),
  })
  .strict()
  .refine((p) => p.prometheus_config !== undefined || p.collector_config !== undefined, {
    message: 'nothing to write: name prometheus_config and/or collector_config',
    path: ['prometheus_config'],
  })
  .refine((p) => p.collector_mode === 'cutover' || p.collector_config === undefined || p.jaeger_otlp !== undefined, {
    message: 'a dual collector exports to Jaeger too: name jaeger_otlp (or collector_mode: cutover)',
    path: ['jaeger_otlp'],
  });
type LgtmConfigParams = z.infer<typeof LgtmConfigParams>;

/** A file as it was before the step's first write. */
interface Original {
  path: string;
  existed: boolean;
  /** Copy in the step's directory (byte-equal), when it existed. */
  copy?: string;
  sha256?: string;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function files(ctx: StepContext, p: LgtmConfigParams): { prom?: string; collector?: string } {
  return {
    prom: p.prometheus_config ? resolve(ctx.loaded.baseDir, p.prometheus_config) : undefined,
    collector: p.collector_config ? resolve(ctx.loaded.baseDir, p.collector_config) : undefined,
  };
}

function collectorText(ctx: StepContext, p: LgtmConfigParams): string {
  const tempo = ctx.endpoint(p.tempo_otlp, 'tempo');
  return collectorConfig({
    mode: p.collector_mode,
    jaegerOtlp: p.jaeger_otlp ? ctx.endpoint(p.jaeger_otlp, 'jaeger').url : undefined,
    tempoOtlp: tempo.url,
    tempoTenant: tempo.tenant,
  });
}

async function reload(ctx: StepContext, p: LgtmConfigParams): Promise<void> {
  if (!p.reload) return;
  const c = new PrometheusClient(ctx.endpoint(p.prometheus, 'prometheus'));
  try {
    const res = await c.http.request({ method: 'POST', path: '/-/reload' });
    const text = await readBody(res, 64 * 1024);
    if (res.status !== 200)
      throw new StackshiftError(
        'lgtm-config',
        `${ctx.stepId}: Prometheus refused the reload (HTTP ${res.status}: ${text.trim().slice(0, 300)})`,
        { hint: 'start it with --web.enable-lifecycle, or set reload: false and reload it yourself (SIGHUP)' },
      );
  } finally {
    await c.close();
  }
}

function lgtmConfigStep(def: { id: string; title: string; params: LgtmConfigParams }): MigrationStep {
  const p = def.params;
  const originals = (ctx: StepContext) => (ctx.data.originals as Original[] | undefined) ?? [];
  return {
    id: def.id,
    title: def.title,
    kind: 'lgtm-config',
    plan: (ctx) => {
      const f = files(ctx, p);
      return {
        summary: [
          f.prom ? `merge the Mimir remote_write (${p.mimir}) into ${f.prom}` : '',
          f.collector ? `write the ${p.collector_mode} OpenTelemetry Collector config to ${f.collector}` : '',
        ]
          .filter(Boolean)
          .join('; '),
        commands: [
          `stackshift lgtm config --prometheus-url <${p.prometheus} url> --mimir-url <${p.mimir} url>${f.prom ? ` --prometheus-config ${arg(f.prom)} --apply` : ''}${f.collector ? ` --tempo-otlp-url <${p.tempo_otlp} url>${p.jaeger_otlp ? ` --jaeger-otlp-url <${p.jaeger_otlp} url>` : ''}` : ''}`,
        ],
        gates: [],
        rollback: `put the files back byte for byte from the copies taken before the first write (${join(ctx.workDir, 'original-*')}); a file that did not exist is removed`,
      };
    },
    async run(ctx) {
      const f = files(ctx, p);
      const paths = [f.prom, f.collector].filter((x): x is string => x !== undefined);
      if (!ctx.data.originals) {
        // before anything changes, and only once: a rerun after a crash must not take the half-done state as the original
        const list: Original[] = paths.map((path, i) => {
          if (!existsSync(path)) return { path, existed: false };
          const copy = join(ctx.workDir, `original-${i + 1}`);
          copyFileDurable(path, copy);
          return { path, existed: true, copy, sha256: sha(readFileSync(path)) };
        });
        ctx.save({ ...ctx.data, originals: list });
      }
      const written: string[] = [];
      const figures: Record<string, number> = { files_changed: 0 };
      if (f.prom) {
        let block = ctx.data.block as RemoteWriteBlock | undefined;
        if (!block) {
          const mimir = ctx.endpoint(p.mimir, 'mimir');
          const c = new PrometheusClient(ctx.endpoint(p.prometheus, 'prometheus'));
          try {
            const m = await measureIngestion(c, { metricsIntervalMs: 5_000 });
            block = remoteWriteBlock(m, {
              mimirUrl: mimir.url,
              tenant: mimir.tenant,
              dropMetrics: p.drop_metrics,
              sendExemplars: p.send_exemplars,
            });
          } finally {
            await c.close();
          }
          // sized once: a rerun merges the same block and finds nothing to change
          ctx.save({ ...ctx.data, block });
        }
        let text: string;
        try {
          text = readFileSync(f.prom, 'utf8');
        } catch (e) {
          throw new StackshiftError(
            'lgtm-config',
            `${ctx.stepId}: cannot read prometheus_config ${f.prom} (${(e as NodeJS.ErrnoException).code ?? e})`,
            { hint: 'name the prometheus.yml of the running Prometheus, relative to the migration file', exitCode: 2 },
          );
        }
        const merge = mergeRemoteWrite(text, block, f.prom);
        for (const bin of p.promtool ?? []) {
          const c = promtoolCheckConfig(bin, merge.text, f.prom);
          if (!c.ok)
            throw new StackshiftError(
              'lgtm-config',
              `${ctx.stepId}: promtool ${c.version} refuses the merged ${f.prom}; nothing written: ${c.output.split('\n').slice(-3).join(' ')}`,
              { hint: 'fix the file (promtool check config shows the same) and run again' },
            );
        }
        if (merge.changed) {
          backupFile(f.prom);
          writeFileAtomic(f.prom, merge.text);
          written.push(f.prom);
        }
        figures.remote_write_url_set = 1;
      }
      if (f.collector) {
        const text = collectorText(ctx, p);
        const now = existsSync(f.collector) ? readFileSync(f.collector, 'utf8') : undefined;
        if (now !== text) {
          if (now !== undefined) backupFile(f.collector);
          writeFileAtomic(f.collector, text);
          written.push(f.collector);
        }
      }
      if (written.length && f.prom && written.includes(f.prom)) await reload(ctx, p);
      figures.files_changed = written.length;
      return {
        result: { written, block: ctx.data.block ? { url: (ctx.data.block as RemoteWriteBlock).url } : undefined },
        figures,
        note: written.length ? `wrote ${written.join(', ')}` : 'every file already holds the change',
      };
    },
    async verify(ctx) {
      // reads the files again: is the change in place?
      const f = files(ctx, p);
      const out: Record<string, number> = {};
      let inPlace = 1;
      if (f.prom) {
        const block = ctx.data.block as RemoteWriteBlock | undefined;
        const text = existsSync(f.prom) ? readFileSync(f.prom, 'utf8') : '';
        const ok = block !== undefined && !mergeRemoteWrite(text, block, f.prom).changed;
        out.remote_write_in_place = ok ? 1 : 0;
        if (!ok) inPlace = 0;
      }
      if (f.collector) {
        const ok = existsSync(f.collector) && readFileSync(f.collector, 'utf8') === collectorText(ctx, p);
        out.collector_in_place = ok ? 1 : 0;
        if (!ok) inPlace = 0;
      }
      out.in_place = inPlace;
      return out;
    },
    async rollback(ctx) {
      const list = originals(ctx);
      if (!list.length) return { action: 'none', detail: 'the step changed no file' };
      const restored: string[] = [];
      let promChanged = false;
      for (const o of list) {
        if (!o.existed) {
          if (existsSync(o.path)) {
            backupFile(o.path);
            unlinkSync(o.path);
            restored.push(`${o.path} (removed: it did not exist)`);
          }
          continue;
        }
        const bytes = readFileSync(o.copy!);
        if (sha(bytes) !== o.sha256)
          throw new StackshiftError('migrate-rollback', `rollback of ${ctx.stepId}: the copy ${o.copy} is damaged`, {
            hint: `the backups beside ${o.path} (*.stackshift-*.bak) hold the original too`,
          });
        if (existsSync(o.path) && readFileSync(o.path).equals(bytes)) continue;
        if (existsSync(o.path)) backupFile(o.path);
        writeFileAtomic(o.path, bytes);
        restored.push(o.path);
        if (o.path === files(ctx, p).prom) promChanged = true;
      }
      if (promChanged) await reload(ctx, p);
      // a later run starts again from the files as they are now (and sizes the queue again)
      const { originals: _o, block: _b, ...rest } = ctx.data;
      ctx.save(rest);
      return {
        action: 'restored',
        detail: restored.length ? `put back ${restored.join(', ')}` : 'every file already held its original bytes',
      };
    },
  };
}

export const lgtmConfigKind: StepKind<LgtmConfigParams> = {
  kind: 'lgtm-config',
  description:
    'dual collection: the Mimir remote_write merged into prometheus.yml and the collector config written (src/lgtm), originals kept; rollback puts the bytes back',
  params: LgtmConfigParams as unknown as z.ZodType<LgtmConfigParams>,
  figures: ['files_changed', 'remote_write_url_set', 'remote_write_in_place', 'collector_in_place', 'in_place'],
  defaultGates: ['in_place == 1'],
  endpoints: (p) => [
    p.prometheus,
    ...(p.prometheus_config ? [p.mimir] : []),
    ...(p.collector_config ? [p.tempo_otlp, ...(p.jaeger_otlp ? [p.jaeger_otlp] : [])] : []),
  ],
  create: lgtmConfigStep,
};
