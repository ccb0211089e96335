/**
 * Errors that cross the HTTP edge are typed values: a handler throws (or returns) a `GateHttpError`
 * with a `kind`, and `statusOf(kind)` is the one place that maps kinds to status codes.
 * Policy denials are 403; gatekeeper faults (ledger, policy engine, upstream) are 503/502.
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'policy_denied'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'approval_pending'
  | 'gatekeeper_fault'
  | 'upstream_error'
  | 'upstream_timeout';

const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  policy_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
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
  return { error: { type: err.kind, message: err.message, ...err.details } };
}
