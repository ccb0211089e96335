/**
 * The `llm.request` action for an OpenAI-style request body: what policy decides before the call is
 * forwarded — model, tools offered, token limit, and a digest of the conversation (not the conversation).
 */
import { createHash } from 'node:crypto';
import { GateHttpError } from '../../http/errors.js';
import type { OagfAction } from '../../spec/index.js';
import type { Endpoint } from '../../llm/upstreams.js';

type Json = Record<string, unknown>;

export interface LlmRequestSummary {
  action: OagfAction;
  /** Number of messages / input items, and their digest, for `context.conversation`. */
  conversation: { messages: number; digest: string };
  /** The conversation itself, handed to the gate as the reasoning trace. */
  transcript: unknown;
}

export function summarizeRequest(endpoint: Endpoint, model: string, body: Json): LlmRequestSummary {
  if ('functions' in body || 'function_call' in body) {
    throw new GateHttpError('bad_request', 'the legacy `functions`/`function_call` parameters are not supported; use `tools`');
  }
  requireConversation(endpoint, body);
  const transcript = endpoint === 'chat/completions' ? body.messages : endpoint === 'responses' ? responsesTranscript(body) : undefined;
  const items = endpoint === 'embeddings' ? body.input : transcript;
  const count = Array.isArray(items) ? items.length : items === undefined ? 0 : 1;
  const args: Json = { endpoint };
  const tools = toolNames(body.tools);
  if (tools) args.tools = tools;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  if (typeof maxTokens === 'number') args.max_tokens = maxTokens;
  if (body.stream === true) args.stream = true;
  for (const key of ['tool_choice', 'temperature', 'n', 'reasoning_effort', 'previous_response_id'] as const) {
    if (body[key] !== undefined) args[key] = body[key];
  }
  const digest = `sha256:${createHash('sha256').update(JSON.stringify(items ?? null)).digest('hex')}`;
  args.messages = count;
  args.messages_digest = digest;
  return {
    action: { kind: 'llm.request', target: { model, path: `/v1/${endpoint}` }, arguments: args },
    conversation: { messages: count, digest },
    transcript,
  };
}

/**
 * The request must say what the model is to answer, in the shape the endpoint defines, before anything is decided
 * or sent: chat needs a non-empty `messages` array of objects; responses an `input` (text or items) unless it names
 * a reusable `prompt`; embeddings an `input`.
 */
function requireConversation(endpoint: Endpoint, body: Json): void {
  const refuse = (param: string, message: string) => {
    throw new GateHttpError('bad_request', message, { param });
  };
  if (endpoint === 'chat/completions') {
    const m = body.messages;
    if (m === undefined) refuse('messages', 'the request body needs "messages": the conversation to answer');
    if (!Array.isArray(m) || m.length === 0) refuse('messages', '"messages" must be a non-empty array of messages');
    if ((m as unknown[]).some((x) => x === null || typeof x !== 'object' || Array.isArray(x))) refuse('messages', 'every entry of "messages" must be a message object');
  } else if (endpoint === 'responses') {
    const input = body.input;
    if (input === undefined && (body.prompt === undefined || body.prompt === null)) refuse('input', 'the request body needs "input" (text or input items), or a reusable "prompt"');
    if (input !== undefined && typeof input !== 'string' && !Array.isArray(input)) refuse('input', '"input" must be text or an array of input items');
  } else if (endpoint === 'embeddings') {
    const input = body.input;
    if (input === undefined) refuse('input', 'the request body needs "input": the text to embed');
    if (typeof input !== 'string' && !Array.isArray(input)) refuse('input', '"input" must be text or an array');
  }
}

function responsesTranscript(body: Json): unknown {
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  return typeof body.instructions === 'string' ? [{ role: 'system', content: body.instructions }, ...(Array.isArray(input) ? input : [])] : input;
}

/** Names of the tools offered: function names, or the tool type for built-in tools (web_search, ...). */
function toolNames(tools: unknown): string[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  return tools.map((t: Json) => {
    const fn = t.function as Json | undefined;
    if (fn && typeof fn.name === 'string') return fn.name;
    if (typeof t.name === 'string') return t.name;
    return String(t.type ?? 'unknown');
  });
}
