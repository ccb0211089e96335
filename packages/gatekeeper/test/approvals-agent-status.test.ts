/** An agent waiting for an approval asks its status URL — only its own — instead of resending the action. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalsModule } from '../src/approvals/module.js';
import type { ApprovalService } from '../src/approvals/service.js';
import { KEYS, post, startGatekeeper } from './core/fixture.js';

test('202 names the status URL; the requesting agent sees pending, then approved; other agents see nothing', async () => {
  let approvals!: ApprovalService;
  const fx = await startGatekeeper({
    config: { approvals: { database: ':memory:', signing_key_file: './approval.pem', modes: { decision: 'async' } } },
    build: { modules: [approvalsModule({ onReady: (s) => (approvals = s) })] },
  });
  try {
    const action = { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: 2_400_000, currency: 'USD' } };
    const escalated = await post(`${fx.url}/v1/decisions`, { action }, KEYS.buyer);
    assert.equal(escalated.body.decision.outcome, 'escalate');
    const id = escalated.body.approval.id as string;
    const status = (key: string) => fetch(`${fx.url}/v1/approvals/${id}`, { headers: { authorization: `Bearer ${key}` } });
    const pending = await status(KEYS.buyer);
    assert.equal(pending.status, 200);
    assert.ok(Number(pending.headers.get('retry-after')) >= 1);
    assert.deepEqual(await pending.json().then((b: any) => [b.status, b.next]), ['pending', 'wait']);
    assert.equal((await status(KEYS.planner)).status, 404, "another agent's approval does not exist for it");
    assert.equal((await status('not-a-key')).status, 401);
    const before = fx.gk.deps.ledger!.size();
    for (let i = 0; i < 5; i++) await status(KEYS.buyer);
    assert.equal(fx.gk.deps.ledger!.size(), before, 'asking how it stands records nothing');
    await approvals.decide(id, { username: 'priya', displayName: 'Priya', roles: ['reviewer'], groups: ['procurement-leads'] }, 'approve', 'ok');
    const approved = (await (await status(KEYS.buyer)).json()) as { status: string; next: string; votes: { reviewer: string }[] };
    assert.deepEqual([approved.status, approved.next, approved.votes[0]!.reviewer], ['approved', 'retry with OAGF-Approval', 'priya']);
  } finally {
    await fx.close();
  }
});

test('on the API proxy the 202 carries Location and Retry-After', async () => {
  const fx = await startGatekeeper({
    config: { apis: { erp: { base_url: 'http://127.0.0.1:9' } }, approvals: { database: ':memory:', signing_key_file: './approval.pem', modes: { api: 'async' } } },
  });
  try {
    const res = await fetch(`${fx.url}/apis/erp/orders`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.buyer}`, 'content-type': 'application/json' }, body: JSON.stringify({ total: 2_400_000, currency: 'USD' }) });
    assert.equal(res.status, 202);
    const { error } = (await res.json()) as { error: { approval_id: string; status_url: string } };
    assert.equal(res.headers.get('location'), `/v1/approvals/${error.approval_id}`);
    assert.equal(error.status_url, res.headers.get('location'));
    assert.ok(res.headers.get('retry-after'));
  } finally {
    await fx.close();
  }
});
