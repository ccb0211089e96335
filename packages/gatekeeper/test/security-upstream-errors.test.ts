/**
 * Issue 12, class 8: an upstream's error never hands the agent the gatekeeper's own credentials or other secrets.
 * LLM upstreams (through the `openai` SDK and raw HTTP, JSON and streams) and the API proxy answer errors that
 * echo the key — whole, masked, in another case, escaped, percent- or base64-encoded, in a header, past the size
 * cap — and each case checks what the agent got (status, OpenAI-shaped error, no fragment of the key) and what
 * the fake upstream received (the one call, carrying the credential the gatekeeper added).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { pino } from 'pino';
import { hashApiKey } from '../src/auth/agents.js';
import { GatekeeperConfig } from '../src/config/schema.js';
import { buildServer, type Gatekeeper } from '../src/server.js';
import { AGENT_KEY, MemoryLog, UPSTREAM_KEY, allowAll, functionPolicy } from './support/openai-gatekeeper.js';
import { KEYS, startGatekeeper as startCoreGatekeeper, type Fixture } from './core/fixture.js';

type Reply = { status: number; body: string | Buffer; headers?: Record<string, string>; sse?: string[] };
interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fake upstream that answers whatever the test scripts and records every request. */
class FakeUpstream {
  readonly received: Seen[] = [];
  next: Reply = { status: 500, body: 'unscripted' };
  private server: Server | undefined;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        this.answer(res, this.next);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  private answer(res: ServerResponse, r: Reply): void {
    if (r.sse) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of r.sse) res.write(e);
      res.end();
      return;
    }
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body);
  }
  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => this.server!.close(() => r()));
  }
}

const SECRET = UPSTREAM_KEY; // sk-upstream-secret
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudC1sZWFrIn0.c2lnbmF0dXJlLXRoYXQtbGVha3M';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
const openaiError = (message: string, extra: Record<string, unknown> = {}) => JSON.stringify({ error: { message, type: 'invalid_request_error', code: 'invalid_api_key', param: null, ...extra } });

/** Fragments of the upstream key (and other secrets) that must not appear in anything the agent receives. */
const FORBIDDEN = ['%73%6b%2d%75', SECRET, 'sk-upstr', 'upstream-secret', 'SK-UPSTREAM', 'c2stdXBzdHJlYW0', JWT.slice(0, 30), 'MIIEvQIB', 'ACME-123456', 'sk-proj-other'];
function assertClean(text: string) {
  for (const f of FORBIDDEN) assert.ok(!text.toLowerCase().includes(f.toLowerCase()), `the agent received ${JSON.stringify(f)}: ${text.slice(0, 400)}`);
}

const LLM_CASES: { name: string; reply: Reply; status: number; message?: RegExp }[] = [
  { name: 'the key in an OpenAI error message', reply: { status: 401, body: openaiError(`Incorrect API key provided: ${SECRET}.`) }, status: 401, message: /Incorrect API key provided: \[REDACTED\]/ },
  { name: 'the bearer header echoed', reply: { status: 401, body: openaiError(`bad key Bearer ${SECRET}`) }, status: 401, message: /bad key Bearer \[REDACTED\]/ },
  { name: 'the key partly masked', reply: { status: 401, body: openaiError(`Incorrect API key provided: sk-upstr*******cret`) }, status: 401, message: /\[REDACTED\]\*+cret/ },
  { name: 'the key in upper case', reply: { status: 401, body: openaiError(`key ${SECRET.toUpperCase()} rejected`) }, status: 401 },
  { name: 'the key JSON-escaped', reply: { status: 401, body: `{"error":{"message":"key sk\\u002dupstream\\u002dsecret rejected","type":"auth","code":null,"param":null}}` }, status: 401 },
  { name: 'the key under a nested field of a non-OpenAI body', reply: { status: 400, body: JSON.stringify({ detail: { headers: { authorization: `Bearer ${SECRET}` } } }) }, status: 400, message: /upstream "scripted" answered 400/ },
  { name: 'an HTML error page', reply: { status: 502, body: `<html><body>proxy error for Authorization: Bearer ${SECRET}</body></html>`, headers: { 'content-type': 'text/html' } }, status: 502, message: /answered 502: <html>/ },
  { name: 'the key percent-encoded', reply: { status: 500, body: `failed: key=sk%2Dupstream%2Dsecret` }, status: 500, message: /\[REDACTED\]|withheld/ },
  { name: 'the key wholly percent-encoded', reply: { status: 500, body: `key=${[...SECRET].map((ch) => '%' + ch.charCodeAt(0).toString(16)).join('')}` }, status: 500, message: /withheld/ },
  { name: 'the key base64-encoded', reply: { status: 500, body: `debug: ${Buffer.from(`Bearer ${SECRET}`).toString('base64')}` }, status: 500, message: /withheld/ },
  { name: 'a JWT, a private key and another provider key', reply: { status: 400, body: openaiError(`token ${JWT} key ${PEM} other sk-proj-otherkey1234567890abcd`) }, status: 400 },
  { name: 'a body over the size cap', reply: { status: 500, body: `${'x'.repeat(70 * 1024)} ${SECRET}` }, status: 500, message: /withheld: its body is over 65536 bytes/ },
  { name: 'a rate limit keeps its status and Retry-After', reply: { status: 429, body: openaiError(`slow down ${SECRET}`), headers: { 'retry-after': '7' } }, status: 429 },
  { name: 'the key in a response header', reply: { status: 503, body: openaiError('overloaded'), headers: { 'x-debug-auth': `Bearer ${SECRET}`, 'x-request-id': 'req_1' } }, status: 503, message: /overloaded/ },
];

