/**
 * Budgets end to end: the real server builder with the budgets module, agents calling the
 * OpenAI-compatible surface and the API proxy over HTTP, upstreams on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { hashApiKey } from '../src/auth/agents.js';
import type { BudgetsConfigInput } from '../src/budgets/config.js';
import { formatMicros } from '../src/budgets/money.js';
import { budgetsModule } from '../src/budgets/module.js';
import type { BudgetView } from '../src/budgets/schema.js';
import { GatekeeperConfig } from '../src/config/schema.js';
import { buildServer } from '../src/server.js';
import type { OagfInput } from '../src/spec/index.js';
import { MemoryLog, functionPolicy } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';

const AGENT_KEY = 'sk-budget-test-agent';
const ADMIN_KEY = 'admin-test-key';
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };
const dir = mkdtempSync(join(tmpdir(), 'gk-budgets-http-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbs = 0;

// Prices per 1M tokens: 2.00 input, 10.00 output → micros per token 2 and 10.
const PRICES = { 'gpt-test': { input: '2.00', output: '10.00' } };
const MESSAGES = [{ role: 'user', content: 'order #000' }];
// Worst case: "role"+"user"+"content"+"order #000" = 25 chars → 7 tokens + 4 per message = 11 prompt tokens.
const WORST = (maxTokens: number) => 11n * 2n + BigInt(maxTokens) * 10n;

type Policy = (input: OagfInput) => unknown;

async function startGatekeeper(opts: { llmUrl: string; erpUrl?: string; budgets: BudgetsConfigInput; policy?: Policy; clock?: () => Date }) {
  const config = GatekeeperConfig.parse({
    agents: [{ id: 'planner', team: 'supply-chain', api_keys: [hashApiKey(AGENT_KEY)] }],
    llm: { upstreams: [{ name: 'up', base_url: `${opts.llmUrl}/v1`, timeout_ms: 30_000 }] },
    apis: opts.erpUrl ? { erp: { base_url: opts.erpUrl } } : {},
    amounts: [{ match: { api: 'erp', method: 'POST', path: '/orders' }, value: 'body.total', currency: 'USD' }],
    listen: { host: '127.0.0.1', port: 0 },
    admin: { api_keys: [hashApiKey(ADMIN_KEY)] },
    policy: { bundle: 'unused' },
    ledger: { path: 'unused', signing_key_file: 'unused' },
    // WORST and the other expected amounts are worked out with the chars/4 estimate.
    budgets: { store: { sqlite: `budgets-${++dbs}.db` }, estimate: { mode: 'approximate' }, prices: PRICES, ...opts.budgets },
  });
  const log = new MemoryLog();
  const policyFn = opts.policy ?? (() => ({ outcome: 'allow', reasons: [] }));
  const policy = functionPolicy(policyFn);
  const gk = await buildServer(
    { config, file: join(dir, 'gatekeeper.yaml'), dir },
    { log, policy, modules: [budgetsModule], logger: pino({ level: 'silent' }), ...(opts.clock ? { clock: opts.clock } : {}) },
  );
  const url = await gk.listen();
  const budgets = async (): Promise<BudgetView[]> => {
    const res = await fetch(`${url}/v1/budgets`, { headers: ADMIN });
    assert.equal(res.status, 200);
    return ((await res.json()) as { budgets: BudgetView[] }).budgets;
  };
  return { url, log, budgets, stop: () => gk.close() };
}

const auth = { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' };

function chat(url: string, body: Record<string, unknown>, signal?: AbortSignal) {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gpt-test', messages: MESSAGES, ...body }), ...(signal ? { signal } : {}) });
}

/**
 * An upstream that holds every request until told to answer, so no call can settle (and free
 * budget) while others are still being decided: the race is decided by reservations alone.
 */
class HeldUpstream {
  private server: Server | undefined;
  readonly held: { req: IncomingMessage; body: Record<string, unknown>; res: ServerResponse }[] = [];
  onArrival = () => {};

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        this.held.push({ req, body: text ? JSON.parse(text) : {}, res });
        this.onArrival();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answerAll(reply: (body: Record<string, unknown>, req: IncomingMessage) => { status: number; json: unknown }): void {
    for (const { req, body, res } of this.held) {
      const { status, json } = reply(body, req);
      const text = JSON.stringify(json);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

/** Fires `n` requests at once; the upstream answers once every request has either arrived there or been refused. */
async function race(
  n: number,
  upstream: HeldUpstream,
  send: (i: number) => Promise<Response>,
  reply: Parameters<HeldUpstream['answerAll']>[0],
): Promise<{ status: number; body: unknown }[]> {
  let refused = 0;
  const check = () => {
    if (upstream.held.length + refused === n) upstream.answerAll(reply);
  };
  upstream.onArrival = check;
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await send(i);
      if (res.status !== 200 && res.status !== 201) {
        refused++;
        check();
      }
      return { status: res.status, body: await res.json() };
    }),
  );
}

