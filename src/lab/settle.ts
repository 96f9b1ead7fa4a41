import { PrometheusClient } from '../clients/index.js';
import { endpointFromUrl } from '../config/index.js';
import { StackshiftError } from '../errors/index.js';

/**
 * Waits until a lab server that has just received remote-written history has compacted its head down to the
 * last few hours. Prometheus 2.42 can leave samples out of a query that runs while the (out-of-order) head is
 * being compacted into blocks, so a copy or a comparison started earlier may see a partial source.
 */
export async function waitHeadCompacted(url: string, timeoutMs = 120_000): Promise<void> {
  const c = new PrometheusClient(endpointFromUrl(url));
  try {
    const deadline = Date.now() + timeoutMs;
    let stable = 0;
    while (Date.now() < deadline) {
      const h = (await c.tsdbStatus()).headStats;
      stable = h.maxTime - h.minTime <= 3 * 3_600_000 ? stable + 1 : 0;
      if (stable >= 3) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new StackshiftError('lab', `head of ${url} still spans more than 3h after ${timeoutMs} ms`);
  } finally {
    await c.close();
  }
}
