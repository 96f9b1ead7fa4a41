/**
 * The prompb messages as a protobufjs schema, transcribed from prometheus/prompb (types.proto, remote.proto)
 * and prompb/io/prometheus/write/v2/types.proto. Used for the messages off the hot path (ReadRequest), by
 * tests as an independent decoder, and by bench/wire.bench.ts as the baseline the hand-written codec must beat.
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package prometheus;

message Sample { double value = 1; int64 timestamp = 2; }
message Label { string name = 1; string value = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  int32 reset_hint = 14;
  int64 timestamp = 15;
}
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
message WriteRequest { repeated TimeSeries timeseries = 1; }

message LabelMatcher { enum Type { EQ = 0; NEQ = 1; RE = 2; NRE = 3; } Type type = 1; string name = 2; string value = 3; }
message ReadHints { int64 step_ms = 1; string func = 2; int64 start_ms = 3; int64 end_ms = 4; repeated string grouping = 5; bool by = 6; int64 range_ms = 7; }
message Query { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2; repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
message ReadRequest {
  enum ResponseType { SAMPLES = 0; STREAMED_XOR_CHUNKS = 1; }
  repeated Query queries = 1;
  repeated ResponseType accepted_response_types = 2;
}
message QueryResult { repeated TimeSeries timeseries = 1; }
message ReadResponse { repeated QueryResult results = 1; }
message Chunk {
  enum Encoding { UNKNOWN = 0; XOR = 1; HISTOGRAM = 2; FLOAT_HISTOGRAM = 3; }
  int64 min_time_ms = 1; int64 max_time_ms = 2; Encoding type = 3; bytes data = 4;
}
message ChunkedSeries { repeated Label labels = 1; repeated Chunk chunks = 2; }
message ChunkedReadResponse { repeated ChunkedSeries chunked_series = 1; int64 query_index = 2; }

message V2Sample { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3; }
message V2Metadata { int32 type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
message V2TimeSeries { repeated uint32 labels_refs = 1; repeated V2Sample samples = 2; V2Metadata metadata = 5; }
message V2Request { repeated string symbols = 4; repeated V2TimeSeries timeseries = 5; }
`;

let root: protobuf.Root | undefined;

export function protoRoot(): protobuf.Root {
  root ??= protobuf.parse(PROTO, { keepCase: true }).root;
  return root;
}

export function protoType(
  name: 'WriteRequest' | 'ReadRequest' | 'ReadResponse' | 'ChunkedReadResponse' | 'V2Request' | 'TimeSeries',
): protobuf.Type {
  return protoRoot().lookupType(`prometheus.${name}`);
}
