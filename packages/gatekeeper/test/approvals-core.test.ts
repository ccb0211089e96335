import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderAttempt, reviewer, world } from './approvals-fixtures.js';
import { verifyVerdict } from '../src/approvals/signing.js';
import { ApprovalError } from '../src/approvals/types.js';

const code = (c: string) => (err: unknown) => err instanceof ApprovalError && err.code === c;

test('an escalation opens an approval bound to the action digest; a retry before the verdict gets 202 again', async () => {
  const { gate, service, ledger } = world();
  const first = await gate.decide(orderAttempt(2000));
  assert.equal(first.decision.outcome, 'escalate');
  assert.ok(first.approval, 'async surface answers with an approval id');
  const approval = (await service.get(first.approval.id))!;
  assert.equal(approval.actionDigest, first.actionDigest);
  assert.equal(approval.status, 'pending');
  assert.equal(approval.escalation.id, first.recordId);
  assert.equal(approval.summary, 'POST erp/orders · $2,400,000.00');
  const escalationRecord = ledger.records.find((r) => r.record.id === first.recordId)!;
  assert.deepEqual((escalationRecord.record.data as { approval: unknown }).approval, { id: approval.id, mode: 'async' });

  const retry = await gate.decide(orderAttempt(2000, { approval: approval.id }));
  assert.equal(retry.decision.outcome, 'escalate');
  assert.equal(retry.approval?.id, approval.id);
});

test('an approved action is carried out exactly once', async () => {
  const { gate, service } = world();
  const first = await gate.decide(orderAttempt(2000));
  const id = first.approval!.id;
  await service.decide(id, reviewer('alice'), 'approve', 'budget confirmed with CFO');
  const retry = await gate.decide(orderAttempt(2000, { approval: id }));
  assert.equal(retry.decision.outcome, 'allow');
  assert.match(retry.decision.reasons.join(' '), /approved by alice/);
  const again = await gate.decide(orderAttempt(2000, { approval: id }));
  assert.equal(again.decision.outcome, 'deny');
  assert.match(again.decision.reasons.join(' '), /already been used/);
});

test('an approval replayed with changed arguments is refused', async () => {
  const { gate, service } = world();
  const first = await gate.decide(orderAttempt(2000));
  const id = first.approval!.id;
  await service.decide(id, reviewer('alice'), 'approve', '');
  const changed = await gate.decide(orderAttempt(2500, { approval: id }));
  assert.equal(changed.decision.outcome, 'deny');
  assert.match(changed.decision.reasons.join(' '), /different action/);
  // The refused replay did not use the approval up: the original action still goes through, once.
  assert.equal((await gate.decide(orderAttempt(2000, { approval: id }))).decision.outcome, 'allow');
});

test("another agent cannot use an approval granted for the same action", async () => {
  const { gate, service } = world();
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  await service.decide(id, reviewer('alice'), 'approve', '');
  const other = orderAttempt(2000, { approval: id });
  const stolen = await gate.decide({ ...other, agent: { ...other.agent, id: 'intruder' } });
  assert.equal(stolen.decision.outcome, 'deny');
  assert.match(stolen.decision.reasons.join(' '), /requested by agent buyer, not intruder/);
  assert.equal((await gate.decide(orderAttempt(2000, { approval: id }))).decision.outcome, 'allow');
});

test('expiry is final and recorded in the ledger, signed', async () => {
  let now = new Date('2026-01-01T10:00:00Z');
  const { gate, service, ledger } = world({ expiryMs: 60_000, now: () => now });
  const first = await gate.decide(orderAttempt(2000));
  const id = first.approval!.id;
  now = new Date('2026-01-01T10:01:01Z');
  assert.equal(await service.expireDue(), 1);
  assert.equal((await service.get(id))!.status, 'expired');
  await assert.rejects(service.decide(id, reviewer('alice'), 'approve', ''), code('not_pending'));
  const retry = await gate.decide(orderAttempt(2000, { approval: id }));
  assert.equal(retry.decision.outcome, 'deny');
  assert.match(retry.decision.reasons.join(' '), /expired/);
  const [expired] = ledger.ofType('approval.expired');
  assert.ok(expired);
  const data = expired.record.data as { statement: Parameters<typeof verifyVerdict>[0]; signature: string; public_key: string };
  assert.equal(data.statement.verdict, 'expired');
  assert.ok(verifyVerdict(data.statement, data.signature, data.public_key));
});

