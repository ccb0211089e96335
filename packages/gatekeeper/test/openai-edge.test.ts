/**
 * The OpenAI surface's edges (issue 17, finding 8): `/v1/models` lists what the upstreams serve when no model is
 * configured by name (fetched, cached briefly, only models that would be routed there); bodies without a
 * conversation are refused with 400 before anything is decided or sent; every 404 on the OpenAI paths is an
 * OpenAI-shaped error with `code` and `param`.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { AGENT_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatCompletion, responseObject, type Received, type Reply } from './support/scripted-upstream.js';

const listing = (...ids: string[]) => ({ json: { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'vendor' })) } });

describe('OpenAI surface edges', () => {
  const main = new ScriptedUpstream();
  const other = new ScriptedUpstream();
  let otherModels: () => Reply = () => listing('gpt-b-1');
  let gk: TestGatekeeper;
  let client: OpenAI;
  const modelCalls = (u: ScriptedUpstream) => u.received.filter((r: Received) => r.method === 'GET' && r.url === '/v1/models').length;

  before(async () => {
    const [m, o] = [await main.start(), await other.start()];
    main.fallback = (r) => (r.url === '/v1/models' ? listing('gpt-a', 'gpt-b', 'gpt-b-2') : { json: chatCompletion({ content: 'ok' }) });
    other.fallback = (r) => (r.url === '/v1/models' ? otherModels() : { json: chatCompletion({ content: 'ok' }) });
    gk = await startGatekeeper({
      upstreamUrl: m,
      llm: {
        upstreams: [
          { name: 'main', base_url: `${m}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' } },
          { name: 'other', base_url: `${o}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' }, models: ['gpt-b*'] },
        ],
        models_cache_s: 3600,
      },
    });
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gk.stop();
    await main.stop();
    await other.stop();
  });
  beforeEach(() => {
    main.received.length = 0;
    other.received.length = 0;
    gk.log.records.length = 0;
  });

  test('GET /v1/models lists the models each upstream serves that would be routed to it, and caches the list', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(`${m.id}@${m.owned_by}`);
    // gpt-b and gpt-b-2 are served by main but routed to other (gpt-b*): listing them under main would mislead.
    assert.deepEqual(ids.sort(), ['gpt-a@main', 'gpt-b-1@other']);
    assert.equal(main.received[0]!.headers.authorization, 'Bearer sk-upstream-secret', 'the gatekeeper asks with its own credential');
    for await (const _ of client.models.list());
    assert.equal(modelCalls(main) + modelCalls(other), 2, 'the second listing came from the cache');
  });

  test('the models list needs an agent credential', async () => {
    const res = await fetch(`${gk.url}/v1/models`);
    assert.equal(res.status, 401);
  });

  test('a chat body without messages is refused with 400 before anything is decided or sent', async () => {
    for (const [body, message] of [
      [{ model: 'gpt-a' }, /needs "messages"/],
      [{ model: 'gpt-a', messages: [] }, /non-empty array/],
      [{ model: 'gpt-a', messages: 'hello' }, /non-empty array/],
      [{ model: 'gpt-a', messages: ['hello'] }, /message object/],
    ] as const) {
      await assert.rejects(client.chat.completions.create(body as never), (err: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(err.status, 400);
        assert.match(err.message, message);
        assert.equal((err.error as { param?: string }).param, 'messages');
        return true;
      });
    }
    assert.equal(main.received.length, 0);
    assert.equal(gk.log.records.length, 0, 'nothing was decided');
  });

  test('a Responses body without input (and without a prompt) is refused with 400; an embeddings body without input too', async () => {
    await assert.rejects(client.responses.create({ model: 'gpt-a' } as never), (err: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(err.status, 400);
      assert.equal((err.error as { param?: string }).param, 'input');
      return true;
    });
    await assert.rejects(client.embeddings.create({ model: 'gpt-a' } as never), /400 the request body needs "input"/);
    assert.equal(main.received.length, 0);
    // A reusable prompt stands in for the input.
    main.enqueue({ json: responseObject({ text: 'from the prompt' }) });
    const res = await client.responses.create({ model: 'gpt-a', prompt: { id: 'pmpt_123' } });
    assert.equal(res.output_text, 'from the prompt');
  });

  test('404s on the OpenAI paths are OpenAI-shaped, with code and param', async () => {
    const unknownPath = await fetch(`${gk.url}/v1/assistants-of-the-future`, { method: 'POST', headers: { authorization: `Bearer ${AGENT_KEY}` } });
    assert.equal(unknownPath.status, 404);
    const body = (await unknownPath.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.code, 'not_found');
    assert.equal(body.error.param, null);
    assert.match(String(body.error.message), /no route for POST \/v1\/assistants-of-the-future/);

    const azurePath = await fetch(`${gk.url}/openai/deployments/x/images/generations`, { method: 'POST' });
    assert.equal(azurePath.status, 404);
    assert.equal(((await azurePath.json()) as { error: { code: string } }).error.code, 'not_found');
  });

  test('a model no upstream serves is a 404 naming the parameter', async () => {
    const gk2 = await startGatekeeper({ upstreamUrl: 'http://127.0.0.1:1', llm: { upstreams: [{ name: 'only', base_url: 'http://127.0.0.1:1/v1', models: ['gpt-only'] }] } });
    try {
      const c = new OpenAI({ baseURL: `${gk2.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
      await assert.rejects(c.chat.completions.create({ model: 'gpt-other', messages: [{ role: 'user', content: 'hi' }] }), (err: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(err.status, 404);
        assert.equal(err.code, 'model_not_found');
        assert.equal((err.error as { param?: string }).param, 'model');
        return true;
      });
    } finally {
      await gk2.stop();
    }
  });
});

describe('models listing when upstreams fail', () => {
  test('one upstream failing leaves the others listed; all failing is a 502; a failure is not cached', async () => {
    const up = new ScriptedUpstream();
    const down = new ScriptedUpstream();
    const [u, d] = [await up.start(), await down.start()];
    let upHealthy = true;
    up.fallback = () => (upHealthy ? listing('gpt-up') : { json: { error: { message: 'down' } }, status: 500 });
    down.fallback = () => ({ json: { error: { message: 'down' } }, status: 500 });
    const gk = await startGatekeeper({
      upstreamUrl: u,
      llm: {
        upstreams: [
          { name: 'up', base_url: `${u}/v1`, models: ['gpt-up*'] },
          { name: 'down', base_url: `${d}/v1`, models: ['gpt-down*'] },
        ],
        models_cache_s: 0,
      },
    });
    try {
      const get = () => fetch(`${gk.url}/v1/models`, { headers: { authorization: `Bearer ${AGENT_KEY}` } });
      const partial = await get();
      assert.equal(partial.status, 200);
      assert.deepEqual(((await partial.json()) as { data: { id: string }[] }).data.map((m) => m.id), ['gpt-up']);
      upHealthy = false;
      const none = await get();
      assert.equal(none.status, 502);
      assert.match(((await none.json()) as { error: { message: string } }).error.message, /no upstream listed its models: upstream "up" answered 500/);
      upHealthy = true;
      assert.equal((await get()).status, 200);
    } finally {
      await gk.stop();
      await up.stop();
      await down.stop();
    }
  });
});
