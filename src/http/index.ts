export {
  HttpClient,
  buildUrl,
  readBody,
  statusError,
  type RequestOptions,
  type HttpResponse,
  type HttpStats,
  type Query,
} from './client.js';
export { HttpError, classifyNetworkError, networkError, type HttpErrorKind, type NetworkErrorClass } from './errors.js';
export {
  DEFAULT_RETRY,
  STOP_GRACE_MS,
  afterGrace,
  backoffDelay,
  deadlineAfter,
  isKnownAppendError,
  isRetryableError,
  isRetryableStatus,
  nextWait,
  parseRetryAfter,
  sleep,
  withRetries,
  type RetryOptions,
  type RetryPolicy,
  type WaitDecision,
  type WaitInput,
} from './retry.js';
