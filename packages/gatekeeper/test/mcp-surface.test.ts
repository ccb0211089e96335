/**
 * The MCP surface against real MCP parts: the SDK Client over Streamable HTTP → the gatekeeper → server-everything
 * and server-filesystem over stdio.
 */
import assert from 'node:assert/strict';
import { ledgerRecords } from './support/ledger.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KEYS } from './core/fixture.js';
import { connect, startMcpGatekeeper, waitFor, type McpFixture } from './support/mcp.js';

let fx: McpFixture;

before(async () => {
  fx = await startMcpGatekeeper();
});
after(() => fx.close());

async function records(type?: string) {
  return (await ledgerRecords(fx.gk.deps.ledger!)).filter((r) => !type || r.type === type);
}

test('an allowed tools/call reaches the upstream and is recorded as decision and outcome', async () => {
  const client = await connect(fx.url, KEYS.buyer);
  try {
    const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: hello' }]);
    const decision = (await records('decision')).findLast((r) => (r.data as { kind: string }).kind === 'mcp.tool_call')!;
    assert.equal(decision.outcome, 'allow');
    assert.deepEqual((decision.data as { target: unknown }).target, { server: 'everything', tool: 'echo' });
    await waitFor(async () => (await records('outcome')).some((r) => r.links![0]!.id === decision.id));
    const outcome = (await records('outcome')).find((r) => r.links![0]!.id === decision.id)!;
    assert.equal((outcome.data as { text: string }).text, 'Echo: hello');
  } finally {
    await client.close();
  }
});

test('tools/list is one recorded mcp.tools_list decision; the agent sees only the tools it may call', async () => {
  const buyer = await connect(fx.url, KEYS.buyer);
  const planner = await connect(fx.url, KEYS.planner);
  try {
    const names = (await planner.listTools()).tools.map((t) => t.name);
    assert.deepEqual(names, ['everything__echo']);
    const all = (await buyer.listTools()).tools.map((t) => t.name);
    assert.ok(all.includes('everything__get-sum') && all.includes('fs__write_file') && !all.includes('fs__move_file'), all.join());
    const single = await connect(fx.url, KEYS.buyer, { path: '/mcp/fs' });
    assert.ok((await single.listTools()).tools.some((t) => t.name === 'read_text_file'));
    await single.close();
    const list = (await records('decision')).find((r) => (r.data as { kind: string }).kind === 'mcp.tools_list' && r.agent === 'planner')!;
    const hidden = ((list.data as { obligations: { type: string; tools: { tool: string }[] }[] }).obligations[0]!).tools.map((t) => t.tool);
    assert.ok(hidden.includes('get-sum') && hidden.includes('write_file'));
    // Every tool was pinned in the ledger the first time it was seen.
    assert.ok((await records('mcp.tool_pinned')).some((r) => r.id === 'mcp.pin/fs/write_file'));
  } finally {
    await buyer.close();
    await planner.close();
  }
});

test('a denied call never reaches the upstream: the file is not written', async () => {
  const planner = await connect(fx.url, KEYS.planner, { path: '/mcp/fs' });
  try {
    const target = join(fx.files, 'denied.txt');
    const result = await planner.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(result.isError, true);
    assert.match((result.content as { text: string }[])[0]!.text, /not allowed for agent planner/);
    assert.equal(existsSync(target), false);
  } finally {
    await planner.close();
  }
});

test('a destructive tool escalates; without approvals configured it is refused and nothing is written', async () => {
  const buyer = await connect(fx.url, KEYS.buyer);
  try {
    const target = join(fx.files, 'escalated.txt');
    const result = await buyer.callTool({ name: 'fs__write_file', arguments: { path: target, content: 'x' } });
    assert.equal(result.isError, true);
    assert.match((result.content as { text: string }[])[0]!.text, /approval required: MCP tool write_file on server fs may change or destroy data/);
    assert.equal(existsSync(target), false);
  } finally {
    await buyer.close();
  }
});

test('read-only filesystem tools work against the temp directory', async () => {
  writeFileSync(join(fx.files, 'note.txt'), 'the note');
  const buyer = await connect(fx.url, KEYS.buyer);
  try {
    const result = await buyer.callTool({ name: 'fs__read_text_file', arguments: { path: join(fx.files, 'note.txt') } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'the note' }]);
  } finally {
    await buyer.close();
  }
});

