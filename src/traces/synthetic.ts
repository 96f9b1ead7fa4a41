import { createHash } from 'node:crypto';
import type { Attr, Resource, Scope, Span, SpanKindCode, Trace } from './model.js';

/**
 * Deterministic synthetic traces for the tests, the rehearsal and the bench: the same spec gives the same
 * traces byte for byte, so they are their own expected result (tempo-vulture's pattern). They cover what a
 * migration must keep: depth 1 to 6, every attribute type (int64 beyond 2^53 and negative, doubles, bytes,
 * arrays, maps), events, links across traces, error and OK status, trace state, several services, and trace
 * IDs whose high half is zero (Jaeger prints those as 16 hex digits) next to full 32-digit ones.
 * Times are whole microseconds, the precision Jaeger's v1 model keeps.
 */
export interface SyntheticSpec {
  traces: number;
  seed: number;
  /** Trace start times fall in [startMs, endMs - 60 s). */
  startMs: number;
  endMs: number;
  services?: number;
  /** Index of the first trace (for generating a range in pieces). */
  offset?: number;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function idBytes(seed: number, i: number, j: number, n: 16 | 8): Uint8Array {
  const h = createHash('sha256').update(`${seed}/${i}/${j}`).digest();
  const out = Uint8Array.from(h.subarray(0, n));
  if (out.every((b) => b === 0)) out[n - 1] = 1;
  return out;
}

/** Trace i's ID: every third one has a zero high half (16 hex digits in Jaeger's spelling). */
export function syntheticTraceId(seed: number, i: number): Uint8Array {
  const id = idBytes(seed, i, -1, 16);
  if (i % 3 === 0) id.fill(0, 0, 8);
  if (id.subarray(8).every((b) => b === 0)) id[15] = 1;
  return id;
}

const s = (key: string, value: string): Attr => ({ key, value: { type: 'string', value } });
const int = (key: string, value: bigint): Attr => ({ key, value: { type: 'int', value } });

export function syntheticResources(count: number): Resource[] {
  return Array.from({ length: count }, (_, k) => ({
    attributes: [
      s('service.name', `synth-svc-${k}`),
      s('host.name', `host-${k}.lab`),
      s('service.version', `1.${k}.0`),
      int('process.pid', BigInt(1000 + k)),
      { key: 'deployment.canary', value: { type: 'bool', value: k % 2 === 1 } },
    ],
  }));
}

export const SYNTHETIC_SCOPE: Scope = { name: 'stackshift.synthetic', version: '1.0.0', attributes: [] };
const KINDS: SpanKindCode[] = [3, 1, 4, 5, 2];
const TWO_53 = 2n ** 53n;

export function syntheticTrace(
  spec: SyntheticSpec,
  i: number,
  resources = syntheticResources(spec.services ?? 4),
): Trace {
  const r = rng(spec.seed * 1_000_003 + i);
  const traceId = syntheticTraceId(spec.seed, i);
  const rangeUs = Math.max(1, (spec.endMs - spec.startMs - 60_000) * 1000);
  const t0 = BigInt(spec.startMs) * 1000n + BigInt(Math.floor(r() * rangeUs));
  const depth = 1 + Math.floor(r() * 6);
  const spans: Span[] = [];
  let j = 0;
  const make = (level: number, parent: Span | undefined, startUs: bigint): void => {
    const idx = j++;
    const durUs = BigInt(1 + Math.floor(r() * 50_000));
    const res = resources[(i + level) % resources.length];
    const errorSpan = r() < 0.15;
    const attributes: Attr[] = [
      s('http.method', ['GET', 'POST', 'PUT'][idx % 3]),
      int('http.status_code', errorSpan ? 500n : 200n),
      { key: 'retry', value: { type: 'bool', value: idx % 2 === 0 } },
      int('big.counter', TWO_53 + 1n + BigInt(i * 7919 + idx)),
      int('neg.offset', -(2n ** 62n) + BigInt(i)),
      { key: 'ratio', value: { type: 'double', value: (i % 97) / 7 + idx * 0.125 } },
      { key: 'payload', value: { type: 'bytes', value: Uint8Array.from([i & 0xff, idx & 0xff, 0, 255]) } },
      {
        key: 'tags',
        value: {
          type: 'array',
          values: [
            { type: 'string', value: 'a' },
            { type: 'int', value: BigInt(idx) },
          ],
        },
      },
      s('unicode', `spån ${i}-${idx} ✓`),
    ];
    const events = Array.from({ length: Math.floor(r() * 3) }, (_, e) => ({
      timeNs: (startUs + BigInt(e + 1)) * 1000n,
      name: e === 0 && errorSpan ? 'exception' : `event-${e}`,
      attributes: [
        s('message', `step ${e} of span ${idx}`),
        int('attempt', BigInt(e)),
        { key: 'fraction', value: { type: 'double' as const, value: e / 3 } },
      ],
    }));
    const links =
      i > 0 && idx === 0 && i % 5 === 0
        ? [
            {
              traceId: syntheticTraceId(spec.seed, i - 1),
              spanId: idBytes(spec.seed, i - 1, 0, 8),
              traceState: '',
              attributes: [s('link.reason', 'previous-batch')],
            },
          ]
        : [];
    const span: Span = {
      traceId,
      spanId: idBytes(spec.seed, i, idx, 8),
      parentSpanId: parent?.spanId,
      traceState: idx === 0 && i % 4 === 0 ? 'vendor=synthetic' : '',
      name: parent ? `op-${level}-${idx % 4}` : `GET /api/item/${i % 50}`,
      kind: parent ? KINDS[idx % KINDS.length] : 2,
      startNs: startUs * 1000n,
      endNs: (startUs + durUs) * 1000n,
      attributes,
      events,
      links,
      status: errorSpan
        ? { code: 2, message: 'synthetic failure' }
        : idx % 7 === 3
          ? { code: 1, message: '' }
          : { code: 0, message: '' },
      resource: res,
      scope: SYNTHETIC_SCOPE,
    };
    spans.push(span);
    if (level + 1 < depth) {
      const children = 1 + Math.floor(r() * 2);
      for (let c = 0; c < children && j < 24; c++) make(level + 1, span, startUs + BigInt(1 + c));
    }
  };
  make(0, undefined, t0);
  return { traceId, spans, format: 'otlp' };
}

export function* syntheticTraces(spec: SyntheticSpec): Generator<Trace> {
  const resources = syntheticResources(spec.services ?? 4);
  const first = spec.offset ?? 0;
  for (let i = first; i < first + spec.traces; i++) yield syntheticTrace(spec, i, resources);
}
