import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspectBlock } from '../../src/tsdb/index.js';

/**
 * A contract double of Mimir's TSDB block upload API, for tests only (Mimir is AGPL and not installed here),
 * written from Mimir's documentation (references/http-api: "Start block upload", "Upload block file",
 * "Complete block upload", "Check block upload"; configure/configure-tsdb-block-upload: validation rules):
 *
 * - every call needs X-Scope-OrgID, else 401 "no org id"
 * - POST /api/v1/upload/block/{block}/start, body meta.json: 409 when the complete block exists; 400 when the
 *   meta is invalid or lacks thanos.files, or has downsampling or external labels; 422 when maxTime is before
 *   the retention, or the block crosses (or exceeds) the compactor's block range (24h by default, UTC days)
 * - POST .../files?path=index|chunks/NNNNNN: 400 for another path, meta.json or an empty body; 409 complete;
 *   404 without an in-flight upload (no start)
 * - POST .../finish: 409 complete; 404 no in-flight upload; 429 while the validation concurrency is taken
 *   (`busyFinishes` answers 429 that many times); 200 starts validation in the background
 * - GET .../check: {"result":"uploading|validating|complete|failed","error":...}; 404 for an unknown block
 *
 * Validation is at least as strict as Mimir's: every file of thanos.files present with its size, then the
 * whole block (index sections, every chunk CRC, meta stats) checked by stackshift's own block inspector.
 */
export interface MimirBlocksDoubleOptions {
  /** Tenant retention (compactor_blocks_retention_period); 0 = keep forever. */
  retentionMs?: number;
  /** Largest compactor block range (-compactor.block-ranges); blocks must not cross its boundaries. */
  blockRangeMs?: number;
  /** Answer this many finish calls with 429 before accepting one. */
  busyFinishes?: number;
  /** Time validation takes. */
  validationMs?: number;
}

interface Upload {
  meta: Record<string, unknown>;
  state: 'uploading' | 'validating' | 'complete' | 'failed';
  error?: string;
  files: Map<string, Buffer>;
}

export interface MimirBlocksDouble {
  url: string;
  /** Requests seen, as "METHOD action ulid" (action: start/files/finish/check). */
  calls: string[];
  /** Complete blocks per tenant. */
  complete(tenant: string): string[];
  /** Marks a block complete without an upload (a block some earlier run uploaded). */
  preload(tenant: string, ulid: string): void;
  options: MimirBlocksDoubleOptions;
  /** Answer the next n finish calls with 429. */
  setBusyFinishes(n: number): void;
  close(): Promise<void>;
}

