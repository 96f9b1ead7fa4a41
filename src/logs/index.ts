export {
  parseStreamSelector,
  renderStreamSelector,
  exactSelector,
  countByStreamQuery,
  logQuery,
  logqlDuration,
  type LogMatcher,
  type LogMatchOp,
} from './logql.js';
export {
  groupStreams,
  streamKey,
  formatStream,
  normaliseSource,
  normaliseTarget,
  targetSelector,
  entryKey,
  TARGET_DISCOVERED_LABELS,
  DISCOVERED_METADATA,
  type StreamMapping,
  type StreamGroup,
} from './streams.js';
export { readStream, readLines, type StreamPage } from './page.js';
export {
  runLogsCopy,
  alignRange,
  LOGS_COPY_DEFAULTS,
  type LogsCopyOptions,
  type LogsCopyReport,
  type CopyProgress,
} from './copy.js';
export { CopyState, LOGS_COPY_MIGRATION } from './copy-state.js';
export { classifyPushReject, type PushReject } from './rejects.js';
export {
  verifyLogs,
  LOGS_VERIFY_DEFAULTS,
  type LogsVerifyOptions,
  type LogsVerifyReport,
  type WindowDiff,
  type LineDiff,
} from './verify.js';
export {
  renderLogsVerifyText,
  renderLogsVerifyMarkdown,
  renderLogsCopyText,
  renderLogsCopyMarkdown,
} from './render.js';
export { generateLogs, type LogSpec, type GeneratedLogs } from './generate.js';
