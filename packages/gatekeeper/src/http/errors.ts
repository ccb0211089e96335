/**
 * Errors that cross the HTTP edge are typed values: a handler throws (or returns) a `GateHttpError` with a
 * `kind`, and `statusOf(kind)` is the one place in the gatekeeper (console included) that maps kinds to status
 * codes. Policy denials are 403; gatekeeper faults (ledger, policy engine) 503; upstream failures 502/504.
 */
import type { Refusal } from '../gate/index.js';

export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'policy_denied'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'approval_pending'
  | 'gatekeeper_fault'
  | 'upstream_error'
  | 'upstream_timeout';

const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  policy_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  approval_pending: 202,
  gatekeeper_fault: 503,
  upstream_error: 502,
  upstream_timeout: 504,
};

export function statusOf(kind: ErrorKind): number {
  return STATUS[kind];
}

export class GateHttpError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Extra JSON fields for the error body (e.g. the decision, the record id). */
    readonly details?: Record<string, unknown>,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
    /** A more specific code than the kind, shown as the error's type (e.g. an approval error's "self_approval"). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'GateHttpError';
  }

  get status(): number {
    return statusOf(this.kind);
  }
}

/** The JSON body every non-OpenAI surface returns for an error. */
export function errorBody(err: GateHttpError): Record<string, unknown> {
  return { error: { type: err.code ?? err.kind, message: err.message, ...err.details } };
}

/** A refusal from the gate, as the HTTP error every HTTP surface answers with. */
export function refusalError(r: Refusal): GateHttpError {
  const details = { decision: r.decision, record_id: r.recordId, ...(r.index !== undefined ? { index: r.index } : {}) };
  switch (r.kind) {
    case 'unauthenticated':
      return new GateHttpError('unauthenticated', r.message, details);
    case 'fault':
      return new GateHttpError('gatekeeper_fault', r.message, details);
    case 'approval_pending': {
      const { id, retryAfterSeconds } = r.approval!;
      // Location: where the agent asks how the approval stands, instead of resending its action.
      const headers = { location: `/v1/approvals/${encodeURIComponent(id)}`, ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}) };
      return new GateHttpError('approval_pending', r.message, { ...details, approval_id: id, status_url: headers.location }, headers);
    }
    case 'rate_limited':
      return new GateHttpError('too_many_requests', r.message, details, { 'retry-after': String(r.retryAfterSeconds ?? 1) }, 'rate_limit_exceeded');
    case 'denied':
    case 'approval_required':
      return new GateHttpError('policy_denied', r.message, details);
  }
}
