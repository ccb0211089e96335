/**
 * The OpenAI-compatible surface fails closed: denials are 403, gatekeeper faults 503, unknown agents 401,
 * each as OpenAI error JSON; in `error` mode a denied tool call fails the request (403, or an SSE error
 * event mid-stream) and its bytes never reach the client. Budget escrow is settled or released.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { GateHooks } from '../src/gate/index.js';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, recordingFetch, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';

const ORDER_ARGS = '{"sku":"STEEL-9","total":2400000}';

function policy(input: OagfInput) {
  if (input.action.target.model === 'gpt-forbidden') return { outcome: 'deny', reasons: ['model gpt-forbidden is not on the allowlist'] };
  if (input.action.target.model === 'gpt-broken') throw new Error('division by zero in rule order_limit');
  if (input.action.target.model === 'gpt-escalate') return { outcome: 'escalate', reasons: ['model needs sign-off'] };
  if (input.action.target.tool === 'place_order') return { outcome: 'deny', reasons: ['order over the agent limit'] };
  return { outcome: 'allow', reasons: [] };
}

interface EscrowEvent {
  kind: 'settle' | 'release';
  what: unknown;
}

/** A budgets stand-in: reserves on every allowed llm.request and records how the surface ends the escrow. */
function escrowRecorder(events: EscrowEvent[]): GateHooks {
  return {
    admit(view) {
      if (view.attempt.action.kind !== 'llm.request') return;
      const reservation = {
        settle: async (actual: unknown) => void events.push({ kind: 'settle', what: actual }),
        release: async (reason: string) => void events.push({ kind: 'release', what: reason }),
      };
      return { kind: 'admitted', reservation };
    },
  };
}

