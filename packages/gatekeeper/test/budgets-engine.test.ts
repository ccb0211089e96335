import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetsConfig, type BudgetsConfigInput } from '../src/budgets/config.js';
import { Budgets } from '../src/budgets/engine.js';
import { estimatePromptTokens } from '../src/budgets/estimate.js';
import { formatMicros, toMicros } from '../src/budgets/money.js';
import { costMicros, priceFor, readUsage } from '../src/budgets/pricing.js';
import { InputBudgets } from '../src/budgets/schema.js';
import { SqliteBudgetStore } from '../src/stores/sqlite/budgets.js';
import { windowBounds } from '../src/budgets/windows.js';
import { timeOf, type OagfAction, type OagfInput } from '../src/spec/index.js';

const PRICES = { 'gpt-test': { input: '2.50', output: '10.00', cached_input: '1.25', max_output_tokens: 1000 } };

function setup(limits: BudgetsConfigInput['limits'], extra: Partial<BudgetsConfigInput> = {}, start = Date.UTC(2026, 0, 15, 12)) {
  // Expected amounts below are worked out with the chars/4 estimate, so these tests pin `approximate`.
  const config = BudgetsConfig.parse({ store: { sqlite: ':memory:' }, estimate: { mode: 'approximate' }, prices: PRICES, limits, ...extra });
  const clock = { now: start };
  const store = new SqliteBudgetStore(':memory:');
  const budgets = new Budgets(config, store, { clock: () => clock.now });
  return { budgets, store, clock, config };
}

function inputFor(action: Partial<OagfAction> & { kind: string }, agent: Partial<OagfInput['agent']> = {}): OagfInput {
  return {
    version: 'oagf/v1',
    agent: { id: 'planner', team: 'supply', labels: {}, delegation: [], ...agent },
    action: { target: {}, ...action },
    context: {},
    budgets: {},
    time: timeOf(new Date(0)),
  };
}

const llm = (maxTokens = 100, model = 'gpt-test') =>
  inputFor({ kind: 'llm.request', target: { model, path: '/v1/chat/completions' }, arguments: { max_tokens: maxTokens } });
const order = (value: number, currency = 'USD') =>
  inputFor({ kind: 'mcp.tool_call', target: { tool: 'place_order' }, amount: { value, currency } });
const prompt = (text: string) => ({ messages: [{ role: 'user', content: text }] });

describe('money', () => {
  it('parses decimals exactly into micros and formats them back', () => {
    assert.equal(toMicros('0.1', 'x') + toMicros('0.2', 'x'), toMicros('0.3', 'x'));
    assert.equal(toMicros(2_400_000.55, 'x'), 2_400_000_550_000n);
    assert.equal(toMicros(1e-7, 'x', 'up'), 1n);
    assert.equal(formatMicros(1_500_000n), '1.50');
    assert.equal(formatMicros(1_234_567n), '1.234567');
    assert.throws(() => toMicros('0.0000001', 'cap'), /cap: "0.0000001" has more than 6 decimal places/);
    assert.throws(() => toMicros('12,50', 'cap'), /cap: "12,50" is not a decimal amount/);
    assert.equal(toMicros(0.1234567, 'x', 'up'), 123_457n);
  });
});

