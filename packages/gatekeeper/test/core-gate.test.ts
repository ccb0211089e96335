import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGate, type GateHooks } from '../src/gate.js';
import { staticSource } from '../src/policy/engine.js';
import { MemoryLog, fnPolicy, planner, throwingPolicy } from './core/doubles.js';

const order = (total: number) => ({ kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total } });
const attempt = (total = 10) => ({ agent: planner, action: order(total), context: { session_id: 's1' }, surface: 'decision' as const });
const byLimit = fnPolicy((input) =>
  input.action.arguments.total > 1000 ? { outcome: 'deny', reasons: ['over limit'] } : { outcome: 'allow' },
);
const fixed = () => new Date('2026-11-27T14:05:00Z');

test('allow: the decision is recorded with the full input as payload before decide() resolves', async () => {
  const log = new MemoryLog();
  const out = await createGate({ policy: staticSource(byLimit), log, clock: fixed }).decide(attempt());
  assert.equal(out.decision.outcome, 'allow');
  assert.equal(out.index, 0);
  assert.equal(log.records.length, 1);
  const { record, payloads } = log.records[0]!;
  assert.equal(record.id, out.recordId);
  assert.equal(record.outcome, 'allow');
  assert.equal(record.agent, 'planner');
  assert.equal(record.policy_digest, 'sha256:test');
  assert.match(record.action_digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(payloads.input, out.input);
  assert.equal(out.input.time.weekday, 'Friday');
  assert.equal(out.input.time.hour, 14);
  assert.equal(out.input.context.surface, 'decision');
  assert.deepEqual(out.decision.explanation, [{ rule: 'data.test.rule' }]);
});

test('action digest ignores key order and changes with any argument', async () => {
  const gate = createGate({ policy: staticSource(byLimit), log: new MemoryLog() });
  const a = await gate.decide(attempt(5));
  const b = await gate.decide({ ...attempt(5), action: { target: { tool: 'place_order' }, arguments: { total: 5 }, kind: 'llm.tool_call' } });
  const c = await gate.decide(attempt(6));
  assert.equal(a.actionDigest, b.actionDigest);
  assert.notEqual(a.actionDigest, c.actionDigest);
});

test('policy deny is a deny without fault', async () => {
  const out = await createGate({ policy: staticSource(byLimit), log: new MemoryLog() }).decide(attempt(5000));
  assert.equal(out.decision.outcome, 'deny');
  assert.deepEqual(out.decision.reasons, ['over limit']);
  assert.equal(out.fault, undefined);
});

for (const [name, policy, code] of [
  ['policy error', throwingPolicy('policy_error'), 'policy_error'],
  ['evaluation over budget', throwingPolicy('policy_budget'), 'policy_budget'],
  ['no decision produced', fnPolicy(() => undefined), 'policy_output'],
  ['malformed decision', fnPolicy(() => ({ outcome: 'maybe' })), 'policy_output'],
] as const) {
  test(`fail closed on ${name}: deny with fault ${code}, still recorded`, async () => {
    const log = new MemoryLog();
    const out = await createGate({ policy: staticSource(policy), log }).decide(attempt());
    assert.equal(out.decision.outcome, 'deny');
    assert.equal(out.fault?.code, code);
    assert.equal(log.records[0]!.record.outcome, 'deny');
    assert.equal((log.records[0]!.record.data.fault as { code: string }).code, code);
  });
}

test('fail closed with no bundle loaded', async () => {
  const out = await createGate({ policy: staticSource(undefined), log: new MemoryLog() }).decide(attempt());
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'no_policy');
});

test('fail closed on unknown agent: policy not consulted, deny recorded', async () => {
  let consulted = false;
  const log = new MemoryLog();
  const policy = fnPolicy(() => ((consulted = true), { outcome: 'allow' }));
  const out = await createGate({ policy: staticSource(policy), log }).decide({ ...attempt(), unauthenticated: 'unknown agent credential' });
  assert.equal(consulted, false);
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'unknown_agent');
  assert.equal(log.records.length, 1);
});

