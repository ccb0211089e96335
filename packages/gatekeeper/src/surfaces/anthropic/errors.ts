/**
 * Anthropic-style errors (`{type: "error", error: {type, message}}`), so the Anthropic SDKs raise the gatekeeper's
 * reasons as their ordinary error classes (PermissionDeniedError, RateLimitError, ...). The gatekeeper's own
 * fields (the decision, its record id, the approval) ride along inside `error`.
 */
import type { ErrorKind, GateHttpError } from '../../http/errors.js';
import { encodeSse, type SseEvent } from '../../llm/sse.js';
import type { ScrubbedError } from '../../upstream/index.js';

const TYPE: Record<ErrorKind, string> = {
  bad_request: 'invalid_request_error',
  unauthenticated: 'authentication_error',
  forbidden: 'permission_error',
  policy_denied: 'permission_error',
  not_found: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  conflict: 'invalid_request_error',
  payload_too_large: 'request_too_large',
  unsupported_media_type: 'invalid_request_error',
  too_many_requests: 'rate_limit_error',
  approval_pending: 'permission_error',
  gatekeeper_fault: 'api_error',
  upstream_error: 'api_error',
  upstream_timeout: 'timeout_error',
};

export function anthropicErrorBody(err: GateHttpError): { type: 'error'; error: Record<string, unknown> } {
  return { type: 'error', error: { ...err.details, code: err.code ?? err.kind, type: TYPE[err.kind], message: err.message } };
}

/** An error inside a started stream: the SDKs throw it from the stream. */
export function anthropicErrorEvent(err: GateHttpError): SseEvent {
  const data = JSON.stringify(anthropicErrorBody(err));
  return { event: 'error', data, raw: encodeSse(data, 'error') };
}

/**
 * An upstream's error, scrubbed, as the SDK expects it: the upstream's own when it sent an Anthropic-shaped error,
 * else one naming the upstream and its status with the start of what it said.
 */
export function anthropicUpstreamError(e: ScrubbedError, upstream: string): unknown {
  const given = e.json as { type?: unknown; error?: { type?: unknown; message?: unknown } } | undefined;
  if (given?.type === 'error' && typeof given.error?.message === 'string' && typeof given.error.type === 'string') return given;
  const said = e.withheld ? ` (its message is withheld: ${e.withheld})` : e.body.trim() ? `: ${e.body.trim().slice(0, 1000)}` : '';
  return { type: 'error', error: { type: e.status === 429 ? 'rate_limit_error' : e.status >= 500 ? 'api_error' : 'invalid_request_error', message: `upstream "${upstream}" answered ${e.status}${said}` } };
}
