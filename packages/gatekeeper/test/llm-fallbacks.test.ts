/**
 * Upstream retries and fallbacks on the OpenAI surface, with the `openai` SDK (its own retries off): a model's
 * route lists upstreams in order; each is retried on connection failures, 429 and 5xx with back-off, then the next
 * one is called. The policy decides the call once, whatever happens upstream, and the outcome record names the
 * upstream that answered and the tries that failed before it.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { unusedPort } from './support/ports.js';
import { AGENT_KEY, UPSTREAM_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { AnthropicUpstream, anthropicError, message, messageEvents } from './support/scripted-anthropic.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';

type Json = Record<string, unknown>;

const upstreamOf = (name: string, url: string, extra: Json = {}) => ({ name, base_url: `${url}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' }, timeout_ms: 2_000, ...extra });

/** The outcome record of the one llm.request (appended after the answer: wait for it). */
async function requestOutcome(gk: TestGatekeeper): Promise<Json> {
  for (let i = 0; i < 100; i++) {
    const found = gk.log.outcomes.find((o) => (o.data as Json).kind === 'llm.request');
    if (found) return found.data as Json;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no outcome record for the llm.request');
}

describe('retries and fallbacks', () => {
  const primary = new ScriptedUpstream();
  const backup = new ScriptedUpstream();
  let gk: TestGatekeeper;
  let client: OpenAI;
  before(async () => {
    const [p, b, dead] = [await primary.start(), await backup.start(), await unusedPort()];
    gk = await startGatekeeper({
      upstreamUrl: p,
      llm: {
        upstreams: [upstreamOf('primary', p), upstreamOf('backup', b), upstreamOf('dead', `http://127.0.0.1:${dead}`), upstreamOf('solo', p, { models: ['solo-model'] })],
        routes: [
          { models: ['gpt-test', 'gpt-stream'], upstreams: ['primary', 'backup'] },
          { models: ['gpt-dead-first'], upstreams: ['dead', 'backup'] },
        ],
        retry: { retries: 1, initial_ms: 5, max_ms: 50 },
      },
    });
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gk.stop();
    await primary.stop();
    await backup.stop();
  });
  beforeEach(() => {
    for (const u of [primary, backup]) u.received.length = 0;
    gk.log.records.length = 0;
    gk.log.outcomes.length = 0;
    gk.attempts.length = 0;
  });

  const ask = (model = 'gpt-test') => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'plan the week' }] });
  const overloaded = { json: { error: { message: `overloaded (key ${UPSTREAM_KEY})`, type: 'server_error' } }, status: 503 };

  test('5xx: the upstream is retried, then the next one answers; decided once; the outcome names who answered', async () => {
    primary.enqueue(overloaded, overloaded);
    backup.enqueue({ json: chatCompletion({ content: 'from the backup' }) });
    const res = await ask();
    assert.equal(res.choices[0]!.message.content, 'from the backup');
    assert.equal(primary.received.length, 2, 'one retry on the primary');
    assert.equal(backup.received.length, 1);
    // Every try carried the same judged body, with the gatekeeper's credential, never the agent's.
    assert.equal(primary.received[0]!.text, backup.received[0]!.text);
    assert.equal(backup.received[0]!.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.equal(gk.attempts.filter((a) => a.action.kind === 'llm.request').length, 1, 'the policy decided once');
    assert.equal(gk.log.records.length, 1);
    const outcome = await requestOutcome(gk);
    assert.equal(outcome.result, 'completed');
    assert.equal(outcome.upstream, 'backup');
    assert.deepEqual(outcome.failed_attempts, [
      { upstream: 'primary', status: 503 },
      { upstream: 'primary', status: 503 },
    ]);
  });

  test('429 with Retry-After is retried on the same upstream', async () => {
    primary.enqueue({ json: { error: { message: 'slow down', type: 'rate_limit' } }, status: 429, headers: { 'retry-after-ms': '20' } });
    primary.enqueue({ json: chatCompletion({ content: 'second try' }) });
    const res = await ask();
    assert.equal(res.choices[0]!.message.content, 'second try');
    assert.equal(primary.received.length, 2);
    assert.equal(backup.received.length, 0);
    assert.deepEqual((await requestOutcome(gk)).failed_attempts, [{ upstream: 'primary', status: 429 }]);
  });

  test('a Retry-After longer than the back-off allows moves to the next upstream at once', async () => {
    primary.enqueue({ json: { error: { message: 'come back in an hour', type: 'rate_limit' } }, status: 429, headers: { 'retry-after': '3600' } });
    backup.enqueue({ json: chatCompletion({ content: 'backup' }) });
    const res = await ask();
    assert.equal(res.choices[0]!.message.content, 'backup');
    assert.equal(primary.received.length, 1, 'not retried: it asked for more than retry.max_ms');
  });

  test('a refused connection falls back to the next upstream', async () => {
    backup.enqueue({ json: chatCompletion({ content: 'reached' }) });
    const res = await ask('gpt-dead-first');
    assert.equal(res.choices[0]!.message.content, 'reached');
    const outcome = await requestOutcome(gk);
    assert.equal(outcome.upstream, 'backup');
    const failed = outcome.failed_attempts as { upstream: string; error: string }[];
    assert.equal(failed.length, 2, 'the dead upstream was tried twice (one retry)');
    assert.ok(failed.every((f) => f.upstream === 'dead' && /unreachable \(ECONNREFUSED\)/.test(f.error)));
  });

  test('a 4xx is the answer: no retry, no fallback', async () => {
    primary.enqueue({ json: { error: { message: 'bad tool schema', type: 'invalid_request_error', param: 'tools', code: null } }, status: 400 });
    await assert.rejects(ask(), (err: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(err.status, 400);
      assert.equal(err.message, '400 bad tool schema');
      return true;
    });
    assert.equal(primary.received.length, 1);
    assert.equal(backup.received.length, 0);
  });

  test('when every upstream fails, the agent gets the last failure, scrubbed, and nothing is charged', async () => {
    primary.enqueue(overloaded, overloaded);
    backup.enqueue(overloaded, { json: { error: { message: 'backup down too', type: 'server_error' } }, status: 502 });
    await assert.rejects(ask(), (err: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(err.status, 502);
      assert.match(err.message, /backup down too/);
      return true;
    });
    assert.equal(primary.received.length + backup.received.length, 4);
    const outcome = await requestOutcome(gk);
    assert.equal(outcome.result, 'released');
    assert.equal(outcome.upstream, 'backup');
    assert.equal((outcome.failed_attempts as unknown[]).length, 3);
  });

  test('a stream falls back before it starts: the agent sees one clean stream', async () => {
    primary.enqueue(overloaded, overloaded);
    backup.enqueue((req) => ({ sse: chatChunks(req, { content: ['fall', 'back'] }) }));
    const stream = await client.chat.completions.create({ model: 'gpt-stream', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'fallback');
    assert.equal((await requestOutcome(gk)).upstream, 'backup');
  });

  test('a model routed to one upstream keeps the retries of that upstream only', async () => {
    primary.enqueue(overloaded, { json: chatCompletion({ content: 'solo' }) });
    const res = await ask('solo-model');
    assert.equal(res.choices[0]!.message.content, 'solo');
    assert.equal(primary.received.length, 2);
    assert.equal((await requestOutcome(gk)).upstream, 'solo');
  });
});

