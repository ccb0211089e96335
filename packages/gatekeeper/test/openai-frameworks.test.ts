/**
 * Agent frameworks pointed at the gatekeeper by base URL only: `@openai/agents` running a tool-using agent
 * (Responses API, and chat completions), and Vercel's `ai` with `@ai-sdk/openai`. A denied tool call is
 * never executed by the framework; allowed ones run and the conversation continues.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool as aiTool } from 'ai';
import OpenAI from 'openai';
import { z } from 'zod';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion, responseEvents, responseObject, type Received } from './support/scripted-upstream.js';

const ORDER_ARGS = '{"sku":"STEEL-9","quantity":1200,"total":2400000}';
const LOOKUP_ARGS = '{"sku":"STEEL-9"}';

function policy(input: OagfInput) {
  if (input.action.target.tool === 'place_order') return { outcome: 'deny', reasons: ['orders over $1M need a human'] };
  return { outcome: 'allow', reasons: [] };
}

/** Tool executions the frameworks actually performed. */
const executed: string[] = [];
const lookup = async ({ sku }: { sku: string }) => {
  executed.push(`lookup_stock:${sku}`);
  return { sku, on_hand: 340 };
};
const order = async () => {
  executed.push('place_order');
  return { ok: true };
};

describe('agent frameworks through the gatekeeper', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  before(async () => {
    gk = await startGatekeeper({ upstreamUrl: await upstream.start(), policy });
    setTracingDisabled(true);
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    executed.length = 0;
    upstream.received.length = 0;
  });

  /** The second model turn must carry the allowed tool's result and nothing of the withheld call. */
  function assertSecondTurn(received: Received): void {
    const text = JSON.stringify(received.body);
    assert.ok(text.includes('on_hand'), 'the allowed tool ran and its result went back to the model');
    assert.ok(!text.includes('"total":2400000') && !text.includes('2400000'), 'the withheld call never reached the agent');
  }

  describe('@openai/agents', () => {
    const tools = () => [
      agentTool({ name: 'lookup_stock', description: 'stock on hand', parameters: z.object({ sku: z.string() }), execute: lookup }),
      agentTool({ name: 'place_order', description: 'place an order', parameters: z.object({ sku: z.string(), quantity: z.number(), total: z.number() }), execute: order }),
    ];

    test('Responses API: the agent runs the allowed tool, never the denied one', async () => {
      setDefaultOpenAIClient(new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 }));
      setOpenAIAPI('responses');
      upstream.enqueue(
        { json: responseObject({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) },
        { json: responseObject({ text: 'STEEL-9: 340 on hand. The order needs approval.' }) },
      );
      const agent = new Agent({ name: 'planner', instructions: 'Plan supply.', model: 'gpt-test', tools: tools() });
      const result = await run(agent, 'Order 1200 STEEL-9');
      assert.equal(result.finalOutput, 'STEEL-9: 340 on hand. The order needs approval.');
      assert.deepEqual(executed, ['lookup_stock:STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });

    test('Responses API, streamed run', async () => {
      setDefaultOpenAIClient(new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 }));
      setOpenAIAPI('responses');
      upstream.enqueue(
        { sse: responseEvents({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }] }), named: true, cut: { every: 17 } },
        { sse: responseEvents({ text: ['Done: ', '340 on hand.'] }), named: true, cut: { every: 17 } },
      );
      const agent = new Agent({ name: 'planner', instructions: 'Plan supply.', model: 'gpt-test', tools: tools() });
      const result = await run(agent, 'Order 1200 STEEL-9', { stream: true });
      for await (const _ of result);
      await result.completed;
      assert.equal(result.finalOutput, 'Done: 340 on hand.');
      assert.deepEqual(executed, ['lookup_stock:STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });

    test('chat completions API', async () => {
      setDefaultOpenAIClient(new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 }));
      setOpenAIAPI('chat_completions');
      upstream.enqueue(
        { json: chatCompletion({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }] }) },
        { json: chatCompletion({ content: 'Stock checked.' }) },
      );
      const agent = new Agent({ name: 'planner', instructions: 'Plan supply.', model: 'gpt-test', tools: tools() });
      const result = await run(agent, 'Order 1200 STEEL-9');
      assert.equal(result.finalOutput, 'Stock checked.');
      assert.deepEqual(executed, ['lookup_stock:STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
      setOpenAIAPI('responses');
    });
  });

  describe('Vercel ai with @ai-sdk/openai', () => {
    const tools = {
      lookup_stock: aiTool({ description: 'stock on hand', inputSchema: z.object({ sku: z.string() }), execute: lookup }),
      place_order: aiTool({ description: 'place an order', inputSchema: z.object({ sku: z.string(), quantity: z.number(), total: z.number() }), execute: order }),
    };
    const provider = () => createOpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY });

    test('generateText over chat completions: allowed tool runs, denied one never does', async () => {
      upstream.enqueue(
        { json: chatCompletion({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) },
        { json: chatCompletion({ content: 'Checked stock; the order was not placed.' }) },
      );
      const res = await generateText({ model: provider().chat('gpt-test'), prompt: 'Order 1200 STEEL-9', tools, stopWhen: stepCountIs(3) });
      assert.equal(res.text, 'Checked stock; the order was not placed.');
      assert.deepEqual(executed, ['lookup_stock:STEEL-9']);
      assert.match(JSON.stringify(res.steps[0]!.content), /withheld the call to tool \\"place_order\\"/);
      assertSecondTurn(upstream.received[1]!);
    });

    test('streamText over chat completions with awkward byte splits', async () => {
      upstream.enqueue(
        (req) => ({ sse: chatChunks(req, { content: ['Let me check ✓ '], toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }], argPieces: 6 }), cut: { every: 3 } }),
        (req) => ({ sse: chatChunks(req, { content: ['All ', 'done.'] }), cut: { every: 3 } }),
      );
      const res = streamText({ model: provider().chat('gpt-test'), prompt: 'Order 1200 STEEL-9', tools, stopWhen: stepCountIs(3) });
      let text = '';
      for await (const delta of res.textStream) text += delta;
      assert.match(text, /^Let me check ✓ /);
      assert.match(text, /All done\.$/);
      assert.deepEqual(executed, ['lookup_stock:STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });

    test('streamText over the Responses API', async () => {
      upstream.enqueue(
        { sse: responseEvents({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }), named: true, cut: { every: 11 } },
        { sse: responseEvents({ text: ['Stock ', 'checked.'] }), named: true, cut: { every: 11 } },
      );
      const res = streamText({ model: provider().responses('gpt-test'), prompt: 'Order 1200 STEEL-9', tools, stopWhen: stepCountIs(3) });
      let text = '';
      for await (const delta of res.textStream) text += delta;
      assert.match(text, /Stock checked\.$/);
      assert.deepEqual(executed, ['lookup_stock:STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });
  });
});
