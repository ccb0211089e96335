/**
 * A fake Anthropic Messages API for tests: it checks credentials as Anthropic does (`x-api-key`, `anthropic-version`,
 * 401 `authentication_error` otherwise), replays scripted replies, and records what it received. Builders give
 * messages and the event stream of one in Anthropic's shapes.
 */
import { ScriptedUpstream, type Received, type Reply } from './scripted-upstream.js';

type Json = Record<string, unknown>;

export class AnthropicUpstream extends ScriptedUpstream {
  constructor(readonly apiKey: string) {
    super();
    this.precheck = (r: Received): Reply | undefined => {
      if (r.headers['x-api-key'] !== apiKey) return anthropicError(401, 'authentication_error', 'invalid x-api-key');
      if (!r.headers['anthropic-version']) return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required');
      if (r.url !== '/v1/messages') return anthropicError(404, 'not_found_error', `Not found: ${r.url}`);
      return undefined;
    };
  }
}

export function anthropicError(status: number, type: string, message: string): Reply {
  return { json: { type: 'error', error: { type, message }, request_id: 'req_fake' }, status };
}

export type Block =
  | { text: string }
  | { thinking: string }
  | { tool: string; input: unknown; id?: string }
  | { raw: Json };

const USAGE = { input_tokens: 120, cache_creation_input_tokens: 0, cache_read_input_tokens: 30, output_tokens: 45 };

function blockOf(b: Block, i: number): Json {
  if ('text' in b) return { type: 'text', text: b.text };
  if ('thinking' in b) return { type: 'thinking', thinking: b.thinking, signature: 'sig_fake' };
  if ('tool' in b) return { type: 'tool_use', id: b.id ?? `toolu_${i}`, name: b.tool, input: b.input };
  return b.raw;
}

export function message(opts: { model?: string; blocks: Block[]; stop?: string; usage?: Json }): Json {
  const content = opts.blocks.map(blockOf);
  return {
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model: opts.model ?? 'claude-test',
    content,
    stop_reason: opts.stop ?? (content.some((c) => c.type === 'tool_use') ? 'tool_use' : 'end_turn'),
    stop_sequence: null,
    usage: opts.usage ?? USAGE,
  };
}

/** The events of a streamed message, as Anthropic sends them: tool input in `pieces` input_json_delta pieces. */
export function messageEvents(opts: { model?: string; blocks: Block[]; stop?: string; pieces?: number; usage?: Json }): Json[] {
  const final = message(opts);
  const usage = (final.usage ?? USAGE) as Json;
  const events: Json[] = [
    { type: 'message_start', message: { ...final, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } },
    { type: 'ping' },
  ];
  (final.content as Json[]).forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of split(String(block.text), 2)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else if (block.type === 'thinking') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: block.thinking } });
      events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } });
    } else if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      for (const piece of split(JSON.stringify(block.input), opts.pieces ?? 3)) events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    } else {
      events.push({ type: 'content_block_start', index, content_block: block });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({ type: 'message_delta', delta: { stop_reason: final.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  events.push({ type: 'message_stop' });
  return events;
}

function split(text: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
