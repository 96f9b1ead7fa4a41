import type { PrometheusClient } from '../clients/index.js';

/**
 * Series per metric name over a window, blocks included (the TSDB status API only covers the head).
 * `count(last_over_time(x[w]))` per name is exact and returns one number, so memory stays bounded however
 * many series there are; names are batched with `or` to keep the number of queries small.
 */
export async function countSeriesByName(
  client: PrometheusClient,
  windowMs: number,
  atMs = Date.now(),
  batchSize = 40,
): Promise<Array<{ name: string; series: number }>> {
  const names = await client.labelValues('__name__', undefined, atMs - windowMs, atMs);
  const w = `${Math.max(1, Math.round(windowMs / 1000))}s`;
  const out: Array<{ name: string; series: number }> = [];
  for (let i = 0; i < names.length; i += batchSize) {
    const batch = names.slice(i, i + batchSize);
    const q = batch
      .map(
        (n) =>
          `label_replace(count(last_over_time({__name__=${JSON.stringify(n)}}[${w}])), "stackshift_name", ${JSON.stringify(n)}, "", "")`,
      )
      .join(' or ');
    const r = await client.query(q, atMs, '120s');
    if (r.resultType !== 'vector') continue;
    for (const s of r.result) out.push({ name: s.metric.stackshift_name, series: Number(s.value[1]) });
  }
  return out.sort((a, b) => b.series - a.series || a.name.localeCompare(b.name));
}
