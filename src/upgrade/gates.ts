import type { PrometheusClient } from '../clients/index.js';
import { parseVersion } from '../compat/index.js';
import type { ServerDriver } from './driver.js';

/**
 * The post-upgrade comparison against what the preflight recorded: the gates `upgrade run` holds a stage to,
 * and `upgrade verify` reports on its own. Each gate says what it compared and what it found.
 */
export interface GateResult {
  id: string;
  title: string;
  passed: boolean;
  detail: string;
}

export interface BaselineFacts {
  targetsUp?: unknown;
  unhealthyRules?: unknown;
  seriesAtMs?: unknown;
  seriesByName?: unknown;
}

/** Series per metric name at one instant (what was in the TSDB before the stop must be there after it). */
export async function seriesByName(client: PrometheusClient, atMs: number): Promise<Record<string, number>> {
  const r = await client.query('count by (__name__) ({__name__=~".+"})', atMs);
  const out: Record<string, number> = {};
  if (r.resultType === 'vector') for (const s of r.result) out[s.metric.__name__ ?? ''] = Number(s.value[1]);
  return out;
}

async function settle<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    v = await fn();
  }
  return v;
}

export async function postUpgradeGates(
  client: PrometheusClient,
  driver: ServerDriver | undefined,
  o: { to: string; baseline: BaselineFacts; settleMs?: number },
): Promise<GateResult[]> {
  const gates: GateResult[] = [];
  const settleMs = o.settleMs ?? 60_000;
  const build = await client.buildInfo();
  const want = parseVersion(o.to)?.raw;
  gates.push({
    id: 'version',
    title: 'the server runs the target release',
    passed: build.version.replace(/[+-].*$/, '') === want,
    detail: `buildinfo says ${build.version}, expected ${want}`,
  });

  const baseUp = typeof o.baseline.targetsUp === 'number' ? o.baseline.targetsUp : 0;
  // right after readiness no target has been scraped yet ('unknown'): wait for every target's first scrape
  const targets = await settle(
    () => client.targets('active'),
    (t) =>
      t.activeTargets.every((x) => x.health !== 'unknown') &&
      t.activeTargets.filter((x) => x.health === 'up').length >= baseUp,
    settleMs,
  );
  const up = targets.activeTargets.filter((x) => x.health === 'up').length;
  const down = targets.activeTargets.filter((x) => x.health !== 'up');
  // 3.x refuses a scrape whose Content-Type is missing or unknown unless the job names a fallback protocol
  const contentType = down.some((x) => /Content-Type/i.test(x.lastError ?? ''))
    ? "; for the Content-Type errors: set fallback_scrape_protocol: PrometheusText0.0.4 on those jobs (a 3.x key), or fix the exporters' Content-Type"
    : '';
  gates.push({
    id: 'targets',
    title: 'targets up as before',
    passed: up >= baseUp,
    detail: `${up} up now, ${baseUp} before the stop${
      up < baseUp
        ? `; down: ${down
            .map((x) => `${x.scrapeUrl} (${x.lastError || x.health})`)
            .slice(0, 5)
            .join(', ')}${contentType}`
        : ''
    }`,
  });

  const before = new Set(Array.isArray(o.baseline.unhealthyRules) ? (o.baseline.unhealthyRules as string[]) : []);
  const groups = await settle(
    () => client.rules(),
    (g) => g.every((x) => x.rules.every((r) => r.health !== 'unknown')),
    settleMs,
  );
  const newlyBad = groups.flatMap((g) =>
    g.rules
      .filter((r) => r.health === 'err' && !before.has(`${g.name}/${r.name}`))
      .map((r) => `${g.name}/${r.name}: ${r.lastError ?? 'error'}`),
  );
  gates.push({
    id: 'rules',
    title: 'no rule newly failing',
    passed: newlyBad.length === 0,
    detail: newlyBad.length
      ? newlyBad.slice(0, 5).join('; ')
      : `${groups.reduce((n, g) => n + g.rules.length, 0)} rules; ${before.size} unhealthy before, none new`,
  });

  if (
    typeof o.baseline.seriesAtMs === 'number' &&
    o.baseline.seriesByName &&
    typeof o.baseline.seriesByName === 'object'
  ) {
    const was = o.baseline.seriesByName as Record<string, number>;
    const is = await seriesByName(client, o.baseline.seriesAtMs);
    const lost = Object.entries(was)
      .filter(([n, c]) => (is[n] ?? 0) < c)
      .map(([n, c]) => `${n} ${is[n] ?? 0}/${c}`);
    gates.push({
      id: 'series',
      title: 'series per metric name before the stop are all still there',
      passed: lost.length === 0,
      detail: lost.length
        ? `fewer series: ${lost.slice(0, 5).join(', ')}`
        : `${Object.keys(was).length} metric names, ${Object.values(was).reduce((a, b) => a + b, 0)} series at ${new Date(o.baseline.seriesAtMs).toISOString()}`,
    });
  }

  if (driver) {
    // 3.x starts with an unknown --enable-feature token and only logs it: the feature silently stays off
    const unknown = [...driver.log().matchAll(/Unknown option for --enable-feature[^\n]*?option=("?)([\w-]+)\1/g)].map(
      (m) => m[2],
    );
    const flags = await client.flags();
    const asked = (flags['enable-feature'] ?? '').split(',').filter(Boolean);
    const ignored = asked.filter((f) => unknown.includes(f));
    gates.push({
      id: 'feature-flags',
      title: 'every --enable-feature token is known to the new release',
      passed: ignored.length === 0,
      detail: ignored.length
        ? `ignored (left OFF): ${ignored.join(', ')}`
        : `${asked.length} token(s): ${asked.join(', ') || 'none'}`,
    });
  }
  return gates;
}
