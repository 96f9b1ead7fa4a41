import { defineRule } from '../rule.js';

/** host:port, [v6]:port, or a URL-like value that relabelling turns into an address. */
function hasPort(t: string): boolean {
  return /:\d+$/.test(t) || /^\[[^\]]*\]:\d+$/.test(t);
}

export default defineRule({
  id: 'static-target-default-port',
  title: 'no default port is appended to targets',
  severity: 'warning',
  phase: 'dual',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide (no-default-scrape-port); P@v2.55.1:scrape/target.go addPort',
  description:
    '2.x appended :80 (or :443 for https) to a target without a port, so instance="host:80"; 3.x keeps "host". Writing the port explicitly keeps the instance label identical on both versions.',
  checkConfig(ctx) {
    if (ctx.run.features?.has('no-default-scrape-port') || !ctx.root) return;
    for (const job of ctx.yaml.mapItems(ctx.root, 'scrape_configs')) {
      // a relabel writing __address__ (the blackbox-exporter pattern) decides the address; leave those jobs alone
      const rewritesAddress = ctx.yaml
        .mapItems(job, 'relabel_configs')
        .some((rc) => ctx.yaml.scalar(ctx.yaml.pair(rc, 'target_label')?.value) === '__address__');
      if (rewritesAddress) continue;
      const port = ctx.yaml.scalar(ctx.yaml.pair(job, 'scheme')?.value) === 'https' ? 443 : 80;
      const jobName = ctx.yaml.scalar(ctx.yaml.pair(job, 'job_name')?.value);
      for (const sc of ctx.yaml.mapItems(job, 'static_configs')) {
        const targets = ctx.yaml.pair(sc, 'targets')?.value as { items?: unknown[] } | undefined;
        for (const t of targets?.items ?? []) {
          const v = ctx.yaml.scalar(t);
          if (!v || hasPort(v) || v.includes('/') || v.includes('$')) continue;
          ctx.report({
            message: `job ${jobName}: target ${v} has no port; 2.x scraped ${v}:${port} with instance="${v}:${port}", 3.x uses instance="${v}"`,
            at: ctx.yaml.range(t),
            fix: { description: `${v}:${port}`, edits: ctx.yaml.setScalar(t, `${v}:${port}`) },
          });
        }
      }
    }
  },
});
