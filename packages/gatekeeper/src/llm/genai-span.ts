/**
 * The OpenTelemetry GenAI semantic conventions for one model call through the gatekeeper: a CLIENT span named
 * "{operation} {model}" with the request's model and limits, and — once the call is done — the upstream that
 * answered, the response model, finish reasons and token usage. Everything the gatekeeper decides during the call
 * (each proposed tool call) is a child of it.
 */
import type { Executed } from '../gate/index.js';
import type { SpanHandle, Telemetry } from '../telemetry/index.js';
import type { Flavor, Upstream } from './upstreams.js';

type Json = Record<string, unknown>;

export interface GenAiCall {
  operation: 'chat' | 'embeddings';
  model: string;
  request: Json;
  /** The route's upstreams: the span names the one that answered (facts.upstream), else the first. */
  upstreams: Upstream[];
}

const PROVIDER: Record<Flavor, string> = { openai: 'openai', azure: 'azure.ai.openai', anthropic: 'anthropic' };

export function inGenAiSpan<T>(telemetry: Telemetry, call: GenAiCall, run: () => Promise<Executed<T>>): Promise<Executed<T>> {
  if (!telemetry.enabled) return run();
  const { request } = call;
  const attributes: Record<string, string | number | boolean> = {
    'gen_ai.operation.name': call.operation,
    'gen_ai.request.model': call.model,
    ...upstreamAttributes(call.upstreams[0]!),
  };
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? request.max_output_tokens;
  if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
  if (request.stream === true) attributes['gen_ai.request.stream'] = true;
  return telemetry.inSpan(`${call.operation} ${call.model}`, 'client', attributes, async (span) => {
    const executed = await run();
    annotate(span, executed, call.upstreams);
    return executed;
  });
}

function upstreamAttributes(upstream: Upstream): Record<string, string> {
  return { 'gen_ai.provider.name': PROVIDER[upstream.flavor], 'server.address': new URL(upstream.client.origin).hostname, 'oagf.upstream': upstream.name };
}

function annotate(span: SpanHandle, executed: Executed<unknown>, upstreams: Upstream[]): void {
  const facts = (executed.facts ?? {}) as Json;
  const usage = (facts.usage ?? {}) as Json;
  // Anthropic counts cache reads and writes apart from input_tokens; the convention counts them as input.
  const input = usage.prompt_tokens ?? sumOf([usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens]);
  const output = usage.completion_tokens ?? usage.output_tokens;
  const answered = upstreams.find((u) => u.name === facts.upstream);
  span.set({
    ...(answered ? upstreamAttributes(answered) : {}),
    ...(typeof input === 'number' ? { 'gen_ai.usage.input_tokens': input } : {}),
    ...(typeof output === 'number' ? { 'gen_ai.usage.output_tokens': output } : {}),
    ...(typeof facts.response_model === 'string' ? { 'gen_ai.response.model': facts.response_model } : {}),
    ...(typeof facts.response_id === 'string' ? { 'gen_ai.response.id': facts.response_id } : {}),
    ...(Array.isArray(facts.finish_reasons) ? { 'gen_ai.response.finish_reasons': facts.finish_reasons as string[] } : {}),
    ...(typeof facts.status === 'number' ? { 'http.response.status_code': facts.status } : {}),
  });
  if ('release' in executed.settlement) span.set({ 'oagf.released': executed.settlement.release });
}

function sumOf(values: unknown[]): number | undefined {
  const numbers = values.filter((v): v is number => typeof v === 'number');
  return typeof values[0] === 'number' ? numbers.reduce((a, b) => a + b, 0) : undefined;
}
