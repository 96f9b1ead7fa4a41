import type { ResolvedEndpoint } from '../config/index.js';
import { HttpClient, HttpError, sleep } from '../http/index.js';

/**
 * `alerts verify`: during the parallel run, the alerts of the source Prometheus and of the target (another
 * Prometheus, or the Mimir ruler under /prometheus) compared by their labels and state, poll by poll, over a
 * window. An alert is its label set (alertname included; --ignore-label drops labels one side adds); its
 * state is firing, pending or, when a side does not list it, inactive. Two servers evaluate at different
 * moments, so a difference that lasts no longer than the grace (two poll intervals by default) is a
 * transition seen at different times, reported but not failing; one that lasts longer is a finding.
 */
export type AlertState = 'firing' | 'pending' | 'inactive';

export interface ActiveAlert {
  labels: Record<string, string>;
  state: AlertState;
  activeAt?: string;
}

export interface AlertsSide {
  name: string;
  fetch(signal?: AbortSignal): Promise<ActiveAlert[]>;
  close(): Promise<void>;
}

/** GET <prefix>/api/v1/alerts of a Prometheus or the Mimir ruler (same JSON shape). */
export function alertsSide(name: string, endpoint: ResolvedEndpoint, prefix = ''): AlertsSide {
  const http = new HttpClient(endpoint);
  const p = prefix === '/' ? '' : prefix.replace(/\/+$/, '');
  return {
    name,
    async fetch(signal) {
      const res = await http.text({ path: `${p}/api/v1/alerts`, signal, headers: { accept: 'application/json' } });
      let doc: {
        status?: string;
        data?: { alerts?: Array<{ labels?: Record<string, string>; state?: string; activeAt?: string }> };
      };
      try {
        doc = JSON.parse(res.text);
      } catch {
        throw new HttpError(
          'protocol',
          `${endpoint.url}${p}/api/v1/alerts`,
          `${name}: /api/v1/alerts did not answer JSON`,
          { hint: 'check the URL and the prefix (Mimir: --target-prefix /prometheus)' },
        );
      }
      if (doc.status !== 'success' || !Array.isArray(doc.data?.alerts))
        throw new HttpError(
          'protocol',
          `${endpoint.url}${p}/api/v1/alerts`,
          `${name}: /api/v1/alerts answered no alert list`,
          { hint: 'check that the URL is a Prometheus or the Mimir ruler' },
        );
      return doc.data!.alerts!.map((a) => ({
        labels: a.labels ?? {},
        state: a.state === 'firing' ? 'firing' : a.state === 'pending' ? 'pending' : 'inactive',
        activeAt: a.activeAt,
      }));
    },
    close: () => http.close(),
  };
}

export interface AlertDifference {
  labels: Record<string, string>;
  alertname: string;
  /** only-source / only-target: listed by one side only; state: both list it in different states. */
  kind: 'only-source' | 'only-target' | 'state';
  /** The state pairs seen while they differed, e.g. "firing/inactive". */
  states: string[];
  polls: number;
  /** Longest run of consecutive differing polls, in ms (polls x interval). */
  longestMs: number;
  firstAt: string;
  lastAt: string;
  /** Longer than the grace: not a transition seen at different moments. */
  persistent: boolean;
}

export interface AlertsVerifyReport {
  source: string;
  target: string;
  windowMs: number;
  intervalMs: number;
  graceMs: number;
  polls: number;
  /** (poll, alert) pairs compared; an alert counts in a poll when either side lists it. */
  observations: number;
  matching: number;
  /** matching / observations in percent (100 when nothing fired anywhere). */
  consistency: number;
  minConsistency: number;
  alertsSeen: number;
  /** The label set of every alert seen on either side (for routing checks). */
  seenLabels: Array<Record<string, string>>;
  differences: AlertDifference[];
  pollErrors: string[];
  passed: boolean;
  exitCode: 0 | 1;
}

