/**
 * Traces over OTLP/HTTP to a local receiver: one chat completion with a tool call, from an agent that sent its own
 * traceparent, gives one span tree — the agent's request (continuing its trace), the decisions with their policy
 * evaluation and ledger append, the GenAI model call with its usage, the HTTP call the upstream continues, and the
 * tool call's decision inside the model call.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { SETTINGS, startGatekeeper, KEYS } from './core/fixture.js';
import { ScriptedUpstream, chatCompletion } from './support/scripted-upstream.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const body = JSON.parse(raw.toString()) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue)));
};

test('the span tree of a chat completion with a tool call, continuing the agent\'s trace, with GenAI attributes', async () => {
  const receiver = await startReceiver();
  const upstream = new ScriptedUpstream();
  const upstreamUrl = await upstream.start();
  const settings = structuredClone(SETTINGS) as { config: { defaults: { models: string[] } } };
  settings.config.defaults.models = ['gpt-test'];
  const fx = await startGatekeeper({
    settings,
    config: { llm: { upstreams: [{ name: 'scripted', base_url: `${upstreamUrl}/v1` }] }, telemetry: { otlp: { endpoint: receiver.url }, flush_ms: 50 } },
  });
  try {
    upstream.enqueue({ json: chatCompletion({ toolCalls: [{ name: 'check_inventory', arguments: '{"sku":"STEEL-7"}' }] }) });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const agentSpan = '00f067aa0ba902b7';
    const client = new OpenAI({ baseURL: `${fx.url}/v1`, apiKey: KEYS.buyer, maxRetries: 0, defaultHeaders: { traceparent: `00-${traceId}-${agentSpan}-01` } });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'stock?' }], max_tokens: 50, tools: [{ type: 'function', function: { name: 'check_inventory', parameters: { type: 'object' } } }] });
    assert.equal(res.choices[0]!.message.tool_calls?.length, 1);
    for (let i = 0; i < 60 && receiver.spans.length < 8; i++) await new Promise((r) => setTimeout(r, 50));

    const byName = (name: string) => receiver.spans.filter((s) => s.name === name);
    const server = byName('POST /v1/chat/completions')[0]!;
    assert.ok(server, receiver.spans.map((s) => s.name).join(', '));
    assert.equal(server.traceId, traceId, 'continues the agent\'s trace');
    assert.equal(server.parentSpanId, agentSpan, 'a child of the agent\'s span');
    assert.equal(server.kind, 2, 'SERVER');
    assert.equal(attr(server, 'http.response.status_code'), 200);
    for (const s of receiver.spans) assert.equal(s.traceId, traceId, `${s.name} in the same trace`);

    const [decideRequest] = byName('oagf.decide llm.request');
    assert.equal(decideRequest!.parentSpanId, server.spanId);
    assert.equal(attr(decideRequest!, 'oagf.decision.outcome'), 'allow');
    assert.equal(attr(decideRequest!, 'oagf.agent.id'), 'buyer');
    assert.equal(typeof attr(decideRequest!, 'oagf.ledger.index'), 'number');
    const children = (parent: OtlpSpan) => receiver.spans.filter((s) => s.parentSpanId === parent.spanId).map((s) => s.name).sort();
    assert.deepEqual(children(decideRequest!), ['oagf.ledger.append', 'oagf.policy.evaluate']);

    const [model] = byName('chat gpt-test');
    assert.equal(model!.parentSpanId, server.spanId);
    assert.equal(model!.kind, 3, 'CLIENT');
    assert.equal(attr(model!, 'gen_ai.operation.name'), 'chat');
    assert.equal(attr(model!, 'gen_ai.provider.name'), 'openai');
    assert.equal(attr(model!, 'gen_ai.request.model'), 'gpt-test');
    assert.equal(attr(model!, 'gen_ai.request.max_tokens'), 50);
    assert.equal(attr(model!, 'gen_ai.usage.input_tokens'), 11);
    assert.equal(attr(model!, 'gen_ai.usage.output_tokens'), 7);
    assert.deepEqual(children(model!), ['POST scripted', 'oagf.decide llm.tool_call']);

    const [http] = byName('POST scripted');
    const sent = upstream.received.at(-1)!.headers.traceparent as string;
    assert.equal(sent, `00-${traceId}-${http!.spanId}-01`, 'the upstream continues the HTTP client span');
    const [tool] = byName('oagf.decide llm.tool_call');
    assert.equal(attr(tool!, 'oagf.decision.outcome'), 'allow');
  } finally {
    await fx.close();
    await upstream.stop();
    await receiver.close();
  }
});

test('without telemetry configured nothing is traced and the upstream still gets a traceparent', async () => {
  const upstream = new ScriptedUpstream();
  const upstreamUrl = await upstream.start();
  const settings = structuredClone(SETTINGS) as { config: { defaults: { models: string[] } } };
  settings.config.defaults.models = ['gpt-test'];
  const fx = await startGatekeeper({ settings, config: { llm: { upstreams: [{ name: 'scripted', base_url: `${upstreamUrl}/v1` }] } } });
  try {
    assert.equal(fx.gk.deps.telemetry.enabled, false);
    upstream.enqueue({ json: chatCompletion({ content: 'hi' }) });
    await new OpenAI({ baseURL: `${fx.url}/v1`, apiKey: KEYS.buyer, maxRetries: 0 }).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    assert.match(String(upstream.received.at(-1)!.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  } finally {
    await fx.close();
    await upstream.stop();
  }
});
