/** Calling the outside world: one client, one header policy, one error table. */
export { UpstreamClient, type UpstreamRequest, type UpstreamResponse, type UpstreamServices, type UpstreamTarget } from './client.js';
export { UpstreamError, upstreamErrorOf, type UpstreamErrorKind } from './errors.js';
export { DEFAULT_REQUEST_HEADERS, forwardedRequestHeaders, isForwardable, passedResponseHeaders, requestHeaderAllowlist } from './headers.js';
export { ERROR_BODY_LIMIT, scrubbedError, writeScrubbedError, type ScrubbedError } from './error-body.js';
export { Scrubber } from './scrub.js';
