import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusClient, RemoteReadClient, RemoteWriteClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { HttpClient } from '../../src/http/index.js';
import { PROMETHEUS } from '../../src/lab/index.js';
import { fillGap, measureGap } from '../../src/upgrade/index.js';
import {
  encodeWriteRequest,
  isStaleMarker,
  labelsKey,
  setStaleMarker,
  snappyEncode,
  type WriteSeries,
} from '../../src/wire/index.js';
import { startServer } from '../harness/index.js';

/**
 * The zero-gap fill and the gap measurement around a failed scrape, on two real 2.55.1 servers (a "server"
 * and a "shadow") written through remote write: a failed scrape (up 0, stale markers) is a hole that the
 * shadow's successful scrape fills, and the shadow's own failed scrapes (its stale markers, its up 0) are never
 * copied. The gap counts successful scrapes only.
 */

const T0 = Date.now() - 30 * 60_000;
const lbl = (name: string, instance: string) => [
  { name: '__name__', value: name },
  { name: 'instance', value: instance },
  { name: 'job', value: 'app' },
];

/** One series: value per second from T0 + offset; 'stale' writes a stale marker; undefined writes nothing. */
function series(
  name: string,
  instance: string,
  offsetMs: number,
  values: Array<number | 'stale' | undefined>,
): WriteSeries {
  const ts: number[] = [];
  const vs: number[] = [];
  const stale: number[] = [];
  values.forEach((v, i) => {
    if (v === undefined) return;
    if (v === 'stale') stale.push(ts.length);
    ts.push(T0 + offsetMs + i * 1000);
    vs.push(v === 'stale' ? 0 : v);
  });
  const values64 = Float64Array.from(vs);
  for (const i of stale) setStaleMarker(values64, i);
  return { labels: lbl(name, instance), timestamps: Float64Array.from(ts), values: values64 };
}

async function write(url: string, list: WriteSeries[]): Promise<void> {
  const http = new HttpClient(endpointFromUrl(url));
  try {
    const r = await new RemoteWriteClient(http, { path: '/api/v1/write' }).send(snappyEncode(encodeWriteRequest(list)));
    assert.equal(r.outcome, 'ok', r.message);
  } finally {
    await http.close();
  }
}

async function read(url: string): Promise<Map<string, string[]>> {
  const http = new HttpClient(endpointFromUrl(url));
  try {
    const out = new Map<string, string[]>();
    for await (const s of new RemoteReadClient(http).streamSeries({
      startMs: T0 - 1000,
      endMs: T0 + 60_000,
      matchers: [{ type: 'RE', name: '__name__', value: 'up|lab_c' }],
    })) {
      out.set(
        labelsKey(s.labels),
        Array.from(s.timestamps, (t, i) => `${t - T0}=${isStaleMarker(s.values, i) ? 'stale' : s.values[i]}`),
      );
    }
    return out;
  } finally {
    await http.close();
  }
}

test(
  "zero-gap fill: a failed scrape of the server is filled from the shadow; the shadow's failed scrapes are never copied; the gap counts successful scrapes",
  { timeout: 120_000 },
  async (t) => {
    const [server, shadow] = await Promise.all([
      startServer(t, { version: PROMETHEUS.bridge, receiver: true, name: 'server' }),
      startServer(t, { version: PROMETHEUS.bridge, receiver: true, name: 'shadow' }),
    ]);
    // instance a: the server's scrape at 3 s failed (up 0, the counter's stale marker); the shadow's at 3.01 s worked
    // instance b: the server did not scrape at 3 s at all; the shadow's scrape at 3.01 s failed
    await write(server.url, [
      series('lab_c', 'a', 0, [1, 2, 3, 'stale', 5, 6]),
      series('up', 'a', 0, [1, 1, 1, 0, 1, 1]),
      series('lab_c', 'b', 0, [1, 2, 3, undefined, 5, 6]),
      series('up', 'b', 0, [1, 1, 1, undefined, 1, 1]),
    ]);
    await write(shadow.url, [
      series('lab_c', 'a', 10, [11, 12, 13, 14, 15, 16]),
      series('up', 'a', 10, [1, 1, 1, 1, 1, 1]),
      series('lab_c', 'b', 10, [11, 12, 13, 'stale', 15, 16]),
      series('up', 'b', 10, [1, 1, 1, 0, 1, 1]),
    ]);
    const client = new PrometheusClient(endpointFromUrl(server.url));
    t.after(() => client.close());

    // before the fill: a failed scrape is a missed interval for the gap, like no scrape at all
    const before = await measureGap(client, T0 + 2500, T0 + 3500, 10_000);
    assert.deepEqual(
      before.targets.map((x) => [x.instance, x.missedIntervals]),
      [
        ['a', 1],
        ['b', 1],
      ],
    );

    const r = await fillGap(shadow.url, client, T0 - 1000, T0 + 60_000);
    assert.deepEqual(r, { series: 2, samples: 2, requests: 1 });
    const after = await read(server.url);
    assert.deepEqual(after.get(labelsKey(lbl('lab_c', 'a'))), [
      '0=1',
      '1000=2',
      '2000=3',
      '3000=stale',
      '3010=14',
      '4000=5',
      '5000=6',
    ]);
    assert.deepEqual(after.get(labelsKey(lbl('up', 'a'))), [
      '0=1',
      '1000=1',
      '2000=1',
      '3000=0',
      '3010=1',
      '4000=1',
      '5000=1',
    ]);
    assert.deepEqual(
      after.get(labelsKey(lbl('lab_c', 'b'))),
      ['0=1', '1000=2', '2000=3', '4000=5', '5000=6'],
      "the shadow's stale marker is not copied",
    );
    assert.deepEqual(
      after.get(labelsKey(lbl('up', 'b'))),
      ['0=1', '1000=1', '2000=1', '4000=1', '5000=1'],
      "the shadow's failed scrape is not copied",
    );

    const gap = await measureGap(client, T0 + 2500, T0 + 3500, 10_000);
    assert.deepEqual(
      gap.targets.map((x) => [x.instance, x.missedIntervals]),
      [
        ['a', 0],
        ['b', 1],
      ],
    );
    // a second fill finds nothing left to copy: nothing is written twice
    assert.deepEqual(await fillGap(shadow.url, client, T0 - 1000, T0 + 60_000), { series: 0, samples: 0, requests: 0 });
  },
);
