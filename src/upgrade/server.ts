import type { PrometheusClient } from '../clients/index.js';
import type { PlanInput } from './plan.js';

/**
 * What `upgrade plan` needs from a live server, read through its HTTP API in one round: version, effective
 * flags, config, rules, corruption count and target/rule health. runtimeinfo is optional: some proxies and
 * older builds do not serve it, and the plan only loses the corruption count without it.
 */
export async function readServerFacts(client: PrometheusClient): Promise<NonNullable<PlanInput['server']>> {
  const [build, flags, configYaml, rules, runtime, targets] = await Promise.all([
    client.buildInfo(),
    client.flags(),
    client.config(),
    client.rules(),
    client.runtimeInfo().catch(() => undefined),
    client.targets('active'),
  ]);
  return {
    url: client.url,
    version: build.version,
    flags,
    configYaml,
    rules,
    corruptionCount: runtime?.corruptionCount,
    targetsDown: targets.activeTargets.filter((t) => t.health === 'down').length,
    rulesUnhealthy: rules.flatMap((g) => g.rules).filter((r) => r.health === 'err').length,
  };
}
