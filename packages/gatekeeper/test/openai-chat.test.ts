/**
 * Chat completions through the gatekeeper with the `openai` SDK, pointed at it by base URL only.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, UPSTREAM_KEY, recordingFetch, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';

const ORDER_ARGS = '{"sku":"STEEL-9","quantity":1200,"total":2400000,"note":"Größe ✓"}';
const LOOKUP_ARGS = '{"sku":"STEEL-9"}';
const TOOLS = [
  { type: 'function' as const, function: { name: 'lookup_stock', parameters: { type: 'object', properties: { sku: { type: 'string' } } } } },
  { type: 'function' as const, function: { name: 'place_order', parameters: { type: 'object', properties: {} } } },
];

/** Orders over $1M are denied; everything else allowed. */
function orderLimit(input: OagfInput) {
  const args = input.action.arguments as { total?: number } | undefined;
  if (input.action.kind === 'llm.tool_call' && input.action.target.tool === 'place_order' && (args?.total ?? 0) > 1_000_000) {
    return { outcome: 'deny', reasons: ['order total 2400000 exceeds the agent limit of 1000000'] };
  }
  return { outcome: 'allow', reasons: [] };
}

describe('chat completions via the openai SDK', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  let rec: ReturnType<typeof recordingFetch>;
  let client: OpenAI;

  before(async () => {
    const url = await upstream.start();
    gk = await startGatekeeper({ upstreamUrl: url, policy: orderLimit });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.received.length = 0;
    gk.attempts.length = 0;
    rec = recordingFetch();
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, fetch: rec.fetch, maxRetries: 0 });
  });

  test('non-streaming: the request is decided, forwarded with the upstream key, and an allowed tool call arrives', async () => {
    upstream.enqueue({ json: chatCompletion({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }] }) });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'stock?' }], tools: TOOLS, max_tokens: 300 });
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    const call = res.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.type === 'function' && call.function.arguments, LOOKUP_ARGS);

    const [request, toolCall] = gk.attempts;
    assert.equal(request!.action.kind, 'llm.request');
    assert.equal(request!.action.target.model, 'gpt-test');
    assert.deepEqual((request!.action.arguments as Record<string, unknown>).tools, ['lookup_stock', 'place_order']);
    assert.equal((request!.action.arguments as Record<string, unknown>).max_tokens, 300);
    assert.match(String((request!.action.arguments as Record<string, unknown>).messages_digest), /^sha256:[0-9a-f]{64}$/);
    assert.equal(request!.agent.id, 'planner');
    assert.equal(toolCall!.action.kind, 'llm.tool_call');
    assert.equal(toolCall!.action.target.tool, 'lookup_stock');
    assert.deepEqual(toolCall!.action.arguments, { sku: 'STEEL-9' });

    const sent = upstream.received[0]!;
    assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.ok(!JSON.stringify(sent.headers).includes(AGENT_KEY), 'the agent key is never forwarded');
    assert.match(String(sent.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.equal(gk.log.records.length, 2);
  });

  test('non-streaming: a denied tool call is withheld and replaced by the reason; the others keep their place', async () => {
    upstream.enqueue({
      json: chatCompletion({ content: 'Checking.', toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS, id: 'call_keep' }] }),
    });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order' }], tools: TOOLS });
    const message = res.choices[0]!.message;
    assert.deepEqual(message.tool_calls!.map((c) => c.id), ['call_keep']);
    assert.match(message.content!, /^Checking\.\n\nThe gatekeeper withheld the call to tool "place_order": order total 2400000 exceeds/);
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    await settle();
    assert.ok(!rec.bodies[0]!.includes('2400000,'), 'the denied arguments never reach the client');
    assert.ok(!rec.bodies[0]!.includes('"name":"place_order"'));
  });

  test('non-streaming: when every tool call is withheld, finish_reason becomes "stop"', async () => {
    upstream.enqueue({ json: chatCompletion({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }) });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order' }], tools: TOOLS });
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.equal(res.choices[0]!.message.tool_calls, undefined);
    assert.match(res.choices[0]!.message.content!, /withheld the call to tool "place_order"/);
  });

  test('streaming: text arrives as sent, tool calls are gated, indexes renumbered, usage chunk kept from a client that did not ask', async () => {
    upstream.enqueue((req) => ({
      sse: chatChunks(req, {
        reasoning: ['Need ', 'stock ✓ first'],
        content: ['Let me ', 'check — ', 'ünïcödé 🚚'],
        toolCalls: [
          { name: 'place_order', arguments: ORDER_ARGS },
          { name: 'lookup_stock', arguments: LOOKUP_ARGS, id: 'call_keep' },
        ],
        argPieces: 5,
      }),
      cut: { every: 5 },
    }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order' }], tools: TOOLS, stream: true });
    let content = '';
    const calls = new Map<number, { id?: string; name: string; args: string }>();
    let finish: string | null = null;
    let usageSeen = false;
    for await (const chunk of stream) {
      if (chunk.usage) usageSeen = true;
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta.content ?? '';
      for (const tc of choice.delta.tool_calls ?? []) {
        const c = calls.get(tc.index) ?? { name: '', args: '' };
        if (tc.id) c.id = tc.id;
        c.name += tc.function?.name ?? '';
        c.args += tc.function?.arguments ?? '';
        calls.set(tc.index, c);
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(content.startsWith('Let me check — ünïcödé 🚚'), true);
    assert.match(content, /withheld the call to tool "place_order"/);
    assert.deepEqual([...calls.entries()], [[0, { id: 'call_keep', name: 'lookup_stock', args: LOOKUP_ARGS }]]);
    assert.equal(finish, 'tool_calls');
    assert.equal(usageSeen, false);
    assert.equal((upstream.received[0]!.body.stream_options as { include_usage?: boolean }).include_usage, true);

    await settle();
    const raw = rec.bodies[0]!;
    assert.ok(!raw.includes('place_order"') && !raw.includes('2400000,'), 'the denied call never reaches the client');
    assert.ok(raw.includes('"reasoning_content":"stock ✓ first"'), 'extra fields pass through untouched');
    assert.ok(raw.trimEnd().endsWith('data: [DONE]'));
  });

  test('streaming: the usage chunk is passed on when the client asked for it', async () => {
    upstream.enqueue((req) => ({ sse: chatChunks(req, { content: ['hi'] }), cut: { every: 3 } }));
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: unknown;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    assert.deepEqual(usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
  });

  test('streaming: every call withheld turns finish_reason into "stop"', async () => {
    upstream.enqueue((req) => ({ sse: chatChunks(req, { toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }), cut: { every: 11 } }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order' }], tools: TOOLS, stream: true });
    let finish: string | null = null;
    let sawToolCall = false;
    for await (const chunk of stream) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.choices[0]?.delta.tool_calls) sawToolCall = true;
    }
    assert.equal(finish, 'stop');
    assert.equal(sawToolCall, false);
  });
});

/** Lets the recording fetch finish reading the cloned bodies. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20));
}
