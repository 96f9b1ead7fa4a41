/**
 * What a backfill proves about its target before hours are spent: one probe sample at the oldest timestamp of
 * the range, written with the protocol of the copy and read back (a target that silently drops old history, or
 * is no remote-write receiver, is found out here), and that the target serves remote read for the per-unit
 * read-back. The checks are a step of their own, run before a new state file exists, so that bad input writes
 * nothing; the copy itself never depends on them.
 */
import { randomBytes } from 'node:crypto';
import { PrometheusClient, RemoteReadClient, type RemoteWriteClient } from '../clients/index.js';
import { StackshiftError } from '../errors/index.js';
import { HttpClient, HttpError, sleep } from '../http/index.js';
import { log } from '../log/index.js';
import { encodeWriteRequest, encodeWriteRequestV2, labelsKey, snappyEncode, type Label } from '../wire/index.js';
import { externalLabels } from './endpoints.js';
import type { BackfillReport } from './report.js';
import type { BackfillParams } from './run.js';

export const PROBE_METRIC = 'stackshift_backfill_probe';

/**
 * One probe sample at `startMs` (the oldest timestamp of the copy), written and, where the target can be queried,
 * read back; refused with what to fix when the target is no remote-write receiver or drops history this old.
 */
export async function preflight(
  writer: RemoteWriteClient,
  readUrl: string | undefined,
  p: Pick<BackfillParams, 'signal' | 'deleteProbe'>,
  startMs: number,
): Promise<NonNullable<BackfillReport['preflight']>> {
  const id = randomBytes(6).toString('hex');
  const labels: Label[] = [
    { name: '__name__', value: PROBE_METRIC },
    { name: 'probe', value: id },
  ];
  const ts = startMs;
  const probeSeries = [{ labels, timestamps: Float64Array.of(ts), values: Float64Array.of(1) }];
  // the probe speaks the protocol version of the copy: a 2.0 receiver decodes a 1.0 body as an empty 2.0 request
  const body = snappyEncode(
    writer.version === '2.0' ? encodeWriteRequestV2(probeSeries) : encodeWriteRequest(probeSeries),
  );
  let r;
  try {
    r = await writer.send(body);
  } catch (e) {
    if (e instanceof HttpError && e.kind === 'protocol' && e.status === 415) throw e;
    if (e instanceof HttpError)
      throw new HttpError(e.kind, e.url, `preflight: the target did not accept a remote-write request: ${e.message}`, {
        status: e.status,
        hint: e.hint,
      });
    throw e;
  }
  if (r.outcome === 'ok' && r.written && r.written.samples !== 1) {
    throw new StackshiftError(
      'preflight',
      `preflight: the target answered HTTP ${r.status} to a probe sample but reports ${r.written.samples} samples written`,
      {
        hint: "check the receiver's logs and its remote-write 2.0 support, or use remote write 1.0 (drop --remote-write-v2)",
      },
    );
  }
  if (r.outcome !== 'ok') {
    const cls = r.reject!;
    const notReceiver =
      cls.id === 'http-404' || cls.id === 'http-405' || /remote write receiver/i.test(r.message ?? '');
    throw new StackshiftError(
      'preflight',
      notReceiver
        ? `${writer.http.endpoint.url}${writer.path} is not a remote-write receiver (HTTP ${r.status}${r.message ? `: ${r.message.slice(0, 160)}` : ''})`
        : `preflight: the target refused a probe sample at the oldest timestamp ${new Date(ts).toISOString()} (HTTP ${r.status}, ${cls.id}): ${r.message?.slice(0, 200) ?? ''}`,
      {
        hint: notReceiver
          ? 'point --target-url at Mimir /api/v1/push, or at a Prometheus started with --web.enable-remote-write-receiver (/api/v1/write)'
          : cls.advice,
      },
    );
  }
  let readBack: boolean | 'skipped' = 'skipped';
  if (readUrl) {
    const client = new PrometheusClient(new HttpClient({ ...writer.http.endpoint, url: readUrl, retries: 1 }));
    try {
      readBack = false;
      // Prometheus serves an appended sample at once; VictoriaMetrics only after its in-memory parts are flushed
      // and its search caches expire (about 10 s seen on 1.148.9): poll for up to 30 s, more slowly as it goes
      const deadline = Date.now() + 30_000;
      for (let wait = 200; !readBack; wait = Math.min(2_000, wait * 2)) {
        const res = await client.query(`${PROBE_METRIC}{probe="${id}"}`, ts + 1);
        readBack = res.resultType === 'vector' && res.result.length === 1 && res.result[0].value[1] === '1';
        if (readBack || Date.now() > deadline) break;
        await sleep(wait, p.signal);
      }
    } catch (e) {
      if (p.signal?.aborted) throw e;
      log.warn('preflight: could not read the probe back; continuing', { readUrl, error: (e as Error).message });
      readBack = 'skipped';
    } finally {
      await client.close();
    }
    if (readBack === false) {
      throw new StackshiftError(
        'preflight',
        `preflight: the target accepted a probe sample at ${new Date(ts).toISOString()} but it cannot be read back from ${readUrl}`,
        {
          hint: 'the target silently drops history this old (check its retention, out-of-order window and tenant) or --target-read-url points elsewhere',
        },
      );
    }
  }
  const probe = readUrl && p.deleteProbe ? await deleteProbe(writer, readUrl, labels) : 'kept';
  return {
    probeSeries: labelsKey(labels),
    timestamp: new Date(ts).toISOString(),
    writeStatus: r.status,
    readBack,
    probe,
  };
}