async function expectError(p: Promise<unknown>, status: number | undefined, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: InstanceType<typeof OpenAI.APIError>) => {
    assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('fail closed, message mode', () => {
  const upstream = new ScriptedUpstream();
  const escrow: EscrowEvent[] = [];
  let gk: TestGatekeeper;
  let client: OpenAI;
  before(async () => {
    gk = await startGatekeeper({ upstreamUrl: await upstream.start(), policy, hooks: [escrowRecorder(escrow)], timeoutMs: 300 });
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });

  test('policy deny → 403 with the reason; nothing forwarded', async () => {
    const before = upstream.received.length;
    await expectError(client.chat.completions.create({ model: 'gpt-forbidden', messages: [{ role: 'user', content: 'x' }] }), 403, 'policy_denied', /gpt-forbidden is not on the allowlist/);
    assert.equal(upstream.received.length, before);
  });

  test('a body with duplicate keys is refused (it can be read two ways), never forwarded', async () => {
    const before = upstream.received.length;
    const res = await fetch(`${gk.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: '{"model":"gpt-forbidden","messages":[],"model":"gpt-test"}',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /duplicate key request body\.model/);
    assert.equal(upstream.received.length, before, 'the upstream got nothing');
  });

  test('policy error → 503 gatekeeper fault with a clear body, recorded in the ledger', async () => {
    const res = await fetch(`${gk.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-broken', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    assert.equal(body.error.type, 'gatekeeper_fault');
    assert.equal(body.error.code, 'gatekeeper_fault');
    assert.match(body.error.message, /division by zero/);
    assert.equal(gk.log.records.at(-1)!.outcome, 'deny');
  });

  test('ledger failure → 503, never forwarded', async () => {
    const before = upstream.received.length;
    gk.log.failWith = new Error('SQLITE_FULL: database or disk is full');
    try {
      await expectError(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }), 503, 'gatekeeper_fault', /disk is full/);
    } finally {
      gk.log.failWith = undefined;
    }
    assert.equal(upstream.received.length, before);
  });

  test('unknown agent → 401 and a ledger record', async () => {
    const stranger = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: 'sk-not-an-agent', maxRetries: 0 });
    const records = gk.log.records.length;
    await expectError(stranger.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }), 401, 'unauthenticated', /unknown agent credential/);
    assert.equal(gk.log.records.length, records + 1);
    await expectError(stranger.models.list(), 401, 'unauthenticated', /unknown agent credential/);
  });

  test('escalation with no approvals configured → refused, not forwarded', async () => {
    await expectError(client.chat.completions.create({ model: 'gpt-escalate', messages: [{ role: 'user', content: 'hi' }] }), 403, 'policy_denied', /approval required: model needs sign-off/);
  });

  test('non-streaming success settles the escrow with the reported usage', async () => {
    escrow.length = 0;
    upstream.enqueue({ json: chatCompletion({ content: 'ok' }) });
    await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    assert.deepEqual(escrow, [{ kind: 'settle', what: { usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }, model: 'gpt-test' } }]);
  });

  test('streams settle from the final usage chunk', async () => {
    escrow.length = 0;
    upstream.enqueue((req) => ({ sse: chatChunks(req, { content: ['a', 'b'] }) }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const _ of stream);
    assert.deepEqual(escrow, [{ kind: 'settle', what: { usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }, model: 'gpt-test' } }]);
  });

  test('upstream error status is passed on and releases the escrow', async () => {
    escrow.length = 0;
    upstream.enqueue({ json: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, status: 429 });
    await expectError(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }), 429, 'rate_limit_exceeded', /Rate limit reached/);
    assert.deepEqual(escrow.map((e) => e.kind), ['release']);
  });

  test('upstream timeout → 504 and the escrow is released', async () => {
    escrow.length = 0;
    upstream.enqueue({ hang: true });
    await expectError(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }), 504, 'upstream_timeout', /did not answer within 300 ms/);
    assert.deepEqual(escrow.map((e) => e.kind), ['release']);
  });

  test('a stream cut by the upstream ends with an error event and releases the escrow', async () => {
    escrow.length = 0;
    upstream.enqueue((req) => ({ sse: chatChunks(req, { content: ['partial ', 'answer'] }), failAfterBytes: 300 }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
    await assert.rejects(async () => {
      for await (const _ of stream);
    });
    assert.deepEqual(escrow.map((e) => e.kind), ['release']);
  });

  test('a client that goes away mid-stream releases the escrow', async () => {
    escrow.length = 0;
    upstream.enqueue((req) => ({ sse: chatChunks(req, { content: Array.from({ length: 200 }, (_, i) => `word${i} `) }), cut: { every: 20 } }));
    const controller = new AbortController();
    const res = await fetch(`${gk.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(() => escrow.length > 0);
    assert.deepEqual(escrow, [{ kind: 'release', what: 'client closed the connection' }]);
  });
});

describe('fail closed, error mode for denied tool calls', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  before(async () => {
    gk = await startGatekeeper({ upstreamUrl: await upstream.start(), policy, deniedToolCall: 'error' });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });

  test('non-streaming: 403 naming the tool and reason; the call is not in the body', async () => {
    const rec = recordingFetch();
    const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0, fetch: rec.fetch });
    upstream.enqueue({ json: chatCompletion({ toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }) });
    await expectError(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }), 403, 'policy_denied', /withheld the call to tool "place_order": order over the agent limit/);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(!rec.bodies[0]!.includes('STEEL-9') && !rec.bodies[0]!.includes('tool_calls'));
  });

  test('streaming: text before the call arrives, then an SSE error event; the call never does', async () => {
    const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    const script = (req: Parameters<typeof chatChunks>[0]) => ({
      sse: chatChunks(req, { content: ['Placing it now.'], toolCalls: [{ name: 'place_order', arguments: ORDER_ARGS }] }),
      cut: { every: 9 },
    });
    upstream.enqueue(script, script);
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    await expectError(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
      undefined, // an error event inside a 200 stream has no HTTP status
      'policy_denied',
      /order over the agent limit/,
    );
    assert.equal(text, 'Placing it now.');

    const raw = await (
      await fetch(`${gk.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      })
    ).text();
    assert.match(raw, /event: error\ndata: \{"type":"error","code":"policy_denied"/);
    assert.ok(!raw.includes('STEEL-9') && !raw.includes('tool_calls'), 'no byte of the denied call reaches the client');
    assert.ok(!raw.includes('[DONE]'), 'the stream ends at the error');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}
