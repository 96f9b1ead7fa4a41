import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackshiftError } from '../errors/index.js';
import { HttpClient, HttpError, readBody, sleep } from '../http/index.js';
import { log } from '../log/index.js';
import type { WrittenBlock } from './block-writer.js';

/**
 * Mimir's block upload API (compactor; docs: references/http-api "Start block upload" .. "Check block upload"):
 * start with meta.json, one request per file, finish (asynchronous validation), then poll check. Every call
 * carries the tenant (X-Scope-OrgID) of the endpoint.
 */
export type UploadOutcome = 'uploaded' | 'already-there';

export interface UploadOptions {
  /** Time between check polls. */
  pollMs: number;
  /** Ends a wait between validation polls (a stopped run). */
  signal?: AbortSignal;
  /** Longest wait for validation. */
  validationTimeoutMs: number;
  /** Retries of 429 (validation busy) and 5xx per request; the HTTP client backs off (Retry-After honoured). */
  retries: number;
}

function advice422(text: string): string {
  if (/retention/i.test(text))
    return "the block is older than the tenant's retention (compactor_blocks_retention_period): raise the retention for this tenant or leave this range out with --start";
  if (/larger than the maximum/i.test(text))
    return "the block is longer than the compactor's largest block range (-compactor.block-ranges): use a --block-duration that divides it, such as 12h";
  if (/cross|boundary|range/i.test(text))
    return "the block crosses the compactor's block range: use --block-duration 24h (day-aligned, Mimir's default -compactor.block-ranges maximum) or the tenant's own largest block range";
  return 'Mimir refused the block as unprocessable; fix what the message names and re-run to resume';
}

export class MimirBlockUploader {
  constructor(
    private readonly http: HttpClient,
    private readonly o: UploadOptions,
  ) {}

  private url(ulid: string, action: string): string {
    return `/api/v1/upload/block/${ulid}/${action}`;
  }

  private async call(
    ulid: string,
    action: 'start' | 'files' | 'finish',
    body: Uint8Array | string,
    query?: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const res = await this.http.request({
      method: 'POST',
      path: this.url(ulid, action),
      body,
      query,
      retries: this.o.retries,
      headers: { 'content-type': action === 'start' ? 'application/json' : 'application/octet-stream' },
    });
    const text = await readBody(res, 1 << 20).catch(() => '');
    return { status: res.status, text: text.trim() };
  }

  private fail(ulid: string, action: string, status: number, text: string): never {
    const where = `${this.http.endpoint.url}${this.url(ulid, action)}`;
    const tenant = this.http.endpoint.tenant;
    let hint: string;
    if (status === 422) hint = advice422(text);
    else if (status === 429)
      hint = `Mimir's compactor is validating as many uploads as -compactor.max-block-upload-validation-concurrency allows and stayed busy through ${this.o.retries} retries: re-run later to resume (finished blocks are kept), or raise that limit`;
    else if (status === 401 || status === 403)
      hint = 'check the credentials and the tenant (--tenant / X-Scope-OrgID) of the Mimir endpoint';
    else if (status === 404 && action === 'start')
      hint =
        'no block upload API here: point --mimir-url at Mimir (or its compactor) and enable it for the tenant (compactor_block_upload_enabled: true)';
    else if (status === 400 && /disabled|not enabled/i.test(text))
      hint = `enable block upload for tenant ${tenant ?? '(anonymous)'}: compactor_block_upload_enabled: true in the runtime overrides`;
    else if (status === 400)
      hint =
        'Mimir refused the request as invalid; the message says what; inspect the staged block with stackshift tsdb inspect --verify';
    else hint = 're-run the same command to resume; blocks already uploaded answer 409 and are skipped';
    throw new HttpError(
      'status',
      where,
      `Mimir block upload ${action} for ${ulid}${tenant ? ` (tenant ${tenant})` : ''}: HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      { status, hint },
    );
  }

  /** Uploads one written block; a block Mimir already holds (409) counts as done. */
  async upload(block: WrittenBlock): Promise<UploadOutcome> {
    const { ulid, dir, meta } = block;
    const start = await this.call(ulid, 'start', JSON.stringify(meta));
    if (start.status === 409) {
      log.info('block already in Mimir, skipped', { ulid });
      return 'already-there';
    }
    if (start.status !== 200) this.fail(ulid, 'start', start.status, start.text);
    for (const f of meta.thanos?.files ?? []) {
      if (f.rel_path === 'meta.json') continue;
      const data = readFileSync(join(dir, f.rel_path));
      const r = await this.call(ulid, 'files', data, { path: f.rel_path });
      if (r.status === 409) return 'already-there';
      if (r.status !== 200) this.fail(ulid, 'files', r.status, r.text);
    }
    const fin = await this.call(ulid, 'finish', '');
    if (fin.status === 409) return 'already-there';
    if (fin.status !== 200) this.fail(ulid, 'finish', fin.status, fin.text);
    await this.waitValidated(ulid);
    return 'uploaded';
  }

  private async waitValidated(ulid: string): Promise<void> {
    const deadline = Date.now() + this.o.validationTimeoutMs;
    for (;;) {
      const res = await this.http.request({ method: 'GET', path: this.url(ulid, 'check'), retries: this.o.retries });
      const text = await readBody(res, 1 << 20).catch(() => '');
      if (res.status !== 200) this.fail(ulid, 'check', res.status, text.trim());
      let state: { result?: string; error?: string };
      try {
        state = JSON.parse(text) as typeof state;
      } catch {
        throw new HttpError(
          'protocol',
          `${this.http.endpoint.url}${this.url(ulid, 'check')}`,
          `Mimir block upload check for ${ulid} did not answer JSON: ${text.slice(0, 120)}`,
        );
      }
      if (state.result === 'complete') return;
      if (state.result === 'failed') {
        throw new StackshiftError(
          'target',
          `Mimir failed validating block ${ulid}: ${state.error ?? 'no reason given'}`,
          {
            hint: 'inspect the staged block with stackshift tsdb inspect --verify; a block refused by validation is not retried automatically (fix the cause, then re-run with a new --state)',
          },
        );
      }
      if (Date.now() > deadline)
        throw new StackshiftError(
          'target',
          `Mimir is still validating block ${ulid} after ${Math.round(this.o.validationTimeoutMs / 1000)}s (state ${state.result ?? '?'})`,
          { hint: 're-run the same command later: the block is recognised and not uploaded twice' },
        );
      await sleep(this.o.pollMs, this.o.signal);
    }
  }
}
