/** The budgets hooks inside the gate pipeline: what policy sees, what is recorded, how escalations and faults go. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetsConfig } from '../src/budgets/config.js';
import { Budgets } from '../src/budgets/engine.js';
import { budgetHooks } from '../src/budgets/hooks.js';
import { SqliteBudgetStore } from '../src/stores/sqlite/budgets.js';
import { createGate, type GateHooks } from '../src/gate/index.js';
import { staticSource } from '../src/policy/engine.js';
import type { OagfInput } from '../src/spec/index.js';
import { MemoryLog, fnPolicy, planner } from './core/doubles.js';

const order = (total: number) => ({
  agent: planner,
  action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total }, amount: { value: total, currency: 'USD' } },
  context: {},
  surface: 'openai' as const,
});

function setup(policy: (input: OagfInput) => unknown, extraHooks: GateHooks[] = []) {
  const config = BudgetsConfig.parse({ limits: [{ id: 'orders', scope: 'agent', meter: 'action_amount', window: 'lifetime', cap: '1000000' }] });
  const store = new SqliteBudgetStore(':memory:');
  const budgets = new Budgets(config, store);
  const log = new MemoryLog();
  const plugins = [...extraHooks.map((hooks, i) => ({ name: `extra-${i}`, hooks })), { name: 'budgets', hooks: budgetHooks(budgets) }];
  const gate = createGate({ policy: staticSource(fnPolicy(policy)), log, plugins });
  return { gate, log, budgets, store };
}

const allow = () => ({ outcome: 'allow' });

describe('budget hooks in the gate', () => {
  it('policy decides on input.budgets; the record keeps the state it saw', async () => {
    const seen: unknown[] = [];
    const { gate, log } = setup((input) => {
      seen.push(input.budgets);
      const month = input.budgets.action_amount?.lifetime;
      return month && month.requested! > month.remaining ? { outcome: 'escalate', reasons: ['over the remaining budget'] } : allow();
    });
    const first = await gate.decide(order(600_000));
    assert.equal(first.decision.outcome, 'allow');
    await first.reservation!.settle({});
    const second = await gate.decide(order(500_000));
    assert.equal(second.decision.outcome, 'escalate', 'policy escalates near the cap instead of a hard deny');
    assert.equal(second.reservation, undefined, 'an escalation holds nothing');
    const recorded = log.records[1]!.record.data.budgets as OagfInput['budgets'];
    assert.deepEqual(recorded, seen[1]);
    assert.deepEqual(
      [recorded.action_amount!.lifetime!.spent, recorded.action_amount!.lifetime!.remaining, recorded.action_amount!.lifetime!.requested],
      [600_000, 400_000, 500_000],
    );
    assert.deepEqual(log.records[0]!.record.data.budget, { reservation: first.reservation!.id, held: { action_amount: '600000.00' } });
  });

  it('an allow that does not fit becomes a recorded deny with the budget reason', async () => {
    const { gate, log } = setup(allow);
    await (await gate.decide(order(999_999.99))).reservation!.settle({});
    const out = await gate.decide(order(0.02));
    assert.equal(out.decision.outcome, 'deny');
    assert.equal(out.fault, undefined, 'a budget refusal is a policy-level deny (403), not a fault');
    const reason = 'budget orders (lifetime) exceeded for agent planner: cap 1000000.00 USD, spent 999999.99, reserved 0.00, needed 0.02';
    assert.deepEqual(out.decision.reasons, [reason]);
    assert.deepEqual(out.decision.explanation.at(-1), { rule: 'gatekeeper.budgets' });
    assert.equal(log.records[1]!.record.outcome, 'deny');
    assert.deepEqual(log.records[1]!.record.data.budget, { refused: reason });
  });

  it('a held escalation reserves when approved, and is refused if the budget no longer fits', async () => {
    const approvals: GateHooks = {
      escalate: (view) => ({ kind: 'pending', mode: 'hold', approval: { id: 'apr_t' }, verdict: async () => ({ ...view.decision, outcome: 'allow', reasons: ['approved by dana'] }) }),
    };
    const { gate, budgets } = setup((input) => (input.action.amount!.value > 100_000 ? { outcome: 'escalate' } : allow()), [approvals]);
    const reserved: unknown[] = [];
    const big = await gate.run(order(700_000), async () => {
      reserved.push((await budgets.overview())[0]!.reserved);
      return { value: 'placed', settlement: { release: 'test keeps it open' } };
    });
    assert.ok(big.ok);
    assert.deepEqual(big.decision.reasons, ['approved by dana']);
    assert.deepEqual(reserved, [700_000], 'reserved once approved, before the action is carried out');

    await (await gate.run(order(700_000), async () => ({ value: 'placed', settlement: { settle: {} } }))).ok;
    const second = await gate.run(order(400_000), async () => ({ value: 'placed', settlement: { settle: {} } }));
    assert.ok(!second.ok);
    assert.equal(second.refusal.kind, 'denied');
    assert.match(second.decision.reasons[0]!, /^budget orders \(lifetime\) exceeded .* spent 700000\.00, reserved 0\.00, needed 400000\.00$/);
    const [view] = await budgets.overview();
    assert.equal(view!.spent, 700_000);
    assert.equal(view!.reserved, 0);
  });

  it('fails closed when the budget store fails: deny with a hook_error fault', async () => {
    const { gate, store } = setup(allow);
    await store.close();
    const out = await gate.decide(order(5));
    assert.equal(out.decision.outcome, 'deny');
    assert.equal(out.fault?.code, 'hook_error');
    assert.match(out.decision.reasons[0]!, /during enrich/);
  });
});