test('resources/read and prompts/get are their own decided kinds', async () => {
  const buyer = await connect(fx.url, KEYS.buyer, { path: '/mcp/everything' });
  const planner = await connect(fx.url, KEYS.planner, { path: '/mcp/everything' });
  try {
    const read = await buyer.readResource({ uri: 'demo://resource/static/document/architecture.md' });
    assert.ok(read.contents.length > 0);
    await assert.rejects(planner.readResource({ uri: 'demo://resource/static/document/architecture.md' }), /not allowed for agent planner/);
    const prompt = await buyer.getPrompt({ name: 'simple-prompt' });
    assert.ok(prompt.messages.length > 0);
    await assert.rejects(planner.getPrompt({ name: 'simple-prompt' }), /MCP prompt simple-prompt on server everything is not allowed/);
    const kinds = new Set((await records('decision')).map((r) => (r.data as { kind: string }).kind));
    assert.ok(kinds.has('mcp.resource_read') && kinds.has('mcp.prompt_get'));
  } finally {
    await buyer.close();
    await planner.close();
  }
});

test('resources/list and prompts/list are decided: an agent sees only what it may read or get', async () => {
  const buyer = await connect(fx.url, KEYS.buyer, { path: '/mcp/everything' });
  const planner = await connect(fx.url, KEYS.planner);
  try {
    const uris = (await buyer.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.length > 0, 'the buyer may read the static resources');
    assert.ok(uris.every((u) => u.startsWith('demo://resource/static/')), uris.join(', '));
    assert.deepEqual((await buyer.listPrompts()).prompts.map((p) => p.name), ['simple-prompt']);
    assert.deepEqual((await planner.listResources()).resources, [], 'the planner may read no resource');
    assert.deepEqual((await planner.listPrompts()).prompts, []);
    const listings = (await records('decision')).filter((r) => ['mcp.resources_list', 'mcp.prompts_list'].includes((r.data as { kind: string }).kind));
    assert.equal(listings.length, 4);
    assert.ok(listings.every((r) => r.outcome === 'allow'));
  } finally {
    await buyer.close();
    await planner.close();
  }
});

test('outcome records redact secrets in tool results', async () => {
  const buyer = await connect(fx.url, KEYS.buyer);
  try {
    const result = await buyer.callTool({ name: 'everything__echo', arguments: { message: 'token sk-abcdefghijklmnopqrstuvwxyz123456' } });
    assert.match((result.content as { text: string }[])[0]!.text, /sk-abcdefghij/);
    const decision = (await records('decision')).findLast((r) => (r.data as { kind: string }).kind === 'mcp.tool_call')!;
    await waitFor(async () => (await records('outcome')).some((r) => r.links![0]!.id === decision.id));
    const outcome = (await records('outcome')).find((r) => r.links![0]!.id === decision.id)!;
    assert.equal((outcome.data as { text: string }).text, 'Echo: token [REDACTED]');
  } finally {
    await buyer.close();
  }
});

test('without a key: 401 with RFC 9728 resource metadata; malformed JSON-RPC gets a JSON-RPC error', async () => {
  const res = await fetch(`${fx.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate')!;
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
  const metadata = (await (await fetch(metadataUrl)).json()) as { resource: string; bearer_methods_supported: string[] };
  assert.equal(metadata.resource, `${fx.url}/mcp`);
  assert.deepEqual(metadata.bearer_methods_supported, ['header']);
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEYS.buyer}` };
  for (const body of ['{"jsonrpc":"2.0","id":1,"method":', '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', '[]', '{"id":1}']) {
    const bad = await fetch(`${fx.url}/mcp`, { method: 'POST', headers, body });
    assert.equal(bad.status, 400, body);
    const error = ((await bad.json()) as { error: { code: number } }).error;
    assert.ok(error.code === -32700 || error.code === -32600, body);
  }
  // Still serving.
  const client = await connect(fx.url, KEYS.buyer);
  assert.deepEqual(await client.ping(), {});
  await client.close();
});

test('progress, cancellation and ping: progress the agent asked for arrives, a cancelled call is cancelled upstream and recorded as failed', async () => {
  const client = await connect(fx.url, KEYS.buyer);
  try {
    assert.deepEqual(await client.ping(), {});
    const steps: { progress: number; total?: number }[] = [];
    const done = await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, { onprogress: (p) => steps.push(p) });
    assert.match((done.content as { text: string }[])[0]!.text, /Long running operation completed/);
    // The last step's progress comes right before the result; the SDK's client dispatches notifications a microtask
    // after responses, so that one may be dropped by any SDK client on the way (the gatekeeper's or the agent's).
    assert.deepEqual(steps.slice(0, 2).map((p) => [p.progress, p.total]), [[1, 3], [2, 3]]);

    const abort = new AbortController();
    const started = Date.now();
    const call = client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 20, steps: 40 } }, { signal: abort.signal, onprogress: () => abort.abort('enough') });
    await assert.rejects(call);
    const decision = (await records('decision')).findLast((r) => (r.data as { kind: string }).kind === 'mcp.tool_call')!;
    await waitFor(async () => (await records('outcome')).some((r) => r.links![0]!.id === decision.id && (r.data as { result: string }).result === 'failed'));
    assert.ok(Date.now() - started < 10_000, 'the upstream call ended when it was cancelled, not when the tool finished');
  } finally {
    await client.close();
  }
});

