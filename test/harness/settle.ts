import { PrometheusClient } from '../../src/clients/index.js';
import { endpointFromUrl } from '../../src/config/index.js';
import { waitUntil } from './cli.js';

/**
 * Waits until the server reports `targets` active targets and `rules` rules, none of them with health
 * "unknown": the scrape manager starts about 5 s after the server is ready, so earlier answers are partial.
 */
export async function waitSettled(url: string, targets: number, rules: number, timeoutMs = 60_000): Promise<void> {
  const client = new PrometheusClient(endpointFromUrl(url));
  try {
    await waitUntil(
      async () => {
        const [tg, rg] = await Promise.all([client.targets(), client.rules()]);
        const rl = rg.flatMap((g) => g.rules);
        return (
          tg.activeTargets.length >= targets &&
          tg.activeTargets.every((x) => x.health !== 'unknown') &&
          rl.length >= rules &&
          rl.every((r) => r.health !== 'unknown')
        );
      },
      timeoutMs,
      `${targets} targets and ${rules} rules to report health`,
    );
  } finally {
    await client.close();
  }
}
