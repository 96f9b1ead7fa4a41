export { HttpClient, buildUrl, backoffDelay, parseRetryAfter, readBody, statusError, DEFAULT_RETRY, type RequestOptions, type HttpResponse, type RetryPolicy, type HttpStats, type Query } from './client.js';
export { HttpError, classifyNetworkError, type HttpErrorKind } from './errors.js';