test('a tools/call is answered as one JSON body, or as an SSE stream when it reports progress', async () => {
  const client = await connect(fx.url, KEYS.buyer);
  const sessionId = (client.transport as unknown as { sessionId: string }).sessionId;
  try {
    const post = (id: number, params: unknown) =>
      fetch(`${fx.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEYS.buyer}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': client.getNegotiatedProtocolVersion()! },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }),
      });
    const plain = await post(1, { name: 'everything__echo', arguments: { message: 'json' } });
    assert.equal(plain.headers.get('content-type'), 'application/json');
    assert.deepEqual(await plain.json(), { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'Echo: json' }] } });
    const streamed = await post(2, { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.4, steps: 2 }, _meta: { progressToken: 'p' } });
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    const events = (await streamed.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.split('data: ')[1]!));
    assert.deepEqual([events[0].method, events[0].params.progressToken, events[0].params.progress], ['notifications/progress', 'p', 1]);
    assert.equal(events.at(-1).id, 2);
    assert.match(events.at(-1).result.content[0].text, /completed/);
    // Malformed params are the SDK's to refuse, as before: a JSON-RPC error.
    for (const params of [{ name: 'everything__echo', arguments: [1] }, { name: 'everything__echo', arguments: {}, _meta: { progressToken: {} } }]) {
      assert.match(await (await post(3, params)).text(), /"error":\{"code":-32(602|700),/, JSON.stringify(params));
    }
  } finally {
    await client.close();
  }
});

test('a hostile tools/call on the hot path: duplicate keys are refused before any decision, another agent\'s session is unknown', async () => {
  const client = await connect(fx.url, KEYS.buyer);
  const sessionId = (client.transport as unknown as { sessionId: string }).sessionId;
  const version = client.getNegotiatedProtocolVersion()!;
  const post = (key: string, body: string) =>
    fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': version },
      body,
    });
  const toolCalls = async () => (await records('decision')).filter((r) => (r.data as { kind: string }).kind === 'mcp.tool_call').length;
  try {
    const before = await toolCalls();
    // One parser reads the first name, another the last: the gatekeeper refuses to guess.
    for (const body of [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"everything__echo","name":"everything__add","arguments":{"message":"x"}}}',
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"x","message":"y"}}}',
    ]) {
      const res = await post(KEYS.buyer, body);
      assert.equal(res.status, 400, body);
      assert.match(await res.text(), /"code":-32600,"message":"[^"]*duplicate/, body);
    }
    const stolen = await post(KEYS.planner, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x' } } }));
    assert.equal(stolen.status, 404, "another agent's key with this session id");
    assert.equal(await toolCalls(), before, 'none of them was decided or carried out');
  } finally {
    await client.close();
  }
});

test('a session belongs to the agent that opened it', async () => {
  const buyer = await connect(fx.url, KEYS.buyer);
  try {
    const sessionId = (buyer.transport as unknown as { sessionId: string }).sessionId;
    const res = await fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEYS.planner}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 404);
  } finally {
    await buyer.close();
  }
});

test('protocol versions: 2025-06-18 and 2025-11-25 with sessions, 2026-07-28 stateless', async () => {
  const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
  for (const version of ['2025-06-18', '2025-11-25']) {
    const client = new Client({ name: 'old', version: '1' }, { supportedProtocolVersions: [version] });
    const transport = new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${KEYS.planner}` } } });
    await client.connect(transport);
    assert.equal(client.getNegotiatedProtocolVersion(), version);
    assert.ok(transport.sessionId);
    assert.deepEqual((await client.callTool({ name: 'everything__echo', arguments: { message: version } })).content, [{ type: 'text', text: `Echo: ${version}` }]);
    await transport.terminateSession();
    await client.close();
  }
  const modern = new Client({ name: 'new', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await modern.connect(new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${KEYS.planner}` } } }));
  assert.equal(modern.getProtocolEra(), 'modern');
  assert.deepEqual((await modern.callTool({ name: 'everything__echo', arguments: { message: 'stateless' } })).content, [{ type: 'text', text: 'Echo: stateless' }]);
  const decision = (await records('decision')).findLast((r) => (r.data as { kind: string }).kind === 'mcp.tool_call')!;
  const input = JSON.parse(Buffer.from((await fx.gk.deps.ledger!.getPayload(decision.payloads!.input!))!).toString());
  assert.equal(input.context.mcp.protocol_version, '2026-07-28');
  await modern.close();
});
