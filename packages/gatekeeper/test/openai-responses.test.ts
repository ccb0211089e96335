/**
 * The Responses API through the gatekeeper with the `openai` SDK: function_call output items are decided
 * before the agent sees them, streamed or not; a withheld call becomes an assistant message in its slot.
 * Also embeddings, the model list and Azure OpenAI's URL scheme.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, UPSTREAM_KEY, recordingFetch, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatCompletion, responseEvents, responseObject } from './support/scripted-upstream.js';

const ORDER_ARGS = '{"sku":"STEEL-9","total":2400000,"currency":"USD"}';
const LOOKUP_ARGS = '{"sku":"STEEL-9"}';
const TOOLS = [
  { type: 'function' as const, name: 'lookup_stock', parameters: { type: 'object', properties: { sku: { type: 'string' } } }, strict: false },
  { type: 'function' as const, name: 'place_order', parameters: { type: 'object', properties: {} }, strict: false },
];

function policy(input: OagfInput) {
  if (input.action.target.tool === 'place_order') {
    return { outcome: 'deny', reasons: [`order of ${input.action.amount?.value} ${input.action.amount?.currency} exceeds the limit`] };
  }
  return { outcome: 'allow', reasons: [] };
}

describe('responses API via the openai SDK', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  let rec: ReturnType<typeof recordingFetch>;
  let client: OpenAI;
  before(async () => {
    gk = await startGatekeeper({
      upstreamUrl: await upstream.start(),
      policy,
      amounts: [{ match: { tool: 'place_order' }, value: 'arguments.total', currency_from: 'arguments.currency' }],
    });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    gk.attempts.length = 0;
    upstream.received.length = 0;
    rec = recordingFetch();
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, fetch: rec.fetch, maxRetries: 0 });
  });

  test('non-streaming: allowed call kept, denied call replaced by a message in the same position', async () => {
    upstream.enqueue({ json: responseObject({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }, { name: 'place_order', arguments: ORDER_ARGS }] }) });
    const res = await client.responses.create({ model: 'gpt-test', input: 'order steel', tools: TOOLS, max_output_tokens: 500 });
    assert.deepEqual(res.output.map((i) => i.type), ['function_call', 'message']);
    assert.match(res.output_text, /withheld the call to tool "place_order": order of 2400000 USD exceeds the limit/);

    const request = gk.attempts[0]!;
    assert.equal(request.action.kind, 'llm.request');
    assert.deepEqual((request.action.arguments as Record<string, unknown>).tools, ['lookup_stock', 'place_order']);
    assert.equal((request.action.arguments as Record<string, unknown>).max_tokens, 500);
    const order = gk.attempts.find((a) => a.action.target.tool === 'place_order')!;
    assert.deepEqual(order.action.amount, { value: 2400000, currency: 'USD', source: 'arguments.total' });
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(!rec.bodies[0]!.includes('currency') && !rec.bodies[0]!.includes('"name":"place_order"'), 'denied call never reaches the client');
  });

  test('streaming: text streams through, the denied call is replaced, sequence numbers stay unbroken', async () => {
    upstream.enqueue({
      sse: responseEvents({ text: ['Ordering ', 'now — ✓'], toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }, { name: 'lookup_stock', arguments: LOOKUP_ARGS }], argPieces: 4 }),
      named: true,
      cut: { every: 13 },
    });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'order steel', tools: TOOLS, stream: true });
    const sequence: number[] = [];
    const done: string[] = [];
    let text = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.output_item.done') done.push(event.item.type === 'function_call' ? `call:${event.item.name}` : event.item.type);
      if (event.type === 'response.completed') final = event.response;
    }
    assert.deepEqual(sequence, sequence.map((_, i) => i));
    assert.deepEqual(done, ['message', 'message', 'call:lookup_stock']);
    assert.match(text, /^Ordering now — ✓The gatekeeper withheld the call to tool "place_order"/);
    assert.deepEqual(final!.output.map((i) => (i.type === 'function_call' ? i.name : i.type)), ['message', 'message', 'lookup_stock']);
    await new Promise((r) => setTimeout(r, 20));
    // The reason names the amount, but no byte of the call itself (its name as an item, its arguments) is sent.
    assert.ok(!rec.bodies[0]!.includes('currency') && !rec.bodies[0]!.includes('"name":"place_order"'), 'denied call never reaches the client');
  });

  test('the SDK stream helper assembles the final response', async () => {
    upstream.enqueue({ sse: responseEvents({ toolCalls: [{ name: 'lookup_stock', arguments: LOOKUP_ARGS }] }), named: true, cut: { every: 5 } });
    const stream = client.responses.stream({ model: 'gpt-test', input: 'stock?', tools: TOOLS });
    const final = await stream.finalResponse();
    const call = final.output[0]!;
    assert.ok(call.type === 'function_call');
    assert.equal(call.arguments, LOOKUP_ARGS);
  });

  test('embeddings are decided and forwarded; usage settles', async () => {
    upstream.enqueue({ json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'text-embed-test', usage: { prompt_tokens: 3, total_tokens: 3 } } });
    const res = await client.embeddings.create({ model: 'text-embed-test', input: ['steel'], encoding_format: 'float' });
    assert.deepEqual(res.data[0]!.embedding, [0.1, 0.2]);
    assert.equal(gk.attempts[0]!.action.target.path, '/v1/embeddings');
    assert.equal(upstream.received[0]!.url, '/v1/embeddings');
  });
});

describe('model list and Azure OpenAI URL scheme', () => {
  const azure = new ScriptedUpstream();
  const openai = new ScriptedUpstream();
  let gk: TestGatekeeper;
  before(async () => {
    const azureUrl = await azure.start();
    const openaiUrl = await openai.start();
    gk = await startGatekeeper({
      upstreamUrl: openaiUrl,
      llm: {
        upstreams: [
          { name: 'azure-east', flavor: 'azure', base_url: azureUrl, api_version: '2024-10-21', api_key: { env: 'TEST_UPSTREAM_KEY' }, models: ['gpt-4o-prod'] },
          { name: 'openai', base_url: `${openaiUrl}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' }, models: ['gpt-4.1*', 'o3'] },
        ],
        default: 'openai',
      },
    });
  });
  after(async () => {
    await gk.stop();
    await azure.stop();
    await openai.stop();
  });

  test('GET /v1/models lists the models routed by exact name', async () => {
    const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    const ids = [];
    for await (const m of client.models.list()) ids.push(`${m.id}@${m.owned_by}`);
    assert.deepEqual(ids, ['gpt-4o-prod@azure-east', 'o3@openai']);
  });

  test('an Azure client (api-key header, deployment URL) reaches the Azure upstream with the gatekeeper key', async () => {
    azure.enqueue({ json: chatCompletion({ content: 'from azure' }) });
    const client = new AzureOpenAI({ endpoint: gk.url, apiKey: AGENT_KEY, apiVersion: '2024-10-21', deployment: 'gpt-4o-prod', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.choices[0]!.message.content, 'from azure');
    const sent = azure.received.at(-1)!;
    assert.equal(sent.url, '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    assert.equal(sent.headers['api-key'], UPSTREAM_KEY);
    assert.equal(sent.headers.authorization, undefined);
  });

  test('Azure OpenAI v1 API prefix: an OpenAI client at /openai/v1 with an api-key header', async () => {
    openai.enqueue({ json: chatCompletion({ content: 'via v1' }) });
    const client = new OpenAI({ baseURL: `${gk.url}/openai/v1`, apiKey: 'unused', defaultHeaders: { 'api-key': AGENT_KEY, authorization: null }, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.choices[0]!.message.content, 'via v1');
    assert.equal(openai.received.at(-1)!.url, '/v1/chat/completions');
  });

  test('model routing by prefix; an Azure-style request for an OpenAI-routed model is sent in OpenAI form', async () => {
    openai.enqueue({ json: chatCompletion({ content: 'from openai' }) });
    const res = await fetch(`${gk.url}/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'api-key': AGENT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    const sent = openai.received.at(-1)!;
    assert.equal(sent.url, '/v1/chat/completions');
    assert.equal(sent.body.model, 'gpt-4.1-mini');
    assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  });
});
