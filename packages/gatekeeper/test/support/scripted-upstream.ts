/**
 * An OpenAI-compatible server for tests that replays scripted replies and records what it received.
 * Streams are written in pieces cut at chosen byte offsets (inside UTF-8 sequences, inside `data:` lines,
 * inside tool-call argument JSON), each piece flushed separately.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Json;
  /** The body exactly as received. */
  text: string;
}

export type Reply =
  | { json: unknown; status?: number; delayMs?: number; headers?: Record<string, string> }
  /** SSE events: objects become `data: <json>`; `event` names them (Responses API); strings are raw data. */
  | { sse: (Json | string)[]; named?: boolean; cut?: Cut; done?: boolean; failAfterBytes?: number }
  | { hang: true };

/** Where to cut a stream's bytes: every n bytes, or at explicit offsets. */
export type Cut = { every: number } | { at: number[] } | 'none';

export type Script = (request: Received) => Reply;

export class ScriptedUpstream {
  readonly received: Received[] = [];
  private readonly queue: Script[] = [];
  private server: Server | undefined;
  /** Checked before the queue (e.g. credentials): a reply here answers the request without using a scripted one. */
  precheck: (request: Received) => Reply | undefined = () => undefined;
  /** Reply for requests with nothing queued. */
  fallback: Script = () => ({ json: { error: { message: 'no scripted reply', type: 'test' } }, status: 500 });

  /** Queues replies, used in order, one per request. */
  enqueue(...scripts: (Script | Reply)[]): this {
    for (const s of scripts) this.queue.push(typeof s === 'function' ? s : () => s);
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const received: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? (JSON.parse(text) as Json) : {}, text };
        this.received.push(received);
        const refused = this.precheck(received);
        if (refused) return void this.reply(res, refused);
        const script = this.queue.shift() ?? this.fallback;
        void this.reply(res, script(received));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async reply(res: ServerResponse, reply: Reply): Promise<void> {
    if ('hang' in reply) return;
    if ('json' in reply) {
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      const text = JSON.stringify(reply.json);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': 'req_scripted', ...reply.headers });
      res.end(text);
      return;
    }
    const bytes = Buffer.from(serializeSse(reply.sse, reply.named ?? false, reply.done ?? !reply.named), 'utf8');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'req_scripted' });
    res.socket?.setNoDelay(true); // each piece its own packet, without Nagle's delays
    res.flushHeaders();
    const limit = reply.failAfterBytes ?? bytes.length;
    for (const piece of cutBytes(bytes.subarray(0, limit), reply.cut ?? { every: 7 })) {
      res.write(piece);
      await new Promise((r) => setImmediate(r));
    }
    if (reply.failAfterBytes !== undefined) res.destroy();
    else res.end();
  }
}

export function serializeSse(events: (Json | string)[], named: boolean, done: boolean): string {
  let out = '';
  for (const e of events) {
    if (typeof e === 'string') out += `data: ${e}\n\n`;
    else out += `${named ? `event: ${String(e.type)}\n` : ''}data: ${JSON.stringify(e)}\n\n`;
  }
  return done ? `${out}data: [DONE]\n\n` : out;
}

export function cutBytes(bytes: Uint8Array, cut: Cut): Uint8Array[] {
  if (cut === 'none') return [bytes];
  const points = 'every' in cut ? Array.from({ length: Math.floor(bytes.length / cut.every) }, (_, i) => (i + 1) * cut.every) : cut.at;
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points].sort((a, b) => a - b)) {
    if (p <= at || p >= bytes.length) continue;
    pieces.push(bytes.subarray(at, p));
    at = p;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

// ---- Reply builders in OpenAI's shapes ----

export interface ScriptedToolCall {
  name: string;
  arguments: string;
  id?: string;
}

const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

export function chatCompletion(opts: { model?: string; content?: string | null; toolCalls?: ScriptedToolCall[]; extra?: Json }): Json {
  const toolCalls = (opts.toolCalls ?? []).map((c, i) => ({ id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return {
    id: 'chatcmpl-scripted',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: opts.model ?? 'gpt-test',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: opts.content ?? null, refusal: null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}), ...opts.extra },
        logprobs: null,
        finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
      },
    ],
    usage: USAGE,
  };
}

