/**
 * Issue 12, class 4: every output item that acts in the world is decided before the agent sees it, and an item
 * the gatekeeper does not know is withheld — Responses API and chat completions, JSON and streams, through the
 * `openai` SDK against the scripted upstream. Each case checks what the agent got (the bytes on the wire: no trace
 * of a withheld item), which decisions were taken, and what the upstream received (the one judged request).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, recordingFetch, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatCompletion } from './support/scripted-upstream.js';

type Json = Record<string, unknown>;

/** Kinds the test policy allows besides llm.request (each test sets them); everything else is denied. */
let allowed = new Set<string>();
const policy = (input: OagfInput) =>
  input.action.kind === 'llm.request' || allowed.has(input.action.kind) || allowed.has(`${input.action.kind}:${input.action.target.tool ?? input.action.target.type}`)
    ? { outcome: 'allow', reasons: [] }
    : { outcome: 'deny', reasons: [`${input.action.kind} denied by the test policy`] };

const RESPONSE_BASE = { id: 'resp_x', object: 'response', created_at: 1, status: 'completed', model: 'gpt-test', parallel_tool_calls: true, tool_choice: 'auto', tools: [] };
const USAGE = { input_tokens: 3, output_tokens: 2, total_tokens: 5 };
const response = (output: unknown[]): Json => ({ ...RESPONSE_BASE, output, usage: USAGE });

/** The events of a streamed response whose items arrive whole: added (in progress) then done, then completed. */
function itemEvents(items: Json[], finalOutput: unknown[] = items): Json[] {
  const events: Json[] = [{ type: 'response.created', response: { ...RESPONSE_BASE, status: 'in_progress', output: [], usage: null } }];
  items.forEach((item, i) => {
    events.push({ type: 'response.output_item.added', output_index: i, item: { ...item, status: 'in_progress' } });
    events.push({ type: 'response.output_item.done', output_index: i, item });
  });
  events.push({ type: 'response.completed', response: response(finalOutput) });
  return events.map((e, i) => ({ ...e, sequence_number: i }));
}

const shellItem = { type: 'shell_call', id: 'sh_1', call_id: 'call_sh', action: { commands: ['echo MARK-SHELL && rm -rf ~'], timeout_ms: 1000 }, environment: { type: 'local' }, status: 'completed' };
const localShellItem = { type: 'local_shell_call', id: 'ls_1', call_id: 'call_ls', action: { type: 'exec', command: ['bash', '-lc', 'echo MARK-LOCAL'], env: { A: '1' } }, status: 'completed' };
const computerItem = { type: 'computer_call', id: 'cu_1', call_id: 'call_cu', action: { type: 'type', text: 'MARK-COMPUTER' }, pending_safety_checks: [], status: 'completed' };
const patchItem = { type: 'apply_patch_call', id: 'ap_1', call_id: 'call_ap', operation: { type: 'update_file', path: '../.ssh/authorized_keys', diff: '+MARK-PATCH' }, status: 'completed' };
const mcpApproval = { type: 'mcp_approval_request', id: 'mcpr_1', server_label: 'stripe', name: 'refund', arguments: '{"charge":"MARK-MCP"}' };
const toolSearch = { type: 'tool_search_call', id: 'ts_1', call_id: 'call_ts', execution: 'client', arguments: { query: 'MARK-SEARCH' }, status: 'completed' };
const unknownItem = { type: 'teleport_call', id: 'tp_1', call_id: 'call_tp', destination: 'MARK-UNKNOWN' };
const mixedCase = { ...localShellItem, type: 'Local_Shell_Call', id: 'ls_2', action: { type: 'exec', command: ['MARK-CASE'] } };