export interface AlertsVerifyParams {
  source: AlertsSide;
  target: AlertsSide;
  windowMs: number;
  intervalMs: number;
  graceMs?: number;
  minConsistency?: number;
  ignoreLabels?: string[];
  onPoll?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

function keyOf(labels: Record<string, string>, ignore: Set<string>): string {
  return JSON.stringify(
    Object.keys(labels)
      .filter((k) => !ignore.has(k))
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

function byKey(alerts: ActiveAlert[], ignore: Set<string>): Map<string, ActiveAlert> {
  const m = new Map<string, ActiveAlert>();
  for (const a of alerts) {
    const k = keyOf(a.labels, ignore);
    const prev = m.get(k);
    // two alerts that only differ in an ignored label: the more active state stands for both
    if (!prev || (prev.state !== 'firing' && a.state === 'firing')) m.set(k, a);
  }
  return m;
}

export async function verifyAlerts(p: AlertsVerifyParams): Promise<AlertsVerifyReport> {
  const ignore = new Set(p.ignoreLabels ?? []);
  const graceMs = p.graceMs ?? 2 * p.intervalMs;
  const total = Math.max(1, Math.floor(p.windowMs / p.intervalMs) + 1);
  const diffs = new Map<string, AlertDifference & { run: number }>();
  const seen = new Map<string, Record<string, string>>();
  const pollErrors: string[] = [];
  let observations = 0;
  let matching = 0;
  let polls = 0;
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * p.intervalMs;
    if (Date.now() < due) await sleep(due - Date.now(), p.signal);
    const at = new Date().toISOString();
    let src: ActiveAlert[];
    let tgt: ActiveAlert[];
    try {
      [src, tgt] = await Promise.all([p.source.fetch(p.signal), p.target.fetch(p.signal)]);
    } catch (e) {
      // one failed poll is reported; it does not end the window (the comparison needs both answers)
      pollErrors.push(`${at}: ${(e as Error).message}`);
      if (pollErrors.length > Math.max(3, total / 2)) throw e;
      continue;
    }
    polls++;
    const s = byKey(src, ignore);
    const t = byKey(tgt, ignore);
    const keys = new Set([...s.keys(), ...t.keys()]);
    for (const k of keys) {
      if (!seen.has(k)) seen.set(k, (s.get(k) ?? t.get(k))!.labels);
      observations++;
      const a = s.get(k)?.state ?? 'inactive';
      const b = t.get(k)?.state ?? 'inactive';
      if (a === b) {
        matching++;
        const d = diffs.get(k);
        if (d) d.run = 0;
        continue;
      }
      const labels = (s.get(k) ?? t.get(k))!.labels;
      let d = diffs.get(k);
      if (!d) {
        d = {
          labels,
          alertname: labels.alertname ?? '',
          kind: a === 'inactive' ? 'only-target' : b === 'inactive' ? 'only-source' : 'state',
          states: [],
          polls: 0,
          longestMs: 0,
          firstAt: at,
          lastAt: at,
          persistent: false,
          run: 0,
        };
        diffs.set(k, d);
      }
      const pair = `${a}/${b}`;
      if (!d.states.includes(pair)) d.states.push(pair);
      if (d.kind !== 'state' && a !== 'inactive' && b !== 'inactive') d.kind = 'state';
      d.polls++;
      d.run++;
      d.lastAt = at;
      d.longestMs = Math.max(d.longestMs, d.run * p.intervalMs);
    }
    // an alert that disappeared from both sides ends its run
    for (const [k, d] of diffs) if (!keys.has(k)) d.run = 0;
    p.onPoll?.(i + 1, total);
  }
  const differences = [...diffs.values()]
    .map(({ run: _run, ...d }) => ({ ...d, persistent: d.longestMs > graceMs }))
    .sort(
      (a, b) =>
        Number(b.persistent) - Number(a.persistent) || b.polls - a.polls || a.alertname.localeCompare(b.alertname),
    );
  const consistency = observations === 0 ? 100 : (100 * matching) / observations;
  const minConsistency = p.minConsistency ?? 99;
  const passed = polls > 0 && consistency >= minConsistency && !differences.some((d) => d.persistent);
  return {
    source: p.source.name,
    target: p.target.name,
    windowMs: p.windowMs,
    intervalMs: p.intervalMs,
    graceMs,
    polls,
    observations,
    matching,
    consistency: Math.round(consistency * 100) / 100,
    minConsistency,
    alertsSeen: seen.size,
    seenLabels: [...seen.values()],
    differences,
    pollErrors,
    passed,
    exitCode: passed ? 0 : 1,
  };
}