test('a verdict after the expiry time expires the approval instead', async () => {
  let now = new Date('2026-01-01T10:00:00Z');
  const { gate, service } = world({ expiryMs: 1000, now: () => now });
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  now = new Date('2026-01-01T10:00:02Z');
  await assert.rejects(service.decide(id, reviewer('alice'), 'approve', ''), code('expired'));
  assert.equal((await service.get(id))!.status, 'expired');
});

test("the agent's owner (or a delegating agent's owner) cannot approve its request", async () => {
  const { gate, service } = world();
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  await assert.rejects(service.decide(id, reviewer('bob'), 'approve', 'mine, fine'), code('self_approval'));
  await assert.rejects(service.decide(id, reviewer('carol'), 'approve', ''), code('self_approval'));
  assert.equal((await service.get(id))!.status, 'pending');
  assert.equal((await service.decide(id, reviewer('alice'), 'approve', '')).status, 'approved');
});

test('N-of-M: two approvers from the finance group are needed; others are not eligible', async () => {
  const { gate, service, ledger } = world({ approvers: { min: 2, groups: ['finance'] } });
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  await assert.rejects(service.decide(id, reviewer('mallory', ['it']), 'approve', ''), code('not_eligible'));
  const one = await service.decide(id, reviewer('alice', ['finance']), 'approve', 'ok');
  assert.equal(one.status, 'pending');
  assert.equal(one.votes.length, 1);
  await assert.rejects(service.decide(id, reviewer('alice', ['finance']), 'approve', 'again'), code('already_voted'));
  assert.equal((await gate.decide(orderAttempt(2000, { approval: id }))).approval?.id, id, 'still pending after 1 of 2');
  const two = await service.decide(id, reviewer('dave', ['finance']), 'approve', 'ok too');
  assert.equal(two.status, 'approved');
  const [granted] = ledger.ofType('approval.granted');
  const data = granted!.record.data as { statement: Parameters<typeof verifyVerdict>[0]; signature: string; public_key: string };
  assert.deepEqual(data.statement.reviewers, ['alice', 'dave']);
  assert.ok(verifyVerdict(data.statement, data.signature, data.public_key));
  assert.ok(!verifyVerdict({ ...data.statement, verdict: 'rejected' }, data.signature, data.public_key), 'signature binds the verdict');
  assert.deepEqual(granted!.record.links, [{ rel: 'escalation', id: (await service.get(id))!.escalation.id, index: (await service.get(id))!.escalation.index }]);
});

test('one rejection is final', async () => {
  const { gate, service, ledger } = world({ approvers: { min: 2 } });
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  await service.decide(id, reviewer('alice'), 'approve', '');
  const rejected = await service.decide(id, reviewer('dave'), 'reject', 'supplier not vetted');
  assert.equal(rejected.status, 'rejected');
  await assert.rejects(service.decide(id, reviewer('erin'), 'approve', ''), code('not_pending'));
  const retry = await gate.decide(orderAttempt(2000, { approval: id }));
  assert.equal(retry.decision.outcome, 'deny');
  const [entry] = ledger.ofType('approval.rejected');
  assert.equal(entry!.record.agent, 'buyer');
  assert.match(entry!.record.reasons!.join(' '), /dave rejected: supplier not vetted/);
});

test('auditors cannot decide', async () => {
  const { gate, service } = world();
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  await assert.rejects(service.decide(id, reviewer('audrey', [], ['auditor']), 'approve', ''), code('forbidden'));
});

test('hold mode: the held request completes when approved and the approval is used up', async () => {
  const { gate, service } = world({ mode: 'hold' });
  const held = await gate.decide(orderAttempt(2000));
  assert.ok(held.hold, 'api surface in hold mode holds the request');
  const id = (await service.list({ status: ['pending'] }))[0]!.id;
  setTimeout(() => void service.decide(id, reviewer('alice'), 'approve', 'go'), 20);
  const final = await held.hold;
  assert.equal(final.outcome, 'allow');
  assert.ok((await service.get(id))!.consumedAt, 'the held request used the approval');
  assert.equal((await gate.decide(orderAttempt(2000, { approval: id }))).decision.outcome, 'deny');
});

