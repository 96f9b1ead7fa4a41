import type { PrometheusClient } from '../clients/index.js';

/**
 * The scrape gap a restart left, per target, read from the data itself: the successful scrapes (`up` 1) of
 * each target around the restart. The gap is the longest pause between two consecutive samples minus one scrape
 * interval, counted in scrape intervals (the interval is the median spacing of that target's samples).
 */
export interface TargetGap {
  job: string;
  instance: string;
  intervalMs: number;
  lastBeforeMs?: number;
  firstAfterMs?: number;
  gapMs: number;
  missedIntervals: number;
}
export interface GapReport {
  stoppedAtMs: number;
  readyAtMs: number;
  windowStartMs: number;
  windowEndMs: number;
  targets: TargetGap[];
  maxMissedIntervals: number;
}

/**
 * The window a stage's gap is measured (and, with --zero-gap, filled) in: from `marginMs` before the stop to a
 * little after readiness, so the server's first scrapes after the restart are inside it. Fixed by the recorded
 * stop and ready times, so a resumed run measures the same window.
 */
export function gapWindow(
  stoppedAtMs: number,
  readyAtMs: number,
  marginMs: number,
): { startMs: number; endMs: number } {
  return { startMs: stoppedAtMs - marginMs, endMs: readyAtMs + Math.min(marginMs / 4, 10_000) };
}

/** Waits until `ms` (plus a settle time for the scrapes of that moment to be appended) has passed. */
export async function waitPast(ms: number, settleMs = 2_000): Promise<void> {
  const wait = ms + settleMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

export async function measureGap(
  client: PrometheusClient,
  stoppedAtMs: number,
  readyAtMs: number,
  marginMs: number,
): Promise<GapReport> {
  const { startMs: windowStartMs, endMs: windowEndMs } = gapWindow(stoppedAtMs, readyAtMs, marginMs);
  // never query the future: wait until the scrapes at the window's end are in
  await waitPast(windowEndMs);
  const seconds = Math.ceil((windowEndMs - windowStartMs) / 1000);
  const r = await client.query(`up[${seconds}s]`, windowEndMs);
  const targets: TargetGap[] = [];
  if (r.resultType === 'matrix') {
    for (const s of r.result) {
      // a failed scrape (up 0) brought no data: only successful scrapes end a gap
      const ts = s.values
        .filter((v) => Number(v[1]) === 1)
        .map((v) => Math.round(Number(v[0]) * 1000))
        .filter((t) => t >= windowStartMs);
      if (ts.length < 2) continue;
      const steps = ts
        .slice(1)
        .map((t, i) => t - ts[i]!)
        .sort((a, b) => a - b);
      const intervalMs = steps[Math.floor(steps.length / 2)]!;
      let gapMs = 0;
      let lastBeforeMs: number | undefined;
      let firstAfterMs: number | undefined;
      for (let i = 1; i < ts.length; i++) {
        const d = ts[i]! - ts[i - 1]!;
        if (d - intervalMs > gapMs) {
          gapMs = d - intervalMs;
          lastBeforeMs = ts[i - 1];
          firstAfterMs = ts[i];
        }
      }
      targets.push({
        job: s.metric.job ?? '',
        instance: s.metric.instance ?? '',
        intervalMs,
        lastBeforeMs,
        firstAfterMs,
        gapMs,
        missedIntervals: Math.max(0, Math.round(gapMs / intervalMs)),
      });
    }
  }
  targets.sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
  return {
    stoppedAtMs,
    readyAtMs,
    windowStartMs,
    windowEndMs,
    targets,
    maxMissedIntervals: Math.max(0, ...targets.map((t) => t.missedIntervals)),
  };
}
