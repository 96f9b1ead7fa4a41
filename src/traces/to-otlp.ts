import { encodeExportTraceRequest, type OtlpResourceSpansIn } from '../wire/index.js';
import { attrsText } from './canonical.js';
import type { Span, Trace } from './model.js';

/**
 * Spans regrouped under their resource and scope, as one ExportTraceServiceRequest carries them. Resources
 * and scopes are matched by content, so spans of one service from many traces share one ResourceSpans.
 */
export function toResourceSpans(traces: Trace[]): OtlpResourceSpansIn[] {
  const byResource = new Map<string, { rs: OtlpResourceSpansIn; scopes: Map<string, Span[]> }>();
  const resKey = new Map<object, string>();
  for (const t of traces) {
    for (const s of t.spans) {
      let rk = resKey.get(s.resource);
      if (rk === undefined) {
        rk = attrsText(s.resource.attributes);
        resKey.set(s.resource, rk);
      }
      let entry = byResource.get(rk);
      if (!entry) {
        entry = { rs: { resource: s.resource, scopeSpans: [] }, scopes: new Map() };
        byResource.set(rk, entry);
      }
      const sk = `${s.scope.name}\x00${s.scope.version}\x00${s.scope.attributes.length ? attrsText(s.scope.attributes) : ''}`;
      let spans = entry.scopes.get(sk);
      if (!spans) {
        spans = [];
        entry.scopes.set(sk, spans);
        entry.rs.scopeSpans.push({ scope: s.scope, spans });
      }
      spans.push(s);
    }
  }
  return [...byResource.values()].map((e) => e.rs);
}

/** One OTLP protobuf request holding these traces. */
export function encodeTraces(traces: Trace[]): Uint8Array {
  return encodeExportTraceRequest(toResourceSpans(traces));
}
