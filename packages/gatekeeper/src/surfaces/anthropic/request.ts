/**
 * The `llm.request` action for a Messages API body: model, token limit, the tools offered (client tools by name,
 * Anthropic's own tools by type too), extended thinking, remote MCP servers Anthropic would call, the API version and
 * beta features the agent asks for (`anthropic-version`, `anthropic-beta`), and a digest of the conversation (not
 * the conversation). A body that does not say what to
 * answer is refused before anything is decided.
 */
import { createHash } from 'node:crypto';
import { GateHttpError } from '../../http/errors.js';
import type { OagfAction } from '../../spec/index.js';

type Json = Record<string, unknown>;

export interface MessagesSummary {
  action: OagfAction;
  conversation: { messages: number; digest: string };
  /** The conversation as chat-style messages (system first), handed to the gate as the reasoning trace. */
  transcript: ChatMessage[];
}

/** The message shape reasoning traces and prompt estimates read (OpenAI chat's, which the other surfaces hand over). */
export interface ChatMessage {
  role: string;
  content?: unknown;
  reasoning_content?: string;
  tool_calls?: { id?: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export function summarizeMessages(model: string, body: Json, headers: { version?: string; betas: string[] }): MessagesSummary {
  requireMessages(body);
  const messages = body.messages as Json[];
  const args: Json = { endpoint: 'messages', max_tokens: body.max_tokens };
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : undefined;
  if (tools) {
    args.tools = tools.map((t) => String(t?.name ?? t?.type ?? 'unknown'));
    const builtin = tools.filter((t) => typeof t?.type === 'string' && t.type !== 'custom').map((t) => t.type as string);
    if (builtin.length) args.builtin_tools = builtin;
  }
  if (body.stream === true) args.stream = true;
  for (const key of ['tool_choice', 'temperature', 'top_p', 'top_k', 'thinking', 'service_tier'] as const) {
    if (body[key] !== undefined) args[key] = body[key];
  }
  if (Array.isArray(body.mcp_servers)) args.mcp_servers = (body.mcp_servers as Json[]).map((s) => ({ name: s?.name, url: s?.url }));
  if (headers.version !== undefined) args.api_version = headers.version;
  if (headers.betas.length) args.betas = headers.betas;
  const digest = `sha256:${createHash('sha256').update(JSON.stringify({ system: body.system ?? null, messages })).digest('hex')}`;
  args.messages = messages.length;
  args.messages_digest = digest;
  return {
    action: { kind: 'llm.request', target: { model, path: '/v1/messages' }, arguments: args },
    conversation: { messages: messages.length, digest },
    transcript: chatTranscript(body.system, messages),
  };
}

function requireMessages(body: Json): void {
  const refuse = (message: string) => {
    throw new GateHttpError('bad_request', message);
  };
  const max = body.max_tokens;
  if (max === undefined) refuse('max_tokens: Field required');
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) refuse('max_tokens: must be a positive integer');
  const m = body.messages;
  if (m === undefined) refuse('messages: Field required');
  if (!Array.isArray(m) || m.length === 0) refuse('messages: must be a non-empty array of messages');
  (m as unknown[]).forEach((x, i) => {
    const role = (x as Json | null)?.role;
    if (x === null || typeof x !== 'object' || Array.isArray(x)) refuse(`messages.${i}: must be a message object`);
    if (role !== 'user' && role !== 'assistant') refuse(`messages.${i}.role: must be "user" or "assistant"`);
    const content = (x as Json).content;
    if (typeof content !== 'string' && !Array.isArray(content)) refuse(`messages.${i}.content: must be text or an array of content blocks`);
  });
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) refuse('system: must be text or an array of text blocks');
}

/**
 * Claude's messages as chat-style messages: text and other blocks stay in `content` (so every byte of the prompt
 * is counted by the budgets' estimate), thinking becomes `reasoning_content`, `tool_use` blocks `tool_calls`, and
 * each `tool_result` a `tool` message of its own.
 */
export function chatTranscript(system: unknown, messages: Json[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (system !== undefined) out.push({ role: 'system', content: system });
  for (const m of messages) {
    const role = String(m.role);
    if (!Array.isArray(m.content)) {
      out.push({ role, content: m.content });
      continue;
    }
    const content: unknown[] = [];
    const reasoning: string[] = [];
    const calls: NonNullable<ChatMessage['tool_calls']> = [];
    for (const block of m.content as Json[]) {
      if (block?.type === 'tool_result') {
        out.push({ role: 'tool', content: block.content ?? '', ...(typeof block.tool_use_id === 'string' ? { tool_call_id: block.tool_use_id } : {}) });
      } else if (block?.type === 'thinking' && typeof block.thinking === 'string') {
        reasoning.push(block.thinking);
      } else if (block?.type === 'tool_use') {
        calls.push({ ...(typeof block.id === 'string' ? { id: block.id } : {}), type: 'function', function: { name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) } });
      } else {
        content.push(block);
      }
    }
    if (content.length === 0 && reasoning.length === 0 && calls.length === 0) continue;
    out.push({ role, content, ...(reasoning.length ? { reasoning_content: reasoning.join('\n') } : {}), ...(calls.length ? { tool_calls: calls } : {}) });
  }
  return out;
}