describe('budgets through the gatekeeper', () => {
  it('200 concurrent chat completions against a cap that fits exactly 50: 50 forwarded, 150 refused, spend = actual usage', async () => {
    const upstream = new HeldUpstream();
    const maxTokens = 1000;
    const cap = 50n * WORST(maxTokens);
    const gk = await startGatekeeper({
      llmUrl: await upstream.start(),
      budgets: { limits: [{ id: 'planner-day', scope: 'agent', meter: 'llm_spend', window: 'day', cap: formatMicros(cap) }] },
    });
    try {
      const completionTokens = (body: Record<string, unknown>) => Number((body.metadata as { i: string }).i) % 97;
      const results = await race(
        200,
        upstream,
        (i) => chat(gk.url, { max_tokens: maxTokens, metadata: { i: String(i) } }),
        (body) => ({
          status: 200,
          json: { ...chatCompletion({ content: 'ok' }), usage: { prompt_tokens: 11, completion_tokens: completionTokens(body), total_tokens: 0 } },
        }),
      );
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      assert.equal(ok.length, 50);
      assert.equal(upstream.held.length, 50, 'only reserved calls reach the upstream');
      for (const r of refused) {
        assert.equal(r.status, 403);
        assert.match(
          JSON.stringify(r.body),
          new RegExp(`budget planner-day \\(day\\) exceeded for agent planner: cap ${formatMicros(cap).replace('.', '\\.')} USD`),
        );
      }
      const actual = upstream.held.reduce((sum, h) => sum + 22n + 10n * BigInt(completionTokens(h.body)), 0n);
      const [view] = await gk.budgets();
      assert.equal(view!.spent, Number(formatMicros(actual)));
      assert.equal(view!.reserved, 0);
      // Each decision record carries the budget state its policy saw; refusals say why.
      const denied = gk.log.records.filter((r) => r.outcome === 'deny');
      assert.equal(denied.length, 150);
      assert.match(String((denied[0]!.data.budget as { refused: string }).refused), /^budget planner-day \(day\) exceeded/);
      for (const r of gk.log.records) assert.equal((r.data.budgets as { limits: BudgetView[] }).limits[0]!.budget, 'planner-day');
    } finally {
      await gk.stop();
      await upstream.stop();
    }
  });

  it('200 concurrent orders through the API proxy against a cap that fits exactly 50: 50 placed, 150 refused, spend = the amounts', async () => {
    const erp = new HeldUpstream();
    const llm = new ScriptedUpstream();
    const gk = await startGatekeeper({
      llmUrl: await llm.start(),
      erpUrl: await erp.start(),
      budgets: { limits: [{ id: 'orders-day', scope: 'team', meter: 'action_amount', window: 'day', cap: '50000.50' }] },
    });
    try {
      const results = await race(
        200,
        erp,
        (i) => fetch(`${gk.url}/apis/erp/orders`, { method: 'POST', headers: auth, body: JSON.stringify({ total: 1000.01, sku: `sku-${i}` }) }),
        () => ({ status: 201, json: { placed: true } }),
      );
      const placed = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status !== 201);
      assert.equal(placed.length, 50);
      assert.equal(erp.held.length, 50);
      for (const r of refused) {
        assert.equal(r.status, 403);
        assert.match(JSON.stringify(r.body), /budget orders-day \(day\) exceeded for team supply-chain: cap 50000\.50 USD, spent 0\.00, reserved 50000\.50, needed 1000\.01/);
      }
      const [view] = await gk.budgets();
      assert.equal(view!.spent, 50_000.5);
      assert.equal(view!.reserved, 0);
    } finally {
      await gk.stop();
      await erp.stop();
      await llm.stop();
    }
  });

  it('a stream settles from its final usage chunk', async () => {
    const llm = new ScriptedUpstream();
    const gk = await startGatekeeper({
      llmUrl: await llm.start(),
      budgets: { limits: [{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }] },
    });
    try {
      llm.enqueue((req) => ({ sse: chatChunks(req, { content: ['Hel', 'lo'] }) }));
      const res = await chat(gk.url, { stream: true, max_tokens: 500 });
      const text = await res.text();
      assert.match(text, /Hel/);
      assert.doesNotMatch(text, /"usage"/, 'the usage chunk the gatekeeper asked for is kept from the agent');
      const [view] = await gk.budgets();
      assert.deepEqual([view!.spent, view!.reserved], [0.000092, 0]); // 11 × 2 + 7 × 10 micros
    } finally {
      await gk.stop();
      await llm.stop();
    }
  });

  for (const [rule, expected] of [
    ['charge_reserved', WORST(500)],
    ['charge_estimate', 11n * 2n + 3n * 10n], // prompt estimate + ceil("Hello wor".length / 4) = 3 output tokens
  ] as const) {
    it(`a stream cut part-way is charged by stream_cut: ${rule}`, async () => {
      const llm = new ScriptedUpstream();
      const gk = await startGatekeeper({
        llmUrl: await llm.start(),
        budgets: { stream_cut: rule, limits: [{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }] },
      });
      try {
        llm.enqueue((req) => {
          const events = chatChunks(req, { content: ['Hello', ' wor', 'ld, and more'] });
          const bytes = events.slice(0, 3).map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
          return { sse: events, failAfterBytes: Buffer.byteLength(bytes) };
        });
        const res = await chat(gk.url, { stream: true, max_tokens: 500 });
        await res.text().catch(() => '');
        const deadline = Date.now() + 5_000;
        let view = (await gk.budgets())[0]!;
        while (view.reserved > 0 && Date.now() < deadline) view = (await gk.budgets())[0]!;
        assert.deepEqual([view.spent, view.reserved], [Number(formatMicros(expected)), 0]);
      } finally {
        await gk.stop();
        await llm.stop();
      }
    });
  }

  it('a client that leaves mid-stream is charged by stream_cut; one that leaves before any output is not', async () => {
    // An upstream that sends the first content chunk, then stalls; from the second request on it sends nothing at all.
    let calls = 0;
    const stalled = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (++calls > 1) return;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { content: 'Thinking' }, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      });
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const gk = await startGatekeeper({
      llmUrl: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`,
      budgets: { stream_cut: 'charge_estimate', limits: [{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }] },
    });
    try {
      const abort = new AbortController();
      const res = await chat(gk.url, { stream: true, max_tokens: 500 }, abort.signal);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /Thinking/);
      abort.abort();
      let view = (await gk.budgets())[0]!;
      for (let i = 0; i < 500 && view.reserved > 0; i++) {
        await new Promise((r) => setTimeout(r, 5));
        view = (await gk.budgets())[0]!;
      }
      // prompt estimate 11 × 2 + ceil("Thinking".length / 4) = 2 output tokens × 10
      const charged = Number(formatMicros(11n * 2n + 2n * 10n));
      assert.deepEqual([view.spent, view.reserved], [charged, 0]);

      const early = new AbortController();
      const pending = chat(gk.url, { stream: true, max_tokens: 500 }, early.signal).catch((e: Error) => e);
      for (let i = 0; i < 500 && (await gk.budgets())[0]!.reserved === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok((await gk.budgets())[0]!.reserved > 0, 'the call holds its worst case while the upstream is silent');
      early.abort();
      assert.ok((await pending) instanceof Error);
      view = (await gk.budgets())[0]!;
      for (let i = 0; i < 500 && view.reserved > 0; i++) {
        await new Promise((r) => setTimeout(r, 5));
        view = (await gk.budgets())[0]!;
      }
      assert.deepEqual([view.spent, view.reserved], [charged, 0], 'nothing more is charged');
    } finally {
      await gk.stop();
      stalled.closeAllConnections();
      await new Promise<void>((r) => stalled.close(() => r()));
    }
  });

  it('an upstream failure releases the reservation; policy sees input.budgets and escalates near the cap', async () => {
    const llm = new ScriptedUpstream();
    const gk = await startGatekeeper({
      llmUrl: await llm.start(),
      budgets: { limits: [{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: formatMicros(2n * WORST(1000)) }] },
      // Escalate once the call would leave less than one more worst case.
      policy: (input) => {
        const day = input.budgets.llm_spend?.day;
        if (day && day.requested !== null && day.remaining - day.requested < day.requested) return { outcome: 'escalate', reasons: ['near the daily cap'] };
        return { outcome: 'allow', reasons: [] };
      },
    });
    try {
      llm.enqueue({ json: { error: { message: 'boom', type: 'server_error' } }, status: 500 });
      const failed = await chat(gk.url, { max_tokens: 1000 });
      assert.equal(failed.status, 500);
      const afterFailure = (await gk.budgets())[0]!;
      assert.deepEqual([afterFailure.spent, afterFailure.reserved], [0, 0]);
      // Nothing was spent, so the next call sees the whole cap and is allowed …
      llm.enqueue({ json: chatCompletion({ content: 'hi' }) });
      assert.equal((await chat(gk.url, { max_tokens: 1000 })).status, 200);
      const seen = gk.log.records.map((r) => (r.data.budgets as { llm_spend: { day: BudgetView } }).llm_spend.day);
      assert.deepEqual(seen.map((d) => [d.spent, d.reserved]), [[0, 0], [0, 0]]);
      // … and one more worst case would now leave too little: the policy escalates.
      const third = await chat(gk.url, { max_tokens: 1000 });
      assert.notEqual(third.status, 200);
      assert.equal(gk.log.records.at(-1)!.outcome, 'escalate');
      assert.equal((gk.log.records.at(-1)!.data.budgets as { llm_spend: { day: BudgetView } }).llm_spend.day.spent, 0.000092);
    } finally {
      await gk.stop();
      await llm.stop();
    }
  });

  it('a full day budget opens again at midnight UTC on the gatekeeper clock', async () => {
    const erp = new ScriptedUpstream();
    erp.fallback = () => ({ json: { placed: true }, status: 201 });
    const llm = new ScriptedUpstream();
    let now = Date.UTC(2026, 2, 31, 23, 59, 59);
    const gk = await startGatekeeper({
      llmUrl: await llm.start(),
      erpUrl: await erp.start(),
      clock: () => new Date(now),
      budgets: {
        limits: [
          { id: 'orders-day', scope: 'agent', meter: 'action_amount', window: 'day', cap: '1000' },
          { id: 'orders-month', scope: 'agent', meter: 'action_amount', window: 'month', cap: '1500' },
        ],
      },
    });
    const place = (total: number) => fetch(`${gk.url}/apis/erp/orders`, { method: 'POST', headers: auth, body: JSON.stringify({ total }) });
    try {
      assert.equal((await place(1000)).status, 201);
      assert.equal((await place(1)).status, 403, 'the day is spent');
      now = Date.UTC(2026, 3, 1, 0, 0, 0); // next day, next month
      assert.equal((await place(1000)).status, 201);
      const byId = Object.fromEntries((await gk.budgets()).map((v) => [v.budget, [v.window_start, v.spent]]));
      assert.deepEqual(byId, { 'orders-day': ['2026-04-01T00:00:00.000Z', 1000], 'orders-month': ['2026-04-01T00:00:00.000Z', 1000] });
      now = Date.UTC(2026, 3, 2, 12);
      const refused = await place(600);
      assert.equal(refused.status, 403);
      assert.match(JSON.stringify(await refused.json()), /budget orders-month \(month\) exceeded for agent planner: cap 1500\.00 USD, spent 1000\.00/);
    } finally {
      await gk.stop();
      await erp.stop();
      await llm.stop();
    }
  });

  it('the decision API charges an allowed action at once and refuses one that no longer fits', async () => {
    const llm = new ScriptedUpstream();
    const gk = await startGatekeeper({
      llmUrl: await llm.start(),
      budgets: { limits: [{ id: 'orders', scope: 'agent', meter: 'action_amount', window: 'lifetime', cap: '1000000' }] },
    });
    const decide = async (total: number) => {
      const action = { kind: 'mcp.tool_call', target: { tool: 'place_order' }, arguments: { total }, amount: { value: total, currency: 'USD' } };
      const res = await fetch(`${gk.url}/v1/decisions`, { method: 'POST', headers: auth, body: JSON.stringify({ action }) });
      assert.equal(res.status, 200);
      return ((await res.json()) as { decision: { outcome: string; reasons: string[] } }).decision;
    };
    try {
      assert.equal((await decide(999_000)).outcome, 'allow');
      const [afterFirst] = await gk.budgets();
      assert.deepEqual([afterFirst!.spent, afterFirst!.reserved], [999_000, 0], 'the caller acts on its own: charged at decision time');
      const refused = await decide(1_000.01);
      assert.equal(refused.outcome, 'deny');
      assert.deepEqual(refused.reasons, ['budget orders (lifetime) exceeded for agent planner: cap 1000000.00 USD, spent 999000.00, reserved 0.00, needed 1000.01']);
    } finally {
      await gk.stop();
      await llm.stop();
    }
  });

  it('exports spend and remaining per budget as Prometheus gauges', async () => {
    const llm = new ScriptedUpstream();
    const gk = await startGatekeeper({
      llmUrl: await llm.start(),
      budgets: { limits: [{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }] },
    });
    try {
      llm.enqueue({ json: chatCompletion({ content: 'hi' }) });
      assert.equal((await chat(gk.url, { max_tokens: 10 })).status, 200);
      const text = await (await fetch(`${gk.url}/metrics`, { headers: ADMIN })).text();
      const labels = 'budget="d",subject="planner",meter="llm_spend",window="day",currency="USD"';
      assert.ok(text.includes(`gatekeeper_budget_spent{${labels}} 0.000092`), text.split('\n').filter((l) => l.includes('budget')).join('\n'));
      assert.ok(text.includes(`gatekeeper_budget_remaining{${labels}} 0.999908`));
    } finally {
      await gk.stop();
      await llm.stop();
    }
  });
});
