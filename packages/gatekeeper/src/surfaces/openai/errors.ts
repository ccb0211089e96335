/** OpenAI-style error bodies, so SDKs surface the gatekeeper's reason as an ordinary API error. */
import { GateHttpError } from '../../http/errors.js';
import { encodeSse } from './sse.js';

export function openAIErrorBody(err: GateHttpError): { error: Record<string, unknown> } {
  return { error: { message: err.message, type: err.kind, code: err.code ?? err.kind, param: null, ...err.details } };
}

/**
 * An error inside an already-started stream. The `error` key makes the openai SDK throw an APIError;
 * `type`/`code`/`message` at the top level match the Responses API's own `error` event.
 */
export function sseErrorEvent(err: GateHttpError, sequenceNumber?: number): Uint8Array {
  const body = openAIErrorBody(err);
  const data: Record<string, unknown> = { type: 'error', code: err.kind, message: err.message, param: null, ...body };
  if (sequenceNumber !== undefined) data.sequence_number = sequenceNumber;
  return encodeSse(JSON.stringify(data), 'error');
}

/** Anything that is not already a GateHttpError is a gatekeeper fault: fail closed. */
export function asGateHttpError(err: unknown): GateHttpError {
  if (err instanceof GateHttpError) return err;
  return new GateHttpError('gatekeeper_fault', `gatekeeper fault: ${(err as Error)?.message ?? String(err)}`);
}