test('hold mode: rejection and hold timeout both end in a denial naming the approval', async () => {
  const { gate, service } = world({ mode: 'hold', holdTimeoutMs: 50 });
  const timedOut = await gate.decide(orderAttempt(2000));
  const final = await timedOut.hold!;
  assert.equal(final.outcome, 'deny');
  const id = (await service.list())[0]!.id;
  assert.match(final.reasons.join(' '), new RegExp(`still pending.*OAGF-Approval: ${id}`));

  const { gate: gate2, service: service2 } = world({ mode: 'hold' });
  const held = await gate2.decide(orderAttempt(3000));
  const id2 = (await service2.list())[0]!.id;
  setTimeout(() => void service2.decide(id2, reviewer('alice'), 'reject', 'no'), 20);
  const rejected = await held.hold!;
  assert.equal(rejected.outcome, 'deny');
  assert.match(rejected.reasons.join(' '), /rejected by alice/);
});

test('hold mode: stopping the service (gatekeeper shutdown) ends a held request at once, refused as still pending', async () => {
  const { gate, service } = world({ mode: 'hold', holdTimeoutMs: 600_000 });
  const held = await gate.decide(orderAttempt(2000));
  await new Promise((r) => setTimeout(r, 20));
  const stopped = Date.now();
  service.stop();
  const final = await held.hold!;
  assert.ok(Date.now() - stopped < 5_000, 'the hold did not wait out its 600 s timeout');
  assert.equal(final.outcome, 'deny');
  assert.match(final.reasons.join(' '), /still pending/);
  // A request held after the stop is not held either.
  const late = await gate.decide(orderAttempt(2500));
  assert.equal((await late.hold!).outcome, 'deny');
});

test('concurrent approvals of the same request finalize it once', async () => {
  const { gate, service, ledger } = world({ approvers: { min: 1 } });
  const id = (await gate.decide(orderAttempt(2000))).approval!.id;
  const results = await Promise.allSettled([
    service.decide(id, reviewer('alice'), 'approve', ''),
    service.decide(id, reviewer('dave'), 'approve', ''),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.equal(ledger.ofType('approval.granted').length, 1);
});

test('the escalation record carries the redacted reasoning trace as a payload', async () => {
  const { gate, ledger } = world();
  const llm = orderAttempt(0);
  const messages = [
    { role: 'system', content: 'You are the buyer. Use key sk-abcdefghijklmnopqrstuvwx to call the ERP.' },
    { role: 'user', content: 'Planner says: restock GPUs for Q3, ref ACME-123456' },
  ];
  await gate.decide({ ...llm, surface: 'openai', action: { kind: 'llm.request', target: { model: 'planner-1' }, arguments: { messages: 2 } }, trace: messages });
  const answer = {
    choices: [
      {
        message: {
          role: 'assistant',
          content: '',
          reasoning_content: 'Forecast needs 2,000 units; Contoso is the only supplier with stock.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'place_order', arguments: '{"quantity":2000}' } }],
        },
      },
    ],
  };
  await gate.decide({
    ...llm,
    surface: 'openai',
    action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { quantity: 2000 } },
    trace: { request: messages, response: answer },
  });
  const escalated = await gate.decide(orderAttempt(2000));
  const rec = ledger.records.find((r) => r.record.id === escalated.recordId)!;
  const trace = rec.payloads!.trace as { chain: { agent: string }[]; steps: { content?: string }[] };
  assert.deepEqual(trace.chain.map((c) => c.agent), ['planner', 'buyer']);
  const text = JSON.stringify(trace);
  assert.ok(!text.includes('sk-abcdefghijklmnopqrstuvwx'), 'API key redacted');
  assert.ok(!text.includes('ACME-123456'), 'configured pattern redacted');
  assert.match(text, /restock GPUs for Q3/);
  const steps = trace.steps as { kind: string; role?: string; reasoning?: string; tool?: string; outcome?: string }[];
  assert.deepEqual(
    steps.map((s) => `${s.kind}:${s.role ?? s.tool}`),
    ['message:system', 'message:user', 'message:assistant', 'tool_call:place_order', 'action:POST erp/orders'],
  );
  assert.match(steps[2]!.reasoning!, /only supplier with stock/);
  assert.equal(steps[3]!.outcome, 'allow');
  assert.equal(steps[4]!.outcome, 'escalate');
});
