import type { LokiEntry, LokiStream } from '../clients/index.js';
import { mulberry32 } from '../lab/index.js';

const HOUR = 3_600_000;
const WORDS = [
  'GET /api/orders 200',
  'héllo wörld',
  'Grüße aus Köln ✓',
  '日本語のログ行',
  'ошибка соединения',
  'emoji 🚀🔥',
  'tab\tseparated',
  'quote " and \\ backslash',
];

export interface LogSpec {
  streams: number;
  linesPerStream: number;
  hours: number;
  seed: number;
  endMs?: number;
}

export interface GeneratedLogs {
  streams: LokiStream[];
  startMs: number;
  endMs: number;
  lines: number;
}

/**
 * Deterministic logs ending at the last whole hour: per stream, lines spread over the hours with bursts of
 * 2..6 lines sharing one nanosecond, structured metadata on every third line, unicode in lines and
 * metadata. Lines are unique within a stream (Loki stores an identical line once).
 */
export function generateLogs(spec: LogSpec): GeneratedLogs {
  const endMs = spec.endMs ?? Math.floor(Date.now() / HOUR) * HOUR;
  const startMs = endMs - spec.hours * HOUR;
  const rnd = mulberry32(spec.seed);
  const streams: LokiStream[] = [];
  const spanNs = BigInt(spec.hours * HOUR) * 1_000_000n;
  const startNs = BigInt(startMs) * 1_000_000n;
  let lines = 0;
  for (let i = 0; i < spec.streams; i++) {
    const labels = {
      job: 'stackshift-gen',
      app: `app-${i % 20}`,
      pod: `pod-${String(i).padStart(4, '0')}`,
      ...(i % 7 === 0 ? { env: 'prod' } : {}),
    };
    const entries: LokiEntry[] = [];
    const n = spec.linesPerStream;
    let k = 0;
    while (k < n) {
      // timestamps strictly inside (start, end]
      const ts = startNs + 1n + ((spanNs - 1n) * BigInt(k)) / BigInt(n);
      const burst = rnd() < 0.1 ? Math.min(n - k, 2 + Math.floor(rnd() * 5)) : 1;
      for (let b = 0; b < burst; b++, k++) {
        const e: LokiEntry = {
          tsNs: ts,
          line: `${WORDS[k % WORDS.length]} stream=${i} seq=${k} r=${Math.floor(rnd() * 1e6)}`,
        };
        if (k % 3 === 0)
          e.metadata = {
            trace_id: (BigInt(k) * 2654435761n + BigInt(i)).toString(16).padStart(16, '0'),
            user: `ünïcode-${k % 5}`,
          };
        entries.push(e);
      }
    }
    lines += entries.length;
    streams.push({ labels, entries });
  }
  return { streams, startMs, endMs, lines };
}
