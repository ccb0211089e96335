/** Upstream failures as one set of kinds, whatever the transport said; each maps to one HTTP error. */
import { GateHttpError } from '../http/errors.js';

export type UpstreamErrorKind = 'timeout' | 'unreachable' | 'too_large' | 'aborted' | 'failed';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  toHttp(details?: Record<string, unknown>): GateHttpError {
    return new GateHttpError(this.kind === 'timeout' ? 'upstream_timeout' : 'upstream_error', this.message, details);
  }
}

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Classifies by error code (undici's and the OS's), not by class or message text. */
export function upstreamErrorOf(upstream: { name: string; timeoutMs: number }, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = codeOf(err);
  if (TIMEOUTS.has(code)) return new UpstreamError('timeout', `upstream "${upstream.name}" did not answer within ${upstream.timeoutMs} ms`);
  if (code === 'UND_ERR_ABORTED' || (err as Error)?.name === 'AbortError') return new UpstreamError('aborted', `the call to upstream "${upstream.name}" was cancelled`);
  if (UNREACHABLE.has(code)) return new UpstreamError('unreachable', `upstream "${upstream.name}" is unreachable (${code})`);
  return new UpstreamError('failed', `upstream "${upstream.name}" failed: ${(err as Error)?.message ?? String(err)}`);
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return String(e?.code ?? e?.cause?.code ?? '');
}
