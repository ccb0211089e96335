/**
 * Escalated tool calls on the OpenAI-compatible surface, with the real surface and the openai SDK: the response
 * is held until a reviewer decides (hold), or the tool call is replaced by a message naming the approval (async).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';
import { approvals, reviewer } from './approvals-fixtures.js';
import type { Approval } from '../src/approvals/types.js';

const ORDER_ARGS = '{"sku":"STEEL-9","quantity":1200,"total":2400000,"currency":"USD"}';
const TOOLS = [{ type: 'function' as const, function: { name: 'place_order', parameters: { type: 'object', properties: {} } } }];

function orderLimit(input: OagfInput) {
  const total = (input.action.arguments as { total?: number } | undefined)?.total ?? 0;
  if (input.action.kind === 'llm.tool_call' && input.action.target.tool === 'place_order' && total > 1_000_000) {
    return { outcome: 'escalate', reasons: ['order total 2400000 is over the agent limit of 1000000'] };
  }
  return { outcome: 'allow', reasons: [] };
}

const upstream = new ScriptedUpstream();
let upstreamUrl: string;
before(async () => (upstreamUrl = await upstream.start()));
after(() => upstream.stop());

async function setup(mode: 'hold' | 'async') {
  const a = approvals({ modes: { openai: mode } });
  const gk: TestGatekeeper = await startGatekeeper({ upstreamUrl, policy: orderLimit, hooks: [a.hooks] });
  const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0, defaultHeaders: { 'oagf-session': 's-1' } });
  const opened = new Promise<Approval>((r) => a.service.once('created', r));
  return { ...a, gk, client, opened };
}

test('hold: the response carrying the escalated tool call is released once approved, and the approval is used', async () => {
  const { gk, client, service, opened } = await setup('hold');
  try {
    upstream.enqueue({ json: chatCompletion({ content: 'Ordering.', toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }) });
    const pending = client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'restock' }], tools: TOOLS });
    const approval = await opened;
    assert.equal(approval.surface, 'openai');
    assert.equal(approval.summary, 'place_order');
    await service.decide(approval.id, reviewer('rita'), 'approve', 'ok');
    const res = await pending;
    assert.equal(res.choices[0]!.message.tool_calls?.[0]?.type === 'function' && res.choices[0]!.message.tool_calls[0].function.arguments, ORDER_ARGS);
    assert.ok((await service.get(approval.id))!.consumedAt);
  } finally {
    await gk.stop();
  }
});

test('hold, streaming: rejected, the tool call never reaches the client', async () => {
  const { gk, client, service, opened } = await setup('hold');
  try {
    upstream.enqueue((req) => ({ sse: chatChunks(req, { content: ['Ordering ', 'now.'], toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }), cut: { every: 7 } }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'restock' }], tools: TOOLS, stream: true });
    void opened.then((a) => service.decide(a.id, reviewer('rita'), 'reject', 'split it'));
    let text = '';
    let sawToolCall = false;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      text += delta?.content ?? '';
      if (delta?.tool_calls?.length) sawToolCall = true;
    }
    assert.equal(sawToolCall, false);
    assert.match(text, /Ordering now\./);
    assert.match(text, /rejected by rita/);
  } finally {
    await gk.stop();
  }
});

test('async: the tool call is replaced by a message naming the pending approval', async () => {
  const { gk, client, opened } = await setup('async');
  try {
    upstream.enqueue({ json: chatCompletion({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }) });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'restock' }], tools: TOOLS });
    const approval = await opened;
    const message = res.choices[0]!.message;
    assert.equal(message.tool_calls?.length ?? 0, 0);
    assert.match(message.content ?? '', new RegExp(`approval ${approval.id} is pending`));
  } finally {
    await gk.stop();
  }
});
