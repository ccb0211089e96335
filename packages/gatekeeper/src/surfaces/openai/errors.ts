/** OpenAI-style error bodies, so SDKs surface the gatekeeper's reason as an ordinary API error. */
import type { GateHttpError } from '../../http/errors.js';
import type { ScrubbedError } from '../../upstream/index.js';
import { encodeSse } from '../../llm/sse.js';

export function openAIErrorBody(err: GateHttpError): { error: Record<string, unknown> } {
  return { error: { message: err.message, type: err.kind, code: err.code ?? err.kind, param: null, ...err.details } };
}

/**
 * An error inside an already-started stream. The `error` key makes the openai SDK throw an APIError;
 * `type`/`code`/`message` at the top level match the Responses API's own `error` event.
 */
export function sseErrorEvent(err: GateHttpError, sequenceNumber?: number): Uint8Array {
  return encodeSse(sseErrorData(err, sequenceNumber), 'error');
}

/** The data of that event. */
export function sseErrorData(err: GateHttpError, sequenceNumber?: number): string {
  const data: Record<string, unknown> = { type: 'error', code: err.kind, message: err.message, param: null, ...openAIErrorBody(err) };
  if (sequenceNumber !== undefined) data.sequence_number = sequenceNumber;
  return JSON.stringify(data);
}

/**
 * An upstream's error, scrubbed (upstream/error-body.ts), as the OpenAI error an SDK expects: the upstream's own
 * `message`, `type`, `code` and `param` when it sent an OpenAI-shaped error, else a message naming the upstream
 * and its status with the start of what it said.
 */
export function upstreamErrorBody(e: ScrubbedError, upstream: string): { error: Record<string, unknown> } {
  const given = (e.json as { error?: unknown } | undefined)?.error;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? v : null);
  if (given && typeof given === 'object' && typeof (given as Record<string, unknown>).message === 'string') {
    const g = given as Record<string, unknown>;
    return { error: { message: g.message, type: text(g.type) ?? 'upstream_error', code: text(g.code), param: text(g.param) } };
  }
  const said = e.withheld ? ` (its message is withheld: ${e.withheld})` : e.body.trim() ? `: ${e.body.trim().slice(0, 1000)}` : '';
  return { error: { message: `upstream "${upstream}" answered ${e.status}${said}`, type: 'upstream_error', code: null, param: null } };
}
