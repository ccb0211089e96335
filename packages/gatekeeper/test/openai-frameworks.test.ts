/**
 * The agent-framework examples in examples/agent-frameworks/ — `@openai/agents` (Responses API, streamed, chat
 * completions) and Vercel's `ai` with `@ai-sdk/openai` (generateText, streamText over chat completions with awkward
 * byte splits, over the Responses API) — pointed at the gatekeeper by base URL only. A denied tool call is never
 * executed by the framework; allowed ones run and the conversation continues. The README's commands are run as
 * shown, against a gatekeeper in front of a scripted model.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as agents from '../../../examples/agent-frameworks/openai-agents.js';
import * as vercel from '../../../examples/agent-frameworks/vercel-ai.js';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion, responseEvents, responseObject, type Received } from './support/scripted-upstream.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ORDER_ARGS = '{"sku":"STEEL-9","quantity":1200,"total":2400000}';
const LOOKUP_ARGS = '{"sku":"STEEL-9"}';
const PROMPT = 'Order 1200 STEEL-9';

function policy(input: OagfInput) {
  if (input.action.target.tool === 'place_order') return { outcome: 'deny', reasons: ['orders over $1M need a human'] };
  return { outcome: 'allow', reasons: [] };
}

describe('agent framework examples through the gatekeeper', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  const options = () => ({ gatekeeperUrl: gk.url, apiKey: AGENT_KEY, prompt: PROMPT, model: 'gpt-test' });
  before(async () => {
    gk = await startGatekeeper({ upstreamUrl: await upstream.start(), policy });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.received.length = 0;
  });

  /** The second model turn must carry the allowed tool's result and nothing of the withheld call. */
  function assertSecondTurn(received: Received): void {
    const text = JSON.stringify(received.body);
    assert.ok(text.includes('on_hand'), 'the allowed tool ran and its result went back to the model');
    assert.ok(!text.includes('2400000'), 'the withheld call never reached the agent');
  }

  describe('@openai/agents (openai-agents.ts)', () => {
    test('Responses API: the agent runs the allowed tool, never the denied one', async () => {
      upstream.enqueue(
        { json: responseObject({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) },
        { json: responseObject({ text: 'STEEL-9: 340 on hand. The order needs approval.' }) },
      );
      const res = await agents.runPlanner(options());
      assert.equal(res.output, 'STEEL-9: 340 on hand. The order needs approval.');
      assert.deepEqual(res.toolsRun, ['lookup_stock STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });

    test('Responses API, streamed run', async () => {
      upstream.enqueue(
        { sse: responseEvents({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }] }), named: true, cut: { every: 17 } },
        { sse: responseEvents({ text: ['Done: ', '340 on hand.'] }), named: true, cut: { every: 17 } },
      );
      const res = await agents.runPlanner({ ...options(), stream: true });
      assert.equal(res.output, 'Done: 340 on hand.');
      assert.deepEqual(res.toolsRun, ['lookup_stock STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });

    test('chat completions API', async () => {
      upstream.enqueue(
        { json: chatCompletion({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }] }) },
        { json: chatCompletion({ content: 'Stock checked.' }) },
      );
      const res = await agents.runPlanner({ ...options(), api: 'chat_completions' });
      assert.equal(res.output, 'Stock checked.');
      assert.deepEqual(res.toolsRun, ['lookup_stock STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });
  });

  describe('Vercel ai with @ai-sdk/openai (vercel-ai.ts)', () => {
    test('generateText over chat completions: allowed tool runs, denied one never does', async () => {
      upstream.enqueue(
        { json: chatCompletion({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) },
        { json: chatCompletion({ content: 'Checked stock; the order was not placed.' }) },
      );
      const res = await vercel.runPlanner(options());
      assert.equal(res.text, 'Checked stock; the order was not placed.');
      assert.deepEqual(res.toolsRun, ['lookup_stock STEEL-9']);
      assert.match(JSON.stringify(res.firstStep), /withheld the call to tool \\"place_order\\"/);
      assertSecondTurn(upstream.received[1]!);
    });

    test('streamText over chat completions with awkward byte splits', async () => {
      upstream.enqueue(
        (req) => ({ sse: chatChunks(req, { content: ['Let me check ✓ '], toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }], argPieces: 6 }), cut: { every: 3 } }),
        (req) => ({ sse: chatChunks(req, { content: ['All ', 'done.'] }), cut: { every: 3 } }),
      );
      const res = await vercel.runPlanner({ ...options(), stream: true });
      assert.match(res.text, /^Let me check ✓ /);
      assert.match(res.text, /All done\.$/);
      assert.deepEqual(res.toolsRun, ['lookup_stock STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });

    test('streamText over the Responses API', async () => {
      upstream.enqueue(
        { sse: responseEvents({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }), named: true, cut: { every: 11 } },
        { sse: responseEvents({ text: ['Stock ', 'checked.'] }), named: true, cut: { every: 11 } },
      );
      const res = await vercel.runPlanner({ ...options(), api: 'responses', stream: true });
      assert.match(res.text, /Stock checked\.$/);
      assert.deepEqual(res.toolsRun, ['lookup_stock STEEL-9']);
      assertSecondTurn(upstream.received[1]!);
    });
  });

  test("the README's commands run the examples as a user would", async () => {
    const readme = readFileSync(`${ROOT}examples/agent-frameworks/README.md`, 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const [exportLine, ...commands] = block.trim().split('\n');
    assert.match(exportLine!, /^export GATEKEEPER_URL=\S+ GATEKEEPER_KEY=\S+$/);
    assert.equal(commands.length, 2);
    // The same lines, with this test's gatekeeper and agent key in the export.
    const script = [`export GATEKEEPER_URL=${gk.url} GATEKEEPER_KEY=${AGENT_KEY} MODEL=gpt-test`, ...commands].join('\n');
    for (let i = 0; i < commands.length; i++) {
      upstream.enqueue(
        { json: i === 0 ? responseObject({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) : chatCompletion({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) },
        { json: i === 0 ? responseObject({ text: 'Agents SDK: 340 on hand, order held.' }) : chatCompletion({ content: 'AI SDK: 340 on hand, order held.' }) },
      );
    }
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'tools run: lookup_stock STEEL-9\nAgents SDK: 340 on hand, order held.\ntools run: lookup_stock STEEL-9\nAI SDK: 340 on hand, order held.\n');
    assert.equal(upstream.received.length, 4);
  });
});
