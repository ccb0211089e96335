import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGate, orderHooks, type GateHooks } from '../src/gate/index.js';
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

test('fail closed on ledger failure: an allow becomes a deny, the reservation is released, committed does not run', async () => {
  const log = new MemoryLog();
  log.failing = new Error('SQLITE_FULL: database or disk is full');
  const events: string[] = [];
  const hooks: GateHooks = {
    admit: () => ({ kind: 'admitted', reservation: { settle: async () => void events.push('settle'), release: async (r) => void events.push(`release:${r}`) } }),
    committed: () => void events.push('commit'),
  };
  const out = await createGate({ policy: staticSource(byLimit), log, plugins: [{ name: 'escrow', hooks }] }).decide(attempt());
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'ledger_failure');
  assert.match(out.decision.reasons[0]!, /disk is full/);
  assert.equal(out.index, undefined);
  assert.equal(out.reservation, undefined);
  assert.deepEqual(events, ['release:ledger failure']);
});

test('hooks return values: enrich fills input before policy, admit may refuse and add record data, committed sees the index', async () => {
  const log = new MemoryLog();
  const seen: string[] = [];
  const budgets: GateHooks = {
    enrich() {
      seen.push('budgets.enrich');
      return { budgets: { action_amount: { day: { remaining: 3 } } } as never };
    },
    admit() {
      seen.push('budgets.admit');
      return { kind: 'refused', reason: 'budget exhausted', rule: 'test.budgets', record: { data: { budget_check: 'refused' } } };
    },
  };
  const approvals: GateHooks = {
    observe: () => void seen.push('approvals.observe'),
    admit() {
      seen.push('approvals.admit');
      return { kind: 'admitted', record: { payloads: { trace: { messages: 2 } }, links: [{ rel: 'session', id: 's1' }] } };
    },
    committed: (v) => void seen.push(`approvals.commit:${v.index}`),
  };
  const policy = fnPolicy((input) => ({ outcome: input.budgets.action_amount ? 'allow' : 'deny' }));
  const plugins = [{ name: 'approvals', hooks: approvals }, { name: 'budgets', hooks: budgets, after: ['approvals'] }];
  const out = await createGate({ policy: staticSource(policy), log, plugins }).decide(attempt());
  assert.deepEqual(seen, ['budgets.enrich', 'approvals.observe', 'approvals.admit', 'budgets.admit', 'approvals.commit:0']);
  assert.equal(out.decision.outcome, 'deny');
  assert.deepEqual(out.decision.reasons, ['budget exhausted']);
  assert.deepEqual(out.decision.explanation.at(-1), { rule: 'test.budgets' });
  const { record, payloads } = log.records[0]!;
  assert.equal(record.outcome, 'deny');
  assert.equal(record.data.budget_check, 'refused');
  assert.deepEqual(record.data.budgets, { action_amount: { day: { remaining: 3 } } });
  assert.deepEqual(record.links, [{ rel: 'session', id: 's1' }]);
  assert.deepEqual(payloads.trace, { messages: 2 });
});

test('the order of plug-ins is declared data: "after" reorders, a missing name or a cycle fails at start', () => {
  const h: GateHooks = {};
  const names = (plugins: { name: string; after?: string[] }[]) => orderHooks(plugins.map((p) => ({ ...p, hooks: h }))).map((p) => p.name);
  assert.deepEqual(names([{ name: 'a', after: ['b'] }, { name: 'b' }, { name: 'c' }]), ['b', 'a', 'c']);
  assert.deepEqual(names([{ name: 'a' }, { name: 'b' }]), ['a', 'b']);
  assert.throws(() => names([{ name: 'a', after: ['ghost'] }]), /must run after "ghost", which is not registered/);
  assert.throws(() => names([{ name: 'a', after: ['b'] }, { name: 'b', after: ['a'] }]), /cycle/);
  assert.throws(() => names([{ name: 'a' }, { name: 'a' }]), /registered twice/);
  assert.throws(() => createGate({ policy: staticSource(byLimit), log: new MemoryLog(), plugins: [{ name: 'x', after: ['y'], hooks: h }] }), /not registered/);
});

test('a throwing hook fails closed with hook_error and the decision is still recorded', async () => {
  const log = new MemoryLog();
  const hooks: GateHooks = {
    enrich() {
      throw new Error('budget store unavailable');
    },
  };
  const out = await createGate({ policy: staticSource(byLimit), log, plugins: [{ name: 'budgets', hooks }] }).decide(attempt());
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

test('record ids are UUIDv7 carrying the decision time, so later decisions sort after earlier ones', async () => {
  const log = new MemoryLog();
  let now = Date.parse('2026-11-27T14:05:00Z');
  const gate = createGate({ policy: staticSource(byLimit), log, clock: () => new Date(now) });
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    ids.push((await gate.decide(attempt())).recordId);
    now += i % 5 === 0 ? 1 : 0;
  }
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(ids[0]!.replace('-', '').slice(0, 12), 16), Date.parse('2026-11-27T14:05:00Z'));
  assert.equal(new Set(ids).size, ids.length);
  const prefix = (id: string) => id.slice(0, 13);
  assert.deepEqual([...ids].sort((a, b) => prefix(a).localeCompare(prefix(b))).map(prefix), ids.map(prefix));
  assert.deepEqual(log.records.map((r) => r.record.id), ids);
});

test('policy output: the decision read by hand for plain results equals what the PolicyResult schema gives, for any shape', async () => {
  const { evaluate } = await import('../src/gate/evaluate.js');
  const { PolicyResult } = await import('../src/spec/index.js');
  const values: unknown[] = [
    { outcome: 'allow', reasons: [], obligations: [] },
    { outcome: 'allow' },
    { outcome: 'deny', reasons: ['b', 'a'] },
    { reasons: ['x'], obligations: [], outcome: 'escalate' },
    { outcome: 'allow', reasons: [], obligations: [], extra: 1 },
    { outcome: 'allow', reasons: [1] },
    { outcome: 'allow', reasons: 'no' },
    { outcome: 'allow', obligations: {} },
    { outcome: 'allow', obligations: [{ type: 'redact', fields: ['a'] }] },
    { outcome: 'escalate', reasons: ['r'], obligations: [], approvers: { groups: ['g'] } },
    { outcome: 'maybe', reasons: [] },
    { reasons: [] },
    ['allow'],
    'allow',
    null,
  ];
  for (const value of values) {
    const out = evaluate({ digest: 'sha256:d', evaluate: () => ({ value, explanation: [] }) }, {});
    const parsed = PolicyResult.safeParse(value);
    if (parsed.success) assert.deepEqual(out, { decision: { ...parsed.data, policy_digest: 'sha256:d', explanation: [] } }, JSON.stringify(value));
    else assert.equal('fault' in out && out.fault.code, 'policy_output', JSON.stringify(value));
  }
});
