/** gate.run: the one lifecycle every surface uses — decide, hold, refuse or execute the judged action, settle, record. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGate, type GateHooks, type Reservation } from '../src/gate/index.js';
import { staticSource } from '../src/policy/engine.js';
import type { Decision } from '../src/spec/index.js';
import { MemoryLog, fnPolicy, planner } from './core/doubles.js';

const order = (total: number) => ({ kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total } });
const attempt = (total = 10) => ({ agent: planner, action: order(total), context: { session_id: 's1' }, surface: 'api' as const });
const byLimit = fnPolicy((input) =>
  input.action.arguments.total > 1000 ? { outcome: 'deny', reasons: ['over limit'] } : input.action.arguments.total > 100 ? { outcome: 'escalate', reasons: ['needs a human'] } : { outcome: 'allow' },
);

/** A plug-in holding escrow for every allowed action and an escalate hook answering with `verdict`. */
function plugins(events: string[], verdict?: () => Promise<Decision>) {
  const reservation = (tag: string): Reservation => ({
    settle: async (actual) => void events.push(`${tag}:settle:${JSON.stringify(actual)}`),
    release: async (reason, progress) => void events.push(`${tag}:release:${reason}${progress?.streamed ? ':streamed' : ''}`),
  });
  const hooks: GateHooks = {
    admit: (_v, when) => ({ kind: 'admitted', reservation: reservation(when) }),
    escalate: () => (verdict ? { kind: 'pending', mode: 'hold', approval: { id: 'apr_1' }, verdict } : { kind: 'pending', mode: 'async', approval: { id: 'apr_1', retryAfterSeconds: 3 } }),
  };
  return [{ name: 'escrow', hooks }];
}

test('an allowed action is executed with the judged action; the escrow settles at the actual cost; the outcome is recorded', async () => {
  const log = new MemoryLog();
  const events: string[] = [];
  const gate = createGate({ policy: staticSource(byLimit), log, plugins: plugins(events) });
  const result = await gate.run(attempt(10), async (judged) => {
    events.push(`execute:${judged.action.kind}:${JSON.stringify(judged.action.arguments)}`);
    return { value: 'done', settlement: { settle: { cost: 7 } }, facts: { status: 201 } };
  });
  assert.ok(result.ok);
  assert.equal(result.value, 'done');
  assert.deepEqual(events, ['execute:llm.tool_call:{"total":10}', 'decision:settle:{"cost":7}']);
  await new Promise((r) => setImmediate(r));
  const outcome = log.records[1]!.record;
  assert.equal(outcome.type, 'outcome');
  assert.deepEqual(outcome.links, [{ rel: 'decision', id: result.outcome.recordId, index: 0 }]);
  assert.equal(outcome.action_digest, result.outcome.actionDigest);
  assert.equal(outcome.data.result, 'completed');
  assert.equal(outcome.data.status, 201);
});

test('a refused action is never executed: typed refusal, escrow released', async () => {
  const events: string[] = [];
  const gate = createGate({ policy: staticSource(byLimit), log: new MemoryLog(), plugins: plugins(events) });
  let executed = false;
  const denied = await gate.run(attempt(5000), async () => ((executed = true), { value: 1, settlement: { settle: {} } }));
  assert.equal(executed, false);
  assert.ok(!denied.ok);
  assert.equal(denied.refusal.kind, 'denied');
  assert.equal(denied.refusal.message, 'over limit');
  const pending = await gate.run(attempt(500), async () => ((executed = true), { value: 1, settlement: { settle: {} } }));
  assert.ok(!pending.ok);
  assert.equal(pending.refusal.kind, 'approval_pending');
  assert.deepEqual(pending.refusal.approval, { id: 'apr_1', retryAfterSeconds: 3 });
  assert.equal(executed, false);
  assert.deepEqual(events, [], 'nothing was reserved for a deny or an escalation');
});

test('an execution that throws releases the escrow, records a failed outcome and rethrows', async () => {
  const log = new MemoryLog();
  const events: string[] = [];
  const gate = createGate({ policy: staticSource(byLimit), log, plugins: plugins(events) });
  await assert.rejects(gate.run(attempt(10), async () => Promise.reject(new Error('ECONNREFUSED'))), /ECONNREFUSED/);
  assert.deepEqual(events, ['decision:release:the action failed']);
  await new Promise((r) => setImmediate(r));
  assert.equal(log.records[1]!.record.data.result, 'failed');
  assert.equal(log.records[1]!.record.data.error, 'ECONNREFUSED');
});

test('a release settlement (upstream error, stream cut) passes its reason and progress on', async () => {
  const events: string[] = [];
  const gate = createGate({ policy: staticSource(byLimit), log: new MemoryLog(), plugins: plugins(events) });
  await gate.run(attempt(10), async () => ({ value: 0, settlement: { release: 'client went away', progress: { streamed: true, outputChars: 3 } } }));
  assert.deepEqual(events, ['decision:release:client went away:streamed']);
});

test('a held escalation waits for the verdict; approved, it is admitted then (escrow taken at approval) and executed', async () => {
  const events: string[] = [];
  let approve: (d: Decision) => void = () => {};
  const verdict = () => new Promise<Decision>((r) => (approve = r));
  const gate = createGate({ policy: staticSource(byLimit), log: new MemoryLog(), plugins: plugins(events, verdict) });
  const running = gate.run(attempt(500), async () => (events.push('execute'), { value: 'ok', settlement: { settle: {} } }));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, [], 'held: nothing executed or reserved yet');
  approve({ outcome: 'allow', reasons: ['approved by priya'], obligations: [], policy_digest: 'sha256:test', explanation: [] });
  const result = await running;
  assert.ok(result.ok);
  assert.deepEqual(result.decision.reasons, ['approved by priya']);
  assert.deepEqual(events, ['execute', 'approval:settle:{}']);
});

test('a held escalation rejected by the reviewer is a denial and never executed', async () => {
  const events: string[] = [];
  const verdict = async (): Promise<Decision> => ({ outcome: 'deny', reasons: ['rejected by priya'], obligations: [], policy_digest: 'sha256:test', explanation: [] });
  const gate = createGate({ policy: staticSource(byLimit), log: new MemoryLog(), plugins: plugins(events, verdict) });
  const result = await gate.run(attempt(500), async () => (events.push('execute'), { value: 'ok', settlement: { settle: {} } }));
  assert.ok(!result.ok);
  assert.equal(result.refusal.kind, 'denied');
  assert.match(result.refusal.message, /rejected by priya/);
  assert.deepEqual(events, []);
});

test('without an execution (decision API) an allowed action settles at once for what was reserved, and records no outcome', async () => {
  const log = new MemoryLog();
  const events: string[] = [];
  const gate = createGate({ policy: staticSource(byLimit), log, plugins: plugins(events) });
  const result = await gate.run(attempt(10));
  assert.ok(result.ok);
  assert.deepEqual(events, ['decision:settle:{}']);
  await new Promise((r) => setImmediate(r));
  assert.equal(log.records.length, 1);
});

test('the amount is located by the configured rules in one place, for every surface', async () => {
  const log = new MemoryLog();
  const gate = createGate({ policy: staticSource(byLimit), log, amounts: [{ match: { tool: 'place_order' }, value: 'arguments.total', currency: 'USD', divisor: 1 }] });
  const out = await gate.decide(attempt(42));
  assert.deepEqual(out.input.action.amount, { value: 42, currency: 'USD', source: 'arguments.total' });
});
