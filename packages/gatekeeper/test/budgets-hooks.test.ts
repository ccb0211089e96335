/** The budgets hooks inside the gate pipeline: what policy sees, what is recorded, how escalations and faults go. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetsConfig } from '../src/budgets/config.js';
import { Budgets } from '../src/budgets/engine.js';
import { budgetHooks } from '../src/budgets/hooks.js';
import { SqliteBudgetStore } from '../src/budgets/sqlite-store.js';
import { createGate, type GateHooks } from '../src/gate.js';
import { staticSource } from '../src/policy/engine.js';
import type { Decision, OagfInput } from '../src/spec/index.js';
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
  const gate = createGate({ policy: staticSource(fnPolicy(policy)), log, hooks: [...extraHooks, budgetHooks(budgets)] });
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
    let approve: (d: Decision) => void = () => {};
    const approvals: GateHooks = {
      afterDecision(outcome) {
        if (outcome.decision.outcome === 'escalate') {
          outcome.hold = new Promise((resolve) => (approve = (d) => resolve(d)));
        }
      },
    };
    const { gate, budgets } = setup((input) => (input.action.amount!.value > 100_000 ? { outcome: 'escalate' } : allow()), [approvals]);
    const big = await gate.decide(order(700_000));
    const approved = { ...big.decision, outcome: 'allow' as const, reasons: ['approved by dana'] };
    approve(approved);
    assert.deepEqual(await big.hold, approved);
    assert.deepEqual(big.reservation!.held, { action_amount: 700_000_000_000n });
    const [view] = await budgets.overview();
    assert.equal(view!.reserved, 700_000);

    const second = await gate.decide(order(400_000));
    approve({ ...second.decision, outcome: 'allow', reasons: ['approved by dana'] });
    const final = await second.hold!;
    assert.equal(final.outcome, 'deny');
    assert.match(final.reasons[0]!, /^budget orders \(lifetime\) exceeded .* reserved 700000\.00, needed 400000\.00$/);
    assert.equal(second.reservation, undefined);
  });

  it('fails closed when the budget store fails: deny with a hook_error fault', async () => {
    const { gate, store } = setup(allow);
    await store.close();
    const out = await gate.decide(order(5));
    assert.equal(out.decision.outcome, 'deny');
    assert.equal(out.fault?.code, 'hook_error');
    assert.match(out.decision.reasons[0]!, /enrichInput/);
  });
});
