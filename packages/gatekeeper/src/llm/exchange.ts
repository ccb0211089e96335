/**
 * What every LLM surface shares around one judged call: its dependencies, built the same way from `llm:`, and the
 * send — the judged request to the model's route (retries and fallbacks: dispatch.ts), an upstream's own error
 * passed on scrubbed in the surface's error format (nothing was spent), or the answer to gate.
 */
import type { ServerResponse } from 'node:http';
import type { LlmConfig, LlmRetry } from '../config/schema.js';
import type { Executed } from '../gate/index.js';
import type { JsonLimits } from '../json/strict.js';
import type { SurfaceDeps } from '../surface.js';
import { scrubbedError, upstreamErrorOf, type ScrubbedError, type UpstreamRequest, type UpstreamResponse } from '../upstream/index.js';
import { dispatch, type Dispatched } from './dispatch.js';
import type { ToolCallPolicy } from './tool-judge.js';
import type { ModelRouter, Upstream } from './upstreams.js';

export interface LlmSurfaceDeps {
  surface: Pick<SurfaceDeps, 'gate' | 'auth' | 'telemetry' | 'logger'>;
  models: ModelRouter;
  retry: LlmRetry;
  toolCalls: ToolCallPolicy;
  limits: JsonLimits;
  /** Request bodies above this many bytes are refused (413). */
  bodyLimit?: number;
}

export function llmSurfaceDeps(deps: SurfaceDeps, llm: LlmConfig, models: ModelRouter): LlmSurfaceDeps {
  return {
    surface: deps,
    models,
    retry: llm.retry,
    toolCalls: { onDeny: llm.denied_tool_call, unknownItems: llm.unknown_items },
    limits: deps.limits,
    bodyLimit: deps.bodyLimit,
  };
}

export interface SendOptions {
  deps: LlmSurfaceDeps;
  model: string;
  abort: AbortController;
  res: ServerResponse;
  /** The agent went away: a failure to send is then no error to answer. */
  clientGone: () => boolean;
  /** The upstream's scrubbed error in the surface's format. */
  errorBody: (error: ScrubbedError, upstream: string) => unknown;
}

/** The answer to gate, from the upstream that gave it, with the outcome record's facts so far. */
export interface Answered {
  answer: UpstreamResponse;
  upstream: Upstream;
  facts: Record<string, unknown>;
}

/** Sends the judged request; returns the answer to gate, or the execution's end when there is nothing to gate. */
export async function sendJudged(route: Upstream[], request: (upstream: Upstream) => UpstreamRequest, o: SendOptions): Promise<Answered | { done: Executed<undefined> }> {
  let sent: Dispatched;
  try {
    sent = await dispatch(route, request, {
      retry: o.deps.retry,
      signal: o.abort.signal,
      onRetry: (failed, next) => o.deps.surface.logger.warn({ failed, next, model: o.model }, 'LLM upstream failed; trying again'),
    });
  } catch (err) {
    if (o.clientGone()) return { done: { value: undefined, settlement: { release: 'client closed the connection' } } };
    throw upstreamErrorOf(route.at(-1)!.client, err).toHttp();
  }
  const { answer, upstream } = sent;
  const facts = { status: answer.status, upstream: upstream.name, ...(sent.failed.length ? { failed_attempts: sent.failed } : {}) };
  if (answer.status < 400) return { answer, upstream, facts };
  // The upstream's error, scrubbed of the gatekeeper's credentials, with its status; nothing was spent.
  const scrubbed = await scrubbedError(upstream.client, answer);
  const text = JSON.stringify(o.errorBody(scrubbed, upstream.name));
  o.res.writeHead(answer.status, { ...scrubbed.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  o.res.end(text);
  return { done: { value: undefined, settlement: { release: `upstream answered ${answer.status}` }, facts } };
}
