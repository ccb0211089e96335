/**
 * Rate limits per agent and team — requests and LLM tokens per minute — are budgets with a rate meter: held in
 * escrow like spend (exact under concurrency), answered 429 with Retry-After, which the OpenAI SDK honours.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { SETTINGS, startGatekeeper, type Fixture } from './core/fixture.js';
import { ScriptedUpstream, chatCompletion } from './support/scripted-upstream.js';
import { hashApiKey } from '../src/auth/agents.js';

const KEY = 'sk-rate-test-agent';

describe('rate limits', () => {
  let fx: Fixture;
  let clock = Date.parse('2026-12-03T10:00:30.000Z');
  const upstream = new ScriptedUpstream();

  before(async () => {
    const url = await upstream.start();
    const settings = structuredClone(SETTINGS) as { config: { defaults: { models: string[] } } };
    settings.config.defaults.models = ['gpt-test'];
    fx = await startGatekeeper({
      settings,
      config: {
        agents: [{ id: 'planner', team: 'supply-chain', api_keys: [hashApiKey(KEY)] }],
        llm: { upstreams: [{ name: 'up', base_url: `${url}/v1` }] },
        budgets: {
          store: { sqlite: ':memory:' },
          estimate: { mode: 'approximate' },
          limits: [
            { id: 'planner-rpm', scope: 'agent', meter: 'requests', window: 'minute', cap: 5 },
            { id: 'team-tpm', scope: 'team', subject: 'supply-chain', meter: 'llm_tokens', window: 'minute', cap: 400 },
          ],
        },
      },
      build: { clock: () => new Date(clock) },
    });
  });
  after(async () => {
    await fx.close();
    await upstream.stop();
  });

  const client = () => new OpenAI({ baseURL: `${fx.url}/v1`, apiKey: KEY, maxRetries: 0 });

  it('20 concurrent requests against 5 per minute: exactly 5 forwarded, 15 answered 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) upstream.enqueue({ json: chatCompletion({ content: "ok" }) });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const limited = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    assert.equal(ok.length, 5);
    assert.equal(limited.length, 15);
    for (const err of limited) {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.code, 'rate_limit_exceeded');
      assert.equal(err.headers?.get('retry-after'), '30', 'the minute window ends in 30 s on the gatekeeper clock');
      assert.match(err.message, /rate limit planner-rpm exceeded for agent planner: 5 requests per minute, 5 used; the minute window ends in 30 s/);
    }
  });

  it('the next minute the limit opens again; the LLM token limit counts the usage reported', async () => {
    clock = Date.parse('2026-12-03T10:01:00.000Z');
    upstream.enqueue({ json: { ...chatCompletion({ content: 'ok' }), usage: { prompt_tokens: 150, completion_tokens: 150, total_tokens: 300 } } });
    await client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 });
    upstream.enqueue({ json: chatCompletion({ content: 'ok' }) });
    const err = await client()
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x'.repeat(600) }], max_tokens: 20 })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.RateLimitError, 'the worst case of the second call does not fit the 100 tokens left');
    assert.match(err.message, /rate limit team-tpm exceeded: 400 LLM tokens per minute, 300 used/);
  });

  it('a rate-limited request is a recorded deny with the rule and retry time', async () => {
    const ledger = fx.gk.deps.ledger!;
    await ledger.checkpointNow();
    let found;
    for (let i = ledger.size() - 1; i >= 0 && !found; i--) {
      const r = (await ledger.getRecord(i))!;
      if ((r.data as { budget?: { retry_after_s?: number } }).budget?.retry_after_s) found = r;
    }
    assert.ok(found, 'a decision record carries the rate-limit refusal');
    assert.equal(found!.outcome, 'deny');
    assert.deepEqual((found!.data as { explanation: { rule: string }[] }).explanation.at(-1), { rule: 'gatekeeper.rate_limits' });
  });
});
