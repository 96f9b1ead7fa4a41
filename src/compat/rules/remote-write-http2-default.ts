import { defineRule } from '../rule.js';

export default defineRule({
  id: 'remote-write-http2-default',
  title: 'remote_write uses HTTP/1.1 by default in 3.x',
  severity: 'warning',
  phase: 'dual',
  versions: { from: '<3.0.0', to: '>=3.0.0' },
  source: 'guide; P@v3.0.0:config/config.go DefaultRemoteWriteHTTPClientConfig{EnableHTTP2: false}',
  description:
    'The enable_http2 default changed from true to false for remote_write only. Setting enable_http2: true explicitly keeps the 2.x behaviour on both versions (delete it later to take the new default).',
  checkConfig(ctx) {
    if (!ctx.root) return;
    for (const rw of ctx.yaml.mapItems(ctx.root, 'remote_write')) {
      if (ctx.yaml.pair(rw, 'enable_http2')) continue;
      const url = ctx.yaml.scalar(ctx.yaml.pair(rw, 'url')?.value) ?? '(no url)';
      const edits = ctx.yaml.insertKey(rw, 'enable_http2', 'true');
      ctx.report({
        message: `remote_write ${url}: 3.x sends over HTTP/1.1 unless enable_http2: true is set (2.x used HTTP/2)`,
        at: ctx.yaml.range(rw),
        fix: edits
          ? { description: 'add enable_http2: true (keeps the 2.x behaviour)', edits, validFrom: '2.42.0' }
          : undefined,
      });
    }
  },
});
