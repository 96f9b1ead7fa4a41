import { REPLAY_LOG_FACTS } from '../compat/index.js';

/**
 * The restart of each stage costs what Prometheus spends replaying its head: m-mapped chunks, then every WAL
 * segment after the checkpoint (R§5 "Startup log lines"). The speed comes from the last replay in the
 * server's own log, in logfmt (2.x `ts=`, 3.x `time=`) or JSON; nothing is "converted" at startup.
 */
export interface ReplayMeasurement {
  source: 'log' | 'assumed' | 'given';
  /** Segments the last replay loaded. */
  segments: number;
  /** Bytes of those segments that are still on disk (when known), for a bytes/s figure. */
  bytes?: number;
  walReplayMs?: number;
  totalReplayMs?: number;
  mmapReplayMs?: number;
  msPerSegment?: number;
  bytesPerSecond?: number;
  startedAt?: string;
  note: string;
}

/** Go duration strings as Prometheus logs them: 1.319103ms, 2m3.5s, 171ns, 7.6µs, 1h2m. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/g;
  let total = 0;
  let matched = '';
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * units[m[2]];
    matched += m[0];
  }
  return matched.length && matched === s.trim() ? total : undefined;
}

/** One log line as key/value pairs (logfmt with quoted values, or a JSON object). */
export function parseLogLine(line: string): Record<string, string> | undefined {
  const t = line.trim();
  if (!t) return undefined;
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return undefined;
    }
  }
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][\w.]*)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  for (const m of t.matchAll(re)) out[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
  return Object.keys(out).length ? out : undefined;
}

/**
 * The last WAL replay found in a Prometheus log. `segmentBytes(n)` returns the size of WAL segment n when it is
 * still on disk, so the speed can be expressed in bytes/s rather than segments/s.
 */
export function replayFromLog(
  text: string,
  segmentBytes?: (segment: number) => number | undefined,
): ReplayMeasurement | undefined {
  const lines = text.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].includes('Replaying WAL')) {
      start = i;
      break;
    }
  }
  if (start < 0) return undefined;
  const segs = new Set<number>();
  let completed: Record<string, string> | undefined;
  let mmap: number | undefined;
  let startedAt: string | undefined;
  const first = parseLogLine(lines[start]);
  startedAt = first?.ts ?? first?.time;
  for (let i = Math.max(0, start - 5); i < start; i++) {
    const kv = parseLogLine(lines[i]);
    if (kv?.msg?.startsWith('On-disk memory mappable chunks replay completed') && kv.duration)
      mmap = parseGoDuration(kv.duration);
  }
  for (let i = start + 1; i < lines.length; i++) {
    const kv = parseLogLine(lines[i]);
    if (!kv) continue;
    if (kv.msg === REPLAY_LOG_FACTS.segmentLoaded && kv.segment !== undefined) segs.add(Number(kv.segment));
    if (kv.msg === REPLAY_LOG_FACTS.replayCompleted) {
      completed = kv;
      break;
    }
  }
  if (!completed) return undefined;
  const walMs = completed.wal_replay_duration ? parseGoDuration(completed.wal_replay_duration) : undefined;
  const totalMs = completed.total_replay_duration ? parseGoDuration(completed.total_replay_duration) : undefined;
  let bytes: number | undefined = 0;
  for (const s of segs) {
    const b = segmentBytes?.(s);
    if (b === undefined) {
      bytes = undefined;
      break;
    }
    bytes += b;
  }
  const ms = walMs ?? totalMs;
  return {
    source: 'log',
    segments: segs.size,
    bytes: bytes || undefined,
    walReplayMs: walMs,
    totalReplayMs: totalMs,
    mmapReplayMs: mmap,
    msPerSegment: ms !== undefined && segs.size ? ms / segs.size : undefined,
    bytesPerSecond: ms && bytes ? (bytes / ms) * 1000 : undefined,
    startedAt,
    note: `last replay in the log${startedAt ? ` (started ${startedAt})` : ''}: ${segs.size} WAL segments in ${ms?.toFixed(1) ?? '?'} ms (${REPLAY_LOG_FACTS.source})`,
  };
}

/** Used only when no replay was ever measured: roughly 25 MiB/s, stated as an assumption in every output. */
export const ASSUMED_BYTES_PER_SECOND = 25 * 1024 * 1024;

export interface DowntimeEstimate {
  walBytes?: number;
  walSegments?: number;
  replayMs?: number;
  /** Replay plus a fixed allowance for stop, start and the first rule evaluation. */
  restartMs?: number;
  basis: string;
  assumed: boolean;
}

export const RESTART_OVERHEAD_MS = 30_000;

export function estimateDowntime(
  wal: { bytes: number; segments: number } | undefined,
  m: ReplayMeasurement | undefined,
): DowntimeEstimate {
  if (!wal) return { basis: 'no data dir given: the WAL size is unknown (pass --data-dir)', assumed: true };
  let replayMs: number;
  let basis: string;
  let assumed = false;
  if (m?.bytesPerSecond) {
    replayMs = (wal.bytes / m.bytesPerSecond) * 1000;
    basis = `${fmtMiB(wal.bytes)} of WAL at ${fmtMiB(m.bytesPerSecond)}/s measured (${m.note})`;
  } else if (m?.msPerSegment !== undefined) {
    replayMs = wal.segments * m.msPerSegment;
    basis = `${wal.segments} WAL segments at ${m.msPerSegment.toFixed(1)} ms/segment measured (${m.note})`;
  } else {
    replayMs = (wal.bytes / ASSUMED_BYTES_PER_SECOND) * 1000;
    basis = `${fmtMiB(wal.bytes)} of WAL at an ASSUMED ${fmtMiB(ASSUMED_BYTES_PER_SECOND)}/s (no replay measured: pass --log-file with the server's last start)`;
    assumed = true;
  }
  if (m?.mmapReplayMs) replayMs += m.mmapReplayMs;
  return {
    walBytes: wal.bytes,
    walSegments: wal.segments,
    replayMs,
    restartMs: replayMs + RESTART_OVERHEAD_MS,
    basis: `${basis}; plus ${RESTART_OVERHEAD_MS / 1000}s for stop, start and the first evaluations`,
    assumed,
  };
}

function fmtMiB(n: number): string {
  return `${(n / 1048576).toFixed(n < 10 * 1048576 ? 2 : 0)} MiB`;
}