describe('pricing and estimates', () => {
  it('prices usage per 1M tokens with cached input at its own rate, rounded up once', () => {
    const price = BudgetsConfig.parse({ prices: PRICES }).prices['gpt-test']!;
    // 1000 input (200 cached), 500 output: 800×2.5 + 200×1.25 + 500×10 = 7250 micro-micros·1e6 → 7250 micros
    assert.equal(costMicros(price, { input: 800, cachedInput: 200, output: 500 }), 7_250n);
    assert.equal(costMicros(price, { input: 1, cachedInput: 0, output: 0 }), 3n, '2.5 micros rounds up to 3');
  });

  it('finds a price by exact model name, else by the longest "prefix*" entry', () => {
    const config = BudgetsConfig.parse({ prices: { 'gpt-4o': { input: 1, output: 1 }, 'gpt-*': { input: 2, output: 2 }, 'gpt-4o*': { input: 3, output: 3 } } });
    assert.equal(priceFor(config, 'gpt-4o')!.input, 1_000_000n);
    assert.equal(priceFor(config, 'gpt-4o-2024-08-06')!.input, 3_000_000n);
    assert.equal(priceFor(config, 'gpt-3.5-turbo')!.input, 2_000_000n);
    assert.equal(priceFor(config, 'llama-3'), undefined);
    assert.equal(priceFor(config, 'toString'), undefined);
  });

  it('reads usage from chat, responses and embeddings shapes', () => {
    assert.deepEqual(readUsage({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } }), { input: 6, cachedInput: 4, output: 5 });
    assert.deepEqual(readUsage({ input_tokens: 7, output_tokens: 3, input_tokens_details: { cached_tokens: 0 } }), { input: 7, cachedInput: 0, output: 3 });
    assert.deepEqual(readUsage({ prompt_tokens: 9, total_tokens: 9 }), { input: 9, cachedInput: 0, output: 0 });
    assert.equal(readUsage(null), undefined);
    assert.equal(readUsage({ completion_tokens: 3 }), undefined);
  });

  it('approximate mode: prompt tokens as ceil(chars / 4) plus a per-message overhead', () => {
    const config = BudgetsConfig.parse({ estimate: { mode: 'approximate' } });
    // strings: "role"+"user" (8) + "content"+"hello world" (7+11) = 26 chars → 7 tokens, + 4 for one message
    assert.equal(estimatePromptTokens(config, { messages: [{ role: 'user', content: 'hello world' }] }), 11);
  });

  it('upper_bound (default): one token per UTF-8 byte of the prompt JSON, tool schemas and non-ASCII included', () => {
    const config = BudgetsConfig.parse({});
    assert.equal(config.estimate.mode, 'upper_bound');
    const messages = [{ role: 'user', content: '注文' }]; // 2 characters, 6 UTF-8 bytes
    const tools = [{ type: 'function', function: { name: 'place_order', parameters: { type: 'object', properties: { total: { type: 'number' } } } } }];
    const expected = Buffer.byteLength(JSON.stringify(messages)) + Buffer.byteLength(JSON.stringify(tools)) + (1 + 1) * 4;
    assert.equal(estimatePromptTokens(config, { messages, tools }), expected);
    // never below the approximate estimate of the same request
    const approx = BudgetsConfig.parse({ estimate: { mode: 'approximate', chars_per_token: 1 } });
    assert.ok(estimatePromptTokens(config, { messages, tools }) >= estimatePromptTokens(approx, { messages, tools }));
  });
});

describe('windows', () => {
  it('uses UTC calendar boundaries', () => {
    const t = Date.UTC(2024, 1, 29, 23, 59, 59, 999); // leap day
    assert.deepEqual(windowBounds('month', t), { start: Date.UTC(2024, 1, 1), end: Date.UTC(2024, 2, 1) });
    assert.deepEqual(windowBounds('day', t), { start: Date.UTC(2024, 1, 29), end: Date.UTC(2024, 2, 1) });
    assert.deepEqual(windowBounds('hour', t), { start: Date.UTC(2024, 1, 29, 23), end: Date.UTC(2024, 2, 1) });
    assert.deepEqual(windowBounds('month', Date.UTC(2024, 11, 31, 5)), { start: Date.UTC(2024, 11, 1), end: Date.UTC(2025, 0, 1) });
    assert.deepEqual(windowBounds('lifetime', t), { start: 0, end: null });
  });
});