describe('class 8: LLM upstream errors', () => {
  const upstream = new FakeUpstream();
  let gk: Gatekeeper;
  let url: string;
  before(async () => {
    const base = await upstream.start();
    const config = GatekeeperConfig.parse({
      agents: [{ id: 'planner', owner: 'alice', api_keys: [hashApiKey(AGENT_KEY)] }],
      llm: { upstreams: [{ name: 'scripted', base_url: `${base}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' } }] },
      listen: { host: '127.0.0.1', port: 0 },
      policy: { bundle: 'unused' },
      ledger: { path: 'unused', signing_key_file: 'unused' },
      // The operator's secret patterns (read from where the approvals keep them).
      approvals: { redact: { patterns: ['ACME-[0-9]{6}'] } },
    });
    gk = await buildServer({ config, file: 'test.yaml', dir: '.' }, { log: new MemoryLog(), policy: functionPolicy(allowAll), env: { TEST_UPSTREAM_KEY: SECRET }, modules: [], logger: pino({ level: 'silent' }) });
    url = await gk.listen();
  });
  after(async () => {
    await gk.close();
    await upstream.stop();
  });
  beforeEach(() => (upstream.received.length = 0));

  const upstreamGotOneCallWithTheKey = () => {
    assert.equal(upstream.received.length, 1);
    assert.equal(upstream.received[0]!.headers.authorization, `Bearer ${SECRET}`, 'the credential goes to the upstream, and only there');
    assert.ok(!upstream.received[0]!.body.includes(AGENT_KEY));
  };
  const post = (path: string, body: unknown) =>
    fetch(`${url}/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  for (const c of [...LLM_CASES, { name: 'a configured secret pattern', reply: { status: 400, body: openaiError('order ACME-123456 refused') }, status: 400, message: /order \[REDACTED\] refused/ }]) {
    test(`chat and responses: ${c.name}`, async () => {
      for (const path of ['chat/completions', 'responses']) {
        upstream.received.length = 0;
        upstream.next = c.reply;
        const res = await post(path, path === 'responses' ? { model: 'gpt-test', input: 'hi' } : { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
        const text = await res.text();
        assert.equal(res.status, c.status);
        assertClean(text + JSON.stringify([...res.headers]));
        const error = (JSON.parse(text) as { error: { message: string; type: unknown; code: unknown; param: unknown } }).error;
        assert.equal(typeof error.message, 'string');
        assert.ok('type' in error && 'code' in error && 'param' in error, 'OpenAI-shaped');
        if (c.message) assert.match(error.message, c.message);
        if (c.reply.headers?.['retry-after']) assert.equal(res.headers.get('retry-after'), '7');
        if (c.reply.headers?.['x-request-id']) assert.equal(res.headers.get('x-request-id'), 'req_1');
        upstreamGotOneCallWithTheKey();
      }
    });
  }

  test('the openai SDK surfaces the scrubbed error with the upstream status', async () => {
    upstream.next = { status: 401, body: openaiError(`Incorrect API key provided: ${SECRET}`) };
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.match(err.message, /Incorrect API key provided: \[REDACTED\]/);
    upstreamGotOneCallWithTheKey();
  });

  const STREAM_ERRORS: { name: string; sse: string[]; path: string }[] = [
    { name: 'chat: an error chunk echoing the key', path: 'chat/completions', sse: [`data: {"error":{"message":"bad key Bearer ${SECRET}","type":"auth"}}\n\n`] },
    { name: 'chat: a named error event echoing the key, upper case', path: 'chat/completions', sse: [`event: error\ndata: {"message":"key ${SECRET.toUpperCase()}"}\n\n`] },
    { name: 'chat: an error event that is not JSON', path: 'chat/completions', sse: [`event: error\ndata: upstream said ${SECRET}\n\n`] },
    { name: 'responses: response.failed echoing the key', path: 'responses', sse: [`event: response.failed\ndata: {"type":"response.failed","sequence_number":0,"response":{"id":"r","object":"response","status":"failed","output":[],"error":{"code":"server_error","message":"auth Bearer ${SECRET} failed"}}}\n\n`] },
    { name: 'responses: an error event with the key escaped', path: 'responses', sse: [`event: error\ndata: {"type":"error","sequence_number":0,"code":"x","message":"sk\\u002dupstream\\u002dsecret","param":null}\n\n`] },
  ];
  for (const c of STREAM_ERRORS) {
    test(`stream: ${c.name}`, async () => {
      upstream.next = { status: 200, body: '', sse: c.sse };
      const res = await post(c.path, c.path === 'responses' ? { model: 'gpt-test', input: 'hi', stream: true } : { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
      const text = await res.text();
      assert.equal(res.status, 200);
      assertClean(text);
      assert.match(text, /REDACTED|withheld/);
      upstreamGotOneCallWithTheKey();
    });
  }
});

describe('class 8: API proxy errors', () => {
  const upstream = new FakeUpstream();
  let fx: Fixture;
  const TOKEN = 'erp-token-7f3a9c2e51';
  before(async () => {
    const base = await upstream.start();
    fx = await startCoreGatekeeper({
      config: { apis: { erp: { base_url: `${base}/v2`, headers: { authorization: { env: 'ERP_TOKEN', prefix: 'Bearer ' }, 'x-api-key': { env: 'ERP_KEY' } } } } },
      build: { env: { ERP_TOKEN: TOKEN, ERP_KEY: 'erp-second-key-42' } },
    });
  });
  after(async () => {
    await fx.close();
    await upstream.stop();
  });
  beforeEach(() => (upstream.received.length = 0));
  const get = () => fetch(`${fx.url}/apis/erp/inventory/STEEL-9`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
  const clean = (text: string) => {
    for (const f of [TOKEN, 'erp-token', '7f3a9c2e51'.toUpperCase(), 'erp-second-key', Buffer.from(TOKEN).toString('base64').slice(0, 12), JWT.slice(0, 30)]) {
      assert.ok(!text.toLowerCase().includes(f.toLowerCase()), `the agent received ${f}: ${text.slice(0, 300)}`);
    }
  };

  const CASES: { name: string; reply: Reply; contains?: RegExp }[] = [
    { name: 'JSON echoing the bearer token', reply: { status: 401, body: JSON.stringify({ error: `invalid token Bearer ${TOKEN}` }) }, contains: /invalid token Bearer \[REDACTED\]/ },
    { name: 'plain text echoing the second credential header', reply: { status: 403, body: `x-api-key erp-second-key-42 has no access`, headers: { 'content-type': 'text/plain' } }, contains: /x-api-key \[REDACTED\] has no access/ },
    { name: 'a fragment of the token in upper case', reply: { status: 400, body: JSON.stringify({ msg: `token ending 7F3A9C2E51` }) } },
    { name: 'the token base64-encoded', reply: { status: 500, body: `trace ${Buffer.from(`Bearer ${TOKEN}`).toString('base64')}`, headers: { 'content-type': 'text/plain' } }, contains: /withheld/ },
    { name: 'the token in a response header', reply: { status: 404, body: '{"error":"no such item"}', headers: { 'www-authenticate': `Bearer realm="erp", token="${TOKEN}"` } }, contains: /no such item/ },
    { name: 'a JWT in the error', reply: { status: 422, body: JSON.stringify({ detail: `session ${JWT}` }) } },
    { name: 'a body over the cap', reply: { status: 500, body: `${'y'.repeat(66 * 1024)}${TOKEN}` }, contains: /withheld: its body is over/ },
  ];
  for (const c of CASES) {
    test(`API proxy: ${c.name}`, async () => {
      upstream.next = c.reply;
      const res = await get();
      const text = await res.text();
      assert.equal(res.status, c.reply.status, 'the upstream status reaches the agent');
      assert.ok(res.headers.get('oagf-decision-id'));
      clean(text + JSON.stringify([...res.headers]));
      if (c.contains) assert.match(text, c.contains);
      assert.equal(upstream.received.length, 1);
      assert.equal(upstream.received[0]!.url, '/v2/inventory/STEEL-9');
      assert.equal(upstream.received[0]!.headers.authorization, `Bearer ${TOKEN}`);
    });
  }

  test('API proxy: a successful response is passed as the API sent it', async () => {
    upstream.next = { status: 200, body: '{"sku":"STEEL-9","on_hand":12}' };
    const res = await get();
    assert.equal(await res.text(), '{"sku":"STEEL-9","on_hand":12}');
  });
});