const DAY = 86_400_000;

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function startMimirBlocksDouble(options: MimirBlocksDoubleOptions = {}): Promise<MimirBlocksDouble> {
  const uploads = new Map<string, Upload>();
  const calls: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'mimir-blocks-double-'));
  let busy = options.busyFinishes ?? 0;

  const validate = (tenant: string, ulid: string, u: Upload) => {
    const dir = join(work, tenant, ulid);
    rmSync(dir, { recursive: true, force: true });
    const files = (u.meta.thanos as { files?: Array<{ rel_path: string; size_bytes?: number }> }).files ?? [];
    for (const f of files) {
      if (f.rel_path === 'meta.json') continue;
      const data = u.files.get(f.rel_path);
      if (!data) return `missing file ${f.rel_path}`;
      if (f.size_bytes !== undefined && f.size_bytes !== data.length)
        return `file size mismatch for ${f.rel_path}: ${data.length} bytes uploaded, meta.json says ${f.size_bytes}`;
    }
    if (!u.files.has('index')) return 'missing index file';
    for (const [p, data] of u.files) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), data);
    }
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(u.meta));
    const info = inspectBlock(dir, { level: 'full', root: dir });
    const err = info.problems.find((p) => p.severity === 'error');
    return err ? `error validating block: ${err.message}` : undefined;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/api\/v1\/upload\/block\/([^/]+)\/(start|files|finish|check)$/.exec(url.pathname);
      const body = await readAll(req);
      if (!m) return send(res, 404, '404 page not found\n');
      const [, ulid, action] = m;
      calls.push(`${req.method} ${action} ${ulid}`);
      const tenant = req.headers['x-scope-orgid'];
      if (typeof tenant !== 'string' || !tenant) return send(res, 401, 'no org id\n');
      const key = `${tenant}/${ulid}`;
      const u = uploads.get(key);
      const wantMethod = action === 'check' ? 'GET' : 'POST';
      if (req.method !== wantMethod) return send(res, 405, 'method not allowed\n');
      if (action === 'start') {
        if (u?.state === 'complete') return send(res, 409, 'block already exists\n');
        let meta: Record<string, unknown>;
        try {
          meta = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          return send(res, 400, 'malformed request body\n');
        }
        const minTime = meta.minTime as number;
        const maxTime = meta.maxTime as number;
        if (meta.version !== 1)
          return send(res, 400, `invalid meta.json: version must be 1, got ${String(meta.version)}\n`);
        if (typeof minTime !== 'number' || typeof maxTime !== 'number' || minTime >= maxTime)
          return send(res, 400, 'invalid minTime/maxTime\n');
        if (maxTime > Date.now())
          return send(res, 400, `block max time (${new Date(maxTime).toISOString()}) is in the future\n`);
        const thanos = meta.thanos as
          { files?: unknown[]; downsample?: { resolution?: number }; labels?: Record<string, string> } | undefined;
        if (!thanos || !Array.isArray(thanos.files) || thanos.files.length === 0)
          return send(res, 400, 'invalid meta.json: missing thanos.files\n');
        if ((thanos.downsample?.resolution ?? 0) !== 0) return send(res, 400, 'block downsampling is not supported\n');
        const ext = Object.keys(thanos.labels ?? {}).filter(
          (l) => !['__org_id__', '__ingester_id__', '__compactor_shard_id__'].includes(l),
        );
        if (ext.length) return send(res, 400, `unsupported external label: ${ext[0]}\n`);
        if (options.retentionMs && maxTime < Date.now() - options.retentionMs)
          return send(res, 422, `block max time (${new Date(maxTime).toISOString()}) older than retention period\n`);
        const range = options.blockRangeMs ?? DAY;
        if (maxTime - minTime > range)
          return send(
            res,
            422,
            `block duration (${(maxTime - minTime) / 1000}s) is larger than the maximum compactor time range (${range / 1000}s)\n`,
          );
        if (Math.floor(minTime / range) !== Math.floor((maxTime - 1) / range))
          return send(
            res,
            422,
            `block time range crosses boundary of configured compactor time range (${range / 3_600_000}h)\n`,
          );
        uploads.set(key, { meta, state: 'uploading', files: new Map() });
        return send(res, 200, '');
      }
      if (action === 'files') {
        const path = url.searchParams.get('path') ?? '';
        if (!path) return send(res, 400, 'missing file path\n');
        if (path.endsWith('meta.json')) return send(res, 400, 'meta.json is not allowed\n');
        if (!/^(index|chunks\/\d{6})$/.test(path)) return send(res, 400, `invalid path: "${path}"\n`);
        if (u?.state === 'complete') return send(res, 409, 'block already exists\n');
        if (!u || u.state !== 'uploading') return send(res, 404, 'upload of block not started yet\n');
        if (body.length === 0) return send(res, 400, 'file cannot be empty\n');
        u.files.set(path, body);
        return send(res, 200, '');
      }
      if (action === 'finish') {
        if (u?.state === 'complete') return send(res, 409, 'block already exists\n');
        if (!u || u.state !== 'uploading') return send(res, 404, 'upload of block not started yet\n');
        if (busy > 0) {
          busy--;
          return send(res, 429, 'too many block upload validations in progress, limit is 1\n');
        }
        u.state = 'validating';
        setTimeout(() => {
          const err = validate(tenant, ulid, u);
          if (err) {
            u.state = 'failed';
            u.error = err;
          } else u.state = 'complete';
        }, options.validationMs ?? 50);
        return send(res, 200, '');
      }
      // check
      if (!u) return send(res, 404, 'block upload not found\n');
      return send(
        res,
        200,
        JSON.stringify(u.state === 'failed' ? { result: 'failed', error: u.error } : { result: u.state }),
        'application/json',
      );
    })().catch((e) => send(res, 500, String(e)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    options,
    setBusyFinishes: (n) => {
      busy = n;
    },
    complete: (tenant) =>
      [...uploads]
        .filter(([k, v]) => k.startsWith(`${tenant}/`) && v.state === 'complete')
        .map(([k]) => k.slice(tenant.length + 1))
        .sort(),
    preload: (tenant, ulid) => {
      uploads.set(`${tenant}/${ulid}`, { meta: {}, state: 'complete', files: new Map() });
    },
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(work, { recursive: true, force: true });
    },
  };
}