/** Items that act, with the action kind and target they must be decided as, and a marker that must not leak. */
const ACTION_ITEMS: { name: string; item: Json; kind: string; target: Json; args?: Json; marker: string }[] = [
  { name: 'shell_call (local)', item: shellItem, kind: 'llm.shell_call', target: { tool: 'shell' }, args: { commands: shellItem.action.commands, timeout_ms: 1000, environment: { type: 'local' } }, marker: 'MARK-SHELL' },
  { name: 'local_shell_call', item: localShellItem, kind: 'llm.shell_call', target: { tool: 'local_shell' }, args: { commands: ["bash -lc 'echo MARK-LOCAL'"], argv: ['bash', '-lc', 'echo MARK-LOCAL'], env: { A: '1' } }, marker: 'MARK-LOCAL' },
  { name: 'computer_call', item: computerItem, kind: 'llm.computer_call', target: { tool: 'computer' }, args: { actions: [computerItem.action], pending_safety_checks: [] }, marker: 'MARK-COMPUTER' },
  { name: 'apply_patch_call', item: patchItem, kind: 'llm.patch_call', target: { tool: 'apply_patch', path: '../.ssh/authorized_keys' }, marker: 'MARK-PATCH' },
  { name: 'mcp_approval_request', item: mcpApproval, kind: 'llm.mcp_approval', target: { server: 'stripe', tool: 'refund' }, args: { charge: 'MARK-MCP' }, marker: 'MARK-MCP' },
  { name: 'tool_search_call (client)', item: toolSearch, kind: 'llm.tool_call', target: { tool: 'tool_search' }, args: { query: 'MARK-SEARCH' }, marker: 'MARK-SEARCH' },
  { name: 'unknown item type', item: unknownItem, kind: 'llm.unknown_item', target: { type: 'teleport_call', path: '/v1/responses' }, marker: 'MARK-UNKNOWN' },
  { name: 'known type in other case (unknown)', item: mixedCase, kind: 'llm.unknown_item', target: { type: 'Local_Shell_Call', path: '/v1/responses' }, marker: 'MARK-CASE' },
  { name: 'output entry that is not an object', item: 'MARK-STRING' as unknown as Json, kind: 'llm.unknown_item', target: { type: 'string', path: '/v1/responses' }, marker: 'MARK-STRING' },
];

/** Items the provider executed (or that ask nothing of the agent): passed on untouched, with no decision of their own. */
const PASSIVE_ITEMS: Json[] = [
  { type: 'web_search_call', id: 'ws_1', action: { type: 'search', query: 'steel prices' }, status: 'completed' },
  { type: 'file_search_call', id: 'fs_1', queries: ['q'], status: 'completed', results: null },
  { type: 'code_interpreter_call', id: 'ci_1', code: 'print(1)', container_id: 'cntr', outputs: null, status: 'completed' },
  { type: 'image_generation_call', id: 'ig_1', result: null, status: 'completed' },
  { type: 'mcp_call', id: 'mcp_1', server_label: 'deepwiki', name: 'ask', arguments: '{}', output: 'ok', status: 'completed' },
  { type: 'mcp_list_tools', id: 'mlt_1', server_label: 'deepwiki', tools: [] },
  { type: 'reasoning', id: 'rs_1', summary: [] },
  { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'plain text', annotations: [] }] },
];

