export {
  type Label,
  type MatchType,
  type Matcher,
  type SeriesSamples,
  ChunkEncoding,
  MATCH_TYPE_CODE,
  STALE_NAN_HI,
  STALE_NAN_LO,
  valueBits,
  valueBitsHex,
  isStaleMarker,
  setStaleMarker,
  labelsKey,
  sortLabels,
} from './types.js';
export { PbReader, PbWriter, WireError, uvarintSize } from './pb.js';
export { SampleBuffer, decodeXorChunk, chunkSampleCount } from './xor.js';
export {
  encodeReadRequest,
  decodeChunkedReadResponse,
  decodeReadResponse,
  readFrames,
  encodeFrame,
  type ReadQuery,
  type ResponseType,
  type RawChunk,
  type ChunkedSeries,
  type ChunkedReadResponse,
} from './read.js';
export { seriesFromFrames, seriesFromSamplesResponse, newDecodeStats, sortDedupe, type DecodeStats } from './series.js';
export {
  encodeWriteRequest,
  encodeWriteRequestV2,
  writtenHeaders,
  RW1_HEADERS,
  RW2_HEADERS,
  type WriteSeries,
} from './write.js';
export { snappyEncode, snappyDecode } from './snappy.js';
export { protoRoot, protoType } from './schema.js';
export {
  type HistogramSample,
  ResetHint,
  CounterResetHeader,
  CUSTOM_BUCKETS_SCHEMA,
  isStaleHistogram,
  staleHistogram,
  histogramWeight,
  bucketCount,
  sortDedupeHistograms,
} from './histogram.js';
export { decodeHistogramChunk } from './histogram-chunk.js';
export { histogramMessageSize, writeHistogram, readHistogram } from './histogram-pb.js';
export {
  encodeExportTraceRequest,
  decodeExportTraceResponse,
  type OtlpValue,
  type OtlpKeyValue,
  type OtlpSpanIn,
  type OtlpResourceSpansIn,
} from './otlp-encode.js';
export { OtlpTraceExporter, OTLP_RETRYABLE, type OtlpExportResult } from './otlp-export.js';
export { otlpType } from './otlp-schema.js';
