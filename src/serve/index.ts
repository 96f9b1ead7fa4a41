/**
 * `stackshift migrate serve`: the live state of a migration (a page updated over server-sent events, the
 * state as JSON, the tool's own /metrics for Prometheus), read-only from the state file a `migrate run` writes.
 */
export { StatusServer, SERVE_DEFAULTS, type StatusServerOptions, type StateMessage } from './server.js';
export { parseListen, DEFAULT_LISTEN, type ListenAddress } from './listen.js';
export {
  StateReader,
  RECENT_EVENTS,
  type LiveStatus,
  type StepLive,
  type BackfillLive,
  type PhaseNames,
} from './reader.js';
export { UNIT_SECONDS_BUCKETS } from './metrics.js';
