export {
  SpanKind,
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
  EMPTY_SCOPE,
  serviceOf,
  spanCount,
  type Attr,
  type AttrValue,
  type Resource,
  type Scope,
  type Span,
  type SpanEvent,
  type SpanLink,
  type Trace,
  type TraceFormat,
} from './model.js';
export { idFromHex, idFromBase64, idFromAny, idHex, jaegerTraceIdHex, idEquals, isZeroId } from './ids.js';
export { traceFromJaegerV1, jaegerTagValue, type JaegerTrace, type JaegerSpan } from './from-jaeger.js';
export { tracesFromOtlpJson, collectOtlpJson } from './from-otlp.js';
export {
  compareTraces,
  diffSpans,
  TOLERANCES,
  type Tolerance,
  type TraceComparison,
  type CompareOptions,
  type FieldDiff,
} from './compare.js';
export { valueText, attrsText, collectionAsJson } from './canonical.js';
export { toResourceSpans, encodeTraces } from './to-otlp.js';
export {
  syntheticTrace,
  syntheticTraces,
  syntheticTraceId,
  syntheticResources,
  type SyntheticSpec,
} from './synthetic.js';
export { JaegerStore, TempoStore, type TraceStore } from './stores.js';
export {
  verifyTraces,
  CONSISTENCY_DEFINITION,
  peakRss,
  type VerifyTracesParams,
  type VerifyTracesReport,
  type Sample,
} from './verify.js';
export { copyTraces, TRACES_COPY_DEFAULTS, type CopyTracesParams, type CopyTracesReport } from './copy.js';
export { CopyState, TRACES_COPY_MIGRATION } from './state.js';
export {
  renderVerifyTracesText,
  renderVerifyTracesMarkdown,
  renderCopyTracesText,
  renderCopyTracesMarkdown,
} from './render.js';
