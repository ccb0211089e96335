/**
 * The OpenTelemetry GenAI semantic conventions for one model call through the gatekeeper: a CLIENT span named
 * "{operation} {model}" with the request's model and limits, and — once the call is done — the response model,
 * finish reasons and token usage. Everything the gatekeeper decides during the call (each proposed tool call) is
 * a child of it.
 */
import type { Executed } from '../../gate/index.js';
import type { SpanHandle, Telemetry } from '../../telemetry/index.js';
import type { Endpoint, Upstream } from './upstreams.js';

type Json = Record<string, unknown>;

const OPERATION: Record<Endpoint, string> = { 'chat/completions': 'chat', responses: 'chat', embeddings: 'embeddings' };

export function inGenAiSpan<T>(
  telemetry: Telemetry,
  endpoint: Endpoint,
  model: string,
  request: Json,
  upstream: Upstream,
  run: () => Promise<Executed<T>>,
): Promise<Executed<T>> {
  if (!telemetry.enabled) return run();
  const operation = OPERATION[endpoint];
  const attributes: Record<string, string | number | boolean> = {
    'gen_ai.operation.name': operation,
    'gen_ai.provider.name': upstream.flavor === 'azure' ? 'azure.ai.openai' : 'openai',
    'gen_ai.request.model': model,
    'server.address': new URL(upstream.client.origin).hostname,
    'oagf.upstream': upstream.name,
  };
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? request.max_output_tokens;
  if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
  if (request.stream === true) attributes['gen_ai.request.stream'] = true;
  return telemetry.inSpan(`${operation} ${model}`, 'client', attributes, async (span) => {
    const executed = await run();
    annotate(span, executed);
    return executed;
  });
}

function annotate(span: SpanHandle, executed: Executed<unknown>): void {
  const facts = (executed.facts ?? {}) as Json;
  const usage = (facts.usage ?? {}) as Json;
  const input = usage.prompt_tokens ?? usage.input_tokens;
  const output = usage.completion_tokens ?? usage.output_tokens;
  span.set({
    ...(typeof input === 'number' ? { 'gen_ai.usage.input_tokens': input } : {}),
    ...(typeof output === 'number' ? { 'gen_ai.usage.output_tokens': output } : {}),
    ...(typeof facts.response_model === 'string' ? { 'gen_ai.response.model': facts.response_model } : {}),
    ...(typeof facts.response_id === 'string' ? { 'gen_ai.response.id': facts.response_id } : {}),
    ...(Array.isArray(facts.finish_reasons) ? { 'gen_ai.response.finish_reasons': facts.finish_reasons as string[] } : {}),
    ...(typeof facts.status === 'number' ? { 'http.response.status_code': facts.status } : {}),
  });
  if ('release' in executed.settlement) span.set({ 'oagf.released': executed.settlement.release });
}