describe('class 4: every action item is decided', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  let rec: ReturnType<typeof recordingFetch>;
  let client: OpenAI;
  before(async () => {
    gk = await startGatekeeper({ upstreamUrl: await upstream.start(), policy });
  });
  after(async () => {
    await gk.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    allowed = new Set();
    gk.attempts.length = 0;
    upstream.received.length = 0;
    rec = recordingFetch();
    client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, fetch: rec.fetch, maxRetries: 0 });
  });

  const decided = () => gk.attempts.filter((a) => a.action.kind !== 'llm.request');
  const wire = async () => {
    await new Promise((r) => setTimeout(r, 20));
    return rec.bodies.join('');
  };
  /** The upstream got exactly the one request the agent made (the judged llm.request), and nothing else. */
  const upstreamGotOneRequest = (input: unknown) => {
    assert.equal(upstream.received.length, 1);
    assert.equal(upstream.received[0]!.url, '/v1/responses');
    assert.deepEqual(upstream.received[0]!.body.input, input);
  };

  for (const c of ACTION_ITEMS) {
    test(`responses JSON: ${c.name} is decided as ${c.kind} and withheld on a deny`, async () => {
      upstream.enqueue({ json: response([c.item]) });
      const res = await client.responses.create({ model: 'gpt-test', input: 'go' });
      assert.deepEqual(res.output.map((i) => i.type), ['message']);
      assert.match(res.output_text, new RegExp(`The gatekeeper withheld .*${c.kind.replace('.', '\\.')} denied by the test policy`));
      const [d] = decided();
      assert.equal(decided().length, 1);
      assert.equal(d!.action.kind, c.kind);
      assert.deepEqual({ ...d!.action.target, model: undefined }, { ...c.target, model: undefined });
      if (c.args) assert.deepEqual(d!.action.arguments, c.args);
      assert.ok(!(await wire()).includes(c.marker), 'nothing of the withheld item reaches the agent');
      upstreamGotOneRequest('go');
    });

    test(`responses stream: ${c.name} is decided and replaced, in the events and in response.completed`, async () => {
      upstream.enqueue({ sse: itemEvents([c.item]), named: true, cut: { every: 11 } });
      const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
      const events: Json[] = [];
      for await (const e of stream) events.push(e as unknown as Json);
      const completed = events.find((e) => e.type === 'response.completed')!.response as Json;
      assert.deepEqual((completed.output as Json[]).map((i) => i.type), ['message']);
      assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
      assert.equal(decided().length, 1, 'decided once, not again for the final response');
      assert.equal(decided()[0]!.action.kind, c.kind);
      assert.ok(!(await wire()).includes(c.marker));
      upstreamGotOneRequest('go');
    });
  }

  test('responses: an allowed action item is released exactly as the upstream sent it', async () => {
    allowed = new Set(['llm.shell_call', 'llm.computer_call', 'llm.patch_call']);
    upstream.enqueue({ json: response([shellItem, computerItem, patchItem]) });
    const res = await client.responses.create({ model: 'gpt-test', input: 'go' });
    assert.deepEqual(res.output, [shellItem, computerItem, patchItem]);
    upstream.enqueue({ sse: itemEvents([shellItem, localShellItem]), named: true, cut: { every: 5 } });
    allowed = new Set(['llm.shell_call']);
    const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
    const done: Json[] = [];
    for await (const e of stream) if (e.type === 'response.output_item.done') done.push(e.item as unknown as Json);
    assert.deepEqual(done, [shellItem, localShellItem]);
  });

  test('responses: an unknown item stays withheld when the policy allows it (llm.unknown_items: withhold)', async () => {
    allowed = new Set(['llm.unknown_item']);
    upstream.enqueue({ json: response([unknownItem]) });
    const res = await client.responses.create({ model: 'gpt-test', input: 'go' });
    assert.match(res.output_text, /withheld the output item of unknown type "teleport_call": the gatekeeper does not know output items of type "teleport_call"/);
    assert.ok(!(await wire()).includes('MARK-UNKNOWN'));
    const outcome = gk.log.outcomes.find((o) => (o.data as Json).kind === 'llm.unknown_item')!;
    assert.equal((outcome.data as Json).result, 'released', 'the allow is recorded as not carried out');
  });

  for (const item of PASSIVE_ITEMS) {
    test(`responses: ${String(item.type)} passes untouched with no decision of its own (JSON and stream)`, async () => {
      upstream.enqueue({ json: response([item]) });
      const res = await client.responses.create({ model: 'gpt-test', input: 'go' });
      assert.deepEqual(res.output, [item]);
      upstream.enqueue({ sse: itemEvents([item]), named: true, cut: { every: 9 } });
      const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
      const done: unknown[] = [];
      for await (const e of stream) if (e.type === 'response.output_item.done') done.push(e.item);
      assert.deepEqual(done, [item]);
      assert.equal(decided().length, 0);
    });
  }

  test('responses: a shell call claims to run in a container: passive only when the request offered the hosted shell', async () => {
    const hosted = { ...shellItem, id: 'sh_h', environment: { type: 'container_reference', container_id: 'cntr_1' } };
    upstream.enqueue({ json: response([hosted]) }, { json: response([hosted]) });
    const offeredHosted = await client.responses.create({ model: 'gpt-test', input: 'go', tools: [{ type: 'shell', environment: { type: 'container_auto' } }] as never });
    assert.deepEqual(offeredHosted.output, [hosted]);
    assert.equal(decided().length, 0);
    const offeredLocal = await client.responses.create({ model: 'gpt-test', input: 'go', tools: [{ type: 'shell', environment: { type: 'local' } }] as never });
    assert.deepEqual(offeredLocal.output.map((i) => i.type), ['message'], 'the label alone is not trusted');
    assert.equal(decided()[0]!.action.kind, 'llm.shell_call');
  });

  test('responses stream: an action item only in response.completed (never streamed) is decided there', async () => {
    const events = itemEvents([PASSIVE_ITEMS[7]!], [PASSIVE_ITEMS[7]!, localShellItem]);
    upstream.enqueue({ sse: events, named: true });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
    let final: Json | undefined;
    for await (const e of stream) if (e.type === 'response.completed') final = e.response as unknown as Json;
    assert.deepEqual((final!.output as Json[]).map((i) => i.type), ['message', 'message']);
    assert.equal(decided()[0]!.action.kind, 'llm.shell_call');
    assert.ok(!(await wire()).includes('MARK-LOCAL'));
  });

  test('responses stream: the final response shows a released item as judged, not as the upstream restated it', async () => {
    allowed = new Set(['llm.shell_call']);
    const restated = { ...shellItem, action: { commands: ['MARK-SWAPPED'] } };
    upstream.enqueue({ sse: itemEvents([shellItem], [restated]), named: true });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
    let final: Json | undefined;
    for await (const e of stream) if (e.type === 'response.completed') final = e.response as unknown as Json;
    assert.deepEqual(final!.output, [shellItem]);
    assert.ok(!(await wire()).includes('MARK-SWAPPED'));
  });

  test('responses stream: announced as a message, finished as a shell call: decided when it finishes', async () => {
    const events = itemEvents([localShellItem]);
    events[1] = { ...events[1]!, item: { type: 'message', id: 'ls_1', role: 'assistant', status: 'in_progress', content: [] } };
    upstream.enqueue({ sse: events, named: true });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
    const done: Json[] = [];
    for await (const e of stream) if (e.type === 'response.output_item.done') done.push(e.item as unknown as Json);
    assert.deepEqual(done.map((i) => i.type), ['message']);
    assert.equal(decided()[0]!.action.kind, 'llm.shell_call');
    assert.ok(!(await wire()).includes('MARK-LOCAL'));
  });

  test('responses stream: argument deltas that differ from the finished call are withheld even when allowed', async () => {
    allowed = new Set(['llm.tool_call']);
    const call = { type: 'function_call', id: 'fc_1', call_id: 'c1', name: 'lookup', arguments: '{"sku":"A"}', status: 'completed' };
    const events = [
      { type: 'response.created', response: { ...RESPONSE_BASE, output: [], usage: null } },
      { type: 'response.output_item.added', output_index: 0, item: { ...call, arguments: '', status: 'in_progress' } },
      { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_1', delta: '{"sku":"MARK-DELTA"}' },
      { type: 'response.function_call_arguments.done', output_index: 0, item_id: 'fc_1', arguments: '{"sku":"A"}' },
      { type: 'response.output_item.done', output_index: 0, item: call },
      { type: 'response.completed', response: response([call]) },
    ].map((e, i) => ({ ...e, sequence_number: i }));
    upstream.enqueue({ sse: events, named: true });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
    for await (const _ of stream);
    const text = await wire();
    assert.ok(!text.includes('MARK-DELTA'));
    assert.match(text, /pieces differ from the finished item/);
  });

  test('responses stream: an item hidden behind a duplicate or escaped "type" key goes out as parsed', async () => {
    const hidden = JSON.stringify({ ...localShellItem, action: { type: 'exec', command: ['MARK-HIDDEN'] } });
    const raw = [
      // A first-wins parser reads an output_item.added of a shell call; the gatekeeper (and JSON.parse) a text delta.
      `event: response.output_item.added\ndata: {"type":"response.output_item.added","output_index":0,"item":${hidden},"type":"response.output_text.delta","sequence_number":0,"item_id":"x","content_index":0,"delta":""}\n\n`,
      `event: response.output_item.added\ndata: {"type":"response.output_item.added","output_index":0,"item":${hidden},"\\u0074ype":"response.output_text.delta","sequence_number":1,"item_id":"x","content_index":0,"delta":""}\n\n`,
    ];
    for (const r of raw) {
      upstream.enqueue({ sse: [r.slice(r.indexOf('data: ') + 6, -2)], named: false, done: false });
      const res = await fetch(`${gk.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-test', input: 'go', stream: true }),
      });
      const body = await res.text();
      assert.ok(!body.includes('MARK-HIDDEN'), body);
    }
    assert.equal(upstream.received.length, 2);
  });

  test('responses stream: events for a finished slot are dropped; an action item without a slot is not passed on', async () => {
    allowed = new Set(['llm.tool_call']);
    const call = { type: 'function_call', id: 'fc_1', call_id: 'c1', name: 'lookup', arguments: '{}', status: 'completed' };
    const events = [
      { type: 'response.created', response: { ...RESPONSE_BASE, output: [], usage: null } },
      { type: 'response.output_item.done', output_index: 0, item: call },
      { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_1', delta: 'MARK-LATE' },
      { type: 'response.output_item.done', item: { ...localShellItem, action: { type: 'exec', command: ['MARK-NOSLOT'] } } },
      { type: 'response.completed', response: response([call]) },
    ].map((e, i) => ({ ...e, sequence_number: i }));
    upstream.enqueue({ sse: events, named: true });
    const stream = await client.responses.create({ model: 'gpt-test', input: 'go', stream: true });
    for await (const _ of stream);
    const text = await wire();
    assert.ok(!text.includes('MARK-LATE') && !text.includes('MARK-NOSLOT'), text);
    assert.ok(text.includes('"name":"lookup"'));
  });
});

describe('class 4: chat completions tool calls of every type, and legacy function_call', () => {
  const upstream = new ScriptedUpstream();
  let gk: TestGatekeeper;
  let decideUnknown: TestGatekeeper;
  let rec: ReturnType<typeof recordingFetch>;
  before(async () => {
    const url = await upstream.start();
    gk = await startGatekeeper({ upstreamUrl: url, policy });
    decideUnknown = await startGatekeeper({
      upstreamUrl: url,
      policy,
      llm: { upstreams: [{ name: 'scripted', base_url: `${url}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' } }], unknown_items: 'decide' },
    });
  });
  after(async () => {
    await gk.stop();
    await decideUnknown.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    allowed = new Set();
    gk.attempts.length = 0;
    decideUnknown.attempts.length = 0;
    upstream.received.length = 0;
    rec = recordingFetch();
  });
  const clientOf = (g: TestGatekeeper) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: AGENT_KEY, fetch: rec.fetch, maxRetries: 0 });
  const wire = async () => {
    await new Promise((r) => setTimeout(r, 20));
    return rec.bodies.join('');
  };
  const messages = [{ role: 'user' as const, content: 'go' }];
  const withCalls = (toolCalls: unknown[], extra: Json = {}) => {
    const c = chatCompletion({ content: null });
    const choice = (c.choices as Json[])[0]!;
    Object.assign(choice.message as Json, { tool_calls: toolCalls, ...extra });
    choice.finish_reason = 'tool_calls';
    return c;
  };
  const customCall = { id: 'call_c', type: 'custom', custom: { name: 'apply_patch', input: '*** MARK-CUSTOM' } };
  const unknownCall = { id: 'call_u', type: 'browser', browser: { url: 'https://MARK-BROWSER.example' } };
  const typelessCall = { id: 'call_t', function: { name: 'lookup', arguments: '{"q":"MARK-TYPELESS"}' } };

  const JSON_CASES: { name: string; calls: unknown[]; extra?: Json; kind: string; target: Json; marker: string }[] = [
    { name: 'custom tool call', calls: [customCall], kind: 'llm.tool_call', target: { tool: 'apply_patch' }, marker: 'MARK-CUSTOM' },
    { name: 'unknown tool-call type', calls: [unknownCall], kind: 'llm.unknown_item', target: { type: 'browser', path: '/v1/chat/completions' }, marker: 'MARK-BROWSER' },
    { name: 'tool call without a type', calls: [typelessCall], kind: 'llm.tool_call', target: { tool: 'lookup' }, marker: 'MARK-TYPELESS' },
    { name: 'tool_calls entry that is a string', calls: ['MARK-STRINGCALL'], kind: 'llm.unknown_item', target: { type: 'string', path: '/v1/chat/completions' }, marker: 'MARK-STRINGCALL' },
    { name: 'legacy function_call', calls: [], extra: { function_call: { name: 'wire_money', arguments: '{"to":"MARK-LEGACY"}' } }, kind: 'llm.tool_call', target: { tool: 'wire_money' }, marker: 'MARK-LEGACY' },
  ];

  for (const c of JSON_CASES) {
    test(`chat JSON: ${c.name} is decided as ${c.kind} and withheld on a deny`, async () => {
      const completion = withCalls(c.calls, c.extra);
      if (c.extra?.function_call) ((completion.choices as Json[])[0]!).finish_reason = 'function_call';
      if (c.calls.length === 0) delete ((completion.choices as Json[])[0]!.message as Json).tool_calls;
      upstream.enqueue({ json: completion });
      const res = await clientOf(gk).chat.completions.create({ model: 'gpt-test', messages });
      const choice = res.choices[0]!;
      assert.equal(choice.finish_reason, 'stop');
      assert.equal(choice.message.tool_calls, undefined);
      assert.equal((choice.message as unknown as Json).function_call, undefined);
      assert.match(choice.message.content ?? '', /The gatekeeper withheld/);
      const d = gk.attempts.filter((a) => a.action.kind !== 'llm.request');
      assert.equal(d.length, 1);
      assert.equal(d[0]!.action.kind, c.kind);
      assert.deepEqual({ ...d[0]!.action.target, model: undefined }, { ...c.target, model: undefined });
      assert.ok(!(await wire()).includes(c.marker));
      assert.equal(upstream.received.length, 1);
      assert.deepEqual(upstream.received[0]!.body.messages, messages);
    });
  }

  test('chat JSON: allowed calls of every known type are released; an unknown type only under unknown_items: decide', async () => {
    allowed = new Set(['llm.tool_call', 'llm.unknown_item']);
    upstream.enqueue({ json: withCalls([customCall, unknownCall]) }, { json: withCalls([customCall, unknownCall]) });
    const withheld = await clientOf(gk).chat.completions.create({ model: 'gpt-test', messages });
    assert.deepEqual(withheld.choices[0]!.message.tool_calls, [customCall]);
    const released = await clientOf(decideUnknown).chat.completions.create({ model: 'gpt-test', messages });
    assert.deepEqual(released.choices[0]!.message.tool_calls, [customCall, unknownCall]);
    assert.equal(decideUnknown.attempts.find((a) => a.action.kind === 'llm.unknown_item')!.action.arguments !== undefined, true);
  });

  /** A streamed completion built from raw deltas. */
  const chunk = (delta: Json, finish: string | null = null): Json => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] });
  const STREAM_CASES: { name: string; chunks: Json[]; kind: string; marker: string; finish: string }[] = [
    {
      name: 'custom tool call',
      chunks: [chunk({ role: 'assistant' }), chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'custom', custom: { name: 'apply_patch', input: '*** MARK-' } }] }), chunk({ tool_calls: [{ index: 0, custom: { input: 'CUSTOMSTREAM' } }] }), chunk({}, 'tool_calls')],
      kind: 'llm.tool_call',
      marker: 'MARK-',
      finish: 'tool_calls',
    },
    {
      name: 'unknown tool-call type',
      chunks: [chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'browser', browser: { url: 'MARK-BSTREAM' } }] }), chunk({}, 'tool_calls')],
      kind: 'llm.unknown_item',
      marker: 'MARK-BSTREAM',
      finish: 'tool_calls',
    },
    {
      name: 'legacy function_call deltas',
      chunks: [chunk({ function_call: { name: 'wire_money', arguments: '' } }), chunk({ function_call: { arguments: '{"to":"MARK-LSTREAM"}' } }), chunk({}, 'function_call')],
      kind: 'llm.tool_call',
      marker: 'MARK-LSTREAM',
      finish: 'function_call',
    },
    {
      name: 'a call whose deltas change its type mid-way',
      chunks: [chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{' } }] }), chunk({ tool_calls: [{ index: 0, type: 'browser', function: { arguments: '"q":"MARK-FLIP"}' } }] }), chunk({}, 'tool_calls')],
      kind: 'llm.tool_call',
      marker: 'MARK-FLIP',
      finish: 'tool_calls',
    },
  ];

  for (const c of STREAM_CASES) {
    test(`chat stream: ${c.name} is decided and withheld`, async () => {
      if (c.name.startsWith('a call whose')) allowed = new Set(['llm.tool_call']); // allowed, and still withheld
      upstream.enqueue({ sse: c.chunks, cut: { every: 6 } });
      const stream = await clientOf(gk).chat.completions.create({ model: 'gpt-test', messages, stream: true });
      let content = '';
      let finish: string | null = null;
      for await (const ch of stream) {
        content += ch.choices[0]?.delta.content ?? '';
        finish = ch.choices[0]?.finish_reason ?? finish;
        assert.equal(ch.choices[0]?.delta.tool_calls, undefined);
      }
      assert.match(content, /The gatekeeper withheld/);
      assert.equal(finish, 'stop');
      assert.equal(gk.attempts.find((a) => a.action.kind !== 'llm.request')!.action.kind, c.kind);
      assert.ok(!(await wire()).includes(c.marker));
      assert.equal(upstream.received.length, 1);
    });
  }

  test('chat stream: an allowed legacy function_call is released as it came', async () => {
    allowed = new Set(['llm.tool_call']);
    upstream.enqueue({ sse: STREAM_CASES[2]!.chunks, cut: { every: 6 } });
    const stream = await clientOf(gk).chat.completions.create({ model: 'gpt-test', messages, stream: true });
    let args = '';
    let finish: string | null = null;
    for await (const ch of stream) {
      args += (ch.choices[0]?.delta as Json | undefined)?.function_call ? (((ch.choices[0]!.delta as Json).function_call as Json).arguments as string) : '';
      finish = ch.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(args, '{"to":"MARK-LSTREAM"}');
    assert.equal(finish, 'function_call');
  });

  test('chat stream: tool calls behind an escaped key are judged, never forwarded as sent', async () => {
    const raw = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-test","choices":[{"index":0,"delta":{"\\u0074ool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"wire_money","arguments":"{\\"to\\":\\"MARK-ESC\\"}"}}]},"finish_reason":null}]}';
    upstream.enqueue({ sse: [raw, chunk({}, 'tool_calls')] });
    const res = await fetch(`${gk.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages, stream: true }),
    });
    const body = await res.text();
    assert.ok(!body.includes('MARK-ESC'), body);
    assert.match(body, /withheld the call to tool \\"wire_money\\"/);
    assert.equal(gk.attempts.find((a) => a.action.kind === 'llm.tool_call')!.action.target.tool, 'wire_money');
  });
});