describe('retries and fallbacks on the Anthropic surface', () => {
  const first = new AnthropicUpstream(UPSTREAM_KEY);
  const second = new AnthropicUpstream(UPSTREAM_KEY);
  let gk: TestGatekeeper;
  before(async () => {
    const [a, b] = [await first.start(), await second.start()];
    const claude = (name: string, url: string) => ({ name, flavor: 'anthropic', base_url: url, api_key: { env: 'TEST_UPSTREAM_KEY' }, timeout_ms: 2_000 });
    gk = await startGatekeeper({
      upstreamUrl: a,
      llm: { upstreams: [claude('claude-a', a), claude('claude-b', b)], routes: [{ models: ['claude-*'], upstreams: ['claude-a', 'claude-b'] }], retry: { retries: 1, initial_ms: 5, max_ms: 50 } },
    });
  });
  after(async () => {
    await gk.stop();
    await first.stop();
    await second.stop();
  });

  test('529 overloaded is retried, then the next upstream answers (JSON and streamed)', async () => {
    const client = new Anthropic({ baseURL: gk.url, apiKey: AGENT_KEY, maxRetries: 0 });
    const overloaded = anthropicError(529, 'overloaded_error', 'Overloaded');
    first.enqueue(overloaded, overloaded);
    second.enqueue({ json: message({ blocks: [{ text: 'from b' }] }) });
    const res = await client.messages.create({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(res.content, [{ type: 'text', text: 'from b' }]);
    assert.equal(first.received.length, 2);
    const outcome = await requestOutcome(gk);
    assert.equal(outcome.upstream, 'claude-b');
    assert.equal(outcome.surface, 'anthropic');

    gk.log.outcomes.length = 0;
    first.enqueue(overloaded, overloaded);
    second.enqueue({ sse: messageEvents({ blocks: [{ text: 'streamed from b' }] }), named: true });
    const final = await client.messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.deepEqual(final.content, [{ type: 'text', text: 'streamed from b' }]);
    assert.equal((await requestOutcome(gk)).upstream, 'claude-b');
    assert.equal(gk.attempts.filter((a) => a.action.kind === 'llm.request').length, 2, 'one decision per call');
  });
});

describe('retry configuration', () => {
  test('a route naming an unknown upstream, or mixing APIs, is refused at start with its path', async () => {
    const { GatekeeperConfig } = await import('../src/config/schema.js');
    const base = { policy: { bundle: 'p' }, ledger: { path: 'l', signing_key_file: 'k' } };
    const bad = GatekeeperConfig.safeParse({
      ...base,
      llm: {
        upstreams: [
          { name: 'a', base_url: 'http://127.0.0.1:1/v1' },
          { name: 'claude', flavor: 'anthropic', base_url: 'http://127.0.0.1:2' },
        ],
        routes: [
          { models: ['x'], upstreams: ['a', 'nope'] },
          { models: ['y'], upstreams: ['a', 'claude'] },
        ],
      },
    });
    assert.equal(bad.success, false);
    const problems = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(problems, [
      'llm.routes.0.upstreams.1: names upstream "nope", which is not in llm.upstreams',
      'llm.routes.1.upstreams: a route mixes OpenAI and Anthropic upstreams: a call cannot fall back to an upstream speaking another API',
    ]);
  });
});