/**
 * Chunks of a streamed chat completion: content pieces, then each tool call as a header delta followed by
 * its arguments in `argPieces` pieces; the usage chunk only when the request asked for it (as OpenAI does).
 */
export function chatChunks(
  request: Received,
  opts: { model?: string; content?: string[]; reasoning?: string[]; toolCalls?: ScriptedToolCall[]; argPieces?: number },
): Json[] {
  const base = { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1_700_000_000, model: opts.model ?? 'gpt-test', system_fingerprint: 'fp_test' };
  const chunk = (delta: Json, finish: string | null = null): Json => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out: Json[] = [chunk({ role: 'assistant', content: '' })];
  for (const r of opts.reasoning ?? []) out.push(chunk({ reasoning_content: r }));
  for (const c of opts.content ?? []) out.push(chunk({ content: c }));
  (opts.toolCalls ?? []).forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: call.id ?? `call_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of splitText(call.arguments, opts.argPieces ?? 3)) {
      out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  out.push(chunk({}, opts.toolCalls?.length ? 'tool_calls' : 'stop'));
  const options = request.body.stream_options as Json | undefined;
  if (options?.include_usage) out.push({ ...base, choices: [], usage: USAGE });
  return out;
}

function splitText(text: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

const RESPONSE_USAGE = { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 };

function responseItems(opts: { text?: string; toolCalls?: ScriptedToolCall[] }): Json[] {
  const items: Json[] = [];
  if (opts.text !== undefined) {
    items.push({ type: 'message', id: 'msg_0', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: opts.text, annotations: [] }] });
  }
  (opts.toolCalls ?? []).forEach((c, i) => {
    items.push({ type: 'function_call', id: `fc_${i}`, call_id: c.id ?? `call_${i}`, name: c.name, arguments: c.arguments, status: 'completed' });
  });
  return items;
}

export function responseObject(opts: { model?: string; text?: string; toolCalls?: ScriptedToolCall[] }): Json {
  return {
    id: 'resp_scripted',
    object: 'response',
    created_at: 1_700_000_000,
    status: 'completed',
    model: opts.model ?? 'gpt-test',
    output: responseItems(opts),
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: RESPONSE_USAGE,
  };
}

/** Events of a streamed response, in the order OpenAI sends them, with sequence numbers. */
export function responseEvents(opts: { model?: string; text?: string[]; toolCalls?: ScriptedToolCall[]; argPieces?: number }): Json[] {
  const final = responseObject({ model: opts.model, text: opts.text?.join(''), toolCalls: opts.toolCalls });
  const inProgress = { ...final, status: 'in_progress', output: [], usage: null };
  const events: Json[] = [
    { type: 'response.created', response: inProgress },
    { type: 'response.in_progress', response: inProgress },
  ];
  let outputIndex = 0;
  if (opts.text) {
    const at = { item_id: 'msg_0', output_index: outputIndex, content_index: 0 };
    const full = opts.text.join('');
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { type: 'message', id: 'msg_0', status: 'in_progress', role: 'assistant', content: [] } });
    events.push({ type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } });
    for (const t of opts.text) events.push({ type: 'response.output_text.delta', ...at, delta: t });
    events.push({ type: 'response.output_text.done', ...at, text: full });
    events.push({ type: 'response.content_part.done', ...at, part: { type: 'output_text', text: full, annotations: [] } });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item: (final.output as Json[])[0] });
    outputIndex++;
  }
  (opts.toolCalls ?? []).forEach((c, i) => {
    const item = (final.output as Json[])[outputIndex] as Json;
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, arguments: '', status: 'in_progress' } });
    for (const piece of splitText(c.arguments, opts.argPieces ?? 3)) {
      events.push({ type: 'response.function_call_arguments.delta', item_id: `fc_${i}`, output_index: outputIndex, delta: piece });
    }
    events.push({ type: 'response.function_call_arguments.done', item_id: `fc_${i}`, output_index: outputIndex, arguments: c.arguments });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
    outputIndex++;
  });
  events.push({ type: 'response.completed', response: final });
  return events.map((e, i) => ({ ...e, sequence_number: i }));
}
