import { defineRule } from '../rule.js';

export default defineRule({
  id: 'kubernetes-sd-v1beta1',
  title: 'Kubernetes SD dropped the v1beta1 EndpointSlice and Ingress APIs',
  severity: 'info',
  phase: 'advisory',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'CHANGELOG 3.0.0 #14365',
  description:
    '3.x watches discovery.k8s.io/v1 EndpointSlices and networking.k8s.io/v1 Ingresses only: clusters older than Kubernetes 1.21 (endpointslice) or 1.19 (ingress) yield no targets.',
  checkConfig(ctx) {
    if (!ctx.root) return;
    for (const job of ctx.yaml.mapItems(ctx.root, 'scrape_configs')) {
      for (const sd of ctx.yaml.mapItems(job, 'kubernetes_sd_configs')) {
        const role = ctx.yaml.pair(sd, 'role');
        const v = ctx.yaml.scalar(role?.value);
        if (!role || (v !== 'endpointslice' && v !== 'ingress')) continue;
        ctx.report({
          message: `role ${v} needs Kubernetes >= ${v === 'ingress' ? '1.19' : '1.21'} with 3.x (v1beta1 APIs dropped)`,
          at: ctx.yaml.range(role.value),
        });
      }
    }
  },
});