describe('Budgets', () => {
  it('shows policy every applicable budget and the tightest per meter and window', async () => {
    const { budgets } = setup([
      { id: 'agent-day', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1.00' },
      { id: 'team-day', scope: 'team', subject: 'supply', meter: 'llm_spend', window: 'day', cap: '0.50' },
      { id: 'other-team', scope: 'team', subject: 'finance', meter: 'llm_spend', window: 'day', cap: '9' },
      { id: 'orders-month', scope: 'agent', meter: 'action_amount', window: 'month', cap: '1000000' },
    ]);
    const view = await budgets.view(llm(100), prompt('x'.repeat(400)));
    assert.deepEqual(InputBudgets.parse(view), view, 'matches the published schema');
    assert.deepEqual(view.limits!.map((l) => l.budget), ['agent-day', 'team-day']);
    assert.equal(view.llm_spend!.day!.budget, 'team-day');
    assert.equal(view.action_amount, undefined, 'an LLM call has no amount');
    // prompt: "role"+"user"+"content"+400 chars = 415 chars → 104 tokens + 4 overhead = 108 × 2.5 + 100 × 10 = 1270 micros
    assert.equal(view.llm_spend!.day!.requested, 0.00127);
    assert.equal(view.llm_spend!.day!.window_start, '2026-01-15T00:00:00.000Z');
    const orderView = await budgets.view(order(2_400_000));
    assert.deepEqual(
      { ...orderView.action_amount!.month!, window_start: null, window_end: null },
      { budget: 'orders-month', scope: 'agent', subject: 'planner', meter: 'action_amount', window: 'month', window_start: null, window_end: null,
        currency: 'USD', cap: 1_000_000, spent: 0, reserved: 0, remaining: 1_000_000, requested: 2_400_000 },
    );
  });

  it('refuses with the budget, window, cap, spent, reserved and needed amounts', async () => {
    const { budgets } = setup([{ id: 'orders', scope: 'agent', meter: 'action_amount', window: 'day', cap: '1000' }]);
    const first = await budgets.reserve(order(600));
    assert.ok(first.ok && first.reservation);
    await first.reservation.settle({});
    const second = await budgets.reserve(order(300));
    assert.ok(second.ok);
    const third = await budgets.reserve(order(100.01));
    assert.deepEqual(third, {
      ok: false,
      reason: 'budget orders (day) exceeded for agent planner: cap 1000.00 USD, spent 600.00, reserved 300.00, needed 100.01',
    });
  });

  it('settles an LLM call to its reported usage and frees the rest of the hold', async () => {
    const { budgets, store, clock } = setup([{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }]);
    const r = await budgets.reserve(llm(1000), prompt('hello'));
    assert.ok(r.ok && r.reservation);
    assert.ok(r.reservation.held.llm_spend! > 10_000n);
    await r.reservation.settle({ usage: { prompt_tokens: 12, completion_tokens: 30 }, model: 'gpt-test' });
    const [c] = await store.counters([{ budgetId: 'd', subject: 'planner', windowStart: windowBounds('day', clock.now).start }]);
    assert.deepEqual([c!.committed, c!.reserved], [330n, 0n]); // 12×2.5 + 30×10
    await r.reservation.settle({ usage: { prompt_tokens: 1, completion_tokens: 1 } }); // second close is a no-op
    assert.equal((await store.counters([c!]))[0]!.committed, 330n);
  });

  it('releases the whole hold when the upstream fails before answering', async () => {
    const { budgets } = setup([{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }]);
    const r = await budgets.reserve(llm(1000), prompt('hello'));
    assert.ok(r.ok && r.reservation);
    await r.reservation.release('upstream answered 500');
    const [v] = await budgets.overview();
    assert.deepEqual([v!.spent, v!.reserved, v!.remaining], [0, 0, 1]);
  });

  for (const [rule, expected] of [
    ['charge_reserved', 10_270n], // the whole hold: 108 prompt tokens × 2.5 + 1000 × 10
    ['charge_estimate', 2_270n], // 108 × 2.5 + ceil(800 chars / 4) = 200 × 10
    ['release', 0n],
  ] as const) {
    it(`a stream cut part-way is charged by stream_cut: ${rule}`, async () => {
      const { budgets, store, clock } = setup([{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' }], { stream_cut: rule });
      const r = await budgets.reserve(llm(1000), prompt('x'.repeat(400)));
      assert.ok(r.ok && r.reservation);
      await r.reservation.release('client closed the connection', { streamed: true, outputChars: 800 });
      const [c] = await store.counters([{ budgetId: 'd', subject: 'planner', windowStart: windowBounds('day', clock.now).start }]);
      assert.deepEqual([c!.committed, c!.reserved], [expected, 0n]);
    });
  }

  it('rolls over hour, day and month windows with the clock, and settles into the window it reserved in', async () => {
    const lastMinute = Date.UTC(2026, 0, 31, 23, 59);
    const { budgets, clock } = setup(
      [
        { id: 'h', scope: 'agent', meter: 'action_amount', window: 'hour', cap: '10' },
        { id: 'd', scope: 'agent', meter: 'action_amount', window: 'day', cap: '20' },
        { id: 'm', scope: 'agent', meter: 'action_amount', window: 'month', cap: '20' },
        { id: 'life', scope: 'agent', meter: 'action_amount', window: 'lifetime', cap: '25' },
      ],
      {},
      lastMinute,
    );
    const a = await budgets.reserve(order(10));
    assert.ok(a.ok && a.reservation);
    assert.equal((await budgets.reserve(order(1))).ok, false, 'the hour is full');
    clock.now = Date.UTC(2026, 1, 1, 0, 0); // new hour, day and month
    await a.reservation.settle({}); // lands in January's windows
    const b = await budgets.reserve(order(10));
    assert.ok(b.ok && b.reservation, 'fresh windows after midnight UTC on the 1st');
    await b.reservation.settle({});
    clock.now = Date.UTC(2026, 1, 1, 1, 0); // next hour: only the lifetime cap is left in the way
    const refused = await budgets.reserve(order(6));
    assert.equal(refused.ok, false);
    assert.match((refused as { reason: string }).reason, /^budget life \(lifetime\) exceeded.*spent 20\.00/);
    const byWindow = Object.fromEntries((await budgets.overview()).map((v) => [v.budget, v.spent]));
    assert.deepEqual(byWindow, { h: 0, d: 10, m: 10, life: 20 });
    assert.equal((await budgets.overview())[0]!.subject, '*', 'no spend by anyone this hour');
  });

  it('lets a reservation lapse after the configured TTL', async () => {
    const { budgets, clock } = setup([{ id: 'd', scope: 'agent', meter: 'action_amount', window: 'lifetime', cap: '10' }], { reservation_ttl_seconds: 60 });
    assert.ok((await budgets.reserve(order(10))).ok); // never settled: the process "crashed"
    assert.equal((await budgets.reserve(order(10))).ok, false);
    clock.now += 60_000;
    assert.ok((await budgets.reserve(order(10))).ok);
  });

  it('counts team budgets per team and chain budgets for the root of the delegation chain', async () => {
    const { budgets } = setup([
      { id: 'team', scope: 'team', meter: 'action_amount', window: 'lifetime', cap: '100' },
      { id: 'chain', scope: 'chain', meter: 'action_amount', window: 'lifetime', cap: '50' },
    ]);
    const delegated = (agent: string) =>
      inputFor({ kind: 'mcp.tool_call', amount: { value: 30, currency: 'USD' } }, { id: agent, team: 'supply', delegation: [{ agent: 'root' }] });
    assert.ok((await budgets.reserve(delegated('buyer-1'))).ok);
    const second = await budgets.reserve(delegated('buyer-2'));
    assert.equal(second.ok, false);
    assert.match((second as { reason: string }).reason, /^budget chain \(lifetime\) exceeded for chain root:/);
    assert.ok((await budgets.reserve(order(30))).ok, 'planner starts its own chain');
    const subjects = (await budgets.overview()).map((v) => `${v.budget}:${v.subject}:${v.reserved}`).sort();
    assert.deepEqual(subjects, ['chain:planner:30', 'chain:root:30', 'team:supply:60']);
  });

  it('counts only the action kinds a budget names, so a proposal and its execution are not charged twice', async () => {
    const { budgets } = setup([{ id: 'placed', scope: 'agent', meter: 'action_amount', kinds: ['http.request'], window: 'lifetime', cap: '100' }]);
    const proposal = inputFor({ kind: 'llm.tool_call', target: { tool: 'place_order' }, amount: { value: 80, currency: 'USD' } });
    const placed = inputFor({ kind: 'http.request', target: { api: 'erp', method: 'POST', path: '/orders' }, amount: { value: 80, currency: 'USD' } });
    assert.deepEqual(budgets.applicable(proposal), []);
    assert.equal(budgets.applicable(placed).length, 1);
    assert.ok((await budgets.reserve(proposal)).ok);
    assert.ok((await budgets.reserve(placed)).ok);
    assert.equal((await budgets.reserve(placed)).ok, false, 'only the executed order used the cap');
  });

  it('holds a per-call cap against the single call only', async () => {
    const { budgets } = setup([{ id: 'one', scope: 'agent', meter: 'action_amount', window: 'call', cap: '100' }]);
    assert.deepEqual(await budgets.reserve(order(100)), { ok: true, reservation: undefined });
    assert.deepEqual(await budgets.reserve(order(100)), { ok: true, reservation: undefined });
    assert.equal((await budgets.reserve(order(100.5))).ok, false);
  });

  it('fails closed on what it cannot price: unknown models and foreign currencies', async () => {
    const { budgets } = setup([
      { id: 'llm', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1' },
      { id: 'orders', scope: 'agent', meter: 'action_amount', window: 'day', cap: '1000' },
    ]);
    assert.deepEqual(await budgets.reserve(llm(10, 'gpt-unknown')), {
      ok: false,
      reason: 'budget llm: no price configured for model "gpt-unknown" (add it under budgets.prices)',
    });
    assert.deepEqual(await budgets.reserve(order(5, 'EUR')), { ok: false, reason: "budget orders counts USD, but the action's amount is in EUR" });
    const view = await budgets.view(order(5, 'EUR'));
    assert.equal(view.action_amount!.day!.requested, null);
  });

  it('200 concurrent LLM calls against a cap that fits exactly 50 worst cases: 50 go through, spend is the sum of actual costs', async () => {
    // Worst case per call: 108 prompt tokens × 2.5 + 1000 output × 10 = 10 270 micros.
    const { budgets, store, clock } = setup([{ id: 'd', scope: 'agent', meter: 'llm_spend', window: 'day', cap: formatMicros(50n * 10_270n) }]);
    const results = await Promise.all(Array.from({ length: 200 }, () => budgets.reserve(llm(1000), prompt('x'.repeat(400)))));
    const won = results.filter((r) => r.ok);
    assert.equal(won.length, 50);
    for (const r of results) if (!r.ok) assert.match(r.reason, /^budget d \(day\) exceeded for agent planner: cap 0\.5135 USD/);
    let expected = 0n;
    await Promise.all(
      won.map((r, i) => {
        const usage = { prompt_tokens: 100 + 2 * i, completion_tokens: 7 * i };
        expected += BigInt(usage.prompt_tokens) * 2_500_000n + BigInt(usage.completion_tokens) * 10_000_000n;
        return r.ok && r.reservation!.settle({ usage });
      }),
    );
    const [c] = await store.counters([{ budgetId: 'd', subject: 'planner', windowStart: windowBounds('day', clock.now).start }]);
    assert.equal(c!.reserved, 0n);
    // Even prompt counts keep every call's cost a whole number of micros, so no rounding is involved.
    assert.equal(c!.committed * 1_000_000n, expected);
  });
});

describe('BudgetsConfig', () => {
  it('rejects duplicate ids, bad amounts and foreign llm_spend currencies with the path at fault', () => {
    const r = BudgetsConfig.safeParse({
      limits: [
        { id: 'a', scope: 'agent', meter: 'llm_spend', window: 'day', cap: '1.5x' },
        { id: 'a', scope: 'agent', meter: 'llm_spend', window: 'week', cap: '1', currency: 'EUR' },
      ],
    });
    assert.equal(r.success, false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.ok(issues.includes('limits.0.cap: cap: "1.5x" is not a decimal amount (expected e.g. 12.34)'), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('limits.1.window:')), issues.join('\n'));
  });
});