/**
 * Deletes the probe series through the target's admin API where it has one (Prometheus with
 * --web.enable-admin-api), so that the probe is no difference for `verify metrics`; elsewhere it stays (and
 * verify leaves it out by name).
 */
async function deleteProbe(writer: RemoteWriteClient, readUrl: string, labels: Label[]): Promise<'deleted' | 'kept'> {
  const http = new HttpClient({ ...writer.http.endpoint, url: readUrl, retries: 0 });
  try {
    const selector = `{${labels.map((l) => `${l.name}="${l.value}"`).join(',')}}`;
    const res = await http.request({
      method: 'POST',
      path: '/api/v1/admin/tsdb/delete_series',
      query: { 'match[]': selector },
      retries: 0,
      retryStatus: () => false,
    });
    await res.body.dump?.().catch(() => undefined);
    if (res.status === 204 || res.status === 200) return 'deleted';
    log.info(
      'the target has no admin API to delete the preflight probe; it stays (verify metrics leaves it out by name)',
      { status: res.status },
    );
    return 'kept';
  } catch (e) {
    log.info('could not delete the preflight probe; it stays (verify metrics leaves it out by name)', {
      error: (e as Error).message,
    });
    return 'kept';
  } finally {
    await http.close();
  }
}

/**
 * The target's remote read for the per-unit read-back, with the target's own external labels (it adds them to
 * what it serves; the read-back leaves them out). A target without remote read (VictoriaMetrics) is found out
 * here, before any unit is written, not after the first unit (whose rewrite on a rerun a receiver without
 * deduplication would store twice).
 */
export async function openReadBack(
  http: HttpClient,
  readUrl: string,
  startMs: number,
  p: Pick<BackfillParams, 'responseType' | 'signal'>,
): Promise<{ reader: RemoteReadClient; externalLabels: Label[] }> {
  const readBack = {
    reader: new RemoteReadClient(http, { path: '/api/v1/read' }),
    externalLabels: await externalLabels(new PrometheusClient(http)).catch(() => []),
  };
  try {
    for await (const x of readBack.reader.streamSeries(
      { startMs, endMs: startMs + 1, matchers: [{ type: 'EQ', name: '__name__', value: PROBE_METRIC }] },
      { responseType: p.responseType },
    ))
      void x;
  } catch (e) {
    if (p.signal?.aborted) throw e;
    throw new StackshiftError(
      'target',
      `cannot read the copy back from the target: remote read at ${readUrl}/api/v1/read failed: ${(e as Error).message.slice(0, 200)}`,
      {
        hint: 'pass --target-read-url with the Prometheus API of the target (Mimir: .../prometheus), or --no-readback for a write-only target (VictoriaMetrics has no remote read)',
      },
    );
  }
  return readBack;
}
