import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LokiClient, type PushEncoding } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { labHas, serverVersion, startVictoriaLogs } from '../../src/lab/index.js';
import { generateLogs } from '../../src/logs/index.js';
import { tempDir, waitUntil } from '../harness/index.js';

interface VlRow {
  _msg: string;
  _stream: string;
  _time: string;
  [field: string]: string;
}

/** RFC 3339 with up to nine fraction digits -> ns since the epoch. */
function timeNs(t: string): bigint {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(t);
  assert.ok(m, `VictoriaLogs time ${t}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/**
 * The push encoder against an independent decoder: a real VictoriaLogs (Apache-2.0) takes Loki's push
 * protocol. Every line pushed (protobuf+snappy and JSON, bursts sharing a nanosecond, structured metadata,
 * unicode) must come back through VictoriaLogs' own LogsQL query API with its stream, nanosecond, text and
 * metadata intact.
 */
for (const encoding of ['protobuf', 'json'] as PushEncoding[]) {
  test(
    `push encoder (${encoding}) read back by a real VictoriaLogs ${serverVersion('victoria-logs')}`,
    { timeout: 180_000 },
    async (t) => {
      const dir = tempDir(t);
      const vl = await startVictoriaLogs({ dir });
      t.after(() => vl.stop());
      const data = generateLogs({ streams: 12, linesPerStream: 400, hours: 2, seed: 21 });
      const client = new LokiClient(endpointFromUrl(vl.lokiPushBase, 'loki'));
      t.after(() => client.close());
      for (const s of data.streams)
        for (let i = 0; i < s.entries.length; i += 150)
          await client.push([{ labels: s.labels, entries: s.entries.slice(i, i + 150) }], encoding);

      const query = async (q: string): Promise<VlRow[]> => {
        const r = await fetch(`${vl.url}/select/logsql/query`, {
          method: 'POST',
          body: new URLSearchParams({ query: q, limit: '1000000' }),
        });
        assert.equal(r.status, 200);
        return (await r.text())
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as VlRow);
      };
      // VictoriaLogs makes fresh lines searchable after its in-memory flush (a few seconds)
      await waitUntil(
        async () => Number((await query('* | stats count() n'))[0]?.n) === data.lines,
        60_000,
        `${data.lines} lines counted by VictoriaLogs`,
      );
      let rows: VlRow[] = [];
      await waitUntil(
        async () => (rows = await query('*')).length >= data.lines,
        60_000,
        `${data.lines} rows searchable in VictoriaLogs`,
      );

      const want = new Map<string, number>();
      for (const s of data.streams) {
        const stream = `{${Object.keys(s.labels)
          .sort()
          .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
          .join(',')}}`;
        for (const e of s.entries) {
          const k = `${stream}|${e.tsNs}|${e.line}|${e.metadata ? JSON.stringify(Object.entries(e.metadata).sort()) : ''}`;
          want.set(k, (want.get(k) ?? 0) + 1);
        }
      }
      assert.equal(rows.length, data.lines, 'rows returned by LogsQL');
      const got = new Map<string, number>();
      for (const row of rows) {
        const labels = new Set([
          '_msg',
          '_stream',
          '_stream_id',
          '_time',
          ...row._stream
            .slice(1, -1)
            .split(',')
            .map((p) => p.slice(0, p.indexOf('='))),
        ]);
        const meta = Object.entries(row)
          .filter(([k]) => !labels.has(k))
          .sort();
        const k = `${row._stream}|${timeNs(row._time)}|${row._msg}|${meta.length ? JSON.stringify(meta) : ''}`;
        got.set(k, (got.get(k) ?? 0) + 1);
      }
      for (const [k, n] of got)
        if (!want.has(k)) assert.fail(`VictoriaLogs holds a line never pushed: ${k.slice(0, 200)}`);
      assert.equal(got.size, want.size);
      for (const [k, n] of want) assert.equal(got.get(k), n, `line as VictoriaLogs decoded it: ${k.slice(0, 140)}`);
    },
  );
}