test('fail closed on ledger failure: an allow becomes a deny, the reservation is released, afterCommit is not run', async () => {
  const log = new MemoryLog();
  log.failing = new Error('SQLITE_FULL: database or disk is full');
  const events: string[] = [];
  const hooks: GateHooks = {
    afterDecision(outcome) {
      outcome.reservation = { settle: async () => void events.push('settle'), release: async (r) => void events.push(`release:${r}`) };
    },
    afterCommit: () => void events.push('commit'),
  };
  const out = await createGate({ policy: staticSource(byLimit), log, hooks: [hooks] }).decide(attempt());
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'ledger_failure');
  assert.match(out.decision.reasons[0]!, /disk is full/);
  assert.equal(out.index, undefined);
  assert.equal(out.reservation, undefined);
  assert.deepEqual(events, ['release:ledger failure']);
});

test('hooks: enrichInput fills budgets before policy; afterDecision may deny and add record data; order kept', async () => {
  const log = new MemoryLog();
  const seen: string[] = [];
  const budgets: GateHooks = {
    enrichInput(input) {
      seen.push('budgets.enrich');
      input.budgets = { action_amount: { day: { remaining: 3 } } };
    },
    afterDecision(outcome, _a, record) {
      seen.push('budgets.after');
      outcome.decision = { ...outcome.decision, outcome: 'deny', reasons: ['budget exhausted'] };
      record.data.budget_check = 'refused';
    },
  };
  const approvals: GateHooks = {
    afterDecision(_o, _a, record) {
      seen.push('approvals.after');
      record.payloads.trace = { messages: 2 };
      record.links.push({ rel: 'session', id: 's1' });
    },
    afterCommit: (o) => void seen.push(`approvals.commit:${o.index}`),
  };
  const policy = fnPolicy((input) => ({ outcome: input.budgets.action_amount ? 'allow' : 'deny' }));
  const out = await createGate({ policy: staticSource(policy), log, hooks: [budgets, approvals] }).decide(attempt());
  assert.deepEqual(seen, ['budgets.enrich', 'budgets.after', 'approvals.after', 'approvals.commit:0']);
  assert.equal(out.decision.outcome, 'deny');
  const { record, payloads } = log.records[0]!;
  assert.equal(record.outcome, 'deny');
  assert.equal(record.data.budget_check, 'refused');
  assert.deepEqual(record.data.budgets, { action_amount: { day: { remaining: 3 } } });
  assert.deepEqual(record.links, [{ rel: 'session', id: 's1' }]);
  assert.deepEqual(payloads.trace, { messages: 2 });
});

test('a throwing hook fails closed with hook_error and the decision is still recorded', async () => {
  const log = new MemoryLog();
  const hooks: GateHooks = {
    enrichInput() {
      throw new Error('budget store unavailable');
    },
  };
  const out = await createGate({ policy: staticSource(byLimit), log, hooks: [hooks] }).decide(attempt());
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'hook_error');
  assert.match(out.decision.reasons[0]!, /budget store unavailable/);
  assert.equal(log.records.length, 1);
});

test('members set to undefined count as absent; an action that is not I-JSON is denied, never thrown', async () => {
  const log = new MemoryLog();
  const gate = createGate({ policy: staticSource(byLimit), log });
  const a = await gate.decide(attempt(5));
  const b = await gate.decide({ ...attempt(5), action: { ...order(5), amount: undefined } });
  assert.equal(b.actionDigest, a.actionDigest);
  assert.equal(b.decision.outcome, 'allow');
  const bad = await gate.decide({ ...attempt(5), action: { ...order(5), arguments: { total: 5, note: 'x\uD800' } } });
  assert.equal(bad.decision.outcome, 'deny');
  assert.equal(bad.fault?.code, 'invalid_action');
  assert.equal(log.records.at(-1)!.record.outcome, 'deny');
});

test('an unexpected failure inside the gate still yields a fail-closed deny', async () => {
  const log = { append: () => { throw new Error('boom'); } } as never;
  const clockBomb = createGate({ policy: staticSource(byLimit), log: new MemoryLog(), clock: () => { throw new Error('clock broke'); } });
  const out = await clockBomb.decide(attempt());
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'internal_error');
  const sync = await createGate({ policy: staticSource(byLimit), log }).decide(attempt());
  assert.equal(sync.fault?.code, 'ledger_failure');
});
