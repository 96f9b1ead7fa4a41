/**
 * Why a Loki target refused a push, from its status and text (pkg/validation/validate.go,
 * pkg/chunkenc/interface.go), and the setting that fixes it (docs/sources/shared/configuration.md).
 */
export interface PushReject {
  id: string;
  advice: string;
}

const RULES: Array<{ id: string; test: (status: number, body: string) => boolean; advice: string }> = [
  {
    id: 'too-old',
    test: (_s, b) => b.includes('has timestamp too old'),
    advice:
      'the target refuses lines older than now - reject_old_samples_max_age (default 1w): for the copy set limits_config.reject_old_samples: false on the target (or reject_old_samples_max_age above the age of the oldest copied line), and restore it afterwards',
  },
  {
    id: 'out-of-order',
    test: (_s, b) => b.includes('entry too far behind') || b.includes('entry out of order'),
    advice:
      'the target stream already holds lines newer than max_chunk_age/2 (default 1h) after these: copy a stream before live lines reach it (before dual-write starts), or raise ingester.max_chunk_age for the copy; keep --window at most max_chunk_age/2',
  },
  {
    id: 'line-too-long',
    test: (_s, b) => b.includes('Max entry size'),
    advice:
      "a line is longer than the target allows: raise limits_config.max_line_size on the target to the source's value (or set max_line_size_truncate: true to cut such lines)",
  },
  {
    id: 'rate-limit',
    test: (s, b) =>
      b.includes('Ingestion rate limit exceeded') ||
      b.includes('Per stream rate limit exceeded') ||
      (s === 429 && !b.includes('stream limit')),
    advice:
      'the target kept refusing with 429 after the retries: raise limits_config.ingestion_rate_mb / ingestion_burst_size_mb (and per_stream_rate_limit / per_stream_rate_limit_burst) on the target, or lower --concurrency and --batch-bytes',
  },
  {
    id: 'stream-limit',
    test: (_s, b) => b.includes('Maximum active stream limit exceeded'),
    advice:
      'the target refuses new streams above limits_config.max_global_streams_per_user (default 5000): raise it for the copy, or copy fewer streams at a time with --selector',
  },
  {
    id: 'too-new',
    test: (_s, b) => b.includes('has timestamp too new'),
    advice:
      'lines are newer than now + creation_grace_period on the target: check the clocks, or raise limits_config.creation_grace_period',
  },
  {
    id: 'too-many-labels',
    test: (_s, b) => /has \d+ label names; limit/.test(b),
    advice: "raise limits_config.max_label_names_per_series on the target to the source's value",
  },
  {
    id: 'label-too-long',
    test: (_s, b) => b.includes('label name too long') || b.includes('label value too long'),
    advice: 'raise limits_config.max_label_name_length / max_label_value_length on the target',
  },
  {
    id: 'structured-metadata-disallowed',
    test: (_s, b) =>
      b.includes('structured metadata, but this feature is disallowed') ||
      b.includes('structured metadata too large') ||
      b.includes('too many structured metadata'),
    advice:
      'the target refuses structured metadata: set limits_config.allow_structured_metadata: true (schema v13 with tsdb), or raise max_structured_metadata_size / max_structured_metadata_entries_count',
  },
  {
    id: 'no-tenant',
    test: (s, b) => s === 401 && b.includes('no org id'),
    advice: 'the target runs with auth_enabled: pass --target-tenant (X-Scope-OrgID)',
  },
  {
    id: 'request-too-large',
    test: (s, b) => s === 413 || b.includes('request body too large') || b.includes('message larger than max'),
    advice:
      "lower --batch-bytes under the target's server.grpc_server_max_recv_msg_size and distributor max_recv_msg_size",
  },
];

export function classifyPushReject(status: number, body: string): PushReject {
  for (const r of RULES) if (r.test(status, body)) return { id: r.id, advice: r.advice };
  if (status === 401 || status === 403)
    return { id: `http-${status}`, advice: 'check the target credentials and tenant' };
  if (status === 404)
    return {
      id: 'http-404',
      advice: 'check the target URL: the base URL of Loki (the push path /loki/api/v1/push is added)',
    };
  return { id: `http-${status}`, advice: "see the target's answer above" };
}

/** The first line of Loki's answer, short enough for a one-line error. */
export function firstLine(body: string): string {
  const line = body.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 300 ? line.slice(0, 300) + '...' : line;
}
