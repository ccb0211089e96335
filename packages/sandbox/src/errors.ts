/** Errors the sandbox raises before or instead of running code; `code` is stable for callers to map. */
export type SandboxErrorCode =
  | 'invalid_request'
  | 'driver_unavailable'
  | 'limits_unenforceable'
  | 'queue_full'
  | 'cancelled'
  | 'closed';

export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}
