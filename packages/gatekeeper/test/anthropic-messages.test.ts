/**
 * The Anthropic Messages surface with the official `@anthropic-ai/sdk` client (base URL and API key changed,
 * nothing else) against a fake Anthropic upstream that checks `x-api-key` and `anthropic-version`, on the real
 * standard library, ledger, budgets and approvals: `tool_use` blocks are decided like OpenAI tool calls (JSON and
 * streamed), a withheld one becomes a text block and the message stops with `end_turn`; usage settles the escrow;
 * rate limits answer 429 the SDK understands; an escalated call is held until a reviewer decides; every call has
 * its decision and outcome records.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { hashPassword } from '../src/approvals/accounts.js';
import { hashApiKey } from '../src/auth/agents.js';
import { KEYS, SETTINGS, startGatekeeper, type Fixture } from './core/fixture.js';
import { AnthropicUpstream, message, messageEvents, type Block } from './support/scripted-anthropic.js';

type Json = Record<string, unknown>;

const UPSTREAM_KEY = 'sk-ant-upstream-0123456789abcdef';
const ADMIN_KEY = 'admin-test-key';
const TOOLS: Anthropic.ToolUnion[] = [
  { name: 'check_inventory', description: 'stock on hand', input_schema: { type: 'object', properties: { sku: { type: 'string' } } } },
  { name: 'place_order', description: 'order', input_schema: { type: 'object', properties: { sku: { type: 'string' }, total: { type: 'number' } } } },
];
const CHECK: Block = { tool: 'check_inventory', input: { sku: 'STEEL-9' }, id: 'toolu_check' };
const orderOf = (total: number): Block => ({ tool: 'place_order', input: { sku: 'STEEL-9', total }, id: 'toolu_order' });

function settings() {
  const s = structuredClone(SETTINGS) as { config: Record<string, Record<string, unknown>> };
  s.config.defaults!.models = ['claude-*'];
  (s.config.teams!['supply-chain'] as Json).tools = ['place_order', 'check_inventory', 'bash'];
  (s.config.teams!['supply-chain'] as Json).shell_commands = ['ls *'];
  return s;
}

describe('Anthropic Messages surface', () => {
  const upstream = new AnthropicUpstream(UPSTREAM_KEY);
  let fx: Fixture;
  let client: Anthropic;
  const planner = () => new Anthropic({ baseURL: fx.url, apiKey: KEYS.planner, maxRetries: 0 });

  before(async () => {
    const url = await upstream.start();
    process.env.TEST_ANTHROPIC_KEY = UPSTREAM_KEY;
    fx = await startGatekeeper({
      settings: settings(),
      config: {
        admin: { api_keys: [hashApiKey(ADMIN_KEY)] },
        agents: [
          { id: 'buyer', owner: 'dana', team: 'supply-chain', api_keys: [hashApiKey(KEYS.buyer)] },
          { id: 'planner', owner: 'dana', team: 'supply-chain', api_keys: [hashApiKey(KEYS.planner)] },
        ],
        llm: { upstreams: [{ name: 'claude', flavor: 'anthropic', base_url: url, api_key: { env: 'TEST_ANTHROPIC_KEY' }, models: ['claude-*'] }] },
        budgets: {
          store: { sqlite: ':memory:' },
          prices: { 'claude-test': { input: 3, output: 15, cached_input: 0.3 } },
          limits: [
            { id: 'buyer-llm-day', scope: 'agent', subject: 'buyer', meter: 'llm_spend', window: 'day', cap: 10 },
            { id: 'planner-rpm', scope: 'agent', subject: 'planner', meter: 'requests', kinds: ['llm.request'], window: 'minute', cap: 3 },
          ],
        },
        approvals: {
          database: ':memory:',
          signing_key_file: './approval-key.pem',
          hold_timeout_s: 30,
          accounts: [{ username: 'priya', password_hash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }), roles: ['reviewer'], groups: ['procurement-leads'] }],
        },
      },
    });
    client = new Anthropic({ baseURL: fx.url, apiKey: KEYS.buyer, maxRetries: 0 });
  });
  after(async () => {
    await fx.close();
    await upstream.stop();
    delete process.env.TEST_ANTHROPIC_KEY;
  });
  beforeEach(() => {
    upstream.received.length = 0;
  });

  const ask = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}, options?: Anthropic.RequestOptions) =>
    client.messages.create({ model: 'claude-test', max_tokens: 1024, tools: TOOLS, messages: [{ role: 'user', content: 'Restock STEEL-9' }], ...extra }, options);

  async function records(type?: string): Promise<Json[]> {
    const ledger = fx.gk.deps.ledger!;
    await ledger.checkpointNow();
    const all = await Promise.all(Array.from({ length: ledger.size() }, (_, i) => ledger.getRecord(i)));
    return (all as unknown as Json[]).filter((r) => type === undefined || r.type === type);
  }

  test('JSON: an allowed tool_use is kept, a denied one becomes a text block, the credentials are the gatekeeper\'s', async () => {
    upstream.enqueue({ json: message({ blocks: [{ text: 'Checking stock, then ordering.' }, CHECK, orderOf(6_000_000)] }) });
    const res = await ask();
    assert.deepEqual(res.content.map((b) => b.type), ['text', 'tool_use', 'text']);
    assert.equal((res.content[1] as Anthropic.ToolUseBlock).name, 'check_inventory');
    assert.match((res.content[2] as Anthropic.TextBlock).text, /The gatekeeper withheld the call to tool "place_order": .*6000000.*5000000/);
    assert.equal(res.stop_reason, 'tool_use', 'a tool_use survived');

    const sent = upstream.received[0]!;
    assert.equal(sent.headers['x-api-key'], UPSTREAM_KEY);
    assert.equal(sent.headers.authorization, undefined);
    assert.ok(!JSON.stringify(sent.headers).includes(KEYS.buyer), "the agent's key never reaches Anthropic");
    assert.match(String(sent.headers['anthropic-version']), /^\d{4}-\d{2}-\d{2}$/, "the SDK's API version is passed on");
    assert.deepEqual(sent.body.messages, [{ role: 'user', content: 'Restock STEEL-9' }]);
  });

  test('the API version and beta features the agent asks for are decided and passed on', async () => {
    upstream.enqueue({ json: message({ blocks: [{ text: 'ok' }] }) });
    await ask({ tools: undefined }, { headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'beta-one, beta-two' } });
    const sent = upstream.received[0]!;
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.headers['anthropic-beta'], 'beta-one,beta-two');
    const decision = (await records('decision')).at(-1)!;
    assert.equal((decision.data as Json).surface, 'anthropic');
    const input = JSON.parse(Buffer.from((await fx.gk.deps.ledger!.getPayload((decision.payloads as Json).input as string))!).toString('utf8')) as Json;
    const args = (input.action as Json).arguments as Json;
    assert.equal(args.api_version, '2023-06-01');
    assert.deepEqual(args.betas, ['beta-one', 'beta-two']);
    assert.equal(args.max_tokens, 1024);
    assert.equal(args.messages, 1);
  });

  test('JSON: when no tool_use survives the message stops with end_turn', async () => {
    upstream.enqueue({ json: message({ blocks: [orderOf(6_000_000)] }) });
    const res = await ask();
    assert.deepEqual(res.content.map((b) => b.type), ['text']);
    assert.equal(res.stop_reason, 'end_turn');
  });

  test('streaming: text passes as it comes, the allowed tool_use is released whole, the denied one replaced in its slot', async () => {
    upstream.enqueue({ sse: messageEvents({ blocks: [{ thinking: 'Stock first.' }, { text: 'Let me check ✓ and order.' }, CHECK, orderOf(6_000_000)], pieces: 4 }), named: true, cut: { every: 5 } });
    const stream = client.messages.stream({ model: 'claude-test', max_tokens: 1024, tools: TOOLS, messages: [{ role: 'user', content: 'Restock STEEL-9' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text', 'tool_use', 'text']);
    assert.deepEqual((final.content[2] as Anthropic.ToolUseBlock).input, { sku: 'STEEL-9' });
    assert.match(text, /^Let me check ✓ and order\.The gatekeeper withheld the call to tool "place_order"/);
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.usage.output_tokens, 45);
    assert.equal(upstream.received[0]!.body.stream, true);
  });

  test('streaming: with every tool_use withheld, stop_reason becomes end_turn', async () => {
    upstream.enqueue({ sse: messageEvents({ blocks: [orderOf(6_000_000)] }), named: true });
    const final = await client.messages.stream({ model: 'claude-test', max_tokens: 1024, tools: TOOLS, messages: [{ role: 'user', content: 'Order' }] }).finalMessage();
    assert.deepEqual(final.content.map((b) => b.type), ['text']);
    assert.equal(final.stop_reason, 'end_turn');
  });

  test("the bash tool is decided as a shell command under the standard library's shell rules", async () => {
    const bash: Anthropic.ToolUnion[] = [{ type: 'bash_20250124', name: 'bash' }];
    upstream.enqueue({ json: message({ blocks: [{ tool: 'bash', input: { command: 'ls -la' }, id: 'toolu_a' }, { tool: 'bash', input: { command: 'rm -rf /srv' }, id: 'toolu_b' }] }) });
    const res = await ask({ tools: bash });
    assert.equal(res.content[0]!.type, 'tool_use');
    assert.match((res.content[1] as Anthropic.TextBlock).text, /withheld the shell command: shell command "rm -rf \/srv" is not allowed for agent buyer/);
    const shell = (await records('decision')).filter((r) => (r.data as Json).kind === 'llm.shell_call').map((r) => `${r.outcome}: ${(r.reasons as string[]).join('; ')}`);
    assert.deepEqual(shell.sort(), ['allow: ', 'deny: shell command "rm -rf /srv" is not allowed for agent buyer']);
  });

  test('usage settles the escrow: cache reads at the cached price, output at the output price', async () => {
    const view = async () => {
      const res = await fetch(`${fx.url}/v1/budgets`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await res.json()) as { budgets: { budget: string; spent: number; reserved: number }[] };
      return body.budgets.find((b) => b.budget === 'buyer-llm-day')!;
    };
    const before = await view();
    upstream.enqueue({ json: message({ blocks: [{ text: 'ok' }], usage: { input_tokens: 1000, cache_creation_input_tokens: 200, cache_read_input_tokens: 10_000, output_tokens: 500 } }) });
    await ask({ tools: undefined });
    const after = await view();
    // (1000 + 200) × $3 + 10000 × $0.30 + 500 × $15 per 1M tokens = $0.0036 + $0.003 + $0.0075
    assert.equal(Math.round((after.spent - (before?.spent ?? 0)) * 1e6), 14_100);
    assert.equal(after.reserved, 0, 'nothing left on hold');
  });

  test('an upstream error reaches the agent as Anthropic sent it, scrubbed of the gatekeeper key', async () => {
    upstream.enqueue({ json: { type: 'error', error: { type: 'invalid_request_error', message: `bad tools for key ${UPSTREAM_KEY}` } }, status: 400 });
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.match(err.message, /bad tools for key \[REDACTED\]/);
      assert.ok(!err.message.includes(UPSTREAM_KEY));
      return true;
    });
  });

  test('refusals are Anthropic errors: unknown agent 401, model not allowed 403, a body without max_tokens 400 (nothing sent)', async () => {
    const stranger = new Anthropic({ baseURL: fx.url, apiKey: 'sk-nobody', maxRetries: 0 });
    await assert.rejects(stranger.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), Anthropic.AuthenticationError);
    await assert.rejects(client.messages.create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError, 'no Anthropic upstream serves gpt-4o-mini');
      return true;
    });
    await assert.rejects(client.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'wire_money', input_schema: { type: 'object' } }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.PermissionDeniedError);
      assert.match(err.message, /tool wire_money offered to the model is not allowed for agent buyer/);
      assert.equal(((err.error as Json).error as Json).type, 'permission_error');
      return true;
    });
    await assert.rejects(client.messages.create({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] } as never), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.match(err.message, /max_tokens: Field required/);
      return true;
    });
    assert.equal(upstream.received.length, 0);
  });

  test('rate limits answer 429 rate_limit_error with Retry-After', async () => {
    for (let i = 0; i < 3; i++) upstream.enqueue({ json: message({ blocks: [{ text: 'ok' }] }) });
    const c = planner();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => c.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })));
    const limited = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    assert.equal(results.length - limited.length, 3);
    for (const err of limited) {
      assert.ok(err instanceof Anthropic.RateLimitError, String(err));
      assert.ok(Number(err.headers?.get('retry-after')) > 0);
      assert.equal(((err.error as Json).error as Json).type, 'rate_limit_error');
    }
  });

  test('an escalated tool_use is held until a reviewer approves; then it reaches the agent', async () => {
    upstream.enqueue({ json: message({ blocks: [{ thinking: 'The line stops without steel.' }, orderOf(2_400_000)] }) });
    const pending = ask({}, { headers: { 'oagf-session': 'restock-1' } });
    const basic = `Basic ${Buffer.from('priya:pw').toString('base64')}`;
    let id: string | undefined;
    for (let i = 0; i < 200 && !id; i++) {
      const res = await fetch(`${fx.url}/console/api/approvals?status=pending`, { headers: { authorization: basic } });
      id = ((await res.json()) as { approvals: { id: string }[] }).approvals[0]?.id;
      if (!id) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(id, 'an approval was opened');
    const shown = (await (await fetch(`${fx.url}/console/api/approvals/${id}`, { headers: { authorization: basic } })).json()) as { approval: { trace: { steps: Json[] } } };
    const steps = shown.approval.trace.steps.map((s) => `${s.kind}:${s.content ?? s.reasoning ?? s.tool}`);
    assert.ok(steps.includes('message:Restock STEEL-9'), `the reviewer sees the conversation: ${steps.join(' | ')}`);
    assert.ok(shown.approval.trace.steps.some((s) => s.reasoning === 'The line stops without steel.'), "and Claude's thinking");
    const decided = await fetch(`${fx.url}/console/api/approvals/${id}/decision`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ verdict: 'approve', comment: 'ok' }) });
    assert.equal(decided.status, 200, await decided.text());
    const res = await pending;
    assert.deepEqual(res.content.map((b) => b.type), ['thinking', 'tool_use']);
    assert.deepEqual((res.content[1] as Anthropic.ToolUseBlock).input, { sku: 'STEEL-9', total: 2_400_000 });
    const escalation = (await records('decision')).find((r) => r.outcome === 'escalate')!;
    assert.deepEqual([(escalation.data as Json).surface, (escalation.data as Json).kind, ((escalation.data as Json).target as Json).tool], ['anthropic', 'llm.tool_call', 'place_order']);
  });

  test('the ledger: each call a decision, each carried-out call an outcome naming the upstream and the usage', async () => {
    upstream.enqueue({ json: message({ blocks: [{ text: 'ok' }] }) });
    await ask({ tools: undefined });
    const outcomes = (await records('outcome')).map((r) => r.data as Json).filter((d) => d.kind === 'llm.request');
    const last = outcomes.at(-1)!;
    assert.equal(last.surface, 'anthropic');
    assert.equal(last.result, 'completed');
    assert.equal(last.upstream, 'claude');
    assert.deepEqual(last.usage, { input_tokens: 120, cache_creation_input_tokens: 0, cache_read_input_tokens: 30, output_tokens: 45 });
  });
});
