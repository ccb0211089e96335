/**
 * Escalated tool calls in LLM responses: with approvals holding, the response waits for the reviewer and
 * the call is released or withheld by the final decision; with asynchronous approvals the call is replaced
 * by a message naming the pending approval. The approvals plug-in is stood in for by a gate hook.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { GateHooks } from '../src/gate/index.js';
import type { Decision, OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';

function policy(input: OagfInput) {
  if (input.action.target.tool === 'place_order') return { outcome: 'escalate', reasons: ['order over $1M needs a procurement lead'] };
  if (input.action.target.model === 'gpt-escalate') return { outcome: 'escalate', reasons: ['this model needs sign-off'] };
  return { outcome: 'allow' };
}

type Mode = { kind: 'hold'; verdict: Decision['outcome'] } | { kind: 'async' };

/** Approvals stand-in: holds escalations until the test decides, or answers with an approval id. */
function approvals(mode: { current: Mode }, traces: unknown[]): GateHooks {
  return {
    escalate(view) {
      traces.push(view.attempt.trace);
      const m = mode.current;
      if (m.kind === 'async') return { kind: 'pending', mode: 'async', approval: { id: 'apr_2400k', retryAfterSeconds: 30 } };
      const verdict = () => new Promise<Decision>((r) => setTimeout(() => r({ ...view.decision, outcome: m.verdict, reasons: [`reviewer said ${m.verdict}`] }), 30));
      return { kind: 'pending', mode: 'hold', approval: { id: 'apr_2400k' }, verdict };
    },
  };
}

describe('escalated tool calls', () => {
  const upstream = new ScriptedUpstream();
  const mode: { current: Mode } = { current: { kind: 'async' } };
  const traces: unknown[] = [];
  let gk: TestGatekeeper;
  let client: OpenAI;
  before(async () => {
    gk = await startGatekeeper({ upstreamUrl: await upstream.start(), policy, hooks: [approvals(mode, traces)] });
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });

  const orderCall = { name: 'place_order', arguments: '{"sku":"STEEL-9","total":2400000}' };

  test('asynchronous approvals: the call is replaced by a message naming the pending approval', async () => {
    mode.current = { kind: 'async' };
    upstream.enqueue({ json: chatCompletion({ toolCalls: [orderCall] }) });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order 1200 STEEL-9' }] });
    assert.equal(res.choices[0]!.message.tool_calls, undefined);
    assert.match(res.choices[0]!.message.content!, /needs human approval \(approval apr_2400k is pending\): order over \$1M needs a procurement lead/);
    assert.equal(res.choices[0]!.finish_reason, 'stop');
  });

  test('held and approved: the streamed call is released after the reviewer decides', async () => {
    mode.current = { kind: 'hold', verdict: 'allow' };
    traces.length = 0;
    upstream.enqueue((req) => ({ sse: chatChunks(req, { content: ['Placing the order.'], toolCalls: [orderCall] }) }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order 1200 STEEL-9' }], stream: true });
    let args = '';
    for await (const chunk of stream) for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) args += tc.function?.arguments ?? '';
    assert.equal(args, orderCall.arguments);
    // The reviewer sees the conversation and what the model said before proposing the call.
    const trace = traces[0] as { request: { content: string }[]; response: { content: string }[] };
    assert.equal(trace.request[0]!.content, 'order 1200 STEEL-9');
    assert.equal(trace.response[0]!.content, 'Placing the order.');
  });

  test('held and rejected: the call is withheld with the reviewer\'s reason', async () => {
    mode.current = { kind: 'hold', verdict: 'deny' };
    upstream.enqueue({ json: chatCompletion({ toolCalls: [orderCall] }) });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'order' }] });
    assert.equal(res.choices[0]!.message.tool_calls, undefined);
    assert.match(res.choices[0]!.message.content!, /withheld the call to tool "place_order": reviewer said deny/);
  });

  test('an escalated request with asynchronous approvals is 202 with the approval id and Retry-After, not forwarded', async () => {
    mode.current = { kind: 'async' };
    const before = upstream.received.length;
    const res = await fetch(`${gk.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-escalate', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('retry-after'), '30');
    const body = (await res.json()) as { error: { code: string; approval_id: string; message: string } };
    assert.equal(body.error.code, 'approval_pending');
    assert.equal(body.error.approval_id, 'apr_2400k');
    assert.match(body.error.message, /this model needs sign-off/);
    assert.equal(upstream.received.length, before);
  });
});
